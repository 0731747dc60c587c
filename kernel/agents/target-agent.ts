/**
 * Settles the request against the data once it is read: which column is the target, and the
 * task the prompt and the data make together. The language model proposes (it reads synonyms,
 * other languages and typos as a person would); its choice passes the same checks as the
 * rules' (a column of the table, not an identifier, classes a model can learn), else the
 * rules (target-resolver.ts) decide.
 */
import { z } from "zod";
import { TASK_TYPES } from "../../contract";
import { profileColumn } from "../data/table-profile";
import type { Table } from "../data/table";
import { levelTexts } from "../data/text-levels";
import type { AgentCall, AgentModel, Decided } from "./agent-model";
import { parseIntentByRules, type ParsedIntent } from "./intent-rules";
import { identifierReason, resolveIntent, type ResolvedIntent } from "./target-resolver";

const chooseTarget = z.strictObject({
  target: z.string().nullable().describe("the exact name of the column to predict, or null when no column is what the request asks for"),
  task_type: z.enum(TASK_TYPES).describe("the task the request and this column make together"),
  reason: z.string().max(300).describe("why, in one sentence, naming the column"),
});

export interface TargetDefaults {
  /** the dataset's documented target (the catalog's) */
  target?: string;
  columnDescriptions?: Record<string, string>;
}

export async function settleTarget(
  prompt: string,
  intent: ParsedIntent,
  table: Table,
  defaults: TargetDefaults,
  model: AgentModel,
  call: AgentCall,
): Promise<Decided<ResolvedIntent>> {
  // the rules read the request themselves: after a refused answer, the model's reading of it (its words for the
  // target, its task) is no better than its choice was
  const rules = () => resolveIntent(intent.constraints["task_source"] === "llm" ? (rulesReading(prompt, intent) ?? intent) : intent, table, defaults);
  // a column the person named is theirs: the rules check it (its case matched), and ask when it is not there
  if (intent.target !== null) return { value: rules(), source: "rules" };
  // what the model's choice resolved to, kept by its check
  const chosen: { resolved: ResolvedIntent | null } = { resolved: null };
  const answer = await model.ask(call, {
    agent: "target chooser",
    tool: "choose_target",
    description: "the column of a table a request asks to predict",
    schema: chooseTarget,
    instructions:
      "A person asked an AutoML tool for DATA.request; DATA.columns are the columns of their table (name, kind, distinct values, examples). " +
      "Choose the column the request asks to predict: by meaning, synonyms, other languages and typos, or a conventional target name " +
      "(target, label, class, y, outcome) when the request names none. Never a column that identifies rows (distinct in nearly every row: ids, names, e-mail addresses). " +
      "The task follows from the column as much as from the words: a table with a label column is classification or regression whatever words the request uses; " +
      "time_series_forecasting only with a date column and a request for future values.",
    data: {
      request: prompt,
      task_read_from_words: intent.task_type,
      target_words: intent.target ?? intent.constraints["target_hint"] ?? null,
      rows: table.nRows,
      columns: table.columns.map((c) => describeColumn(table, c.name, defaults.columnDescriptions?.[c.name])),
    },
    check: (v) => {
      if (v.target === null) return "it found no column to predict";
      if (!table.has(v.target)) return `it named ${JSON.stringify(v.target)}, which is not a column`;
      const id = identifierReason(table.column(v.target));
      if (id) return `it chose ${v.target}, but ${id}`;
      try {
        const r = resolveIntent(
          { ...intent, target: v.target, task_type: v.task_type, constraints: { ...intent.constraints, task_source: "llm" } },
          table,
          defaults,
        );
        chosen.resolved = { intent: r.intent, notes: [`Target ${r.intent.target} chosen by the language model: ${v.reason}`, ...r.notes] };
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  if (answer === null || chosen.resolved === null) return { value: rules(), source: "rules" };
  return { value: chosen.resolved, source: "llm" };
}

/** The rules' own reading of the request, keeping what the person set (their target and task), or null when they cannot read it. */
function rulesReading(prompt: string, intent: ParsedIntent): ParsedIntent | null {
  try {
    return { ...parseIntentByRules(prompt, intent.target ?? undefined), source: "rules" };
  } catch {
    return null;
  }
}

/** A column as the model sees it: its kind, how many values, a few of them (redacted when sent). */
function describeColumn(table: Table, name: string, description: string | undefined): Record<string, unknown> {
  const col = table.column(name);
  const p = profileColumn(col);
  const examples =
    col.kind === "categorical"
      ? levelTexts(col.levels).slice(0, 3)
      : Array.from(col.values.subarray(0, 20))
          .filter((v) => !Number.isNaN(v))
          .slice(0, 3);
  return {
    name,
    kind: col.kind === "categorical" ? "text" : col.kind,
    distinct: p.unique,
    missing_pct: p.missing_pct,
    examples,
    ...(description ? { description } : {}),
  };
}
