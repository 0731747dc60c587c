/**
 * Keeps an open project notebook showing what the conductor last wrote to its file.
 *
 * VS Code reloads a clean open notebook when its file watcher reports that the file changed.
 * Where the watcher cannot run (Linux out of inotify instances or watches, which are counted per
 * user across every process and container of the machine; some network and container file
 * systems) the notebook stays at the version it was opened with, and a later save of it conflicts
 * with the file. So after each write of a notebook the conductor announces, a clean open notebook
 * that still differs from its file once VS Code has had time to reload it is reverted to the file
 * here. A notebook with unsaved changes is never touched: those are the person's.
 */
import * as vscode from "vscode";

/** Long enough for VS Code's own watcher to have reloaded the notebook (it takes well under a second). */
const GRACE_MS = 2000;

/** `workbench.action.focus…EditorGroup` by view column, to give the focus back after a revert. */
const FOCUS_GROUP_COMMANDS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth"].map((n) => `workbench.action.focus${n}EditorGroup`);

type FileCell = { cell_type?: string; source?: string | string[] };
type CellText = { code: boolean; text: string };

/** The cells of an .ipynb file as (kind, text); null when the file is not a notebook (then nothing is compared). */
function cellsOfFile(bytes: Uint8Array): CellText[] | null {
  try {
    const nb = JSON.parse(new TextDecoder().decode(bytes)) as { cells?: FileCell[] };
    if (!Array.isArray(nb.cells)) return null;
    return nb.cells.map((c) => ({ code: c.cell_type === "code", text: Array.isArray(c.source) ? c.source.join("") : (c.source ?? "") }));
  } catch {
    return null;
  }
}

function sameCells(doc: vscode.NotebookDocument, file: CellText[]): boolean {
  if (doc.cellCount !== file.length) return false;
  return doc.getCells().every((cell, i) => {
    const f = file[i]!;
    return (cell.kind === vscode.NotebookCellKind.Code) === f.code && cell.document.getText().trimEnd() === f.text.trimEnd();
  });
}

/** Waits (a few seconds at most) for `check`: a reverted notebook reaches the extension host in steps. */
async function settled(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; !check();) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

export class NotebookDiskSync implements vscode.Disposable {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** notebooks written while in a background tab: checked when they come into view */
  private readonly unseen = new Set<string>();
  private warned = false;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.subscriptions = [
      vscode.window.onDidChangeVisibleNotebookEditors((editors) => {
        for (const e of editors) if (this.unseen.delete(e.notebook.uri.toString())) this.schedule(e.notebook.uri, 0);
      }),
    ];
  }

  /** The conductor wrote `uri`: make sure an open copy shows it, after VS Code has had its chance. */
  written(uri: vscode.Uri): void {
    this.schedule(uri, GRACE_MS);
  }

  /**
   * Brings the open notebook at `uri` up to its file now if it is clean and behind. Returns false
   * when it could not (it has unsaved changes, or the revert did not take): the caller then must not
   * save over the file.
   */
  async ensureCurrent(uri: vscode.Uri): Promise<boolean> {
    const doc = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc) return true;
    let file: CellText[] | null;
    try {
      file = cellsOfFile(await vscode.workspace.fs.readFile(uri));
    } catch {
      return true; // no file (any more): nothing to be behind
    }
    if (!file || sameCells(doc, file)) return true;
    const onDisk = file;
    if (doc.isDirty) return false;
    const editor = vscode.window.visibleNotebookEditors.find((e) => e.notebook === doc);
    if (!editor) {
      this.unseen.add(uri.toString());
      return false;
    }
    const current = (await this.reload(editor)) && (await settled(() => sameCells(doc, onDisk) && !doc.isDirty));
    if (current && !this.warned) {
      this.warned = true;
      this.log.warn(
        `VS Code did not reload ${vscode.workspace.asRelativePath(uri)} after the conductor wrote it (its file watcher is not reporting changes there: ` +
          `files.watcherExclude, or on Linux out of inotify instances or watches): reloaded it from the file, as it will do after each write.`,
      );
    } else if (!current) {
      this.log.warn(`${vscode.workspace.asRelativePath(uri)} shows an older version than its file and could not be reloaded: close and reopen it.`);
    }
    return current;
  }

  private schedule(uri: vscode.Uri, delayMs: number): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.ensureCurrent(uri).catch((err: Error) => this.log.warn(`checking ${vscode.workspace.asRelativePath(uri)} against its file: ${err.message}`));
      }, delayMs),
    );
  }

  /**
   * Reloads a clean notebook from its file. The API has no reload: "Revert File" does it, but it
   * acts on the focused editor only, and on a notebook only when it has changes. So the notebook is
   * focused, given a change that changes nothing (its metadata set to itself), reverted, and the
   * editor group that had the focus gets it back. Before the revert it is checked that the focused
   * editor is still this notebook and that our change is its only one: a revert must discard nothing else.
   */
  private async reload(editor: vscode.NotebookEditor): Promise<boolean> {
    const doc = editor.notebook;
    const returnTo = vscode.window.tabGroups.activeTabGroup.viewColumn;
    await vscode.window.showNotebookDocument(doc, { viewColumn: editor.viewColumn, preserveFocus: false, preview: false });
    const focused = () => vscode.window.activeNotebookEditor?.notebook === doc;
    if (doc.isDirty || !focused()) return false;
    const touch = new vscode.WorkspaceEdit();
    touch.set(doc.uri, [vscode.NotebookEdit.updateNotebookMetadata({ ...doc.metadata })]);
    const before = doc.version;
    if (!(await vscode.workspace.applyEdit(touch))) return false;
    if (doc.version !== before + 1 || !focused()) {
      // someone else changed or focused something meanwhile: their change stays, and so does our no-op one
      this.log.warn(`${vscode.workspace.asRelativePath(doc.uri)} was not reloaded: it changed or lost the focus while being reloaded.`);
      return false;
    }
    await vscode.commands.executeCommand("workbench.action.files.revert");
    const focus = FOCUS_GROUP_COMMANDS[returnTo - 1];
    if (focus && vscode.window.tabGroups.activeTabGroup.viewColumn !== returnTo) await vscode.commands.executeCommand(focus);
    return true;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const s of this.subscriptions) s.dispose();
  }
}
