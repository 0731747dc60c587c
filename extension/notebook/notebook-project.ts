/** Which AutoML project (and stage) a notebook or cell belongs to, from its metadata or its path. */
import type * as vscode from "vscode";
import { isStageId, type StageId } from "../../contract";

type Meta = { automl?: { project_id?: string; stage_id?: string } };

/** The ipynb serializer has kept nbformat metadata in different places across VS Code versions. */
function automlMeta(metadata: Record<string, unknown> | undefined): Meta["automl"] {
  const m = metadata as ({ metadata?: Meta; custom?: { metadata?: Meta } } & Meta) | undefined;
  return m?.metadata?.automl ?? m?.custom?.metadata?.automl ?? m?.automl;
}

export function projectOfNotebook(nb: vscode.NotebookDocument): string | null {
  const fromMeta = automlMeta(nb.metadata)?.project_id;
  if (fromMeta) return fromMeta;
  const m = /[\\/]\.automl[\\/]projects[\\/]([^\\/]+)[\\/][^\\/]+\.ipynb$/.exec(nb.uri.fsPath);
  return m?.[1] ?? null;
}

export function stageOfCell(cell: vscode.NotebookCell): StageId | undefined {
  const stage = automlMeta(cell.metadata)?.stage_id;
  return isStageId(stage) ? stage : undefined;
}

/** The project a file or folder of `.automl/projects/<id>/…` belongs to. */
export function projectOfUri(uri: vscode.Uri): string | null {
  return /[\\/]\.automl[\\/]projects[\\/]([^\\/]+)/.exec(uri.fsPath)?.[1] ?? null;
}
