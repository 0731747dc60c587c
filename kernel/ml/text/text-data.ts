/**
 * A text task's prepared data: the table's text column made into TF-IDF rows for the train,
 * validation and test rows of the split (the vocabulary fitted on the training rows only), the
 * label as class codes, and the texts themselves (the misclassified examples show them).
 */
import type { PreprocessStep } from "../../../contract";
import type { SplitData } from "../../data/prepared-data";
import { levelTexts } from "../../data/text-levels";
import type { Table } from "../../data/table";
import { InputError } from "../../errors/input-error";
import { pickRows, type SparseRows } from "./sparse-rows";
import { drain, drainYielding, type Steps } from "../../data/yielding-steps";
import { DEFAULT_TEXT_FEATURES, fitSteps, vectorizeSteps, type TextFeatureSettings, type TextVectorizer } from "./text-vectorizer";

export const TEXT_STEP_OP = "text_tfidf";
/** a column whose texts average fewer characters than this is a label or a code, not free text */
const MIN_MEAN_CHARS = 15;

export interface TextSet {
  x: SparseRows;
  y: Int32Array;
  /** the table's rows, in order */
  rows: number[];
  /** the texts themselves (the test set's misclassified examples quote them) */
  texts: string[];
}

export interface TextData {
  kind: "text";
  target: string;
  textColumn: string;
  classes: string[];
  vectorizer: TextVectorizer;
  train: TextSet;
  val: TextSet;
  test: TextSet;
  seed: number;
  /** what preparing found (empty texts), for the log */
  notes: string[];
}

export function isTextData(d: unknown): d is TextData {
  return typeof d === "object" && d !== null && (d as { kind?: unknown }).kind === "text";
}

/** Each row's text in `column` ("" where missing). */
export function columnTexts(table: Table, column: string): string[] {
  const c = table.column(column);
  if (c.kind !== "categorical") throw new InputError(`${column} holds ${c.kind} values, not texts: name the column of texts (e-mails, reviews, messages).`);
  const levels = levelTexts(c.levels);
  return Array.from(c.codes, (k) => (k < 0 ? "" : levels[k]!));
}

/** The column of free text to classify by: the text column (not the target) with the longest texts on average. */
export function findTextColumn(table: Table, target: string): string {
  let best: { name: string; mean: number } | null = null;
  for (const c of table.columns) {
    if (c.name === target || c.kind !== "categorical") continue;
    const levels = levelTexts(c.levels);
    let chars = 0;
    for (const k of c.codes) chars += k < 0 ? 0 : levels[k]!.length;
    const mean = chars / Math.max(1, c.codes.length);
    if (!best || mean > best.mean) best = { name: c.name, mean };
  }
  if (!best || best.mean < MIN_MEAN_CHARS)
    throw new InputError(
      `No column of free text was found besides ${target}${best ? ` (the longest, ${best.name}, averages ${best.mean.toFixed(1)} characters)` : ""}: a text task needs a column of texts (e-mails, reviews, messages) and a label. ` +
        "Ask to classify the label from the other columns instead (a table task), or give data with a text column.",
    );
  return best.name;
}

/** The rules' step: TF-IDF of the text column on word and character n-grams. */
export function proposedTextStep(textColumn: string): PreprocessStep {
  const { word_ngrams, char_ngrams, min_df, max_words, max_chars } = DEFAULT_TEXT_FEATURES;
  return {
    id: "tfidf",
    op: TEXT_STEP_OP,
    columns: [textColumn],
    params: { word_ngrams, char_ngrams, min_df, max_words, max_chars },
    why: "texts become TF-IDF weights of their words, word pairs and character 3–5-grams (which catch misspellings and word parts); the vocabulary is learnt from the training texts only",
  };
}

/** The step's settings, refused with what is wrong. */
export function textFeatureSettings(step: PreprocessStep): TextFeatureSettings {
  const p = step.params;
  const range = (name: string, value: unknown, allowNull: boolean): [number, number] | null => {
    if (value === null && allowNull) return null;
    if (!Array.isArray(value) || value.length !== 2 || !value.every((n) => Number.isInteger(n) && n >= 1 && n <= 8) || value[0] > value[1])
      throw new InputError(`${step.id}: ${name} must be [from, to] with 1 ≤ from ≤ to ≤ 8${allowNull ? ", or null" : ""} (it is ${JSON.stringify(value)}).`);
    return [value[0], value[1]];
  };
  const int = (name: string, value: unknown, min: number, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || (value as number) < min)
      throw new InputError(`${step.id}: ${name} must be a whole number of at least ${min} (it is ${JSON.stringify(value)}).`);
    return value as number;
  };
  const d = DEFAULT_TEXT_FEATURES;
  return {
    word_ngrams: range("word_ngrams", p["word_ngrams"] ?? d.word_ngrams, false)!,
    char_ngrams: range("char_ngrams", p["char_ngrams"] === undefined ? d.char_ngrams : p["char_ngrams"], true),
    min_df: int("min_df", p["min_df"], 1, d.min_df),
    max_words: int("max_words", p["max_words"], 1, d.max_words),
    char_buckets: d.char_buckets,
    max_chars: int("max_chars", p["max_chars"], 100, d.max_chars),
  };
}

/** Refuses steps a text task cannot apply: exactly one text_tfidf step on a column of the table that is not the target. */
export function checkTextSteps(steps: PreprocessStep[], table: Table, target: string): void {
  const tfidf = steps.filter((s) => s.op === TEXT_STEP_OP);
  const others = steps.filter((s) => s.op !== TEXT_STEP_OP);
  if (others.length)
    throw new InputError(`A text task takes one ${TEXT_STEP_OP} step; ${others.map((s) => `${s.id} (${s.op})`).join(", ")} cannot apply to texts. Remove it.`);
  if (tfidf.length !== 1) throw new InputError(`A text task takes exactly one ${TEXT_STEP_OP} step naming its text column (the plan has ${tfidf.length}).`);
  const step = tfidf[0]!;
  const column = step.columns[0];
  if (step.columns.length !== 1 || !column || !table.has(column))
    throw new InputError(`${step.id}: columns must name the one text column, one of ${table.columnNames.filter((c) => c !== target).join(", ")}.`);
  if (column === target) throw new InputError(`${step.id}: ${column} is the label to predict; name the column of texts.`);
  const kind = table.column(column).kind;
  if (kind !== "categorical")
    throw new InputError(`${step.id}: ${column} holds ${kind} values, not texts: name the column of texts (e-mails, reviews, messages).`);
  textFeatureSettings(step);
}

export function prepareText(steps: PreprocessStep[], table: Table, data: SplitData): TextData {
  return drain(prepareTextSteps(steps, table, data));
}

/** prepareText, giving the event loop a turn every few texts (the conductor's call: seconds of work on a corpus of e-mails). */
export function prepareTextYielding(steps: PreprocessStep[], table: Table, data: SplitData): Promise<TextData> {
  return drainYielding(prepareTextSteps(steps, table, data));
}

function* prepareTextSteps(steps: PreprocessStep[], table: Table, data: SplitData): Steps<TextData> {
  const { target, split } = data;
  checkTextSteps(steps, table, target.column);
  const step = steps[0]!;
  const textColumn = step.columns[0]!;
  const texts = columnTexts(table, textColumn);
  const vectorizer = yield* fitSteps(
    split.train.map((r) => texts[r]!),
    textFeatureSettings(step),
  );
  const all = [...split.train, ...split.val, ...split.test];
  const x = yield* vectorizeSteps(
    vectorizer,
    all.map((r) => texts[r]!),
  );
  let at = 0;
  const set = (rows: number[]): TextSet => {
    const positions = Array.from(rows, () => at++);
    return { x: pickRows(x, positions), y: Int32Array.from(rows, (r) => target.y[r]!), rows, texts: rows.map((r) => texts[r]!) };
  };
  const empty = all.filter((r) => texts[r]!.trim() === "").length;
  const notes = empty
    ? [`${empty.toLocaleString("en")} row(s) have an empty ${textColumn}: they stay, and a model can only predict them from how common each class is.`]
    : [];
  if (vectorizer.idf.length === 0)
    throw new InputError(
      `The training texts share no word or character n-gram seen in ${vectorizer.settings.min_df} or more of them: there is nothing to learn from. Lower min_df in the ${step.id} step, or check that ${textColumn} holds the texts.`,
    );
  return {
    kind: "text",
    target: target.column,
    textColumn,
    classes: target.task === "classification" ? target.classes : [],
    vectorizer,
    train: set(split.train),
    val: set(split.val),
    test: set(split.test),
    seed: split.seed,
    notes,
  };
}
