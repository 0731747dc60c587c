/**
 * `automl predict --model SOURCE --data FILE [--out FILE] [--report FILE] [--keep COLS]`: predictions for
 * new rows from a trained model (a project's folder, its export bundle, zipped or unzipped, or
 * a model file), written as a CSV (by default beside the data: NAME.predictions.csv), with a
 * report of every row that was unlike the training data. Bad input (a missing column, a file
 * that is not a model, a changed bundle) ends with what to do and exit code 2, as does a file
 * of which no row could be predicted. Without --data, a forecasting model writes its forecast of
 * the steps after its history (forecast.csv, or --out).
 */
import { runFilePrediction } from "../predict/file-prediction";
import { loadForecaster, loadPredictor } from "../predict/model-sources";
import { runForecast } from "../predict/series-forecast";

export interface PredictOptions {
  model: string;
  /** absent: a forecasting model's forecast of the steps after its history */
  data?: string;
  out?: string;
  report?: string;
  keep?: string[];
}

/** Exit codes as `automl run` has them: 0 done, 2 bad input. */
export function predictCommand(opts: PredictOptions): Promise<number> {
  if (opts.data === undefined) return Promise.resolve(runForecast(() => loadForecaster(opts.model), opts.out ?? "forecast.csv", "automl"));
  return runFilePrediction(() => loadPredictor(opts.model), { data: opts.data, out: opts.out, report: opts.report, keep: opts.keep }, "automl");
}
