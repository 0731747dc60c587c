/** EXPORT: everything needed to read, rerun and use the result, as one zip. */
import { EV } from "../../contract";
import { exportProjectZip, type ExportEntry } from "../export/project-export";
import { NOTEBOOK_FILE } from "../notebook/pipeline-notebook";
import { EVENTS_FILE, PROJECT_FILE } from "../conductor/project-meta";
import { REPORT_FILE } from "./review-edit-stage";
import type { StageContext, StageModule } from "./stage";

/** Data files larger than this stay out of the zip (the notebook names where they came from). */
const MAX_DATA_BYTES = 50 * 1024 * 1024;

export const exportStage: StageModule = {
  id: "EXPORT",
  async run(ctx) {
    const entries = exportEntries(ctx);
    const zipPath = `export/${ctx.meta.id}.zip`;
    const ready = exportProjectZip(ctx.assets, ctx.events, entries, { "README.md": exportReadme(ctx) }, zipPath);
    ctx.events.emit(EV.FILE_TREE_UPDATE, { files: ctx.assets.fileEntries([zipPath]) });
    ctx.logger.info(`project ${ctx.meta.id}: exported ${ready.contents.length} files to ${zipPath}`);
    return { kind: "done" };
  },
  cells() {
    return [{ kind: "markdown", source: "## 8. Export\n\nThe project is exported as a zip with this notebook, the report, the best model and its preprocessing, the metrics and the event log." }];
  },
};

function exportEntries(ctx: StageContext): ExportEntry[] {
  const s = ctx.snapshot;
  const entries: ExportEntry[] = [
    { path: NOTEBOOK_FILE, source: NOTEBOOK_FILE },
    { path: REPORT_FILE, source: REPORT_FILE },
    { path: PROJECT_FILE, source: PROJECT_FILE },
    { path: EVENTS_FILE, source: EVENTS_FILE },
    { path: "preprocess/preprocessor.json", source: "preprocess/preprocessor.json" },
    { path: "profile/missingness.json", source: "profile/missingness.json" },
    { path: "profile/target_distribution.json", source: "profile/target_distribution.json" },
  ];
  if (s.best) entries.push({ path: "model/best-model.json", source: `models/${s.best.run_id}.json` });
  for (const run of Object.values(s.runs)) {
    if (run.status !== "success") continue;
    entries.push({ path: `models/${run.run_id}.json`, source: `models/${run.run_id}.json` });
  }
  for (const a of s.artifacts) {
    const m = /\/assets\/(runs\/.+)$/.exec(a.url);
    if (m) entries.push({ path: decodeURIComponent(m[1]!), source: decodeURIComponent(m[1]!) });
  }
  const dataFile = ctx.work.datasetFile();
  const size = ctx.assets.read(dataFile).length;
  if (size <= MAX_DATA_BYTES) entries.push({ path: dataFile, source: dataFile });
  return entries.filter((e) => ctx.assets.exists(e.source));
}

function exportReadme(ctx: StageContext): string {
  const s = ctx.snapshot;
  const best = s.best ? s.runs[s.best.run_id] : undefined;
  return [
    `# ${ctx.meta.prompt}`,
    "",
    `Exported by AutoML Builder from project \`${ctx.meta.id}\`.`,
    "",
    `- \`notebook.ipynb\`: the pipeline as a TypeScript notebook (kernel: tslab), one section per stage.`,
    `- \`report.md\`: what was done and how well it worked.`,
    `- \`model/best-model.json\`: the best model (${best?.model_id ?? "?"}) with its fitted preprocessing, feature names and test metrics.`,
    `- \`models/\`: every trained run; \`runs/\`: evaluation artifacts (JSON data with a vega-lite spec).`,
    `- \`events.jsonl\`: the project's complete event log.`,
    "",
    best?.final_metrics ? `Test ${best.final_metrics.primary.name} of the best model: ${best.final_metrics.primary.value.toFixed(4)}.` : "",
    "",
  ].join("\n");
}
