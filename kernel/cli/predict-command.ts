/**
 * `automl predict --model SOURCE --data FILE [--out FILE] [--report FILE] [--keep COLS]`: predictions for
 * new rows from a trained model (a project's folder, its export bundle, zipped or unzipped, or
 * a model file), written as a CSV (by default beside the data: NAME.predictions.csv), with a
 * report of every row that was unlike the training data. Bad input (a missing column, a file
 * that is not a model, a changed bundle) ends with what to do and exit code 2, as does a file
 * of which no row could be predicted.
 */
import { InputError } from "../errors/input-error";
import { predictFile, predictionMessages } from "../predict/file-prediction";
import { loadPredictor } from "../predict/model-sources";

export interface PredictOptions {
  model: string;
  data: string;
  out?: string;
  report?: string;
  keep?: string[];
}

/** Exit codes as `automl run` has them: 0 done, 2 bad input. */
export async function predictCommand(opts: PredictOptions): Promise<number> {
  const started = performance.now();
  try {
    const predictor = loadPredictor(opts.model);
    const result = await predictFile(predictor, { data: opts.data, out: opts.out, report: opts.report, keep: opts.keep });
    const { out, err } = predictionMessages(predictor, result, (performance.now() - started) / 1000);
    for (const line of err) process.stderr.write(`${line}\n`);
    for (const line of out) process.stdout.write(`${line}\n`);
    if (result.refused === result.rows) {
      process.stderr.write(`automl: no row of ${opts.data} could be predicted (see the problems above). Correct the data and predict again.\n`);
      return 2;
    }
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`automl: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
