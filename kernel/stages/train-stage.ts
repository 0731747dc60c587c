/**
 * TRAIN: every model of the approved plan, one run each, on the same prepared data; the
 * leaderboard and the best model follow each run.
 */
import { EV } from "../../contract";
import type { StageContext, StageModule } from "./stage";
import { parseTrainingPlan } from "./model-select-stage";

export const trainStage: StageModule = {
  id: "TRAIN",
  async run(ctx) {
    const data = ctx.work.prepared();
    const plan = parseTrainingPlan(ctx.snapshot.plans.MODEL_SELECT?.plan_json, data.task);
    // the stage ranks its own runs; runs from earlier passes (before a rewind) stay in the log
    const fresh = { metric: plan.metric_primary, leaderboard: [], best: null };
    const resumed = plan.time_budget_s && ctx.resume ? resumeOptions(ctx, plan.time_budget_s, plan.metric_primary) : null;
    const outcome = plan.time_budget_s
      ? await ctx.runtime.search(
          plan.models.map((m) => m.id),
          data,
          resumed ?? { ...fresh, budgetSeconds: plan.time_budget_s, seed: ctx.meta.seed },
        )
      : await ctx.runtime.train(plan.models, data, fresh);
    const ok = outcome.runs.filter((r) => r.status === "success");
    const kept = resumed?.leaderboard.length ?? 0;
    if (ok.length === 0 && kept === 0) {
      throw new Error(`no model trained: ${outcome.runs.map((r) => `${r.modelId} ${r.status}${r.reason ? ` (${r.reason})` : ""}`).join("; ")}`);
    }
    const best = outcome.best;
    // after a resume the best can be a run of the interrupted pass: its test score is in the state
    const bestRun = best ? ctx.snapshot.runs[best.run_id] : undefined;
    const test = bestRun?.final_metrics?.primary;
    const runsSaid = resumed
      ? `${ok.length} of ${outcome.runs.length} runs of the resumed search succeeded, after ${kept} kept from before the stop.`
      : `${ok.length} of ${outcome.runs.length} runs succeeded.`;
    return {
      kind: "review",
      summary: `Best: ${best?.model_id ?? "?"} (validation ${best?.metric.name} ${best?.metric.value.toFixed(4)}${test ? `; test ${test.name} ${test.value.toFixed(4)}` : ""}). ${runsSaid}`,
    };
  },
  cells(ctx) {
    const plan = ctx.snapshot.plans.MODEL_SELECT?.plan_json as { time_budget_s?: number | null } | undefined;
    const rows = ctx.snapshot.leaderboard
      .map(
        (r) =>
          `| ${r.model} | ${r.metric ? `${r.metric.name} ${r.metric.value.toFixed(4)}` : (r.status ?? "")} | ${r.test_metric ? `${r.test_metric.name} ${r.test_metric.value.toFixed(4)}` : ""} | ${r.runtime_s.toFixed(2)} s |`,
      )
      .join("\n");
    return [
      {
        kind: "markdown",
        source:
          `## 6. Train and evaluate\n\nEach model is trained on the training rows; iterative ones stop early when the validation loss stops improving. ` +
          `Final scores are measured once, on the held-out test rows.\n\n| model | validation | test | time |\n|---|---|---|---|\n${rows}`,
      },
      {
        kind: "code",
        source: plan?.time_budget_s
          ? `const outcome = await rt.search(models.map((m) => m.id), data, { metric: metric, budgetSeconds: budgetSeconds });\nautoml.leaderboard(outcome.leaderboard);`
          : `const outcome = await rt.train(models, data, { metric: metric });\nautoml.leaderboard(outcome.leaderboard);`,
      },
    ];
  },
};

/** Smallest share of the budget a resumed search gets, even when the stop came at its very end. */
const MIN_RESUME_SHARE = 0.2;

/**
 * The search's options when it carries on after a stop: the finished runs stay on the board,
 * the budget is what was left of it, and the seed moves on so the trials are not the same ones again.
 */
function resumeOptions(ctx: StageContext, budget: number, metric: string) {
  const so = ctx.resume!;
  const left = Math.max(budget - so.elapsedSeconds, MIN_RESUME_SHARE * budget);
  ctx.events.emit(EV.LOG_LINE, {
    run_id: null,
    level: "info",
    text: `search: resuming after a stop: ${so.leaderboard.length} finished run(s) kept, ${so.elapsedSeconds.toFixed(1)} s of the ${budget} s budget spent, ${left.toFixed(1)} s to go`,
  });
  return {
    metric,
    leaderboard: so.leaderboard,
    best: so.best,
    resumeFrom: true,
    budgetSeconds: Math.round(left * 10) / 10,
    seed: ctx.meta.seed + so.leaderboard.length + 1,
  };
}
