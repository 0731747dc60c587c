/**
 * Keeps an open project notebook showing what the conductor last wrote to its file.
 *
 * VS Code reloads a clean open notebook when its file watcher reports that the file changed.
 * Where the watcher cannot run (Linux out of inotify instances or watches, which are counted per
 * user across every process and container of the machine; some network and container file
 * systems) the notebook stays at the version it was opened with, and a later save of it conflicts
 * with the file. So after each write of a notebook the conductor announces, a clean open notebook
 * that still differs from its file once VS Code has had time to reload it is marked behind, and
 * read again from its file when the person comes to it (selects a cell, or makes it the active
 * editor) or an action needs it current (a suggested edit). Not at once: the API's only way to
 * read a clean notebook again needs it focused, and the person may be typing elsewhere (a
 * terminal). A notebook with unsaved changes is never touched: those are the person's.
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
  /** open clean notebooks behind their files, read again when the person comes to them */
  private readonly behind = new Set<string>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  private warned = false;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly log: vscode.LogOutputChannel) {
    const cameTo = (editor: vscode.NotebookEditor | undefined) => {
      if (editor && this.behind.has(editor.notebook.uri.toString())) this.catchUp(editor.notebook.uri);
    };
    this.subscriptions = [
      vscode.window.onDidChangeNotebookEditorSelection((e) => cameTo(e.notebookEditor)),
      vscode.window.onDidChangeActiveNotebookEditor(cameTo),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.behind.delete(nb.uri.toString())),
    ];
  }

  /** The conductor wrote `uri`: once VS Code has had its chance to reload an open copy, see whether it did. */
  written(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.check(uri).catch((err: Error) => this.log.warn(`checking ${vscode.workspace.asRelativePath(uri)} against its file: ${err.message}`));
      }, GRACE_MS),
    );
  }

  /** Marks an open clean notebook that differs from its file as behind; if it is focused now, reads it again at once. */
  private async check(uri: vscode.Uri): Promise<void> {
    const doc = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc || doc.isDirty) return;
    const file = cellsOfFile(await vscode.workspace.fs.readFile(uri));
    if (!file || sameCells(doc, file)) {
      this.behind.delete(uri.toString());
      return;
    }
    this.behind.add(uri.toString());
    void vscode.window.setStatusBarMessage(
      `$(sync) AutoML: ${vscode.workspace.asRelativePath(uri)} changed on disk; it is read again when you click into it`,
      10_000,
    );
  }

  private catchUp(uri: vscode.Uri): void {
    this.ensureCurrent(uri).catch((err: Error) => this.log.warn(`reading ${vscode.workspace.asRelativePath(uri)} again: ${err.message}`));
  }

  /**
   * Brings the open notebook at `uri` up to its file now if it is clean and behind. Returns false
   * when it could not (it has unsaved changes, or the revert did not take): the caller then must not
   * save over the file.
   */
  ensureCurrent(uri: vscode.Uri): Promise<boolean> {
    // one at a time per notebook: reading it again selects cells, which would ask for it again
    const key = uri.toString();
    const running = this.inflight.get(key);
    if (running) return running;
    const done = this.bringUpToDate(uri).finally(() => this.inflight.delete(key));
    this.inflight.set(key, done);
    return done;
  }

  private async bringUpToDate(uri: vscode.Uri): Promise<boolean> {
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
    if (!editor) return false;
    const current = (await this.reload(editor)) && (await settled(() => sameCells(doc, onDisk) && !doc.isDirty));
    if (current && !this.warned) {
      this.warned = true;
      this.log.warn(
        `VS Code did not reload ${vscode.workspace.asRelativePath(uri)} after the conductor wrote it (its file watcher is not reporting changes there: ` +
          `files.watcherExclude, or on Linux out of inotify instances or watches): read it again from the file, as it will each time you come to it after a write.`,
      );
    } else if (!current) {
      this.log.warn(`${vscode.workspace.asRelativePath(uri)} shows an older version than its file and could not be reloaded: close and reopen it.`);
    }
    if (current) this.behind.delete(uri.toString());
    return current;
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
