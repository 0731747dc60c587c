/**
 * PREPROCESS: a seeded split, then a preprocessing plan proposed for approval; once
 * approved (as is or edited) the plan is fitted on the training rows only.
 */
import { EV, parsePlan, type PreprocessPlan } from "../../contract";
import { InputError } from "../errors/input-error";
import { executeCells, executeStatements, type CodeCell } from "../tasks/pipeline-step";
import { agentAccess, type StageModule } from "./stage";

export const preprocessStage: StageModule = {
  id: "PREPROCESS",
  async run(ctx) {
    const task = ctx.task();
    ctx.work.forget("split");
    const proposed = task.proposedSplit(ctx.meta.seed, ctx.work);
    // the split the plan proposes is made now, so the gate shows its sizes; an approved plan with the same split keeps it
    await executeStatements([task.splitStatement(proposed)], ctx.runtime, ctx.work);
    for (const text of task.proposalWarnings?.(ctx.work) ?? []) ctx.events.emit(EV.LOG_LINE, { run_id: null, level: "warn", text });
    const steps = await task.proposeSteps(ctx.runtime, ctx.work, agentAccess(ctx, "PREPROCESS"));
    const plan: PreprocessPlan = { steps, split: proposed };
    const stepsSaid = steps.length ? `${steps.length} preprocessing steps (${steps.map((s) => s.op).join(", ")})` : "No preprocessing steps";
    return { kind: "plan", summary: `${stepsSaid}; ${task.splitInWords(ctx.work)}`, plan };
  },
  checkPlan(ctx, planJson) {
    const plan = parsePreprocessPlan(planJson);
    ctx.task().checkSteps(plan.steps, ctx.work);
    // a split the task cannot make (a forecast's horizon past its history, a column that is not there) is refused here, the plan kept
    ctx.task().checkSplit?.(plan.split, ctx.work);
  },
  async approve(ctx, planJson) {
    parsePreprocessPlan(planJson);
    ctx.work.forget("prepared");
    await executeCells(preprocessStage.code(ctx), ctx.runtime, ctx.work);
  },
  describe(ctx) {
    const plan = ctx.snapshot.plans.PREPROCESS?.plan;
    const s = ctx.snapshot.split;
    const bullets = (plan?.steps ?? []).map((st) => `- **${st.op}** ${st.columns.join(", ")}: ${st.why}`).join("\n");
    if (s?.kind === "time_ordered")
      return (
        `## 4. Split by time\n\nThe series, framed as the plan says (its \`split.forecast\`), are cut by time: the last ${s.horizon} step(s) of each series, from ${s.test_from}, are the test window, ` +
        `scored once; models are ranked by backtests from ${s.cutoffs?.join(", ") ?? "?"}. Nothing is shuffled.\n\nEdit \`split.forecast\` (horizon, frequency, seasonality, backtest_folds, aggregate) and run the cell to frame the series again.`
      );
    return (
      `## 4. Split and preprocess\n\nA seeded split (seed ${s?.seed ?? "?"}${s?.stratified ? ", stratified by class" : ""}): ` +
      `${s?.train_rows ?? "?"} training, ${s?.val_rows ?? "?"} validation and ${s?.test_rows ?? "?"} test rows. ` +
      `The test rows are touched once, for the final score.\n\nThe approved plan, fitted on the training rows only:\n${bullets}\n\n` +
      `Edit \`steps\` and run the cell to change the preprocessing.`
    );
  },
  code(ctx): CodeCell[] {
    const task = ctx.task();
    return task.preprocessCode(ctx.snapshot.plans.PREPROCESS?.plan ?? { steps: [], split: task.proposedSplit(ctx.meta.seed, ctx.work) });
  },
};

function parsePreprocessPlan(planJson: unknown): PreprocessPlan {
  const parsed = parsePlan("PREPROCESS", planJson);
  if (!parsed.ok) throw new InputError(`The preprocessing plan is not valid: ${parsed.error}.`);
  return parsed.plan;
}
