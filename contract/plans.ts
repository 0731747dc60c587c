/**
 * The plans a person approves at a gate, typed: PREPROCESS's (the split and the steps) and
 * MODEL_SELECT's (the models, the metric, the search budget). Events carry a plan as plain
 * JSON (`plan_json`); the state's reducer parses it here once, so the kernel and the
 * dashboard read typed plans, and the dashboard checks an edited plan before sending it.
 */
import { z } from "zod";
import { preprocessStepSchema, type TaskType } from "./events";
import type { StageId } from "./stages";

/** A forecast's framing, part of its split: what time is, how often, how far ahead, which series, how it is checked. */
export const forecastFramingSchema = z.strictObject({
  time_column: z.string().min(1),
  /** "day", "month", "15 minute", …; editable */
  frequency: z.string().min(1),
  /** steps to forecast, and the length of the test window and of each backtest */
  horizon: z.number().int().min(1),
  /** the column that names each series when the table holds several, else null */
  series_id: z.string().nullable(),
  /** steps in one season; 1 for none */
  seasonality: z.number().int().min(1),
  backtest_folds: z.number().int().min(1).max(20),
  /** how values sharing a period are combined */
  aggregate: z.enum(["mean", "sum", "last", "max", "min"]),
});
export type ForecastFraming = z.infer<typeof forecastFramingSchema>;

export const preprocessPlanSchema = z.object({
  steps: z.array(preprocessStepSchema),
  split: z.object({
    seed: z.number().int(),
    /** a time-ordered split's test and backtest shares follow from its framing (they are shown, not read) */
    test_size: z.number().gt(0).lt(1),
    val_size: z.number().gt(0).lt(1),
    /** forecasting: the split is by time, framed so */
    forecast: forecastFramingSchema.optional(),
  }),
});
export type PreprocessPlan = z.infer<typeof preprocessPlanSchema>;

export const trainingPlanSchema = z.object({
  models: z.array(z.object({ id: z.string().min(1), params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional() })).min(1),
  metric_primary: z.string(),
  /** when set, TRAIN searches these models' hyperparameters for this many seconds */
  time_budget_s: z.number().positive().nullable().optional(),
  /**
   * a search on a table too large for its budget trains its trials on a seeded sample of this
   * many training rows (validated on all the validation rows), then refits the winner on every
   * training row if the time left allows; null or absent: every trial trains on all of them
   */
  search_sample_rows: z.number().int().positive().nullable().optional(),
});
export type TrainingPlan = z.infer<typeof trainingPlanSchema>;

/** The metrics a training plan may rank by, per task (the first is the default). */
export const METRICS_BY_TASK = {
  regression: ["rmse", "mae", "r2"],
  classification: ["accuracy", "f1", "roc_auc", "log_loss"],
  time_series_forecasting: ["mase", "smape", "mae", "rmse", "rmsle"],
  text_classification: ["accuracy", "f1", "roc_auc", "log_loss"],
  image_classification: ["accuracy", "f1", "roc_auc", "log_loss"],
} as const satisfies Partial<Record<TaskType, readonly string[]>>;

export const PLAN_SCHEMAS = { PREPROCESS: preprocessPlanSchema, MODEL_SELECT: trainingPlanSchema } as const;
export type PlanStage = keyof typeof PLAN_SCHEMAS;

/** The typed plan of a stage that proposes one; other stages' plans stay plain JSON. */
export type PlanOf<S extends StageId> = S extends PlanStage ? z.infer<(typeof PLAN_SCHEMAS)[S]> : Record<string, unknown>;

export function isPlanStage(stage: StageId): stage is PlanStage {
  return stage in PLAN_SCHEMAS;
}

/** A plan checked against its stage's schema: the typed plan, or what is wrong with it, in words. */
export function parsePlan<S extends PlanStage>(stage: S, planJson: unknown): { ok: true; plan: PlanOf<S> } | { ok: false; error: string } {
  const parsed = PLAN_SCHEMAS[stage].safeParse(planJson);
  if (parsed.success) return { ok: true, plan: parsed.data as PlanOf<S> };
  return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join(".") || "the plan"}: ${i.message}`).join("; ") };
}

/**
 * What is wrong with the models' settings, against each model's defaults: a setting it does
 * not have (a misspelling would be ignored), or a text where a number or a switch belongs.
 * Null when nothing is; a model without known defaults is left to the check of model ids.
 */
function checkModelSettings(models: TrainingPlan["models"], defaultsOf: (id: string) => Record<string, unknown> | undefined): string | null {
  for (const m of models) {
    const defaults = defaultsOf(m.id);
    if (!defaults) continue;
    for (const [name, value] of Object.entries(m.params ?? {})) {
      if (!(name in defaults)) return `models: ${m.id} has no setting ${JSON.stringify(name)}; its settings are ${Object.keys(defaults).join(", ")}`;
      const d = defaults[name];
      // a text default (max_features "auto") also takes a number; numbers and switches take only their kind
      if ((typeof d === "number" || typeof d === "boolean") && typeof value !== typeof d) {
        return `models: ${m.id}'s ${name} must be ${typeof d === "number" ? "a number" : "true or false"}, not ${JSON.stringify(value)}`;
      }
      // no setting of the zoo means anything below zero (rates, counts, penalties, seeds, depths)
      if (typeof d === "number" && d >= 0 && typeof value === "number" && value < 0) return `models: ${m.id}'s ${name} must be 0 or more, not ${value}`;
    }
  }
  return null;
}

/**
 * What the dashboard can say of an edited plan before sending it: its shape, and for a
 * training plan the metric for the task and the models' settings against the defaults of the
 * candidates it knows. Which models a task can train the conductor checks.
 */
export function checkPlanEdit(
  stage: StageId,
  planJson: unknown,
  task: TaskType | null,
  defaultsOf: (id: string) => Record<string, unknown> | undefined = () => undefined,
): string | null {
  if (!isPlanStage(stage)) return null;
  const parsed = parsePlan(stage, planJson);
  if (!parsed.ok) return parsed.error;
  if (stage !== "MODEL_SELECT") return null;
  const plan = parsed.plan as TrainingPlan;
  if (task && task in METRICS_BY_TASK) {
    const metrics: readonly string[] = METRICS_BY_TASK[task as keyof typeof METRICS_BY_TASK];
    if (!metrics.includes(plan.metric_primary))
      return `metric_primary: ${JSON.stringify(plan.metric_primary)} does not fit ${task}; choose from ${metrics.join(", ")}`;
  }
  return checkModelSettings(plan.models, defaultsOf);
}
