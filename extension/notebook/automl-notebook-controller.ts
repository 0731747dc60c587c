/**
 * The notebook controller ("AutoML TypeScript") for project notebooks (`jupyter-notebook`,
 * TypeScript cells): runs cells in the project's kernel through the conductor, streams their
 * outputs, keeps execution order, interrupts, and restarts. It is the preferred controller for
 * AutoML notebooks; other notebooks keep theirs. With the Jupyter extension installed it also
 * watches for project notebooks that were given a Jupyter kernel and says which one to pick.
 */
import * as vscode from "vscode";
import type { Jupyter } from "@vscode/jupyter-extension";
import { STAGE_TITLES, VEGA_LITE_MIME, type CellOutput, type ConductorClient, type StageId } from "../../contract";
import { projectOfNotebook, stageOfCell } from "./notebook-project";

export const CONTROLLER_ID = "automl-typescript";

export class AutomlNotebookController implements vscode.Disposable {
  private readonly controller: vscode.NotebookController;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly executed = new vscode.EventEmitter<string>();
  /** notebooks this controller is selected for */
  readonly selected = new Set<vscode.NotebookDocument>();
  /** fires with the project id after each cell */
  readonly onDidExecute = this.executed.event;

  constructor(
    private readonly client: () => Promise<ConductorClient>,
    private readonly log: vscode.LogOutputChannel,
    /** this extension's id, as the kernel picker names controllers */
    private readonly extensionId: string,
  ) {
    this.controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, "jupyter-notebook", "AutoML TypeScript");
    this.controller.supportedLanguages = ["typescript"];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = "the project's kernel";
    this.controller.detail = "Runs cells in the AutoML project's TypeScript kernel; the panels follow live.";
    this.controller.executeHandler = async (cells, notebook) => void (await this.execute(cells, notebook));
    this.controller.interruptHandler = (notebook) => this.interrupt(notebook);
    this.disposables.push(
      this.controller,
      this.executed,
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.prefer(nb)),
      this.controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => (selected ? this.selected.add(notebook) : this.selected.delete(notebook))),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.selected.delete(nb)),
    );
    for (const nb of vscode.workspace.notebookDocuments) this.prefer(nb);
    void this.watchJupyter();
  }

  private prefer(nb: vscode.NotebookDocument): void {
    if (nb.notebookType === "jupyter-notebook" && projectOfNotebook(nb)) {
      this.controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
    }
  }

  /**
   * Runs cells in this controller (selecting it for the notebook first) and resolves when they
   * are done; with `rerunStale`, the stages a cell leaves stale are re-run at once instead of
   * asking. Resolves with whether each cell succeeded (the cells' executionSummary follows later).
   */
  async run(editor: vscode.NotebookEditor, cells: vscode.NotebookCell[], options: { rerunStale: boolean }): Promise<boolean[]> {
    if (!this.selected.has(editor.notebook)) {
      await vscode.commands.executeCommand("notebook.selectKernel", { notebookEditor: editor, id: CONTROLLER_ID, extension: this.extensionId });
    }
    if (!this.selected.has(editor.notebook))
      throw new Error(`The notebook's kernel could not be set to "AutoML TypeScript": pick it in the kernel picker (top right) and try again.`);
    return this.execute(cells, editor.notebook, options);
  }

  private async execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument, options = { rerunStale: false }): Promise<boolean[]> {
    const projectId = projectOfNotebook(notebook);
    const results: boolean[] = [];
    this.log.info(`running ${cells.length} cell(s) of ${projectId ?? notebook.uri.fsPath}`);
    for (const cell of cells) {
      const execution = this.controller.createNotebookCellExecution(cell);
      execution.start(Date.now());
      await execution.clearOutput();
      if (!projectId) {
        await execution.appendOutput(
          errorOutput(
            "Not an AutoML notebook",
            "This kernel runs AutoML project notebooks (.automl/projects/<id>/notebook.ipynb). Pick another kernel for this notebook.",
          ),
        );
        execution.end(false, Date.now());
        results.push(false);
        continue;
      }
      let stream: { name: string; output: vscode.NotebookCellOutput } | null = null;
      let ok = false;
      try {
        const client = await this.client();
        const done = await client.execute(projectId, { code: cell.document.getText(), stage_id: stageOfCell(cell) }, (m) => {
          if (m.type !== "output") return;
          const o = m.output;
          if (o.output_type === "stream") {
            const item = o.name === "stderr" ? vscode.NotebookCellOutputItem.stderr(o.text) : vscode.NotebookCellOutputItem.stdout(o.text);
            if (stream && stream.name === o.name) void execution.appendOutputItems(item, stream.output);
            else {
              stream = { name: o.name, output: new vscode.NotebookCellOutput([item]) };
              void execution.appendOutput(stream.output);
            }
            return;
          }
          stream = null;
          void execution.appendOutput(toOutput(o));
        });
        execution.executionOrder = done.execution_count;
        ok = done.status === "ok";
        if (done.stale_stages.length && options.rerunStale) {
          void client.rerunStale(projectId).catch((err: Error) => void vscode.window.showErrorMessage(`AutoML: ${err.message}`));
        } else if (done.stale_stages.length) {
          void vscode.window
            .showInformationMessage(
              `AutoML: ${done.stale_stages.map((st) => STAGE_TITLES[st as StageId] ?? st).join(", ")} no longer follow from this cell.`,
              "Re-run them",
              "Open Dashboard",
            )
            .then((pick) => {
              if (pick === "Re-run them")
                void client.rerunStale(projectId).catch((err: Error) => void vscode.window.showErrorMessage(`AutoML: ${err.message}`));
              if (pick === "Open Dashboard") void vscode.commands.executeCommand("automl.openDashboard", projectId);
            });
        }
      } catch (err) {
        await execution.appendOutput(errorOutput("AutoML", (err as Error).message));
        this.log.warn(`cell run failed: ${(err as Error).message}`);
      }
      execution.end(ok, Date.now());
      results.push(ok);
      this.executed.fire(projectId);
    }
    return results;
  }

  private async interrupt(notebook: vscode.NotebookDocument): Promise<void> {
    const projectId = projectOfNotebook(notebook);
    if (projectId) await (await this.client()).interrupt(projectId);
  }

  /** With the Jupyter extension present, a project notebook running on a Jupyter kernel is pointed back here. */
  private async watchJupyter(): Promise<void> {
    const ext = vscode.extensions.getExtension<Jupyter>("ms-toolsai.jupyter");
    if (!ext) return;
    this.disposables.push(
      vscode.window.onDidChangeActiveNotebookEditor(async (editor) => {
        if (!editor || !projectOfNotebook(editor.notebook) || !ext.isActive) return;
        const kernel = await ext.exports.kernels.getKernel(editor.notebook.uri);
        if (kernel && kernel.language !== "typescript") {
          void vscode.window.showInformationMessage(
            `This AutoML notebook runs on a ${kernel.language} Jupyter kernel; its cells need "AutoML TypeScript" (kernel picker, top right).`,
          );
        }
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function toOutput(o: Exclude<CellOutput, { output_type: "stream" }>): vscode.NotebookCellOutput {
  if (o.output_type === "error") return errorOutput(o.ename, o.evalue, o.traceback.join("\n"));
  const items: vscode.NotebookCellOutputItem[] = [];
  for (const [mime, value] of Object.entries(o.data)) {
    if (mime === "image/png" || mime === "image/jpeg") items.push(new vscode.NotebookCellOutputItem(Buffer.from(String(value), "base64"), mime));
    else if (mime === "application/json" || mime === VEGA_LITE_MIME) items.push(vscode.NotebookCellOutputItem.json(value, mime));
    else items.push(vscode.NotebookCellOutputItem.text(String(value), mime));
  }
  return new vscode.NotebookCellOutput(items);
}

function errorOutput(name: string, message: string, stack?: string): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name, message, stack })]);
}
