/**
 * One dashboard panel per project: the stage timeline, the data, training and the
 * gradient-descent view (webviews/dashboard). The panel gets the project's whole history when it
 * opens and live batches after; its buttons come back here as conductor calls. Strict CSP: only
 * this extension's bundled script, with a nonce; no remote scripts, fonts or connections.
 */
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import * as path from "node:path";
import {
  DATA_FILE_EXTENSIONS,
  EV,
  projectDisplayName,
  type AnyEventEnvelope,
  type ConductorClient,
  type HostToPanel,
  type PanelToHost,
  type ProjectMeta,
} from "../../contract";
import type { ProjectFeed } from "../conductor/project-streams";
import type { SuggestedEdit } from "../notebook/suggested-edit";
import { datasetChoiceOf, pickDataset } from "./dataset-pick";

export interface DashboardDeps {
  extensionUri: vscode.Uri;
  client: () => Promise<ConductorClient>;
  openNotebook: (projectId: string) => Promise<void>;
  /** puts a suggested edit in its stage's cell and runs it */
  applySuggestion: (projectId: string, suggestion: SuggestedEdit) => Promise<void>;
  exportZip: (projectId: string) => Promise<void>;
  projectDir: (projectId: string) => vscode.Uri;
  log: vscode.LogOutputChannel;
}

export class DashboardPanel implements vscode.Disposable {
  private static readonly open = new Map<string, DashboardPanel>();
  static readonly viewType = "automl.dashboard";
  private readonly disposables: vscode.Disposable[] = [];
  /** live batches wait until the webview has its replay, or they would arrive before the history */
  private ready = false;

  /** Shows the project's dashboard: reveals an open one, adopts one VS Code restored after a reload, or opens one. */
  /** The editor column of a project's dashboard, if one is open. */
  static columnOf(projectId: string): vscode.ViewColumn | undefined {
    return DashboardPanel.open.get(projectId)?.panel.viewColumn;
  }

  static show(feed: ProjectFeed, meta: ProjectMeta, deps: DashboardDeps, restored?: vscode.WebviewPanel): DashboardPanel {
    const existing = DashboardPanel.open.get(feed.projectId);
    if (existing) {
      restored?.dispose();
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const options = { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, "dist", "webviews")] };
    const panel =
      restored ?? vscode.window.createWebviewPanel(DashboardPanel.viewType, "AutoML", { viewColumn: vscode.ViewColumn.Two, preserveFocus: true }, options);
    if (restored) panel.webview.options = options;
    const created = new DashboardPanel(panel, feed, meta, deps);
    DashboardPanel.open.set(feed.projectId, created);
    return created;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly feed: ProjectFeed,
    private meta: ProjectMeta,
    private readonly deps: DashboardDeps,
  ) {
    // two projects with the same request are told apart by their id's tail
    panel.title = `AutoML: ${projectDisplayName(meta)}`;
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: PanelToHost) => void this.onMessage(m)),
      feed.onEvents((events) => {
        this.followPrompt(events);
        this.offerDatasetPick(events);
        if (this.ready) this.post({ type: "events", events: [...events], replay: false });
      }),
      feed.onConnection((state) => this.post({ type: "connection", state })),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** A reworded request renames the panel and the dashboard's title and prompt editor. */
  private followPrompt(events: readonly AnyEventEnvelope[]): void {
    for (const e of events) {
      if (e.event.name !== EV.PROMPT_PARSED || !e.event.payload.prompt || e.event.payload.prompt === this.meta.prompt) continue;
      this.meta = { ...this.meta, prompt: e.event.payload.prompt };
      this.panel.title = `AutoML: ${projectDisplayName(this.meta)}`;
      if (this.ready) this.post(this.initMessage());
    }
  }

  /** the gate (its event's seq) whose dataset pick was offered: once each */
  private offeredPick = 0;

  /**
   * A new DATA_SOURCE gate that asks which dataset: the quick pick of the candidates (source,
   * license, size, why), over whatever the person looks at; dismissed, the dashboard's picker
   * and AutoML: Confirm Stage still offer it.
   */
  private offerDatasetPick(events: readonly AnyEventEnvelope[]): void {
    const gates = events.filter((e) => e.event.name === EV.WAITING_CONFIRMATION);
    const gate = gates[gates.length - 1];
    const waiting = this.feed.snapshot.waiting;
    // only the gate the project still waits at (the batch's last), and each gate once
    if (!gate || gate.seq <= this.offeredPick || !waiting || !datasetChoiceOf(waiting) || this.feed.snapshot.last_seq !== events[events.length - 1]?.seq)
      return;
    this.offeredPick = gate.seq;
    void this.deps
      .client()
      .then((client) => pickDataset(client, this.feed.projectId, waiting))
      .catch((err: Error) => void vscode.window.showErrorMessage(`AutoML: ${err.message}`));
  }

  private initMessage(): HostToPanel {
    return { type: "init", projectId: this.feed.projectId, prompt: this.meta.prompt, name: projectDisplayName(this.meta) };
  }

  private post(m: HostToPanel): void {
    void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: PanelToHost): Promise<void> {
    try {
      switch (m.type) {
        case "ready":
          this.ready = true;
          this.followPrompt(this.feed.events);
          this.post(this.initMessage());
          this.post({ type: "events", events: [...this.feed.events], replay: true });
          this.post({ type: "connection", state: this.feed.connection });
          break;
        case "confirm": {
          const { type: _type, ...request } = m; // the rest is a ConfirmRequest
          await (await this.deps.client()).confirm(this.feed.projectId, request);
          this.post({ type: "actionResult", action: "confirm", ok: true });
          break;
        }
        case "fetchAsset": {
          const bytes = await (await this.deps.client()).asset(m.url);
          const image = imageMime(bytes);
          this.post({
            type: "asset",
            url: m.url,
            // an image as a data: URI (the panel's CSP allows data: images, and the panel never fetches the conductor itself)
            json: image
              ? `data:${image};base64,${Buffer.from(bytes).toString("base64")}`
              : m.url.endsWith(".bin")
                ? Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))
                : JSON.parse(new TextDecoder().decode(bytes)),
          });
          break;
        }
        case "openNotebook":
          await this.deps.openNotebook(this.feed.projectId);
          break;
        case "exportZip":
          await this.deps.exportZip(this.feed.projectId);
          break;
        case "retry":
          await (await this.deps.client()).retry(this.feed.projectId, { resume: m.resume });
          this.post({ type: "actionResult", action: m.type, ok: true });
          break;
        case "rerunStale":
          this.post({ type: "actionResult", action: m.type, ok: true });
          await (await this.deps.client()).rerunStale(this.feed.projectId);
          break;
        case "reparse":
          await (await this.deps.client()).parse(this.feed.projectId, { prompt: m.prompt, target: m.target });
          this.post({ type: "actionResult", action: m.type, ok: true });
          break;
        case "upload": {
          const picked = await vscode.window.showOpenDialog({
            canSelectMany: false,
            filters: { Tables: [...DATA_FILE_EXTENSIONS] },
            title: "Data file for this project",
          });
          if (!picked?.[0]) return;
          const bytes = await vscode.workspace.fs.readFile(picked[0]);
          await (await this.deps.client()).upload(this.feed.projectId, path.basename(picked[0].fsPath), bytes);
          this.post({ type: "actionResult", action: m.type, ok: true });
          break;
        }
        case "applySuggestion": {
          const suggestion = this.feed.snapshot.suggestions.find((sg) => sg.id === m.id);
          if (!suggestion) throw new Error("That suggestion is no longer current: the project has moved on since. Look at the new suggestions.");
          await this.deps.applySuggestion(this.feed.projectId, suggestion);
          this.post({ type: "actionResult", action: m.type, ok: true });
          break;
        }
        case "openReport": {
          const report = vscode.Uri.joinPath(this.deps.projectDir(this.feed.projectId), "report.md");
          await vscode.commands.executeCommand("markdown.showPreview", report);
          break;
        }
        case "revealZip": {
          const zip = vscode.Uri.joinPath(this.deps.projectDir(this.feed.projectId), "export", `${this.feed.projectId}.zip`);
          await vscode.commands.executeCommand("revealInExplorer", zip);
          break;
        }
      }
    } catch (err) {
      const message = (err as Error).message;
      this.deps.log.warn(`dashboard ${this.feed.projectId}: ${m.type} failed: ${message}`);
      if (m.type === "fetchAsset") this.post({ type: "assetError", url: m.url, error: message });
      else this.post({ type: "actionResult", action: m.type, ok: false, error: message });
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, "dist", "webviews", "dashboard.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, "dist", "webviews", "dashboard.css"));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'unsafe-inline'`,
      `img-src ${webview.cspSource} data:`,
      "font-src 'none'",
      "connect-src 'none'",
    ].join("; ");
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>AutoML</title>
</head>
<body>
<div id="app" data-project="${this.feed.projectId}"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  dispose(): void {
    DashboardPanel.open.delete(this.feed.projectId);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

/** The image type of an asset's bytes by their signature (PNG or JPEG), else null: nothing else becomes a data: URI. */
function imageMime(bytes: Uint8Array): string | null {
  if (bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  return null;
}
