/**
 * A forecast's errors against what happened: MAE, RMSE, sMAPE (in percent, 0 to 200), MASE
 * (the mean absolute error over that of the seasonal naive forecast on the training history,
 * so below 1 beats it) and, where every value is positive, RMSLE.
 */

import { METRICS_BY_TASK } from "../../../contract";

/** the contract's metrics for a forecast, the default ranking first */
export const FORECAST_METRICS = METRICS_BY_TASK.time_series_forecasting;
export type ForecastMetric = (typeof FORECAST_METRICS)[number];

/**
 * The seasonal naive forecast's in-sample mean absolute error on `history` (lag `m`; 1 when too
 * short for m). A history that repeats its season exactly has none: then the naive (lag 1)
 * forecast's error scales, and only a flat history has no scale at all.
 */
export function naiveScale(history: ArrayLike<number>, m: number): number {
  const seasonal = meanAbsoluteChange(history, history.length > m ? m : 1);
  return seasonal > 0 || m <= 1 ? seasonal : meanAbsoluteChange(history, 1);
}

function meanAbsoluteChange(history: ArrayLike<number>, lag: number): number {
  let sum = 0;
  let n = 0;
  for (let i = lag; i < history.length; i++) {
    sum += Math.abs(history[i]! - history[i - lag]!);
    n++;
  }
  return n > 0 ? sum / n : NaN;
}

export function forecastErrors(actual: ArrayLike<number>, predicted: ArrayLike<number>, scale: number): Partial<Record<ForecastMetric, number>> {
  const n = actual.length;
  let abs = 0;
  let sq = 0;
  let smape = 0;
  let logSq = 0;
  let positive = true;
  for (let i = 0; i < n; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    abs += Math.abs(a - p);
    sq += (a - p) ** 2;
    const denom = Math.abs(a) + Math.abs(p);
    smape += denom === 0 ? 0 : (200 * Math.abs(a - p)) / denom;
    if (a <= 0 || p <= -1) positive = false;
    else logSq += (Math.log1p(a) - Math.log1p(Math.max(p, 0))) ** 2;
  }
  const out: Partial<Record<ForecastMetric, number>> = { mae: abs / n, rmse: Math.sqrt(sq / n), smape: smape / n };
  // a flat history has no naive error to scale by
  if (scale > 0 && Number.isFinite(scale)) out.mase = abs / n / scale;
  if (positive) out.rmsle = Math.sqrt(logSq / n);
  return out;
}

/** The mean of each metric over several windows (a metric missing from any window is left out). */
export function meanErrors(windows: ReadonlyArray<Partial<Record<ForecastMetric, number>>>): Partial<Record<ForecastMetric, number>> {
  const out: Partial<Record<ForecastMetric, number>> = {};
  for (const name of FORECAST_METRICS) {
    const values = windows.map((w) => w[name]);
    if (values.length > 0 && values.every((v) => v !== undefined && Number.isFinite(v)))
      out[name] = (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  }
  return out;
}
