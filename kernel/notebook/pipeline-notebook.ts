/**
 * The project's notebook: one section per completed stage (a markdown cell saying what the
 * stage did and why, then its code), written as nbformat 4 through @nteract/commutable.
 * Cells carry `metadata.automl.stage_id` so an edited cell can be traced to its stage.
 */
import { fromJS, stringifyNotebook, toJS, type Notebook } from "@nteract/commutable";
import type { StageId } from "../../contract";

export interface CellDraft {
  kind: "markdown" | "code";
  source: string;
}

export interface StageCells {
  stage: StageId;
  cells: CellDraft[];
}

export const NOTEBOOK_FILE = "notebook.ipynb";

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

export function renderNotebook(sections: StageCells[], projectId: string): string {
  const cells = sections.flatMap(({ stage, cells: drafts }) =>
    drafts.map((d) => {
      const source = splitLines(d.source);
      const metadata = { automl: { stage_id: stage, project_id: projectId } };
      return d.kind === "code"
        ? { cell_type: "code" as const, source, metadata, execution_count: null, outputs: [] }
        : { cell_type: "markdown" as const, source, metadata };
    }),
  );
  const plain = { nbformat: 4, nbformat_minor: 4, metadata: { ...NOTEBOOK_METADATA, automl: { project_id: projectId } }, cells };
  // round-trip through commutable: it normalises the notebook the way nteract and Jupyter read it
  const immutable = fromJS(plain as unknown as Notebook);
  return stringifyNotebook(toJS(immutable)) + "\n";
}

/** nbformat stores multi-line text as a list of lines, each but the last ending in "\n". */
function splitLines(text: string): string[] {
  const lines = text.replace(/\s+$/, "").split("\n");
  return lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l));
}
