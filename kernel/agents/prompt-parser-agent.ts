/**
 * The prompt parser: what the request asks for (the task, the words naming the target, the
 * data, constraints), read by the language model, else by the rules (intent-rules.ts). Either
 * way the result has the same shape; the target stays words until the data is read
 * (target-agent.ts settles it against the columns), unless the person named the column.
 */
import { z } from "zod";
import { TASK_TYPES } from "../../contract";
import type { AgentCall, AgentModel, Decided } from "./agent-model";
import { horizonAsked, parseIntentByRules, RULE_METRICS, type ParsedIntent } from "./intent-rules";

const readRequest = z.strictObject({
  understood: z.boolean().describe("false when the request does not say what to predict"),
  task_type: z.enum(TASK_TYPES),
  target_words: z.string().max(200).nullable().describe("the words of the request naming what to predict, as written (any language), or null"),
  dataset_hint: z.string().max(200).nullable().describe("the data the request names (a file, a dataset), or null"),
  metric: z.enum(RULE_METRICS).nullable().describe("a metric the request asks for, or null"),
  time_budget_s: z.number().positive().max(86_400).nullable().describe("a training time limit the request sets, in seconds, or null"),
  interpretable: z.boolean().describe("true when the request asks for an explainable or simple model"),
});

export async function parsePrompt(prompt: string, explicitTarget: string | undefined, model: AgentModel, call: AgentCall): Promise<Decided<ParsedIntent>> {
  const rules = () => ({ ...parseIntentByRules(prompt, explicitTarget), source: "rules" as const });
  if (!prompt.trim()) return { value: rules(), source: "rules" };
  const read = await model.ask(call, {
    agent: "prompt parser",
    tool: "read_request",
    description: "what a person's request to an AutoML tool asks to build",
    schema: readRequest,
    instructions:
      "Read the person's request (DATA.request) to an AutoML tool that trains models on their data. Say the task: regression (a quantity), " +
      "classification (a label among a few), time_series_forecasting (future values of a series over time), image_classification, text_classification. " +
      "Give the words naming what to predict exactly as they are written, in whatever language; the data's columns are matched to them later. " +
      "Set understood to false when the request does not say what to predict.",
    data: { request: prompt },
    check: (v) => (v.understood ? null : "it did not find what to predict in the request"),
  });
  if (read === null) return { value: rules(), source: "rules" };
  const constraints: Record<string, unknown> = { task_source: "llm" };
  if (read.target_words) constraints["target_hint"] = read.target_words;
  if (read.metric) constraints["metric"] = read.metric;
  if (read.time_budget_s) constraints["time_budget_s"] = read.time_budget_s;
  if (read.interpretable) constraints["interpretable"] = true;
  // how far ahead is read by rule either way: a count and a unit, nothing for a model to interpret
  const horizon = horizonAsked(prompt.toLowerCase());
  if (horizon) constraints["horizon"] = { count: horizon.count, unit: horizon.unit };
  return {
    value: { task_type: read.task_type, target: explicitTarget ?? null, dataset_hint: read.dataset_hint, constraints, parser: "llm", source: "llm" },
    source: "llm",
  };
}
