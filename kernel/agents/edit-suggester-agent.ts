/**
 * The edit suggester: after the runs, concrete changes to try, each an edit of a plan stage's
 * notebook cell with its expected effect. The model proposes from a closed set of changes (a
 * model's setting, a model added or removed, the ranking metric, a column dropped, the split's
 * seed or test share); the stage turns each into the plan edit and the cell it makes, through
 * the same checks a person's edit gets. Nothing is applied until the person applies it.
 */
import { z } from "zod";
import type { AgentCall, AgentModel, Decided } from "./agent-model";

const scalar = z.union([z.number(), z.string().max(100), z.boolean()]);

export const editChange = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("set_param"), model: z.string(), param: z.string(), value: scalar }),
  z.strictObject({ kind: z.literal("add_model"), model: z.string(), params: z.record(z.string(), scalar) }),
  z.strictObject({ kind: z.literal("remove_model"), model: z.string() }),
  z.strictObject({ kind: z.literal("set_metric"), metric: z.string() }),
  z.strictObject({ kind: z.literal("drop_column"), column: z.string() }),
  z.strictObject({
    kind: z.literal("set_seed"),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
  }),
  z.strictObject({ kind: z.literal("set_test_size"), test_size: z.number().gt(0.05).lt(0.5) }),
]);
export type EditChange = z.infer<typeof editChange>;

export interface EditProposal {
  title: string;
  /** what it should change, and why, from the results */
  expected_effect: string;
  change: EditChange;
}

const proposalsSchema = z.strictObject({
  suggestions: z
    .array(
      z.strictObject({
        title: z.string().min(1).max(120).describe("a short name for the change (the product titles it from the change itself)"),
        expected_effect: z.string().min(1).max(500).describe("what the change should do to the results, and why, from DATA"),
        change: editChange,
      }),
    )
    .max(5),
});

export async function suggestEdits(facts: Record<string, unknown>, model: AgentModel, call: AgentCall): Promise<Decided<EditProposal[]> | null> {
  const answer = await model.ask(call, {
    agent: "edit suggester",
    tool: "suggest_edits",
    description: "up to five concrete edits of the project's plans worth trying next",
    schema: proposalsSchema,
    instructions:
      "From the results in DATA (the leaderboard, the approved plans, the profile's warnings), suggest up to five concrete changes worth trying next, the most promising first, " +
      "each with its expected effect. Use only the change kinds of the schema, models and parameters from DATA.models_available, columns from DATA.columns, metrics from DATA.metrics.",
    data: facts,
  });
  return answer === null ? null : { value: answer.suggestions, source: "llm" };
}
