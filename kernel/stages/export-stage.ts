/** EXPORT: everything needed to read, rerun and use the result, as one zip. */
import type { EventPayload } from "../../contract";
import { executeCells } from "../tasks/pipeline-step";
import type { StageModule } from "./stage";

export const exportStage: StageModule = {
  id: "EXPORT",
  notebookBeforeRun: true,
  async run(ctx) {
    await executeCells(exportStage.code(ctx), ctx.runtime, ctx.work);
    const ready = ctx.work.get("exported") as EventPayload<"EXPORT_READY">;
    ctx.logger.info(`project ${ctx.meta.id}: exported ${ready.contents.length} files`);
    return { kind: "done" };
  },
  describe() {
    return "## 8. Export\n\nThe project as one bundle that predicts on its own (`node predict.mjs NEW.csv` where it is unzipped, no install): the best model with its preprocessing and input schema, a sample of rows, this notebook, the report, every run, the data and the event log, each file with its sha256 in `manifest.json`.";
  },
  code() {
    return [
      {
        conductor: "runs",
        statements: [
          { kind: "call", method: "exportProject", args: [], bind: "exported", show: "automl.table(exported.contents, `export ${exported.checksum}`)" },
        ],
      },
    ];
  },
};
