/**
 * TRAIN: every model of the approved plan, one run each, on the same prepared data; the
 * leaderboard and the best model follow each run.
 */
import { EV, type ProjectSnapshot } from "../../contract";
import { AVERAGED_ENSEMBLE_ID } from "../ml/averaged-ensemble";
import type { TrainOutcome } from "../runtime/pipeline-runtime";
import { parseTrainingPlan } from "./model-select-stage";
import { executeCells, executeStatements, ref, type CodeCell, type Statement } from "../tasks/pipeline-step";
import type { StageContext, StageModule } from "./stage";

export const trainStage: StageModule = {
  id: "TRAIN",
  async run(ctx) {
    const plan = parseTrainingPlan(ctx, ctx.snapshot.plans.MODEL_SELECT?.plan_json);
    const resumed = plan.time_budget_s && ctx.resume ? resumeStatement(ctx, plan.time_budget_s) : null;
    if (resumed) await executeStatements([resumed.statement], ctx.runtime, ctx.work);
    else await executeCells(trainStage.code(ctx), ctx.runtime, ctx.work);
    const outcome = ctx.work.get(plan.time_budget_s ? SEARCHED : "outcome") as TrainOutcome;
    const ok = outcome.runs.filter((r) => r.status === "success");
    const kept = resumed?.kept ?? 0;
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
  describe(ctx) {
    const rows = ctx.snapshot.leaderboard
      .map(
        (r) =>
          `| ${r.model} | ${r.metric ? `${r.metric.name} ${r.metric.value.toFixed(4)}` : (r.status ?? "")} | ` +
          `${r.test_metric ? `${r.test_metric.name} ${r.test_metric.value.toFixed(4)}` : ""} | ${r.runtime_s.toFixed(2)} s |`,
      )
      .join("\n");
    return (
      `## 6. Train and evaluate\n\nEach model is trained on the training rows; iterative ones stop early when the validation loss stops improving. ` +
      `Final scores are measured once, on the held-out test rows.\n\n| model | validation | test | time |\n|---|---|---|---|\n${rows}`
    );
  },
  code(ctx): CodeCell[] {
    const plan = ctx.snapshot.plans.MODEL_SELECT?.plan;
    if (!plan?.time_budget_s) {
      return [
        {
          conductor: "runs",
          statements: [
            {
              kind: "call",
              method: "train",
              args: [ref("models"), ref("data"), { metric: ref("metric"), newBoard: true }],
              bind: "outcome",
              show: "automl.leaderboard(outcome.leaderboard)",
            },
          ],
        },
      ];
    }
    const tried = ctx.snapshot.stages.TRAIN.status === "pending" ? null : ctx.snapshot.leaderboard.length;
    const search: CodeCell = {
      conductor: "runs",
      guard: {
        name: "searchAgain",
        comment:
          `The search ran for ${plan.time_budget_s} s with seed ${ctx.meta.seed}${tried === null ? "" : ` and tried ${tried} setting(s)`}: its leaderboard is in the AutoML panel and the report.\n` +
          `Running it again takes the whole budget, and another machine may find other settings in it: set searchAgain to true to do so.`,
      },
      statements: [
        {
          kind: "call",
          method: "search",
          args: [
            ref("models"),
            ref("data"),
            {
              metric: ref("metric"),
              budgetSeconds: ref("budgetSeconds"),
              seed: ctx.meta.seed,
              newBoard: true,
              ...(plan.search_sample_rows ? { sampleRows: plan.search_sample_rows } : {}),
            },
          ],
          bind: SEARCHED,
          show: `automl.leaderboard(${SEARCHED}.leaderboard)`,
        },
      ],
    };
    const leader = leaderCell(ctx.snapshot);
    return leader ? [search, leader] : [search];
  },
};

/** Where the search's outcome is bound. */
const SEARCHED = "searched";

/**
 * After a search, the notebook re-trains its best model with the settings the search found
 * (its seed is one of them, so it reaches the same test score) instead of searching again.
 * Null before there is a best model, or when its settings are not on the leaderboard.
 */
function leaderCell(s: ProjectSnapshot): CodeCell | null {
  const row = s.best ? s.leaderboard.find((r) => r.run_id === s.best!.run_id) : undefined;
  if (!row) return null;
  const comment =
    `Re-trains the search's best model, ${row.model}, with the settings it found (its seed is one of them): the same test score, without searching.\n` +
    `When the search ran again above, its outcome stands instead.`;
  const show = "automl.leaderboard(outcome.leaderboard)";
  if (row.model === AVERAGED_ENSEMBLE_ID) {
    const ids = String(row.params["members"] ?? "").split(",");
    const members = ids.map((id) => s.leaderboard.find((r) => r.run_id === id));
    if (members.some((m) => !m)) return null;
    return {
      conductor: "notebook",
      comment: `${comment}\nAn average: each member is trained again, then averaged.`,
      statements: [
        { kind: "const", name: "members", type: "automl.ModelSpec[]", value: members.map((m) => ({ id: m!.model, params: m!.params })) },
        { kind: "call", method: "trainAverage", args: [ref("members"), ref("data"), { metric: ref("metric") }], bind: "outcome", show, orUse: SEARCHED },
      ],
    };
  }
  return {
    conductor: "notebook",
    comment,
    statements: [
      { kind: "const", name: "leader", type: "automl.ModelSpec", value: { id: row.model, params: row.params } },
      { kind: "call", method: "train", args: [[ref("leader")], ref("data"), { metric: ref("metric") }], bind: "outcome", show, orUse: SEARCHED },
    ],
  };
}

/** Smallest share of the budget a resumed search gets, even when the stop came at its very end. */
const MIN_RESUME_SHARE = 0.2;

/**
 * The search carrying on after a stop: the finished runs stay on the board, the budget is what
 * was left of it, and the seed moves on so the trials are not the same ones again. Executed,
 * not written to the notebook: the notebook's search cell states the search as planned.
 */
function resumeStatement(ctx: StageContext, budget: number): { statement: Statement; kept: number } {
  const so = ctx.resume!;
  const sampleRows = ctx.snapshot.plans.MODEL_SELECT?.plan?.search_sample_rows;
  const left = Math.max(budget - so.elapsedSeconds, MIN_RESUME_SHARE * budget);
  ctx.events.emit(EV.LOG_LINE, {
    run_id: null,
    level: "info",
    text: `search: resuming after a stop: ${so.leaderboard.length} finished run(s) kept, ${so.elapsedSeconds.toFixed(1)} s of the ${budget} s budget spent, ${left.toFixed(1)} s to go`,
  });
  const options = {
    metric: ref("metric"),
    leaderboard: so.leaderboard,
    best: so.best,
    resumeFrom: true,
    budgetSeconds: Math.round(left * 10) / 10,
    seed: ctx.meta.seed + so.leaderboard.length + 1,
    ...(sampleRows ? { sampleRows } : {}),
  };
  return { statement: { kind: "call", method: "search", args: [ref("models"), ref("data"), options], bind: SEARCHED }, kept: so.leaderboard.length };
}
