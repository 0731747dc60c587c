/**
 * The deterministic prompt parser: keyword rules for the task, the target and the data.
 * It is the fallback every LLM parser falls back to, so it must never guess silently:
 * what it could not tell stays null and is resolved against the data's columns later.
 */
import type { EventPayload, TaskType } from "../../contract";
import { InputError } from "../errors/input-error";

export type ParsedIntent = EventPayload<"PROMPT_PARSED">;

const TASK_RULES: Array<{ task: TaskType; pattern: RegExp }> = [
  { task: "time_series_forecasting", pattern: /\b(forecast\w*|time[- ]series|over the next|next (day|week|month|quarter|year)s?)\b/ },
  { task: "image_classification", pattern: /\b(images?|photos?|pictures?|pixels?|cats? (vs\.?|and|or) dogs?|handwritten digits?)\b/ },
  { task: "text_classification", pattern: /\b(texts?|e-?mails?|spam|sentiment|tweets?|reviews?|documents?|messages?)\b/ },
  {
    task: "classification",
    pattern: /\b(classif\w*|categori[sz]\w*|which (class|category|kind|type|species)|whether|detect\w*|churn|fraud|yes or no|species|label)\b/,
  },
  {
    task: "regression",
    pattern: /\b(regress\w*|how (much|many)|prices?|values?|amounts?|costs?|revenue|sales|salar(y|ies)|temperatures?|estimate\w*|score)\b/,
  },
];
const PREDICT = /\b(predict\w*|model\w*|estimate\w*|forecast\w*|classif\w*|guess\w*)\b/;
const METRICS: Array<[RegExp, string]> = [
  [/\brmse\b|root mean squared/, "rmse"],
  [/\bmae\b|mean absolute/, "mae"],
  [/\br2\b|r-squared|r²/, "r2"],
  [/\bf1\b/, "f1"],
  [/\bauc\b|roc/, "roc_auc"],
  [/\blog ?loss\b|cross-?entropy/, "log_loss"],
  [/\baccuracy\b/, "accuracy"],
];
const GENERIC_DATA_WORDS = new Set(["this", "that", "the", "my", "our", "a", "an", "csv", "file", "data", "dataset", "table", "spreadsheet", "these", "those"]);

export function parseIntentByRules(prompt: string, explicitTarget?: string): ParsedIntent {
  const text = prompt.trim();
  if (!text) throw new InputError('The prompt is empty. Say what you want to predict, e.g. "predict house prices".');
  const lower = text.toLowerCase();
  const matched = TASK_RULES.find((r) => r.pattern.test(lower));
  const quoted = /["'`]([^"'`]{1,80})["'`]/.exec(text)?.[1];
  const named = /\b(?:target|column|label)\s*(?:is|=|:)?\s*["'`]?([A-Za-z_][\w.]*)/i.exec(text)?.[1];
  const target = explicitTarget ?? quoted ?? named ?? null;

  if (!matched && !PREDICT.test(lower) && !target) {
    throw new InputError(
      `I could not tell what to predict from ${JSON.stringify(text)}. Say what to predict and from what, ` +
        `e.g. "predict house prices from housing.csv" or "classify penguin species", or name the target column.`,
    );
  }
  const constraints: Record<string, unknown> = { task_source: matched ? "keyword" : "default" };
  const hint = targetHint(lower);
  if (hint) constraints["target_hint"] = hint;
  const metric = METRICS.find(([p]) => p.test(lower))?.[1];
  if (metric) constraints["metric"] = metric;
  const budget = /\b(?:in|within|under)\s+(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|mins?|minutes?)\b/.exec(lower);
  if (budget) constraints["time_budget_s"] = Number(budget[1]) * (budget[2]!.startsWith("m") ? 60 : 1);
  if (/\b(interpretable|explainable|transparent|simple)\b/.test(lower)) constraints["interpretable"] = true;

  return {
    task_type: matched?.task ?? "regression",
    target,
    dataset_hint: datasetHint(text),
    constraints,
    parser: "rules",
  };
}

/** The words naming what to predict: "predict [house prices] from …" */
function targetHint(lower: string): string | null {
  const m =
    /\b(?:predict\w*|forecast\w*|estimate\w*|classify|classif\w*|model\w*|guess\w*)\s+(?:the\s+|a\s+|an\s+)?(.+?)(?=\s+(?:from|using|with|within|under|based|given|in|for|by|on|of)\b|[.,;!?]|$)/.exec(
      lower,
    );
  const hint = m?.[1]?.trim();
  return hint ? hint : null;
}

/** The words naming the data: "… from [the boston housing table]", or a file name. */
function datasetHint(text: string): string | null {
  const file = /[\w./-]+\.(csv|tsv|json)\b/i.exec(text)?.[0];
  if (file) return file;
  const m = /\b(?:from|using|in|on)\s+(?:the\s+)?([^.,;!?]+)/i.exec(text);
  if (!m) return null;
  const words = m[1]!.split(/\s+/).filter((w) => !GENERIC_DATA_WORDS.has(w.toLowerCase()));
  return words.length ? words.join(" ") : null;
}
