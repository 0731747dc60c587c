/**
 * The project's notebook: one section per completed stage (a markdown cell saying what the
 * stage did and why, then its code), written as nbformat 4 through @nteract/commutable.
 * Cells carry `metadata.automl.stage_id`, so a stage can be traced to its cells and back.
 *
 * The file belongs to the person as much as to the pipeline: when a stage completes, only
 * that stage's cells are (re)written; every other cell, edited or added by hand, stays as it
 * is. A file that is no longer a notebook is never overwritten.
 */
import * as fs from "node:fs";
import { fromJS, parseNotebook, stringifyNotebook, toJS, type Notebook } from "@nteract/commutable";
import { PROJECT_NOTEBOOK_FILE, STAGE_IDS, isStageId, type StageId } from "../../contract";
import { InputError } from "../errors/input-error";

export interface CellDraft {
  kind: "markdown" | "code";
  source: string;
}

export interface StageCells {
  stage: StageId;
  cells: CellDraft[];
}

export const NOTEBOOK_FILE = PROJECT_NOTEBOOK_FILE;

export const NOTEBOOK_METADATA = {
  kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
  language_info: {
    name: "typescript",
    file_extension: ".ts",
    mimetype: "text/typescript",
    codemirror_mode: { name: "javascript", typescript: true },
    version: "5.0",
  },
};

interface PlainCell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: { automl?: { stage_id?: string } } & Record<string, unknown>;
  [key: string]: unknown;
}

export class InvalidNotebookError extends InputError {
  override name = "InvalidNotebookError";
}

/** how long a notebook that does not parse is read again for: an editor saving it writes in place, and a read can land between its truncate and its write */
const TORN_READ_RETRY_MS = 2_000;
const TORN_READ_PAUSE_MS = 50;

/** The notebook on disk, or null when there is none yet. */
export function readNotebook(file: string): { cells: PlainCell[] } | null {
  if (!fs.existsSync(file)) return null;
  let nb: Notebook;
  const until = Date.now() + TORN_READ_RETRY_MS;
  for (;;) {
    const text = fs.readFileSync(file, "utf8");
    try {
      nb = parseNotebook(text);
      break;
    } catch (err) {
      // seen in VS Code: the file empty or cut short for a moment while the editor saved it
      if (Date.now() < until) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, TORN_READ_PAUSE_MS);
        continue;
      }
      throw new InvalidNotebookError(
        `${file} is not valid notebook JSON (${(err as Error).message}). It was left as it is: fix it (or delete it to have the pipeline write it again).`,
      );
    }
  }
  if (nb.nbformat !== 4) throw new InvalidNotebookError(`${file} is nbformat ${nb.nbformat}; this product writes nbformat 4. Convert it or delete it.`);
  return { cells: (nb as unknown as { cells: PlainCell[] }).cells };
}

/**
 * The notebook text after `replaced` stages got freshly generated cells. Stages that have
 * no cells in the file yet get theirs too; everything else in the file is kept.
 */
export function renderNotebook(existing: { cells: PlainCell[] } | null, sections: StageCells[], replaced: ReadonlySet<StageId>, projectId: string): string {
  // each cell belongs to the stage of the last tagged cell at or before it; hand-added cells carry no tag
  const kept = new Map<StageId | "preamble", Array<{ cell: PlainCell; tagged: boolean }>>();
  let owner: StageId | "preamble" = "preamble";
  for (const cell of existing?.cells ?? []) {
    const tag = cell.metadata?.automl?.stage_id;
    if (isStageId(tag)) owner = tag;
    (kept.get(owner) ?? kept.set(owner, []).get(owner)!).push({ cell, tagged: isStageId(tag) });
  }
  const generated = new Map(sections.map((s) => [s.stage, s.cells.map((d) => toCell(d, s.stage, projectId))]));
  const cells: PlainCell[] = (kept.get("preamble") ?? []).map((k) => k.cell);
  for (const stage of STAGE_IDS) {
    const fromFile = kept.get(stage) ?? [];
    const fresh = generated.get(stage);
    if (fresh && (replaced.has(stage) || !fromFile.some((k) => k.tagged))) {
      cells.push(...fresh, ...fromFile.filter((k) => !k.tagged).map((k) => k.cell));
    } else cells.push(...fromFile.map((k) => k.cell));
  }
  const plain = { nbformat: 4, nbformat_minor: 4, metadata: { ...NOTEBOOK_METADATA, automl: { project_id: projectId } }, cells };
  // round-trip through commutable: it normalises the notebook the way nteract and Jupyter read it
  return stringifyNotebook(toJS(fromJS(plain as unknown as Notebook))) + "\n";
}

/** The code cells the notebook holds for a stage, as the person left them. */
export function stageCode(notebook: { cells: PlainCell[] }, stage: StageId): string[] {
  return notebook.cells
    .filter((c) => c.cell_type === "code" && c.metadata?.automl?.stage_id === stage)
    .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
}

function toCell(d: CellDraft, stage: StageId, projectId: string): PlainCell {
  const source = splitLines(d.source);
  const metadata = { automl: { stage_id: stage, project_id: projectId } };
  return d.kind === "code" ? { cell_type: "code", source, metadata, execution_count: null, outputs: [] } : { cell_type: "markdown", source, metadata };
}

/** nbformat stores multi-line text as a list of lines, each but the last ending in "\n". */
function splitLines(text: string): string[] {
  const lines = text.trimEnd().split("\n");
  return lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l));
}
