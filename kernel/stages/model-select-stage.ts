/**
 * MODEL_SELECT: the learners that suit the task, each with why, and a training plan (which
 * models, with which settings, ranked by which metric) proposed for approval.
 */
import { METRICS_BY_TASK, parsePlan, type TrainingPlan } from "../../contract";
import { InputError } from "../errors/input-error";
import { findLearner, learnersFor } from "../ml/model-zoo";
import { executeCells, ref, type CodeCell, type Statement } from "./pipeline-step";
import type { StageModule } from "./stage";

export const modelSelectStage: StageModule = {
  id: "MODEL_SELECT",
  async run(ctx) {
    const { task } = ctx.work.intent();
    const candidates = ctx.runtime.modelCandidates(task, ctx.work.split().split.train.length);
    const asked = ctx.snapshot.intent?.constraints["metric"];
    const allowed: readonly string[] = METRICS_BY_TASK[task];
    const metric = typeof asked === "string" && allowed.includes(asked) ? asked : allowed[0]!;
    const askedBudget = ctx.snapshot.intent?.constraints["time_budget_s"];
    const budget = ctx.meta.time_budget_s ?? (typeof askedBudget === "number" ? askedBudget : null);
    const plan: TrainingPlan = {
      models: candidates.map((c) => ({ id: c.id, params: findLearner(c.id)!.defaults })),
      metric_primary: metric,
      time_budget_s: budget,
    };
    const how = budget ? `Search ${plan.models.map((m) => m.id).join(", ")} for ${budget} s` : `Train ${plan.models.map((m) => m.id).join(" and ")}`;
    return { kind: "plan", summary: `${how}, ranked by validation ${metric}.`, plan };
  },
  checkPlan(ctx, planJson) {
    parseTrainingPlan(planJson, ctx.work.intent().task);
  },
  async approve(ctx, planJson) {
    parseTrainingPlan(planJson, ctx.work.intent().task);
    await executeCells(modelSelectStage.code(ctx), ctx.runtime, ctx.work);
  },
  describe(ctx) {
    const plan = ctx.snapshot.plans.MODEL_SELECT?.plan;
    const why = ctx.snapshot.model_candidates
      .filter((c) => plan?.models.some((m) => m.id === c.id))
      .map((c) => `- **${c.name}** (\`${c.id}\`): ${c.why}`)
      .join("\n");
    return `## 5. Models\n\n${why}\n\nRanked by validation **${plan?.metric_primary ?? "?"}**. Change a model's \`params\`, or add or remove models, and re-run the training cell.`;
  },
  code(ctx): CodeCell[] {
    const plan = ctx.snapshot.plans.MODEL_SELECT?.plan;
    const statements: Statement[] = [
      { kind: "const", name: "models", type: "automl.ModelSpec[]", value: plan?.models ?? [] },
      { kind: "const", name: "metric", value: plan?.metric_primary ?? "" },
    ];
    if (plan?.time_budget_s) statements.push({ kind: "const", name: "budgetSeconds", value: plan.time_budget_s });
    statements.push({ kind: "call", method: "selectModels", args: [ref("models")] });
    return [{ conductor: "runs", statements }];
  },
};

/** Checks an (edited) training plan against the task; refused plans change nothing. */
export function parseTrainingPlan(planJson: unknown, task: "regression" | "classification"): TrainingPlan {
  const parsed = parsePlan("MODEL_SELECT", planJson);
  if (!parsed.ok) throw new InputError(`The training plan is not valid: ${parsed.error}.`);
  const available = learnersFor(task).map((l) => l.id);
  for (const m of parsed.plan.models) {
    if (!available.includes(m.id)) throw new InputError(`Model ${JSON.stringify(m.id)} cannot train ${task}. Choose from: ${available.join(", ")}.`);
  }
  const metrics: readonly string[] = METRICS_BY_TASK[task];
  if (!metrics.includes(parsed.plan.metric_primary)) {
    throw new InputError(`Metric ${JSON.stringify(parsed.plan.metric_primary)} does not fit ${task}. Choose from: ${metrics.join(", ")}.`);
  }
  return parsed.plan;
}
