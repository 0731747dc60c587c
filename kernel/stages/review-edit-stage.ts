/**
 * REVIEW_EDIT: the report, the notebook (complete up to training) and concrete edits a
 * person could try next. Edited cells re-run through the kernel (the notebook issue).
 */
import { EV, type EventPayload, type ProjectSnapshot } from "../../contract";
import { NOTEBOOK_FILE } from "../notebook/pipeline-notebook";
import type { StageModule } from "./stage";

type Suggestion = EventPayload<"EDIT_SUGGESTIONS">["suggestions"][number];
export const REPORT_FILE = "report.md";

export const reviewEditStage: StageModule = {
  id: "REVIEW_EDIT",
  async run(ctx) {
    const report = ctx.assets.write(REPORT_FILE, renderReport(ctx.snapshot, ctx.meta.prompt));
    ctx.events.emit(EV.ARTIFACT_ADDED, { artifact: { id: "report", type: "report", name: "Project report", url: report.url, meta: { format: "markdown" } } });
    ctx.events.emit(EV.REPORT_READY, { asset_url: report.url });
    ctx.events.emit(EV.NOTEBOOK_READY, { asset_url: ctx.assets.url(NOTEBOOK_FILE) });
    const files = [NOTEBOOK_FILE, REPORT_FILE, "preprocess/preprocessor.json", ...Object.values(ctx.snapshot.runs).filter((r) => r.status === "success").map((r) => `models/${r.run_id}.json`)];
    ctx.events.emit(EV.CODE_WORKSPACE_READY, { files: ctx.assets.fileEntries(files.filter((f) => ctx.assets.exists(f))) });
    const suggestions = suggestEdits(ctx.snapshot);
    ctx.events.emit(EV.EDIT_SUGGESTIONS, { suggestions });
    return { kind: "review", summary: `Report and notebook ready; ${suggestions.length} suggested edit(s).` };
  },
  cells(ctx) {
    const best = ctx.snapshot.best;
    return [
      {
        kind: "markdown",
        source:
          `## 7. Review\n\nBest model: **${best?.model_id ?? "?"}** (validation ${best?.metric.name ?? ""} ${best?.metric.value.toFixed(4) ?? ""}). ` +
          `Ideas to try next:\n${ctx.snapshot.suggestions.map((s) => `- ${s.title}: ${s.detail}`).join("\n") || "- none"}`,
      },
    ];
  },
};

/** Heuristics from what the run showed; each names the stage (cell) to edit. */
export function suggestEdits(s: ProjectSnapshot): Suggestion[] {
  const out: Suggestion[] = [];
  for (const run of Object.values(s.runs)) {
    if (run.status === "success" && !run.simulated && run.step >= run.steps && run.steps > 0) {
      const row = s.leaderboard.find((r) => r.run_id === run.run_id);
      if (row && row.params["max_epochs"] !== undefined && run.steps >= Number(row.params["max_epochs"])) {
        out.push({ id: `more-epochs-${run.model_id}`, stage_id: "MODEL_SELECT", title: `Train ${run.model_id} longer`, detail: `It used all ${run.steps} epochs without early stopping; raise max_epochs.` });
      }
    }
  }
  if (s.task_type === "regression" && s.leaderboard.some((r) => r.model === "ridge")) {
    out.push({ id: "tune-ridge-alpha", stage_id: "MODEL_SELECT", title: "Tune ridge's alpha", detail: "Add ridge runs with alpha 0.1 and 10 and keep the one with the best validation score." });
  }
  for (const w of s.profile?.warnings ?? []) {
    const col = /^(.+?) is (\d+)% missing/.exec(w);
    if (col) out.push({ id: `drop-${col[1]}`, stage_id: "PREPROCESS", title: `Try without ${col[1]}`, detail: `${col[1]} is ${col[2]}% missing; add it to a drop_column step and compare.` });
    if (/rare/.test(w)) out.push({ id: "rank-by-f1", stage_id: "MODEL_SELECT", title: "Rank by F1", detail: "A rare class makes accuracy flattering; set metric_primary to f1." });
  }
  out.push({ id: "change-seed", stage_id: "PREPROCESS", title: "Check the score's stability", detail: "Re-run with another split seed; a score that moves a lot is not yet trustworthy." });
  return out;
}

function renderReport(s: ProjectSnapshot, prompt: string): string {
  const intent = s.intent;
  const chosen = s.dataset_candidates.find((d) => d.id === s.dataset_id);
  const lines = [
    `# ${prompt}`,
    "",
    `Task: **${intent?.task_type ?? "?"}** of **${intent?.target ?? "?"}**.`,
    "",
    "## Data",
    "",
    `${chosen?.name ?? "?"} (${chosen?.source ?? "?"}, license ${String(chosen?.meta["license"] ?? "?")}): ${s.profile?.n_rows ?? "?"} rows, ${s.profile?.n_cols ?? "?"} columns, ${s.profile?.missing_pct.toFixed(2) ?? "?"}% of cells missing.`,
    ...(s.profile?.warnings.length ? ["", "Warnings:", ...s.profile.warnings.map((w) => `- ${w}`)] : []),
    "",
    `Split (seed ${s.split?.seed ?? "?"}${s.split?.stratified ? ", stratified" : ""}): ${s.split?.train_rows ?? "?"} train / ${s.split?.val_rows ?? "?"} validation / ${s.split?.test_rows ?? "?"} test rows.`,
    "",
    "## Preprocessing",
    "",
    ...s.preprocess_steps.map((st) => `- ${st.op} (${st.columns.join(", ")}): ${st.why}`),
    "",
    "## Models",
    "",
    "| model | validation | test | time (s) | status |",
    "|---|---|---|---|---|",
    ...s.leaderboard.map(
      (r) =>
        `| ${r.model} | ${r.metric ? `${r.metric.name} ${r.metric.value.toFixed(4)}` : "-"} | ${r.test_metric ? `${r.test_metric.name} ${r.test_metric.value.toFixed(4)}` : "-"} | ${r.runtime_s.toFixed(3)} | ${r.status ?? ""} |`,
    ),
    "",
  ];
  const bestRun = s.best ? s.runs[s.best.run_id] : undefined;
  if (bestRun?.final_metrics) {
    lines.push("## Best model on the held-out test rows", "", `${bestRun.model_id}:`, "");
    for (const m of bestRun.final_metrics.metrics) lines.push(`- ${m.name}: ${m.value.toFixed(4)}`);
    lines.push("");
  }
  lines.push("Scores come from one evaluation on test rows no model or preprocessing step saw while fitting.", "");
  return lines.join("\n");
}
