/**
 * The model selector: which of the learners this task can train are worth a run on this data,
 * in which order, and why, grounded in the profile (rows, columns, kinds, class balance, the
 * time budget). The model chooses among the learners offered, never outside them; the rules'
 * choice is every learner offered, with each learner's own reason.
 */
import { z } from "zod";
import type { AgentCall, AgentModel, Decided } from "./agent-model";

export interface LearnerOffer {
  id: string;
  name: string;
  family: string;
  why: string;
}

export interface ModelChoice {
  id: string;
  why: string;
}

/** The facts a choice is grounded in (numbers from the profile and the split). */
export type ModelFacts = TableFacts | SeriesFacts;

/** What the selector knows of a table. */
export interface TableFacts {
  task: string;
  training_rows: number;
  feature_columns: number;
  column_kinds: Record<string, number>;
  missing_pct: number;
  /** classification: the share of the rarest class, in % */
  rarest_class_pct?: number;
  classes?: number;
  time_budget_s: number | null;
  interpretable: boolean;
}

/** What the selector knows of series to forecast. */
export interface SeriesFacts {
  task: "time_series_forecasting";
  frequency: string;
  seasonality: number;
  horizon: number;
  series: number;
  points_per_series: number;
  target: string;
  time_budget_s: number | null;
  interpretable: boolean;
}

export async function selectModels(facts: ModelFacts, offers: readonly LearnerOffer[], model: AgentModel, call: AgentCall): Promise<Decided<ModelChoice[]>> {
  const rules = () => offers.map((o) => ({ id: o.id, why: o.why }));
  if (offers.length === 0) return { value: [], source: "rules" };
  const ids = offers.map((o) => o.id) as [string, ...string[]];
  const schema = z.strictObject({
    models: z
      .array(z.strictObject({ id: z.enum(ids), why: z.string().min(1).max(400).describe("why this learner suits this data, from DATA.facts") }))
      .min(1)
      .max(offers.length),
  });
  const chosen = await model.ask(call, {
    agent: "model selector",
    tool: "select_models",
    description: "the learners to train on this data, best first, each with why",
    schema,
    instructions:
      "Choose which of DATA.learners to train on the data DATA.facts describes, the most promising first, each with a one-sentence reason grounded in the facts " +
      "(rows, columns and their kinds, missing values, class balance, the time budget, whether the person asked for an interpretable model). " +
      "Keep at least one fast baseline. Only ids from DATA.learners.",
    data: { facts, learners: offers },
    check: (v) => (new Set(v.models.map((m) => m.id)).size === v.models.length ? null : "it named a learner twice"),
  });
  return chosen === null ? { value: rules(), source: "rules" } : { value: chosen.models, source: "llm" };
}
