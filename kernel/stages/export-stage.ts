/** EXPORT: everything needed to read, rerun and use the result, as one zip. */
import type { EventPayload } from "../../contract";
import { executeCells } from "../tasks/pipeline-step";
import type { StageModule } from "./stage";

export const exportStage: StageModule = {
  id: "EXPORT",
  async run(ctx) {
    await executeCells(exportStage.code(ctx), ctx.runtime, ctx.work);
    const ready = ctx.work.get("exported") as EventPayload<"EXPORT_READY">;
    ctx.logger.info(`project ${ctx.meta.id}: exported ${ready.contents.length} files`);
    return { kind: "done" };
  },
  describe() {
    return "## 8. Export\n\nThe project as one zip: this notebook, the report, the best model and its preprocessing, every run, the data and the event log, each with its sha256.";
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
