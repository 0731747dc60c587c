/**
 * Predictions from a saved model: the model file holds the learner's state with the fitted
 * preprocessing, the task, the target and its classes (kernel/ml/model-file.ts); the
 * preprocessing turns a table's rows into the features the model was trained on, the learner
 * restores the model, and its outputs become what a person reads: a number per row
 * (regression), or a class per row with each class's probability (classification). The CLI's
 * `automl predict` reads models through here; so will the conductor's endpoint and the bundle.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { EV, type TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import { transformRows, type FittedPreprocessor } from "../data/preprocessor";
import { Table, isoOfEpoch, type Column } from "../data/table";
import { levelCount, levelText, textLevelsOf } from "../data/text-levels";
import type { FittedModel, SavedModel } from "../ml/learner";
import { decodeModelFile, MODEL_FILE_EXTENSION, ModelFileError } from "../ml/model-file";
import { findLearner } from "../ml/model-zoo";

/** Where an export zip keeps its best model. */
export const BUNDLED_MODEL = "model/best-model.model";

export interface Predictor {
  /** where it was read from, as the person named it */
  source: string;
  runId: string | null;
  modelId: string;
  task: TaskType;
  target: string;
  /** classification: the class of each probability column, in order */
  classes: string[] | null;
  preprocessor: FittedPreprocessor;
  model: FittedModel;
}

export interface Predictions {
  rows: number;
  /** regression: the predicted value per row */
  values: Float64Array | null;
  /** classification: the predicted class per row (the most probable) */
  labels: string[] | null;
  /** classification: rows × classes, row-major */
  probabilities: Float64Array | null;
  /** what was unlike the training data and how it was handled, a line per column (row numbers count data rows from 1) */
  notes: string[];
}

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
  let doc: ModelDocument;
  try {
    doc = decodeModelFile(bytes, shownAs) as ModelDocument;
  } catch (err) {
    if (err instanceof ModelFileError)
      throw new InputError(`${err.message} Give a model file this product wrote (a project's models/<run>.model), the project's folder, or its export zip.`);
    throw err;
  }
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
  return {
    source: shownAs,
    runId: typeof doc.run_id === "string" ? doc.run_id : null,
    modelId: saved.model_id,
    task,
    target: doc.target,
    classes,
    preprocessor: prep,
    model: learner.restore(saved),
  };
}

/**
 * A predictor from what a person names: a model file, a project's folder (its best run's
 * model), or a project's export zip (its best model).
 */
export function loadPredictor(source: string): Predictor {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw new InputError(`${source} does not exist. Give a project's folder (.automl/projects/<id>), its export zip, or a model file (.model).`);
  }
  if (stat.isDirectory()) return fromProjectFolder(source);
  const bytes = new Uint8Array(fs.readFileSync(source));
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes, { filter: (f) => f.name === BUNDLED_MODEL });
    } catch (err) {
      throw new InputError(`${source} is not a zip that can be read (${(err as Error).message}). Give a project's export zip.`);
    }
    const model = files[BUNDLED_MODEL];
    if (!model)
      throw new InputError(`${source} holds no ${BUNDLED_MODEL}: it is not a project's export (or its project had no model). Export the project again.`);
    return predictorFromModelFile(model, `${source}:${BUNDLED_MODEL}`);
  }
  return predictorFromModelFile(bytes, source);
}

/** The best run's model of a project folder, as its event log names it (the last BEST_MODEL_UPDATED). */
function fromProjectFolder(dir: string): Predictor {
  const log = path.join(dir, "events.jsonl");
  if (!fs.existsSync(log))
    throw new InputError(`${dir} is not a project folder (it has no events.jsonl). Give .automl/projects/<id>, its export zip, or a model file.`);
  let best: string | null = null;
  for (const line of fs.readFileSync(log, "utf8").split("\n")) {
    if (!line.includes(EV.BEST_MODEL_UPDATED)) continue;
    try {
      const env = JSON.parse(line) as { event?: { name?: string; payload?: { run_id?: string } } };
      if (env.event?.name === EV.BEST_MODEL_UPDATED && env.event.payload?.run_id) best = env.event.payload.run_id;
    } catch {
      /* a line cut short by a crash: the ones before it stand */
    }
  }
  if (!best) throw new InputError(`The project in ${dir} has no trained model yet. Train it (automl run --project <id>), then predict.`);
  const file = path.join(dir, "models", `${best}${MODEL_FILE_EXTENSION}`);
  if (!fs.existsSync(file))
    throw new InputError(`The best run's model file (${path.relative(dir, file)}) is missing from ${dir}. Export or train the project again.`);
  return predictorFromModelFile(new Uint8Array(fs.readFileSync(file)), file);
}

/** Every column the preprocessing reads, which new data must have (the target need not be there). */
export function inputColumns(p: Predictor): string[] {
  return [...new Set(p.preprocessor.features.map((f) => f.source))];
}

/** Numbers or times where the model was trained on text (a typed format's column of codes): as the text they are. */
function asText(col: Column & { values: Float64Array }): Column {
  const texts = Array.from(col.values, (v) => (Number.isNaN(v) ? null : col.kind === "datetime" ? isoOfEpoch(v, col.dateOnly) : String(v)));
  const distinct = [...new Set(texts.filter((t): t is string => t !== null))];
  const index = new Map(distinct.map((t, k) => [t, k]));
  return { name: col.name, kind: "categorical", codes: Int32Array.from(texts, (t) => (t === null ? -1 : index.get(t)!)), levels: textLevelsOf(distinct) };
}

/** The columns the model reads that are text in training (read them as text: "02139" must stay "02139"). */
export function textInputs(p: Predictor): Set<string> {
  return new Set((p.preprocessor.inputs ?? []).filter((c) => c.kind === "categorical").map((c) => c.name));
}

const SHOWN_ROWS = 5;

function someRows(rows: number[]): string {
  return (
    rows
      .slice(0, SHOWN_ROWS)
      .map((r) => r + 1)
      .join(", ") + (rows.length > SHOWN_ROWS ? ", …" : "")
  );
}

/**
 * New data made like the training data, column by column, as the input schema says: numbers
 * given where text was trained on become text; text where numbers or times were trained on is
 * refused with the rows; values outside the training range and categories training never saw
 * are said (with rows) and handled as in training.
 */
function conform(p: Predictor, table: Table): { table: Table; notes: string[] } {
  const notes: string[] = [];
  const columns = table.columns.map((read): Column => {
    const input = p.preprocessor.inputs?.find((c) => c.name === read.name);
    if (!input) return read;
    const given = input.kind === "categorical" && read.kind !== "categorical" ? asText(read) : read;
    if (input.kind !== "categorical" && given.kind === "categorical") {
      const bad = Array.from(given.codes.keys()).filter((r) => given.codes[r]! >= 0);
      throw new InputError(
        `Column ${given.name} holds text (${JSON.stringify(levelText(given.levels, given.codes[bad[0]!]!))} in row ${bad[0]! + 1}) where the model was trained on ${input.kind === "numeric" ? "numbers" : "dates"}. ` +
          `Correct the values in rows ${someRows(bad)}, or leave them empty.`,
      );
    }
    if (input.kind === "numeric" && given.kind === "datetime") {
      throw new InputError(`Column ${given.name} holds dates where the model was trained on numbers. Give the numbers the column held in training.`);
    }
    if (given.kind !== "categorical") {
      const values = given.values;
      const { min, max } = input;
      if (min !== undefined && max !== undefined) {
        const outside = Array.from(values.keys()).filter((r) => values[r]! < min || values[r]! > max);
        if (outside.length) {
          const show = (v: number) => (given.kind === "datetime" ? isoOfEpoch(v, given.dateOnly) : String(v));
          notes.push(
            `Column ${given.name}: ${outside.length} row(s) outside the training range ${show(min)} to ${show(max)} (rows ${someRows(outside)}): predicted as trained, but the model never saw such values.`,
          );
        }
      }
      return given;
    }
    const { codes, levels } = given;
    if (input.levels && input.levels_total === input.levels.length) {
      const known = new Set(input.levels);
      const unseen = Array.from({ length: levelCount(levels) }, (_, k) => !known.has(levelText(levels, k)));
      const rows = Array.from(codes.keys()).filter((r) => codes[r]! >= 0 && unseen[codes[r]!]);
      if (rows.length) {
        notes.push(
          `Column ${given.name}: ${rows.length} row(s) with a category training never saw (${JSON.stringify(levelText(levels, codes[rows[0]!]!))} in row ${rows[0]! + 1}; rows ${someRows(rows)}): counted as none of the known ones, as a rare category was in training.`,
        );
      }
    }
    return given;
  });
  return { table: new Table(columns), notes };
}

export function predict(p: Predictor, data: Table): Predictions {
  const missing = inputColumns(p).filter((c) => !data.has(c));
  if (missing.length) {
    throw new InputError(
      `The data lacks ${missing.length === 1 ? "the column" : "the columns"} ${missing.join(", ")}, which the model was trained on. ` +
        `Give data with the training data's columns (${inputColumns(p).join(", ")}).`,
    );
  }
  const { table, notes } = conform(p, data);
  const rows = Uint32Array.from({ length: table.nRows }, (_, i) => i);
  const out = p.model.predict(transformRows(p.preprocessor, table, rows));
  if (p.task === "regression") return { rows: table.nRows, values: out, labels: null, probabilities: null, notes };
  const k = p.classes!.length;
  const labels = Array.from({ length: table.nRows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (out[r * k + c]! > out[r * k + best]!) best = c;
    return p.classes![best]!;
  });
  return { rows: table.nRows, values: null, labels, probabilities: out, notes };
}

/** A CSV of predictions, a line per input row: `<target>` (predicted), then `p_<class>` per class. Numbers keep every digit. */
export function predictionsCsv(p: Predictor, preds: Predictions): string {
  const quote = (t: string) => (/[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
  const header = [`${p.target}_predicted`, ...(p.classes ?? []).map((c) => `p_${c}`)].map(quote).join(",");
  const lines = [header];
  const k = p.classes?.length ?? 0;
  for (let r = 0; r < preds.rows; r++) {
    if (preds.values) lines.push(String(preds.values[r]));
    else lines.push([quote(preds.labels![r]!), ...Array.from({ length: k }, (_, c) => String(preds.probabilities![r * k + c]))].join(","));
  }
  return lines.join("\n") + "\n";
}
