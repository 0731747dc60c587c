/** EXPORT: everything needed to read, rerun and use the result, as one zip. */
import type { StageModule } from "./stage";

export const exportStage: StageModule = {
  id: "EXPORT",
  async run(ctx) {
    const ready = await ctx.runtime.exportProject();
    ctx.logger.info(`project ${ctx.meta.id}: exported ${ready.contents.length} files`);
    return { kind: "done" };
  },
  cells() {
    return [
      {
        kind: "markdown",
        source:
          "## 8. Export\n\nThe project as one zip: this notebook, the report, the best model and its preprocessing, every run, the data and the event log, each with its sha256.",
      },
      { kind: "code", source: "const exported = await rt.exportProject();\nautoml.table(exported.contents, `export ${exported.checksum}`);" },
    ];
  },
};
