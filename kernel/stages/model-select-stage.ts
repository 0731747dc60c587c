/**
 * MODEL_SELECT: the learners that suit the task, each with why, and a training plan (which
 * models, with which settings, ranked by which metric) proposed for approval.
 */
import { z } from "zod";
import { EV } from "../../contract";
import { InputError } from "../errors/input-error";
import { findLearner, learnersFor } from "../ml/model-zoo";
import { literal, type StageModule } from "./stage";

export const METRICS_BY_TASK = {
  regression: ["rmse", "mae", "r2"],
  classification: ["accuracy", "f1", "roc_auc", "log_loss"],
} as const;

const planSchema = z.object({
  models: z.array(z.object({ id: z.string(), params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional() })).min(1),
  metric_primary: z.string(),
  /** when set, TRAIN searches these models' hyperparameters for this many seconds */
  time_budget_s: z.number().positive().nullable().optional(),
});
export type TrainingPlan = z.infer<typeof planSchema>;

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
    const plan = parseTrainingPlan(planJson, ctx.work.intent().task);
    ctx.events.emit(EV.MODEL_SELECTED, { model_id: plan.models[0]!.id, model_ids: plan.models.map((m) => m.id) });
  },
  cells(ctx) {
    const plan = ctx.snapshot.plans.MODEL_SELECT?.plan_json as TrainingPlan | undefined;
    const why = ctx.snapshot.model_candidates
      .filter((c) => plan?.models.some((m) => m.id === c.id))
      .map((c) => `- **${c.name}** (\`${c.id}\`): ${c.why}`)
      .join("\n");
    return [
      {
        kind: "markdown",
        source: `## 5. Models\n\n${why}\n\nRanked by validation **${plan?.metric_primary ?? "?"}**. Change a model's \`params\`, or add or remove models, and re-run the training cell.`,
      },
      {
        kind: "code",
        source:
          `const models = ${literal(plan?.models ?? [])};\nconst metric = ${literal(plan?.metric_primary ?? "")};` +
          (plan?.time_budget_s ? `\nconst budgetSeconds = ${plan.time_budget_s};` : ""),
      },
    ];
  },
};

/** Checks an (edited) training plan against the task; refused plans change nothing. */
export function parseTrainingPlan(planJson: unknown, task: "regression" | "classification"): TrainingPlan {
  const parsed = planSchema.safeParse(planJson);
  if (!parsed.success) {
    throw new InputError(`The training plan is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}.`);
  }
  const available = learnersFor(task).map((l) => l.id);
  for (const m of parsed.data.models) {
    if (!available.includes(m.id)) throw new InputError(`Model ${JSON.stringify(m.id)} cannot train ${task}. Choose from: ${available.join(", ")}.`);
  }
  const metrics: readonly string[] = METRICS_BY_TASK[task];
  if (!metrics.includes(parsed.data.metric_primary)) {
    throw new InputError(`Metric ${JSON.stringify(parsed.data.metric_primary)} does not fit ${task}. Choose from: ${metrics.join(", ")}.`);
  }
  return parsed.data;
}
