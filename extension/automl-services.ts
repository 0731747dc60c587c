/**
 * The extension's long-lived parts, created on activation but cheap until used: nothing
 * starts a process until a command or a cell needs the conductor.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import { EV, PROJECT_NOTEBOOK_FILE, type AnyEventEnvelope, type ConductorClient } from "../contract";
import { ConductorProcess } from "./conductor/conductor-process";
import { ProjectStreams, type ProjectFeed } from "./conductor/project-streams";
import { AutomlNotebookController } from "./notebook/automl-notebook-controller";
import { NotebookDiskSync } from "./notebook/notebook-disk-sync";
import { applySuggestedEdit, type SuggestedEdit } from "./notebook/suggested-edit";
import { SuggestionStatusBar } from "./notebook/suggestion-status-bar";
import { VariablesView } from "./notebook/variables-view";
import { DashboardPanel } from "./panels/dashboard-panel";
import { ProjectStatusBar } from "./status/project-status-bar";

export class AutomlServices implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly conductor: ConductorProcess;
  readonly streams: ProjectStreams;
  readonly statusBar = new ProjectStatusBar();
  readonly variables: VariablesView;
  readonly controller: AutomlNotebookController;
  readonly notebookSync: NotebookDiskSync;
  readonly suggestionsBesideCells: SuggestionStatusBar;
  private readonly openedNotebooks = new Set<string>();
  private readonly followed = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel("AutoML", { log: true });
    this.conductor = new ConductorProcess(context, this.log);
    this.streams = new ProjectStreams(this.conductor);
    const client = () => this.client();
    this.variables = new VariablesView(client);
    this.controller = new AutomlNotebookController(client, this.log, context.extension.id);
    this.notebookSync = new NotebookDiskSync(this.log);
    this.suggestionsBesideCells = new SuggestionStatusBar((id) => this.follow(id));
    this.disposables.push(
      this.notebookSync,
      this.log,
      this.conductor,
      this.streams,
      this.statusBar,
      this.variables,
      this.controller,
      this.suggestionsBesideCells,
      vscode.notebooks.registerNotebookCellStatusBarItemProvider("jupyter-notebook", this.suggestionsBesideCells),
      (this.variables.view = vscode.window.createTreeView("automl.variables", { treeDataProvider: this.variables })),
      // dashboards come back after a window reload: the webview keeps its project id in its state
      vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const projectId = (state as { projectId?: unknown } | undefined)?.projectId;
          if (typeof projectId !== "string") return panel.dispose();
          try {
            await this.showDashboard(projectId, panel);
          } catch (err) {
            this.log.warn(`the dashboard of ${projectId} could not be restored: ${(err as Error).message}`);
            panel.dispose();
          }
        },
      }),
      this.controller.onDidExecute((projectId) => void this.variables.refresh(projectId).catch((err: Error) => this.log.warn(`variables: ${err.message}`))),
    );
  }

  client(): Promise<ConductorClient> {
    return this.conductor.ensure();
  }

  /** Follows a project: its feed, the status bar, and its notebook once it is written. */
  async follow(projectId: string): Promise<ProjectFeed> {
    const feed = await this.streams.watch(projectId);
    this.statusBar.follow(feed);
    if (this.followed.has(projectId)) return feed;
    this.followed.add(projectId);
    const openWhenReady = (events: readonly AnyEventEnvelope[]) => {
      if (events.some((e) => e.event.name === EV.FILE_TREE_UPDATE && e.event.payload.files.some((f) => f.path === PROJECT_NOTEBOOK_FILE)))
        this.notebookSync.written(this.notebookUri(projectId));
      if (!this.openedNotebooks.has(projectId) && events.some((e) => e.event.name === EV.NOTEBOOK_READY)) {
        this.openedNotebooks.add(projectId);
        // after a window reload the history replays NOTEBOOK_READY: a notebook already in a tab stays where it is
        if (!this.notebookTabOpen(projectId)) void this.openNotebook(projectId);
      }
    };
    this.disposables.push(feed.onEvents(openWhenReady));
    return feed;
  }

  /** Opens (or reveals) a project's dashboard; `restored` is a panel VS Code brought back after a reload. */
  async showDashboard(projectId: string, restored?: vscode.WebviewPanel): Promise<void> {
    const feed = await this.follow(projectId);
    const state = await (await this.client()).state(projectId);
    DashboardPanel.show(
      feed,
      state.meta,
      {
        extensionUri: this.context.extensionUri,
        client: () => this.client(),
        openNotebook: async (id) => void (await this.openNotebook(id)),
        applySuggestion: (id, suggestion) => this.applySuggestion(id, suggestion),
        exportZip: (id) => vscode.commands.executeCommand("automl.exportProject", id) as Promise<void>,
        projectDir: (id) => this.projectDir(id),
        log: this.log,
      },
      restored,
    );
  }

  /** A suggested edit put in its cell, which runs; the stages after it re-run (see suggested-edit.ts). */
  async applySuggestion(projectId: string, suggestion: SuggestedEdit): Promise<void> {
    const editor = await this.openNotebook(projectId);
    if (!(await this.notebookSync.ensureCurrent(editor.notebook.uri)))
      throw new Error(
        "The notebook has unsaved changes and its file was rewritten since: save or revert it (File: Revert File), then apply the suggestion again.",
      );
    const outcome = await applySuggestedEdit(editor, this.controller, suggestion);
    this.log.info(`suggestion ${suggestion.id} of ${projectId}: ${outcome}`);
  }

  projectDir(projectId: string): vscode.Uri {
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    return vscode.Uri.joinPath(folder, ".automl", "projects", projectId);
  }

  notebookUri(projectId: string): vscode.Uri {
    return vscode.Uri.joinPath(this.projectDir(projectId), PROJECT_NOTEBOOK_FILE);
  }

  private notebookTabOpen(projectId: string): boolean {
    const uri = this.notebookUri(projectId).toString();
    return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputNotebook && t.input.uri.toString() === uri));
  }

  async openNotebook(projectId: string): Promise<vscode.NotebookEditor> {
    const uri = this.notebookUri(projectId);
    const doc = await vscode.workspace.openNotebookDocument(uri);
    // beside this project's dashboard (not another project's), so its panels and its notebook are both in view
    const dashboardColumn = DashboardPanel.columnOf(projectId);
    const column = dashboardColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
    const editor = await vscode.window.showNotebookDocument(doc, { viewColumn: column, preserveFocus: true, preview: false });
    this.log.info(`opened ${path.basename(uri.fsPath)} of ${projectId}`);
    return editor;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
