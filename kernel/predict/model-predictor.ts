/**
 * Predictions from a saved model: the model file holds the learner's state with the fitted
 * preprocessing, the task, the target and its classes (kernel/ml/model-file.ts); the
 * preprocessing turns a table's rows into the features the model was trained on, the learner
 * restores the model, and its outputs become what a person reads: a number per row
 * (regression), or a class per row with each class's probability (classification). New rows
 * are checked against the input schema row by row first (conformColumn). `automl predict`, the
 * conductor's endpoints and the bundle's predict.mjs all predict through here, batch by batch,
 * so the three give the same numbers.
 */
import type { PredictedRow, TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import { isoTextEpoch, plainNumber } from "../data/column-builder";
import { transformRows, type FittedPreprocessor, type InputColumn } from "../data/feature-transform";
import { Table, isMissingAt, isoOfEpoch, type CategoricalColumn, type Column } from "../data/table";
import { levelCount, levelText, textLevelsOf } from "../data/text-levels";
import type { SavedModel } from "../ml/learner";
import { findLearner } from "../ml/model-zoo";

import { csvField, PROBLEMS, type PredictionReport, type ProblemKind } from "./prediction-report";
import { classifierPredictor } from "./classifier-predictors";
import type { Predictor } from "./predictor";
import { decodeModelDocument } from "./model-document";
import { forecastTakesNoRows, isForecastDocument } from "./series-forecast";

export type { Predictor };

interface ModelDocument {
  run_id?: unknown;
  task?: unknown;
  target?: unknown;
  classes?: unknown;
  preprocessor?: unknown;
  model?: unknown;
}

/** A predictor from a model file's bytes. */
export function predictorFromModelFile(bytes: Uint8Array, shownAs: string): Predictor {
  const decoded = decodeModelDocument(bytes, shownAs);
  if (isForecastDocument(decoded))
    throw forecastTakesNoRows(
      shownAs,
      "Forecast with automl predict --model SOURCE (without --data), or with node predict.mjs (no data file) in its export bundle.",
    );
  const classified = classifierPredictor(decoded, shownAs);
  if (classified) return classified;
  const doc = decoded as ModelDocument;
  const saved = doc.model as SavedModel | undefined;
  const prep = doc.preprocessor as FittedPreprocessor | undefined;
  if (!saved || typeof saved.model_id !== "string" || !prep || !Array.isArray(prep.features) || typeof doc.target !== "string") {
    throw new InputError(
      `${shownAs} is a model file without its preprocessing or target: it was written before models carried them. Train the project again to predict with it.`,
    );
  }
  const learner = findLearner(saved.model_id);
  if (!learner)
    throw new InputError(`${shownAs} holds a ${saved.model_id} model, which this version cannot load. Use the version of the product that trained it.`);
  const task: TaskType = doc.task === "classification" ? "classification" : "regression";
  const classes = task === "classification" && Array.isArray(doc.classes) ? doc.classes.map(String) : null;
  if (task === "classification" && !classes)
    throw new InputError(`${shownAs} is a classifier without its class names: train the project again to predict with it.`);
  const model = learner.restore(saved);
  return {
    source: shownAs,
    runId: typeof doc.run_id === "string" ? doc.run_id : null,
    modelId: saved.model_id,
    task,
    target: doc.target,
    classes,
    preprocessor: prep,
    score: (batch, rows) => model.predict(transformRows(prep, batch, rows)),
  };
}

/** Every column the preprocessing reads, which new data must have (the target need not be there). */
export function inputColumns(p: Predictor): string[] {
  if (p.preprocessor.features.length === 0 && p.preprocessor.inputs) return p.preprocessor.inputs.map((i) => i.name);
  return [...new Set(p.preprocessor.features.map((f) => f.source))];
}

/** Numbers or times where the model was trained on text (a typed format's column of codes): as the text they are. */
function asText(col: Column & { values: Float64Array }): CategoricalColumn {
  const texts = Array.from(col.values, (v) => (Number.isNaN(v) ? null : col.kind === "datetime" ? isoOfEpoch(v, col.dateOnly) : String(v)));
  const distinct = [...new Set(texts.filter((t): t is string => t !== null))];
  const index = new Map(distinct.map((t, k) => [t, k]));
  return { name: col.name, kind: "categorical", codes: Int32Array.from(texts, (t) => (t === null ? -1 : index.get(t)!)), levels: textLevelsOf(distinct) };
}

/** The columns the model reads that are text in training (read them as text: "02139" must stay "02139"). */
export function textInputs(p: Predictor): Set<string> {
  return new Set(
    inputSchema(p)
      .filter((c) => c.kind === "categorical")
      .map((c) => c.name),
  );
}

/** The input schema; a model saved before it was kept gets one from its features (kinds only: no ranges or levels to check against). */
function inputSchema(p: Predictor): InputColumn[] {
  if (p.preprocessor.inputs) return p.preprocessor.inputs;
  return inputColumns(p).map((name): InputColumn => {
    const f = p.preprocessor.features.find((x) => x.source === name)!;
    return { name, kind: f.kind === "one_hot" ? "categorical" : f.kind === "datetime_part" ? "datetime" : "numeric", missing: true };
  });
}

/** One batch's predictions; `firstRow` counts data rows from 0. A refused row has no prediction (NaN, class -1). */
export interface BatchPredictions {
  rows: number;
  firstRow: number;
  /** 1 where the row was refused (see the report for why) */
  refused: Uint8Array;
  /** regression: the predicted value per row */
  values: Float64Array | null;
  /** classification: the index into the predictor's classes of the most probable class, per row */
  classIndex: Int32Array | null;
  /** classification: rows × classes, row-major */
  probabilities: Float64Array | null;
}

/** A problem found in a batch's row r (from 0), before it goes to the report in row order. */
interface FoundProblem {
  r: number;
  column: string;
  value: string;
  problem: ProblemKind;
}

/** A value as the person wrote it (text as it was; numbers in their shortest form, times in ISO 8601), for the report and kept columns. */
export function shownValue(col: Column, r: number): string {
  if (isMissingAt(col, r)) return "";
  if (col.kind === "categorical") return levelText(col.levels, col.codes[r]!);
  return col.kind === "datetime" ? isoOfEpoch(col.values[r]!, col.dateOnly) : String(col.values[r]!);
}

/**
 * A batch's column made like training's, as the input schema says: numbers given where text
 * was trained on become text; text where numbers or times were trained on is read as them
 * where it is one, else the row is refused; values outside the training range, categories
 * training never saw and missing values training never had are reported and handled as in
 * training; a missing value that the plan has no fill for refuses the row.
 */
function conformColumn(p: Predictor, input: InputColumn, read: Column, refused: Uint8Array, found: FoundProblem[]): Column {
  const n = refused.length;
  const add = (r: number, value: string, problem: ProblemKind) => found.push({ r, column: read.name, value, problem });
  const refuse = (r: number, problem: ProblemKind) => {
    add(r, shownValue(read, r), problem);
    refused[r] = 1;
  };
  if (input.kind === "categorical") {
    const given = read.kind === "categorical" ? read : asText(read);
    if (input.levels && input.levels_total === input.levels.length) {
      const known = new Set(input.levels);
      const unseen = Array.from({ length: levelCount(given.levels) }, (_, k) => !known.has(levelText(given.levels, k)));
      for (let r = 0; r < n; r++) if (given.codes[r]! >= 0 && unseen[given.codes[r]!]) add(r, shownValue(given, r), "unseen_category");
    }
    if (!input.missing) for (let r = 0; r < n; r++) if (given.codes[r]! < 0) add(r, "", "missing_filled");
    return given;
  }
  // numbers or times
  let values: Float64Array;
  if (read.kind === "categorical") {
    // some of the batch's values were text: each level is read as what training had, or its rows are refused
    const levelValue = Float64Array.from({ length: levelCount(read.levels) }, (_, k) => {
      const t = levelText(read.levels, k).trim();
      return input.kind === "numeric" ? plainNumber(t) : isoTextEpoch(t);
    });
    values = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const k = read.codes[r]!;
      values[r] = k < 0 ? NaN : levelValue[k]!;
      if (k >= 0 && Number.isNaN(values[r])) refuse(r, input.kind === "numeric" ? "text_in_numbers" : "text_in_dates");
    }
  } else if (read.kind !== input.kind) {
    values = new Float64Array(n).fill(NaN);
    for (let r = 0; r < n; r++) if (!Number.isNaN(read.values[r]!)) refuse(r, input.kind === "numeric" ? "dates_in_numbers" : "numbers_in_dates");
  } else values = read.values;
  const unfillable = p.preprocessor.features.some((f) => f.source === input.name && (f.kind === "numeric" || f.kind === "datetime_part") && f.fill === null);
  const { min, max } = input;
  for (let r = 0; r < n; r++) {
    const v = values[r]!;
    if (v === v) {
      if (min !== undefined && max !== undefined && (v < min || v > max)) add(r, shownValue(read, r), "outside_range");
    } else if (!refused[r] && isMissingAt(read, r)) {
      if (unfillable) refuse(r, "missing_unfillable");
      else if (!input.missing) add(r, "", "missing_filled");
    }
  }
  return input.kind === "datetime"
    ? { name: read.name, kind: "datetime", values, dateOnly: read.kind === "datetime" ? read.dateOnly : false }
    : { name: read.name, kind: "numeric", values };
}

/** Refuses data that lacks a column the model reads, naming every one and the columns to give. */
function checkColumns(p: Predictor, names: readonly string[]): void {
  const given = new Set(names);
  const missing = inputColumns(p).filter((c) => !given.has(c));
  if (missing.length) {
    throw new InputError(
      `The data lacks ${missing.length === 1 ? "the column" : "the columns"} ${missing.join(", ")}, which the model was trained on. ` +
        `Give data with the training data's columns (${inputColumns(p).join(", ")}).`,
    );
  }
}

/** The columns of `names` the model does not read (the target aside): said, then ignored. */
export function unusedColumns(p: Predictor, names: readonly string[]): string[] {
  const used = new Set(inputColumns(p));
  return names.filter((c) => c !== p.target && !used.has(c));
}

/** Predictions for one batch of rows; what was unlike training goes to `report`, row by row. */
export function predictBatch(p: Predictor, data: Table, firstRow: number, report: PredictionReport): BatchPredictions {
  checkColumns(p, data.columnNames);
  const n = data.nRows;
  const refused = new Uint8Array(n);
  const schema = inputSchema(p);
  const found: FoundProblem[] = [];
  const columns = schema.map((input) => conformColumn(p, input, data.column(input.name), refused, found));
  p.check?.(new Table(columns), (r, column, value, problem) => {
    found.push({ r, column, value, problem });
    if (PROBLEMS[problem].action === "refused") refused[r] = 1;
  });
  // the report reads row by row (a stable sort keeps the columns' order within a row)
  found.sort((a, b) => a.r - b.r);
  for (const f of found) report.add(firstRow + f.r + 1, f.column, f.value, f.problem);
  let kept = 0;
  for (let r = 0; r < n; r++) if (!refused[r]) kept++;
  report.countRefused(n - kept);
  const rows = new Uint32Array(kept);
  for (let r = 0, k = 0; r < n; r++) if (!refused[r]) rows[k++] = r;
  const out = kept > 0 ? p.score(new Table(columns), rows) : new Float64Array(0);
  if (p.task === "regression") {
    const values = new Float64Array(n).fill(NaN);
    rows.forEach((r, i) => (values[r] = out[i]!));
    return { rows: n, firstRow, refused, values, classIndex: null, probabilities: null };
  }
  const k = p.classes!.length;
  const probabilities = new Float64Array(n * k).fill(NaN);
  const classIndex = new Int32Array(n).fill(-1);
  rows.forEach((r, i) => {
    let best = 0;
    for (let c = 0; c < k; c++) {
      probabilities[r * k + c] = out[i * k + c]!;
      if (out[i * k + c]! > out[i * k + best]!) best = c;
    }
    classIndex[r] = best;
  });
  return { rows: n, firstRow, refused, values: null, classIndex, probabilities };
}

/** The predictions CSV's header: the columns kept from the data (`keep`), `<target>_predicted`, then `p_<class>` per class. */
export function predictionsCsvHeader(p: Predictor, keep: readonly string[] = []): string {
  return [...keep, `${p.target}_predicted`, ...(p.classes ?? []).map((c) => `p_${c}`)].map(csvField).join(",") + "\n";
}

/** A batch's lines of the predictions CSV: numbers keep every digit (the shortest text that reads back as the same double); a refused row's fields are empty. */
export function predictionsCsvLines(p: Predictor, b: BatchPredictions, kept: readonly Column[] = []): string {
  const k = p.classes?.length ?? 0;
  const empty = ",".repeat(k);
  const classes = (p.classes ?? []).map(csvField);
  let text = "";
  for (let r = 0; r < b.rows; r++) {
    for (const c of kept) text += csvField(shownValue(c, r)) + ",";
    if (b.refused[r]) text += empty + "\n";
    else if (b.values) text += String(b.values[r]) + "\n";
    else {
      let line = classes[b.classIndex![r]!]!;
      for (let c = 0; c < k; c++) line += "," + String(b.probabilities![r * k + c]);
      text += line + "\n";
    }
  }
  return text;
}

/** A batch's predictions as JSON values, a row each: a number (regression), {label, probabilities} (classification), or null (refused). */
export function predictionsJson(p: Predictor, b: BatchPredictions): PredictedRow[] {
  const k = p.classes?.length ?? 0;
  return Array.from({ length: b.rows }, (_, r): PredictedRow => {
    if (b.refused[r]) return null;
    if (b.values) return { value: b.values[r]! };
    const probabilities: Record<string, number> = {};
    p.classes!.forEach((c, j) => (probabilities[c] = b.probabilities![r * k + j]!));
    return { label: p.classes![b.classIndex![r]!]!, probabilities };
  });
}
