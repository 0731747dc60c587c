/**
 * `automl predict --model SOURCE --data FILE [--out FILE]`: predictions for new rows from a
 * trained model (a project's folder, its export zip, or a model file), written as a CSV (by
 * default beside the data: NAME.predictions.csv). Bad input (a missing column, a file that is
 * not a model) ends with what to do and exit code 2.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors/input-error";
import { loadTableFile } from "../data/table-loader";
import { inputColumns, loadPredictor, predict, predictionsCsv, textInputs } from "../predict/model-predictor";

export interface PredictOptions {
  model: string;
  data: string;
  out?: string;
}

/** Exit codes as `automl run` has them: 0 done, 2 bad input. */
export async function predictCommand(opts: PredictOptions): Promise<number> {
  const started = performance.now();
  try {
    const predictor = loadPredictor(opts.model);
    const { table, warnings } = await loadTableFile(opts.data, opts.data, { textColumns: textInputs(predictor) });
    for (const w of warnings) process.stderr.write(`warn: ${w}\n`);
    const extra = table.columnNames.filter((c) => c !== predictor.target && !inputColumns(predictor).includes(c));
    if (extra.length) process.stderr.write(`note: the model does not use ${extra.join(", ")}; ${extra.length === 1 ? "it is" : "they are"} ignored.\n`);
    const preds = predict(predictor, table);
    for (const n of preds.notes) process.stderr.write(`note: ${n}\n`);
    const out = opts.out ?? path.join(path.dirname(opts.data), `${path.basename(opts.data).replace(/\.[^.]+$/, "")}.predictions.csv`);
    fs.writeFileSync(out, predictionsCsv(predictor, preds));
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${preds.rows.toLocaleString("en")} predictions of ${predictor.target} by ${predictor.modelId}${predictor.runId ? ` (${predictor.runId})` : ""} written to ${out} in ${seconds.toFixed(2)} s\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`automl: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
