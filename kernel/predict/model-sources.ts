/**
 * Where a person's model comes from, as they name it: a model file, a project's folder (its
 * best run's model, by its event log), or an export bundle (zipped or unzipped, checked first).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EV } from "../../contract";
import { InputError } from "../errors/input-error";
import { modelFileOf } from "../ml/model-file";
import { MANIFEST_FILE } from "./bundle-manifest";
import { modelOfBundleFolder, modelOfBundleZip } from "./bundle-reader";
import { forecasterFromModelFile, type SeriesForecaster } from "./series-forecast";
import { predictorFromModelFile, type Predictor } from "./model-predictor";

/**
 * A predictor from what a person names: a model file, a project's folder (its best run's
 * model), an export bundle (zip or unzipped folder: checked against its manifest first).
 */
export function loadPredictor(source: string): Predictor {
  const model = loadModelFile(source);
  return predictorFromModelFile(model.bytes, model.shownAs);
}

/** The forecaster of what a person names (as loadPredictor reads it): the next steps after its history. */
export function loadForecaster(source: string): SeriesForecaster {
  const model = loadModelFile(source);
  return forecasterFromModelFile(model.bytes, model.shownAs);
}

/** The model file's bytes of a model file, a project's folder (its best run's) or an export bundle (checked first). */
function loadModelFile(source: string): { bytes: Uint8Array; shownAs: string } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw new InputError(`${source} does not exist. Give a project's folder (.automl/projects/<id>), its export zip, or a model file (.model).`);
  }
  if (stat.isDirectory()) return fs.existsSync(path.join(source, MANIFEST_FILE)) ? modelOfBundleFolder(source) : fromProjectFolder(source);
  const bytes = new Uint8Array(fs.readFileSync(source));
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return modelOfBundleZip(bytes, source);
  return { bytes, shownAs: source };
}

/** The best run's model of a project folder, as its event log names it (the last BEST_MODEL_UPDATED). */
function fromProjectFolder(dir: string): { bytes: Uint8Array; shownAs: string } {
  const log = path.join(dir, "events.jsonl");
  if (!fs.existsSync(log))
    throw new InputError(`${dir} is not a project folder (it has no events.jsonl). Give .automl/projects/<id>, its export zip, or a model file.`);
  let best: string | null = null;
  for (const line of linesOf(log)) {
    if (!line.includes(EV.BEST_MODEL_UPDATED)) continue;
    try {
      const env = JSON.parse(line) as { event?: { name?: string; payload?: { run_id?: string } } };
      if (env.event?.name === EV.BEST_MODEL_UPDATED && env.event.payload?.run_id) best = env.event.payload.run_id;
    } catch {
      /* a line cut short by a crash: the ones before it stand */
    }
  }
  if (!best) throw new InputError(`The project in ${dir} has no trained model yet. Train it (automl run --project <id>), then predict.`);
  const file = path.join(dir, modelFileOf(best));
  if (!fs.existsSync(file))
    throw new InputError(`The best run's model file (${path.relative(dir, file)}) is missing from ${dir}. Export or train the project again.`);
  return { bytes: new Uint8Array(fs.readFileSync(file)), shownAs: file };
}

/** A text file's lines, a megabyte at a time (an event log can be larger than a string may be). */
function* linesOf(file: string): Generator<string, void, undefined> {
  const fd = fs.openSync(file, "r");
  try {
    const decoder = new TextDecoder();
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let carry = "";
    for (let got = fs.readSync(fd, buffer); got > 0; got = fs.readSync(fd, buffer)) {
      const lines = (carry + decoder.decode(buffer.subarray(0, got), { stream: true })).split("\n");
      carry = lines.pop()!;
      yield* lines;
    }
    if (carry) yield carry;
  } finally {
    fs.closeSync(fd);
  }
}
