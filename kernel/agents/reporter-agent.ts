/**
 * The reporter: the report's summary and limitations in plain words, written by the language
 * model from the report's facts (all from the project's events). Its prose may name things but
 * not state numbers: a digit outside a name the facts hold (a column, a model, the dataset)
 * refuses the answer, so every number a reader sees comes from the events, rendered by the
 * report itself. Without the model (or with a refused answer), the report's rules write them.
 */
import { z } from "zod";
import type { AgentCall, AgentModel, Decided } from "./agent-model";

export interface Narrative {
  summary: string;
  limitations: string[];
}

const narrativeSchema = z.strictObject({
  summary: z.string().min(1).max(1200).describe("two to four sentences: what was built, from what, how the best model did in words (no numbers)"),
  limitations: z.array(z.string().min(1).max(400)).min(1).max(8).describe("what the results do not show, one point each (no numbers)"),
});

/**
 * Numbers written as words ("seventy-nine percent", "four in five", "six hundred"). "One" is
 * left out: prose uses it as a pronoun ("the one that…", "one seeded split").
 */
const NUMBER_WORDS = new Set(
  (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen " +
    "twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion percent percentage dozen dozens"
  ).split(" "),
);

/** The first number the text states outside a name it may use (in digits or in words), or null. */
export function statedNumber(text: string, names: readonly string[]): string | null {
  const allowed = new Set(names.map((n) => n.toLowerCase()));
  for (const token of text.split(/\s+/)) {
    const bare = trimPunctuation(token);
    if (/\d/.test(token) && !allowed.has(bare.toLowerCase())) return bare;
    if (
      bare
        .toLowerCase()
        .split("-")
        .some((w) => NUMBER_WORDS.has(w)) &&
      !allowed.has(bare.toLowerCase())
    )
      return bare;
  }
  return null;
}

const EDGE = new Set([..."()[]\"'`*_.,;:!?"]);

/** a token without the punctuation around it ("(xgboost)," → "xgboost") */
function trimPunctuation(token: string): string {
  let start = 0;
  let end = token.length;
  while (start < end && EDGE.has(token[start]!)) start++;
  while (end > start && EDGE.has(token[end - 1]!)) end--;
  return token.slice(start, end);
}

export async function writeNarrative(
  facts: Record<string, unknown>,
  names: readonly string[],
  model: AgentModel,
  call: AgentCall,
): Promise<Decided<Narrative> | null> {
  const answer = await model.ask(call, {
    agent: "reporter",
    tool: "write_report",
    description: "the summary and the limitations of a model-building project's report",
    schema: narrativeSchema,
    instructions:
      "Write the summary and the limitations of the report of the AutoML project DATA.facts describes, for the person who asked for it: plain, specific, honest. " +
      "Say what was built, from which data, which model did best and what the choices were, and what the results do not show (DATA.facts.limitations_found and anything else the facts support). " +
      "Do not write any number, in digits or in words: the report shows the numbers itself, from the project's records. Names from the facts (columns, models, the dataset) may be used as they are.",
    data: { facts },
    check: (v) => {
      for (const text of [v.summary, ...v.limitations]) {
        const n = statedNumber(text, names);
        if (n) return `it wrote the number ${JSON.stringify(n)}, and the report's numbers come only from the project's events`;
      }
      return null;
    },
  });
  return answer === null ? null : { value: answer, source: "llm" };
}
