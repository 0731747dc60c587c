/**
 * TRAIN: every model of the approved plan, one run each, on the same prepared data; the
 * leaderboard and the best model follow each run.
 */
import type { StageModule } from "./stage";
import { parseTrainingPlan } from "./model-select-stage";

export const trainStage: StageModule = {
  id: "TRAIN",
  async run(ctx) {
    const data = ctx.work.prepared();
    const plan = parseTrainingPlan(ctx.snapshot.plans.MODEL_SELECT?.plan_json, data.task);
    // the stage ranks its own runs; runs from earlier passes (before a rewind) stay in the log
    const fresh = { metric: plan.metric_primary, leaderboard: [], best: null };
    const outcome = plan.time_budget_s
      ? await ctx.runtime.search(plan.models.map((m) => m.id), data, { ...fresh, budgetSeconds: plan.time_budget_s, seed: ctx.meta.seed })
      : await ctx.runtime.train(plan.models, data, fresh);
    const ok = outcome.runs.filter((r) => r.status === "success");
    if (ok.length === 0) {
      throw new Error(`no model trained: ${outcome.runs.map((r) => `${r.modelId} ${r.status}${r.reason ? ` (${r.reason})` : ""}`).join("; ")}`);
    }
    const best = outcome.best;
    const bestRun = ok.find((r) => r.runId === best?.run_id) ?? ok[0]!;
    const test = bestRun.finalMetrics!.primary;
    return {
      kind: "review",
      summary: `Best: ${bestRun.modelId} (validation ${best?.metric.name} ${best?.metric.value.toFixed(4)}; test ${test.name} ${test.value.toFixed(4)}). ${ok.length} of ${outcome.runs.length} runs succeeded.`,
    };
  },
  cells(ctx) {
    const plan = ctx.snapshot.plans.MODEL_SELECT?.plan_json as { time_budget_s?: number | null } | undefined;
    const rows = ctx.snapshot.leaderboard
      .map((r) => `| ${r.model} | ${r.metric ? `${r.metric.name} ${r.metric.value.toFixed(4)}` : r.status ?? ""} | ${r.test_metric ? `${r.test_metric.name} ${r.test_metric.value.toFixed(4)}` : ""} | ${r.runtime_s.toFixed(2)} s |`)
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
