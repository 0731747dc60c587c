/**
 * Once the columns are known, settles what the rules parser could not: which column is the
 * target, and whether the task is really classification (a text target, or a handful of
 * integer labels when the prompt only said "predict").
 */
import { hasTimeColumn } from "../data/series-framing";
import { imageColumnOf } from "../data/image-files";
import type { TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import { columnLength, type Column, type Table } from "../data/table";
import { eachLevelText, levelCount, levelTexts } from "../data/text-levels";
import { profileColumn } from "../data/table-profile";
import type { ParsedIntent } from "./intent-rules";

/**
 * Words a request may use for what a column is called, both ways: English, German and Spanish
 * words for the common targets, and the domain's names for them (a tumour's malignancy is its
 * `diagnosis`, churn is `exited` or `attrition`). Kept small and plain: the language model
 * knows more; this is what the rules alone still get right.
 */
const SYNONYM_GROUPS: string[][] = [
  [
    "price",
    "prices",
    "value",
    "cost",
    "medv",
    "saleprice",
    "sale",
    "sell",
    "sold",
    "amount",
    "preis",
    "preise",
    "precio",
    "precios",
    "valor",
    "kosten",
    "coste",
  ],
  ["species", "class", "label", "type", "kind", "art", "arten", "especie", "especies", "clase", "tipo"],
  ["category", "class", "label", "type", "kategorie", "categoria", "categoría"],
  [
    "churn",
    "churned",
    "exited",
    "attrition",
    "leave",
    "left",
    "cancel",
    "cancelled",
    "abwanderung",
    "kündigung",
    "kündigen",
    "kuendigung",
    "abandono",
    "abandonar",
    "abandonará",
    "baja",
    "quit",
    "quits",
    "resign",
    "resigns",
    "resignation",
    "renunciar",
    "renuncia",
    "démission",
    "démissionner",
    "quitter",
  ],
  ["fraud", "fraudulent", "is_fraud", "isfraud", "betrug", "fraude"],
  ["default", "defaulted", "loan_status", "delinquent", "repay", "repaid", "approved", "approval", "ausfall", "impago", "morosidad"],
  ["malignant", "benign", "tumor", "tumour", "cancer", "diagnosis", "diagnose", "diagnóstico", "diagnostico", "bösartig", "maligno"],
  ["survive", "survived", "survival", "überleben", "sobrevivir", "sobrevivió"],
  ["spam", "ham", "junk", "is_spam"],
  ["sentiment", "polarity", "positive", "negative", "stimmung", "sentimiento"],
  ["demand", "load", "consumption", "usage", "nachfrage", "verbrauch", "demanda", "consumo"],
  ["sales", "revenue", "turnover", "umsatz", "verkäufe", "ventas", "ingresos"],
  [
    "salary",
    "wage",
    "wages",
    "income",
    "pay",
    "earn",
    "earns",
    "earned",
    "earnings",
    "gehalt",
    "verdient",
    "verdienen",
    "einkommen",
    "salario",
    "sueldo",
    "ingreso",
  ],
  ["quality", "grade", "rating", "qualität", "qualitaet", "calidad", "nota"],
  ["temperature", "temp", "temperatur", "temperatura"],
  ["digit", "digits", "number", "ziffer", "dígito", "digito"],
  ["score", "rating", "points", "punkte", "puntuación", "puntuacion"],
  ["age", "alter", "edad"],
  ["death", "deaths", "die", "dies", "died", "dead", "fatalities", "fatality", "killed", "tote", "todesfälle", "muertes", "muertos", "morts", "décès"],
  ["life_expect", "life_expectancy", "lifeexpectancy", "lebenserwartung", "esperanza", "espérance"],
  ["failure", "failures", "fault", "faults", "breakdown", "breakdowns", "panne", "pannes", "ausfall", "fallo", "avería"],
  ["rent", "miete", "alquiler"],
  ["count", "counts", "cnt", "rentals", "rides", "number", "anzahl", "cantidad"],
  ["strength", "festigkeit", "resistencia"],
];
const SYNONYMS = new Map<string, Set<string>>();
for (const group of SYNONYM_GROUPS) for (const w of group) SYNONYMS.set(w, new Set([...(SYNONYMS.get(w) ?? []), ...group]));

/** Names a table's target often has when nothing in the request names it. */
const CONVENTIONAL_TARGETS = ["target", "label", "labels", "class", "y", "outcome", "result", "response"];

/** Request words that say how, not what (they name no column). */
const FILLER = new Set([
  "whether",
  "which",
  "what",
  "will",
  "would",
  "is",
  "are",
  "be",
  "a",
  "an",
  "the",
  "of",
  "to",
  "if",
  "or",
  "and",
  "it",
  "its",
  "their",
  "they",
  "do",
  "does",
  "get",
  "gets",
  "going",
  "how",
  "much",
  "many",
  "next",
  "month",
  "year",
  "week",
  "day",
  "from",
  "for",
  "by",
  "with",
  "in",
  "on",
  "column",
  "target",
  "predict",
  "classify",
  "estimate",
  "forecast",
  "model",
  "ob",
  "der",
  "das",
  "den",
  "dem",
  "ein",
  "eine",
  "einer",
  "wird",
  "werden",
  "von",
  "vorhersagen",
  "sagen",
  "voraus",
  "el",
  "la",
  "los",
  "las",
  "un",
  "una",
  "si",
  "de",
  "del",
  "predecir",
  "que",
  "qué",
]);
/** Things rows are about, not what is predicted of them: they weigh less than the rest of the request. */
const SUBJECTS = new Set([
  "customer",
  "customers",
  "client",
  "clients",
  "house",
  "houses",
  "home",
  "homes",
  "passenger",
  "passengers",
  "patient",
  "patients",
  "person",
  "people",
  "employee",
  "employees",
  "movie",
  "movies",
  "user",
  "users",
  "applicant",
  "applicants",
  "transaction",
  "transactions",
  "kunde",
  "kunden",
  "cliente",
  "clientes",
  "casa",
  "casas",
  "haus",
  "häuser",
  "machine",
  "machines",
  "device",
  "devices",
  "sensor",
  "sensors",
  "store",
  "stores",
]);

/**
 * The target cannot be settled from the request and the columns: only the person can say.
 * The stage turns it into a gate offering the columns (see targetChoices), not a failure.
 */
export class TargetUnclearError extends InputError {
  override name = "TargetUnclearError";
}

/**
 * The table's columns as target choices, the likeliest first: the current target, then columns
 * the request's words name, then those that fit the task asked for, then usable ones (the last
 * column leading, as it often is the target), then the rest.
 */
export function targetChoices(
  table: Table,
  asked: { current?: string | null; hint?: string; task?: string; columnDescriptions?: Record<string, string> } = {},
): Array<{ value: string; label: string; description: string }> {
  const named = asked.hint ? bestColumnFor(asked.hint, table, asked.columnDescriptions ?? {}) : null;
  const described = table.columns.map((col, order) => {
    const { unique, missing_pct } = profileColumn(col);
    // a few whole numbers are class labels, as resolveIntent reads them
    const labels = col.kind === "numeric" && unique <= 10 && col.values.every((v) => Number.isNaN(v) || Number.isInteger(v));
    const identifier = identifierReason(col);
    const freeText = freeTextReason(col);
    const task =
      identifier !== null || freeText !== null || col.kind === "datetime" || unique <= 1 || (col.kind !== "numeric" && unique > 50)
        ? null
        : col.kind === "numeric" && !labels
          ? "regression"
          : "classification";
    const kind = col.kind === "numeric" ? (labels ? "whole numbers" : "numbers") : col.kind === "datetime" ? "dates" : "text";
    const missing = missing_pct > 0 ? `, ${missing_pct.toFixed(missing_pct < 1 ? 1 : 0)}% missing` : "";
    const description = `${kind}, ${unique} distinct${missing}; ${task ? `would be ${task}` : unique <= 1 ? "constant: nothing to predict" : identifier ? "identifies rows: not a usable target" : freeText ? "free text: not a usable target" : "not a usable target"}`;
    const rank = col.name === asked.current ? 0 : col.name === named ? 1 : task !== null && task === asked.task ? 2 : task !== null ? 3 : 4;
    return { value: col.name, label: col.name, description: col.name === asked.current ? `the current target; ${description}` : description, rank, order };
  });
  return (
    described
      // a column that cannot be a target is not offered (the gate's list, and the CLI's "one of")
      .filter((d) => !d.description.includes("identifies rows") && !d.description.includes("free text"))
      .sort((a, b) => a.rank - b.rank || (a.order === table.nCols - 1 ? -1 : b.order === table.nCols - 1 ? 1 : a.order - b.order))
      .map(({ value, label, description }) => ({ value, label, description }))
  );
}

export interface ResolvedIntent {
  intent: ParsedIntent;
  /** what was settled here and why, for the person */
  notes: string[];
}

export function resolveIntent(
  intent: ParsedIntent,
  table: Table,
  defaults: { target?: string; columnDescriptions?: Record<string, string> } = {},
): ResolvedIntent {
  const notes: string[] = [];
  const descriptions = defaults.columnDescriptions ?? {};
  let target = intent.target;
  if (target !== null && !table.has(target)) {
    // a column the person named is not guessed at beyond its case: the gate offers the closest first
    const ci = table.columnNames.find((c) => c.toLowerCase() === target!.toLowerCase());
    if (!ci) {
      throw new TargetUnclearError(
        `The target column ${JSON.stringify(target)} is not in the data. Columns are: ${table.columnNames.join(", ")}. Choose one of them as the target.`,
      );
    }
    notes.push(`Target ${JSON.stringify(target)} matched column ${ci} (ignoring case).`);
    target = ci;
  }
  if (target === null) {
    const hint = String(intent.constraints["target_hint"] ?? "");
    // the request's words are the very name of a column that cannot be a target ("predict the email"): say why,
    // rather than take another
    const meaningful = hint
      .toLowerCase()
      .split(/[^\p{L}\p{N}_]+/u)
      .filter((w) => w && !FILLER.has(w));
    const namedColumn = meaningful.length === 1 ? table.columns.find((c) => c.name.toLowerCase() === meaningful[0]) : undefined;
    const unusable = namedColumn && (identifierReason(namedColumn) ?? freeTextReason(namedColumn));
    if (unusable) throw new TargetUnclearError(`${unusable}, so it cannot be learned as a target. Choose the column to predict.`);
    let match = bestMatch(hint, table, descriptions);
    // "units per sku": a forecast is of the numbers the request names, not of the series it names them by
    if (intent.task_type === "time_series_forecasting" && match && table.column(match.col).kind !== "numeric") {
      const numeric = table.columns.find((c) => c.kind === "numeric" && meaningful.includes(c.name.toLowerCase()));
      if (numeric) match = { ...match, col: numeric.name, subjectOnly: false };
    }
    // a match on what the rows are about only ("the machines") yields to a documented or conventional target
    target = match && !match.subjectOnly ? match.col : null;
    if (target) notes.push(`Target ${target} chosen because it matches ${JSON.stringify(hint)}.`);
    else if (defaults.target && table.has(defaults.target)) {
      target = defaults.target;
      notes.push(`Target ${target} is the dataset's documented target.`);
    } else {
      const conventional = CONVENTIONAL_TARGETS.map((name) => table.columns.find((c) => c.name.toLowerCase() === name)).find((c) => c && usableTarget(c));
      if (conventional) {
        target = conventional.name;
        notes.push(`Target ${target}: nothing in the request names a column, and ${target} is what a table's target is conventionally called.`);
      } else if (match) {
        target = match.col;
        notes.push(`Target ${target} chosen because it matches ${JSON.stringify(hint)}.`);
      }
    }
  }
  if (target === null) {
    // a column of image files beside one other column (an index of images and their class, whatever the class is called)
    const imageColumn = imageColumnOf(table);
    const others = imageColumn ? table.columns.filter((c) => c.name !== imageColumn && usableTarget(c)) : [];
    if (imageColumn && others.length === 1) {
      target = others[0]!.name;
      notes.push(`Target ${target}: the one column beside the image files (${imageColumn}).`);
    }
  }
  if (target === null) {
    throw new TargetUnclearError(`I could not tell which column to predict. Columns are: ${table.columnNames.join(", ")}. Choose the target.`);
  }
  const col = table.column(target);
  const unusableTarget = identifierReason(col) ?? freeTextReason(col);
  if (unusableTarget) throw new TargetUnclearError(`${unusableTarget}, so it cannot be learned as a target. Choose the column to predict.`);
  let task: TaskType = intent.task_type;
  const images = imageColumnOf(table);
  const texts = table.columns.filter((c) => c.name !== target && freeTextReason(c));
  // the columns besides the texts a table model would learn from (identifiers aside)
  const others = table.columns.filter((c) => c.name !== target && !texts.includes(c) && !identifierReason(c));
  if (images && images !== target) {
    // an image index (a column of image files and their label): its images are classified, whatever the words said
    if (task !== "image_classification") notes.push(`${images} holds image files: the images are classified by ${target}.`);
    task = "image_classification";
  } else if (
    (task === "text_classification" || task === "classification") &&
    texts.length > 0 &&
    (col.kind === "categorical" || fewWholeNumbers(col.values)) &&
    (task === "text_classification" || others.length <= MAX_SIDE_COLUMNS)
  ) {
    // a column of free text and a label: the texts are classified (asked for, or the texts with at most a few other columns:
    // a ticket's description beside its priority and date); a table model would one-hot a text's commonest values only
    if (task !== "text_classification") notes.push(`${texts[0]!.name} holds free text: ${target} is classified from the texts.`);
    if (others.length)
      notes.push(`A text model reads ${texts[0]!.name} alone: ${others.map((c) => c.name).join(", ")} ${others.length > 1 ? "are" : "is"} not used.`);
    task = "text_classification";
  } else if (task === "time_series_forecasting" && hasTimeColumn(table) && col.kind !== "numeric") {
    // a forecast is of numbers: labels over time are classified, row by row
    notes.push(`${target} holds text labels, and forecasting predicts a number over time: it is trained as classification of the rows.`);
    task = "classification";
  } else if (!TABLE_TASKS.has(task) && !(task === "time_series_forecasting" && hasTimeColumn(table))) {
    // the words said otherwise, but the data is a table with a column to predict: a table task
    const table_task = col.kind === "numeric" && !fewWholeNumbers(col.values) ? "regression" : "classification";
    notes.push(`The request reads as ${task.replace(/_/g, " ")}, but the data is a table with ${target} to predict: it is trained as ${table_task}.`);
    task = table_task;
  } else if (task === "regression" && col.kind !== "numeric") {
    task = "classification";
    notes.push(`${target} holds text labels, so this is classification.`);
  } else if (task === "regression" && intent.constraints["task_source"] === "default" && col.kind === "numeric" && fewWholeNumbers(col.values)) {
    task = "classification";
    notes.push(`${target} takes only a few whole-number values, so it is treated as class labels.`);
  } else if (task === "classification" && col.kind === "numeric") {
    const distinct = new Set(Array.from(col.values).filter((v) => !Number.isNaN(v)));
    if (distinct.size > 50) {
      throw new InputError(
        `${target} has ${distinct.size} distinct numeric values, too many to classify. Ask to predict ${target} (regression) or choose a column with a few labels.`,
      );
    }
  }
  if (task === "classification" || task === "text_classification" || task === "image_classification") refuseUnlearnableClasses(table, target);
  return { intent: { ...intent, target, task_type: task }, notes };
}

const TABLE_TASKS = new Set<TaskType>(["regression", "classification"]);
/** a table of free text with at most this many other columns (a ticket's priority and date) is a text task when asked to classify */
const MAX_SIDE_COLUMNS = 3;

/** at most ten distinct values, all whole: class labels rather than a quantity */
function fewWholeNumbers(values: Float64Array): boolean {
  const distinct = new Set<number>();
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (!Number.isInteger(v)) return false;
    distinct.add(v);
    if (distinct.size > 10) return false;
  }
  return true;
}

/** the most classes a table target may have, whatever its rows */
const MAX_CLASSES = 500;

/**
 * Refuses a class target no model can learn from these rows (before anything trains): more
 * classes than MAX_CLASSES, or most classes with a single row (a class needs rows to learn
 * from and to test on).
 */
function refuseUnlearnableClasses(table: Table, target: string): void {
  const col = table.column(target);
  const counts = new Map<number, number>();
  const values = col.kind === "categorical" ? col.codes : col.values;
  let rows = 0;
  for (const v of values) {
    if ((col.kind === "categorical" && v < 0) || Number.isNaN(v)) continue;
    rows++;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const classes = counts.size;
  let single = 0;
  for (const c of counts.values()) if (c < 2) single++;
  if (classes > MAX_CLASSES || (classes > 2 && single >= classes / 2)) {
    throw new TargetUnclearError(
      `${target} has ${classes.toLocaleString("en")} classes in ${rows.toLocaleString("en")} rows (${single.toLocaleString("en")} of them with a single row): ` +
        `a model cannot learn a class from one example${classes > MAX_CLASSES ? `, and more than ${MAX_CLASSES} classes is beyond what this version trains` : ""}. ` +
        `Choose a column with fewer labels, or ask for a regression if ${target} is a quantity.`,
    );
  }
}

/**
 * The column the request's words name best, or null: by its name's words (exactly, through a
 * synonym, as a stem as "churn" of "churned", or with a typo), by the catalog's description of
 * it, or by its values ("malignant" among a diagnosis's labels). Later words of the request
 * weigh more (the outcome ends it: "which customers will churn"); identifiers and constant
 * columns are never chosen.
 */
export function bestColumnFor(hint: string, table: Table, descriptions: Record<string, string>): string | null {
  return bestMatch(hint, table, descriptions)?.col ?? null;
}

/** The best column for the words, and whether only words for what the rows are about ("machines") matched it. */
function bestMatch(hint: string, table: Table, descriptions: Record<string, string>): { col: string; score: number; subjectOnly: boolean } | null {
  const words = wordsOf(hint).filter((w) => !FILLER.has(w));
  if (words.length === 0) return null;
  // each word's synonyms once, not once per column (the fuzzy lookup measures every known word)
  const alikes = words.map(alikeOf);
  let best: { col: string; score: number; subjectOnly: boolean } | null = null;
  for (const col of table.columns) {
    if (!usableTarget(col)) continue;
    const nameWords = wordsOf(col.name);
    const whole = nameWords.join("");
    const descWords = new Set(wordsOf(descriptions[col.name] ?? ""));
    const values = col.kind === "categorical" && levelCount(col.levels) <= 50 ? new Set(levelTexts(col.levels).flatMap(wordsOf)) : new Set<string>();
    let score = 0;
    let subjectOnly = true;
    // a name of many words (a sentence put in a header) is rarely a target: each match in it counts for less
    const longName = nameWords.length > 4 ? 4 / nameWords.length : 1;
    words.forEach((w, i) => {
      const weight = (SUBJECTS.has(w) ? 0.4 : 1) * (1 + i / words.length);
      const alike = alikes[i]!;
      let s = 0;
      if (whole === w || alike.has(whole) || alike.has(col.name.toLowerCase())) s = 10;
      else if (nameWords.some((n) => n === w || alike.has(n) || singular(n) === singular(w))) s = 5;
      else if (nameWords.some((n) => stemOf(n, w))) s = 4;
      else if (nameWords.some((n) => typo(n, w))) s = 3;
      else if (values.has(w) || [...alike].some((a) => values.has(a))) s = 2;
      else if (descWords.has(w) || [...alike].some((a) => descWords.has(a))) s = 1;
      score += s * weight * (s === 10 ? 1 : longName);
      if (s > 0 && !SUBJECTS.has(w)) subjectOnly = false;
    });
    if (score > 0 && (!best || score > best.score)) best = { col: col.name, score, subjectOnly };
  }
  return best;
}

/** A word with its synonyms; a compound ending in a known word takes that word's ("hauspreise": "preise"). */
function alikeOf(w: string): Set<string> {
  const known = SYNONYMS.get(w) ?? SYNONYMS.get(singular(w));
  if (known) return new Set([w, ...known]);
  for (let cut = 2; cut <= w.length - 4; cut++) {
    const tail = SYNONYMS.get(w.slice(cut));
    if (tail) return new Set([w, ...tail]);
  }
  // an inflection or a typo of a known word ("kündigt": "kündigen")
  for (const [key, group] of SYNONYMS) if (key.length >= 5 && (stemOf(key, w) || typo(key, w))) return new Set([w, ...group]);
  return new Set([w]);
}

/** A column's name as its words: snake_case, kebab-case, camelCase and spaces split, lower case. */
function wordsOf(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

function singular(w: string): string {
  return w.length > 3 && w.endsWith("s") && !w.endsWith("ss") ? w.slice(0, -1) : w;
}

/** one word the other's stem: "churn" / "churned", "survive" / "survived" (four letters at least) */
function stemOf(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  const stem = short.replace(/e$/, "");
  return stem.length >= 4 && long.startsWith(stem) && long.length - stem.length <= 4;
}

/** a typo apart: one edit for words of 4 to 7 letters, two from 8 */
function typo(a: string, b: string): boolean {
  if (Math.min(a.length, b.length) < 4) return false;
  const allowed = Math.max(a.length, b.length) >= 8 ? 2 : 1;
  return Math.abs(a.length - b.length) <= allowed && editDistance(a, b) <= allowed;
}

/** Damerau-Levenshtein (optimal string alignment): a swapped pair of letters is one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * Whether a column could be a target at all: not constant, not a date, and not an identifier
 * (a distinct value in nearly every row: an e-mail address, a name, a row id), which no model
 * learns anything general from.
 */
export function usableTarget(col: Column): boolean {
  return identifierReason(col) === null && freeTextReason(col) === null && col.kind !== "datetime" && distinctCount(col, 2) > 1;
}

/**
 * Why a column holds free text (sentences: reviews, messages, descriptions) rather than labels,
 * or null: its values average more than five words. A label is short; a model of this version
 * reads text only as categories, so such a column is never a target.
 */
export function freeTextReason(col: Column): string | null {
  if (col.kind !== "categorical") return null;
  // the first values only: a column of e-mails is tens of megabytes of text
  const levels: string[] = [];
  for (const t of eachLevelText(col.levels)) if (levels.push(t) >= 200) break;
  if (levels.length < 5) return null;
  const words = levels.reduce((n, l) => n + l.split(/\s+/).filter(Boolean).length, 0) / levels.length;
  return words > 5 ? `${col.name} holds free text (about ${Math.round(words)} words a value), not labels` : null;
}

/** Why a column identifies rows rather than describes them, or null. */
export function identifierReason(col: Column): string | null {
  const n = columnLength(col);
  if (n < 20) return null;
  const present =
    col.kind === "categorical" ? col.codes.reduce((s, k) => s + (k >= 0 ? 1 : 0), 0) : col.values.reduce((s, v) => s + (Number.isNaN(v) ? 0 : 1), 0);
  if (present === 0) return null;
  const distinct = distinctCount(col, present + 1);
  const nearlyEvery = distinct >= 0.95 * present;
  if (col.kind === "categorical" && nearlyEvery)
    return `${col.name} has a distinct value in ${distinct.toLocaleString("en")} of ${present.toLocaleString("en")} rows: it identifies rows`;
  if (
    col.kind === "numeric" &&
    nearlyEvery &&
    col.values.every((v) => Number.isNaN(v) || Number.isInteger(v)) &&
    /(^|[_\s-]|[a-z](?=I[dD]$))(id|ids|uuid|key|index|idx|no|nr|number|num)$/i.test(col.name)
  ) {
    return `${col.name} is a whole number distinct in every row, named as an id: it identifies rows`;
  }
  return null;
}

/** distinct values, counted up to `cap` */
function distinctCount(col: Column, cap: number): number {
  const seen = new Set<number>();
  const values = col.kind === "categorical" ? col.codes : col.values;
  for (const v of values) {
    if (v < 0 && col.kind === "categorical") continue;
    if (Number.isNaN(v)) continue;
    seen.add(v);
    if (seen.size >= cap) break;
  }
  return seen.size;
}
