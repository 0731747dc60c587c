/**
 * The preprocess planner: the steps that make the table into features, each justified. The
 * model may plan more than the rules (another imputation, indicators of missing values, a
 * column the rules keep dropped, feature selection), but only with the operations the runtime
 * applies, on the table's columns, and only a plan the runtime accepts and fits on a sample of
 * the training rows reaches the gate; else the rules' plan stands.
 */
import { z } from "zod";
import { PREPROCESS_OPS, type PreprocessStep } from "../../contract";
import type { TableProfile } from "../data/table-profile";
import type { AgentCall, AgentModel, Decided } from "./agent-model";

/** What each operation does and the params it reads, for the model. */
const OPERATIONS: Record<(typeof PREPROCESS_OPS)[number], string> = {
  drop_rows_missing_target: "drop the rows whose target is missing (columns: [target])",
  drop_column: "drop columns that carry no information or leak the target",
  parse_datetime: 'date columns into numeric parts; params.parts: any of ["year","month","day","dayofweek","hour"]',
  impute:
    'fill missing values; numbers: params.strategy "median" | "mean" | "constant" (params.fill_value a number); text: params.fill_value, the label for missing',
  encode_categorical: "text columns into one-hot numbers; params.max_levels: the most frequent levels kept (20 by default), the rest as params.other_label",
  scale: "numeric columns to mean 0 and standard deviation 1 (from the training rows)",
  add_missing_indicator: "a 0/1 column saying the value was missing (when missingness itself may tell something)",
  select_features: "keep the params.keep most informative features, screened on the training rows",
  text_tfidf: "text tasks only (never in a table's plan): a column of free text into TF-IDF weights of its word and character n-grams",
  image_pixels: "image tasks only (never in a table's plan): the column of image files decoded and resized to params.width × params.height",
};

const stepsSchema = z.strictObject({
  steps: z
    .array(
      z.strictObject({
        op: z.enum(PREPROCESS_OPS),
        columns: z.array(z.string()).max(10_000),
        params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.record(z.string(), z.string())])),
        why: z.string().min(1).max(400),
      }),
    )
    .min(1)
    .max(40),
});

export async function planSteps(
  profile: TableProfile,
  target: string,
  rulesSteps: readonly PreprocessStep[],
  /** what the runtime says of a plan: it refuses (throws) what it cannot apply */
  validate: (steps: PreprocessStep[]) => void,
  model: AgentModel,
  call: AgentCall,
): Promise<Decided<PreprocessStep[]>> {
  const holder: { steps: PreprocessStep[] | null } = { steps: null };
  const answer = await model.ask(call, {
    agent: "preprocess planner",
    tool: "plan_preprocessing",
    description: "the preprocessing steps for this table, in order, each with why",
    schema: stepsSchema,
    instructions:
      "Plan how to make the table DATA.columns describes into model features for predicting DATA.target. Use only DATA.operations, name only DATA.columns, " +
      "never use the target as a feature. DATA.rules_plan is the plan fixed rules made: improve on it where the profile gives a reason, keep what it gets right, " +
      "and say why for each step from the profile's facts.",
    data: {
      target,
      rows: profile.n_rows,
      columns: profile.columns.map((c) => ({ name: c.name, kind: c.kind === "categorical" ? "text" : c.kind, missing_pct: c.missing_pct, distinct: c.unique })),
      warnings: profile.warnings.slice(0, 20),
      operations: OPERATIONS,
      rules_plan: rulesSteps.map(({ op, columns, params, why }) => ({ op, columns, params, why })),
    },
    check: (v) => {
      const steps: PreprocessStep[] = v.steps.map((s, k) => ({
        id: `${s.op.replace(/_/g, "-")}-${k + 1}`,
        op: s.op,
        columns: s.columns,
        params: s.params,
        why: s.why,
      }));
      try {
        validate(steps);
      } catch (err) {
        return `the runtime refused its plan: ${(err as Error).message}`;
      }
      holder.steps = steps;
      return null;
    },
  });
  return answer === null || holder.steps === null ? { value: [...rulesSteps], source: "rules" } : { value: holder.steps, source: "llm" };
}
