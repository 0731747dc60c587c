/**
 * PREPROCESS: a seeded split, then a preprocessing plan proposed for approval; once
 * approved (as is or edited) the plan is fitted on the training rows only.
 */
import { z } from "zod";
import { EVENT_SCHEMAS } from "../../contract";
import { InputError } from "../errors/input-error";
import { checkPlan } from "../data/preprocessor";
import { DEFAULT_SPLIT } from "../data/row-split";
import { literal, type StageModule } from "./stage";

const planSchema = z.object({
  steps: EVENT_SCHEMAS.PREPROCESS_PLAN.shape.steps,
  split: z.object({ seed: z.number().int(), test_size: z.number().gt(0).lt(1), val_size: z.number().gt(0).lt(1) }),
});
type PreprocessPlanJson = z.infer<typeof planSchema>;

export const preprocessStage: StageModule = {
  id: "PREPROCESS",
  async run(ctx) {
    const { target, task } = ctx.work.intent();
    const table = ctx.work.table();
    const splitOptions = { ...DEFAULT_SPLIT, seed: ctx.meta.seed };
    ctx.work.forget("split");
    const split = ctx.runtime.split(table, { target, task, ...splitOptions });
    ctx.work.setSplit(split);
    const steps = ctx.runtime.planPreprocessing(ctx.work.profile(), target);
    const plan: PreprocessPlanJson = { steps, split: { seed: splitOptions.seed, test_size: splitOptions.testSize, val_size: splitOptions.valSize } };
    const notes = split.split.notes.length ? ` ${split.split.notes.join(" ")}` : "";
    return {
      kind: "plan",
      summary: `${steps.length} preprocessing steps (${steps.map((s) => s.op).join(", ")}); split ${split.split.train.length}/${split.split.val.length}/${split.split.test.length} rows.${notes}`,
      plan,
    };
  },
  checkPlan(ctx, planJson) {
    checkPlan(parsePlan(planJson).steps, ctx.work.table(), ctx.work.intent().target);
  },
  async approve(ctx, planJson) {
    const plan = parsePlan(planJson);
    const { target, task } = ctx.work.intent();
    const table = ctx.work.table();
    let split = ctx.work.split();
    if (split.split.seed !== plan.split.seed || split.split.testSize !== plan.split.test_size || split.split.valSize !== plan.split.val_size) {
      split = ctx.runtime.split(table, { target, task, seed: plan.split.seed, testSize: plan.split.test_size, valSize: plan.split.val_size });
      ctx.work.setSplit(split);
    }
    ctx.work.setPrepared(ctx.runtime.preprocess(plan.steps, table, split));
  },
  cells(ctx) {
    const plan = ctx.snapshot.plans.PREPROCESS?.plan_json as PreprocessPlanJson | undefined;
    const s = ctx.snapshot.split;
    const bullets = (plan?.steps ?? []).map((st) => `- **${st.op}** ${st.columns.join(", ")}: ${st.why}`).join("\n");
    return [
      {
        kind: "markdown",
        source:
          `## 4. Split and preprocess\n\nA seeded split (seed ${s?.seed ?? "?"}${s?.stratified ? ", stratified by class" : ""}): ` +
          `${s?.train_rows ?? "?"} training, ${s?.val_rows ?? "?"} validation and ${s?.test_rows ?? "?"} test rows. ` +
          `The test rows are touched once, for the final score.\n\nThe approved plan, fitted on the training rows only:\n${bullets}\n\n` +
          `Edit \`steps\` and run the cell to change the preprocessing.`,
      },
      {
        kind: "code",
        source:
          `const split = rt.split(table, { target: intent.target, task: intent.task, seed: ${plan?.split.seed ?? 42}, testSize: ${plan?.split.test_size ?? 0.2}, valSize: ${plan?.split.val_size ?? 0.2} });\n` +
          `const steps: automl.PreprocessStep[] = ${literal(plan?.steps ?? [])};\n` +
          `const data = rt.preprocess(steps, table, split);\n` +
          `data.featureNames;`,
      },
    ];
  },
};

function parsePlan(planJson: unknown): PreprocessPlanJson {
  const parsed = planSchema.safeParse(planJson);
  if (!parsed.success) {
    throw new InputError(`The preprocessing plan is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}.`);
  }
  return parsed.data;
}
