/**
 * MODEL_SELECT: the learners that suit the task, each with why, and a training plan (which
 * models, with which settings, ranked by which metric) proposed for approval.
 */
import { checkPlanEdit, parsePlan, type TrainingPlan } from "../../contract";
import { InputError } from "../errors/input-error";
import { findLearner } from "../ml/model-zoo";
import { searchSampleRows } from "../ml/budgeted-search";
import type { PreparedData } from "../data/prepared-data";
import { isForecastData } from "../ml/forecast/forecast-data";
import { isTextData } from "../ml/text/text-data";
import { isImageData } from "../ml/image/image-data";
import { executeCells, ref, type CodeCell, type Statement } from "../tasks/pipeline-step";
import { agentAccess, type StageContext, type StageModule } from "./stage";

export const modelSelectStage: StageModule = {
  id: "MODEL_SELECT",
  async run(ctx) {
    const { task: taskType } = ctx.work.intent();
    const task = ctx.task();
    const models = await task.proposeModels(ctx.runtime, taskType, ctx.work, agentAccess(ctx, "MODEL_SELECT"));
    const asked = ctx.snapshot.intent?.constraints["metric"];
    const allowed = task.metrics(taskType);
    const metric = typeof asked === "string" && allowed.includes(asked) ? asked : allowed[0]!;
    const askedBudget = ctx.snapshot.intent?.constraints["time_budget_s"];
    const budget = ctx.meta.time_budget_s ?? (typeof askedBudget === "number" ? askedBudget : null);
    const data = ctx.work.get("data");
    // a forecast's search tries settings, not samples of rows
    const trainRows = isForecastData(data) || isTextData(data) || isImageData(data) ? 0 : (data as PreparedData).fit.train.x.rows;
    const sample = budget && trainRows ? searchSampleRows(trainRows, budget) : null;
    const plan: TrainingPlan = {
      models,
      metric_primary: metric,
      time_budget_s: budget,
      ...(sample ? { search_sample_rows: sample } : {}),
    };
    const onSample = sample
      ? ` on a seeded sample of ${sample.toLocaleString("en")} of the ${trainRows.toLocaleString("en")} training rows (the winner then refit on all of them if the time allows)`
      : "";
    const how = budget ? `Search ${plan.models.map((m) => m.id).join(", ")} for ${budget} s${onSample}` : `Train ${plan.models.map((m) => m.id).join(" and ")}`;
    const ranked = isForecastData(data) ? `ranked by ${metric} over the backtests` : `ranked by validation ${metric}`;
    return { kind: "plan", summary: `${how}, ${ranked}.`, plan };
  },
  checkPlan(ctx, planJson) {
    parseTrainingPlan(ctx, planJson);
  },
  async approve(ctx, planJson) {
    parseTrainingPlan(ctx, planJson);
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

/** Checks an (edited) training plan against the project's task; refused plans change nothing. */
export function parseTrainingPlan(ctx: StageContext, planJson: unknown): TrainingPlan {
  const parsed = parsePlan("MODEL_SELECT", planJson);
  if (!parsed.ok) throw new InputError(`The training plan is not valid: ${parsed.error}.`);
  const task = ctx.work.intent().task;
  const available = ctx.task().learnerIds(task);
  for (const m of parsed.plan.models) {
    if (!available.includes(m.id)) throw new InputError(`Model ${JSON.stringify(m.id)} cannot train ${task}. Choose from: ${available.join(", ")}.`);
  }
  // the metric and the models' settings, checked as the dashboard checks them before sending an edit
  const wrong = checkPlanEdit("MODEL_SELECT", parsed.plan, task, (id) => findLearner(id)?.defaults);
  if (wrong) throw new InputError(`The training plan is not valid: ${wrong}.`);
  return parsed.plan;
}
