/**
 * A suggested edit applied with one click: the stage's code cell in the project notebook gets
 * the edit, the notebook is saved, and the cell runs in the project's kernel; the stages it
 * leaves stale re-run after it, so the panels show the new result. A cell the person changed
 * by hand since the stage wrote it is only replaced with their consent (undo restores it).
 */
import * as vscode from "vscode";
import { STAGE_TITLES, type EventPayload } from "../../contract";
import type { AutomlNotebookController } from "./automl-notebook-controller";
import { stageOfCell } from "./notebook-project";

export type SuggestedEdit = EventPayload<"EDIT_SUGGESTIONS">["suggestions"][number];

export async function applySuggestedEdit(
  editor: vscode.NotebookEditor,
  controller: AutomlNotebookController,
  suggestion: SuggestedEdit,
): Promise<"ran" | "declined"> {
  const edit = suggestion.cell_edit;
  const title = STAGE_TITLES[suggestion.stage_id];
  if (!edit) throw new Error(`"${suggestion.title}" is advice, not an edit of a cell: open the notebook and change the ${title} cell by hand.`);
  const nb = editor.notebook;
  const stageCells = nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code && stageOfCell(c) === suggestion.stage_id);
  const same = (c: vscode.NotebookCell) => c.document.getText().trim() === edit.before.trim();
  let cell = stageCells.find(same);
  if (!cell) {
    cell = stageCells[0];
    if (!cell) throw new Error(`The notebook has no ${title} code cell any more; the suggestion cannot be applied. Re-run ${title} to have it written again.`);
    const pick = await vscode.window.showWarningMessage(
      `The ${title} cell was changed since the pipeline wrote it. Replace it with the suggested edit "${suggestion.title}"?`,
      { modal: true, detail: "Undo in the notebook brings your version back." },
      "Replace and run",
    );
    if (pick !== "Replace and run") return "declined";
  }
  const change = new vscode.WorkspaceEdit();
  const doc = cell.document;
  change.replace(doc.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), edit.after);
  if (!(await vscode.workspace.applyEdit(change))) throw new Error(`The ${title} cell could not be edited (is the notebook read-only?).`);
  // the stale stages after it re-run from the file: they must see the edit there
  if (!(await nb.save()))
    throw new Error(`The notebook could not be saved with the edit of the ${title} cell; save it (its message says why), then apply the suggestion again.`);
  editor.revealRange(new vscode.NotebookRange(cell.index, cell.index + 1), vscode.NotebookEditorRevealType.InCenterIfOutsideViewport);
  const [ok] = await controller.run(editor, [cell], { rerunStale: true });
  if (!ok) throw new Error(`The edited ${title} cell failed; its output in the notebook says why.`);
  return "ran";
}
