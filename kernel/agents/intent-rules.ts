/**
 * The deterministic prompt parser: keyword rules for the task, the target and the data.
 * It is the fallback every LLM parser falls back to, so it must never guess silently:
 * what it could not tell stays null and is resolved against the data's columns later.
 */
import type { EventPayload, TaskType } from "../../contract";
import { InputError } from "../errors/input-error";

export type ParsedIntent = EventPayload<"PROMPT_PARSED">;

const TASK_RULES: Array<{ task: TaskType; pattern: RegExp }> = [
  {
    task: "time_series_forecasting",
    pattern: /\b(forecast\w*|prognos\w*|pronostic\w*|pronóstic\w*|time[- ]series|over the next|next (\d+ )?(hour|day|week|month|quarter|year)s?)\b/,
  },
  { task: "image_classification", pattern: /\b(images?|photos?|pictures?|pixels?|cats? (vs\.?|and|or) dogs?|handwritten digits?)\b/ },
  { task: "text_classification", pattern: /\b(texts?|e-?mails?|spam|sentiment|tweets?|reviews?|documents?|messages?)\b/ },
  {
    task: "classification",
    pattern:
      /\b(clas+if\w*|categori[sz]\w*|which (class|category|kind|type|species)|whether|detect\w*|diagnos\w*|churn|fraud|yes or no|species|label|klassifizier\w*|clasifica\w*|détect\w*|detectar|erkennen)(?![\p{L}\p{N}_])/u,
  },
  {
    task: "regression",
    pattern: /\b(regress\w*|how (much|many)|prices?|values?|amounts?|costs?|revenue|sales|salar(y|ies)|temperatures?|estimate\w*|score)\b/,
  },
];
// the verbs of a request, misspelt as people type them, in English, German and Spanish
const PREDICT =
  /(?<![\p{L}\p{N}_])(predi\w*|predc\w*|model\w*|estimat\w*|forecast\w*|clas+if\w*|guess\w*|likely|will|chances?|probability|vorher\w*|voraus\w*|prognos\w*|schätz\w*|klassifizier\w*|werden|wird|predecir|pronostic\w*|clasific\w*|estimar|van a|va a|prédire|prévoir|détecter|classer|estimer|deviner)(?![\p{L}\p{N}_])/u;
/** the metrics a request may ask for, by name */
export const RULE_METRICS = ["rmse", "mae", "r2", "f1", "roc_auc", "log_loss", "accuracy", "mase", "smape", "rmsle"] as const;
const METRICS: Array<[RegExp, (typeof RULE_METRICS)[number]]> = [
  [/\bmase\b|mean absolute scaled/, "mase"],
  [/\bs?mape\b/, "smape"],
  [/\brmsle\b/, "rmsle"],
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
  // "target price", "target is price", "label: species", "column = y" (a bare "the columns" or "the label of" names nothing)
  const named = /\b(?:target(?:\s*(?:is|=|:))?|(?:column|label)\s*(?:is|=|:))\s*["'`]?([A-Za-z_][\w.]*)/i.exec(text)?.[1];
  const target = explicitTarget ?? quoted ?? named ?? null;

  if (!matched && !PREDICT.test(lower) && !target) {
    throw new InputError(
      `I could not tell what to predict from ${JSON.stringify(text)}. Say what to predict and from what, ` +
        `e.g. "predict house prices from housing.csv" or "classify penguin species", or name the target column.`,
    );
  }
  const constraints: Record<string, unknown> = { task_source: matched ? "keyword" : "default" };
  // without a verb to read it after, "sentiment analysis of …" names it before the noun; else every telling word of
  // the request is the hint
  // "the next 30 days" is how far ahead, not what
  const horizon = horizonAsked(lower);
  if (horizon) constraints["horizon"] = { count: horizon.count, unit: horizon.unit };
  const unhorizoned = horizon ? lower.replace(horizon.phrase, " ") : lower;
  const hint =
    byHint(unhorizoned) ??
    targetHint(unhorizoned) ??
    analysisHint(unhorizoned) ??
    (unhorizoned
      .replace(new RegExp(PREDICT.source, "g"), " ")
      .replace(/[^\p{L}\p{N}_\s-]+/gu, " ")
      .replace(/\s+/g, " ")
      .trim() ||
      null);
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
    source: "rules",
  };
}

const COUNT_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twelve: 12,
  fourteen: 14,
  thirty: 30,
};
// "step": one of the data's own steps, whatever its frequency
const HORIZON_UNITS = "minute|hour|day|week|month|quarter|year|step|period";

/**
 * How far ahead a request asks to forecast: "the next 30 days", "next month", "12 months ahead",
 * "a 7-day forecast", "for the coming two weeks". Null when it says none.
 */
export function horizonAsked(
  lower: string,
): { count: number; unit: "minute" | "hour" | "day" | "week" | "month" | "quarter" | "year" | "step"; phrase: string } | null {
  const count = `(\\d{1,4}|${Object.keys(COUNT_WORDS).join("|")})`;
  const patterns = [
    new RegExp(`\\b(?:next|coming|following|upcoming)\\s+(?:${count}\\s+)?(${HORIZON_UNITS})s?\\b`),
    new RegExp(`\\b${count}[\\s-]+(${HORIZON_UNITS})s?\\s+(?:ahead|out|forecast|horizon|into the future)\\b`),
    new RegExp(`\\b${count}-(${HORIZON_UNITS})\\b`),
  ];
  for (const p of patterns) {
    const m = p.exec(lower);
    if (!m) continue;
    const n = m[1] === undefined ? 1 : /^\d+$/.test(m[1]) ? Number(m[1]) : COUNT_WORDS[m[1]]!;
    if (n >= 1) return { count: n, unit: (m[2] === "period" ? "step" : m[2]) as "day", phrase: m[0] };
  }
  return null;
}

const HINT_STOP_WORDS = new Set([
  ...["from", "using", "with", "within", "under", "based", "given", "in", "for", "by", "on", "of"],
  ...["aus", "mit", "anhand", "für", "desde", "con", "usando", "para", "según"],
]);
const QUANTITY_WORDS = new Set(["number", "amount", "count", "total", "percentage", "share"]);
const ARTICLES = new Set(["the", "a", "an", "der", "die", "das", "den", "dem", "el", "la", "los", "las"]);
const HINT_PUNCTUATION = /[.,;!?]/;

/**
 * The words naming what to predict: "predict [house prices] from …". Read word by word (a
 * regular expression with a lazy group and a lookahead backtracked quadratically on a long
 * run of word characters: one pasted token froze the conductor).
 */
function targetHint(lower: string): string | null {
  for (const verb of lower.matchAll(
    /\b(?:predict|forecast|estimate|classif|model|guess|vorhersage|klassifiziere|predecir|pronosticar|clasificar|estimar)\w*/g,
  )) {
    const rest = lower.slice((verb.index ?? 0) + verb[0].length);
    if (!/^\s/.test(rest)) continue;
    const words: string[] = [];
    for (const word of rest.split(/\s+/).filter(Boolean)) {
      if (words.length === 0 && ARTICLES.has(word)) continue;
      // "the number of deaths": a quantity word names nothing by itself, so its "of" does not end the hint
      if (word === "of" && words.length > 0 && words.every((w) => QUANTITY_WORDS.has(w))) {
        words.length = 0;
        continue;
      }
      if (HINT_STOP_WORDS.has(word)) break;
      const cut = word.search(HINT_PUNCTUATION);
      if (cut >= 0) {
        if (cut > 0) words.push(word.slice(0, cut));
        break;
      }
      words.push(word);
    }
    return words.length ? words.join(" ") : null;
  }
  return null;
}

const BY_VERBS = /^(?:classif|sort|group|categori|route|label|tag|triage)/;
const NOT_A_COLUMN = new Set(["whether", "how", "what", "which", "who", "hand", "type"]);

/**
 * "classify the support tickets by team", "sort photos by breed": the word after "by" names
 * the label (the rows' subject comes before it). Word by word, as targetHint reads.
 */
function byHint(lower: string): string | null {
  const words = lower.split(/[^\p{L}\p{N}_-]+/u).filter(Boolean);
  const verb = words.findIndex((w) => BY_VERBS.test(w));
  if (verb < 0) return null;
  const by = words.indexOf("by", verb + 1);
  if (by < 0) return null;
  const next = words.slice(by + 1).find((w) => !ARTICLES.has(w) && !["their", "its", "his", "her"].includes(w));
  return next && !NOT_A_COLUMN.has(next) ? next : null;
}

const ANALYSIS_NOUNS = new Set(["analysis", "detection", "classification", "prediction", "forecasting", "estimation", "recognition", "scoring"]);

/** "sentiment analysis of reviews", "fraud detection on transactions": the word before the noun. */
function analysisHint(lower: string): string | null {
  const words = lower.split(/[^\p{L}\p{N}_-]+/u).filter(Boolean);
  const at = words.findIndex((w, i) => i > 0 && ANALYSIS_NOUNS.has(w));
  return at > 0 ? words[at - 1]! : null;
}

/** The words naming the data: "… from [the boston housing table]", or a file name. */
function datasetHint(text: string): string | null {
  // runs of file-name characters, each tested whole: linear in the prompt's length
  const file = text
    .split(/[^\w./-]+/)
    .map(trimDots)
    .find((run) => /^[\w./-]*\w\.(?:csv|tsv|json)$/i.test(run));
  if (file) return file;
  const m = /\b(?:from|using|in|on)\s+(?:the\s+)?([^.,;!?]+)/i.exec(text);
  if (!m) return null;
  const words = m[1]!.split(/\s+/).filter((w) => !GENERIC_DATA_WORDS.has(w.toLowerCase()));
  return words.length ? words.join(" ") : null;
}

/** A run without the dots that end it ("data.csv." at the end of a sentence). */
function trimDots(run: string): string {
  let end = run.length;
  while (end > 0 && run[end - 1] === ".") end--;
  return run.slice(0, end);
}
