/**
 * Time-ordered evaluation of a forecaster over framed series. The test window is the last
 * `horizon` steps of each series, never seen before the final score. Model choice uses
 * rolling-origin backtests on the history before it: at each of several cut-offs the model is
 * fit on everything before the cut-off and forecasts the `horizon` steps after it. Prediction
 * intervals come from the backtests' errors, widening with the step ahead.
 */
import { InputError } from "../../errors/input-error";
import type { SeriesFrame, TimeSeries } from "../../data/series-framing";
import { frequencyInWords } from "../../data/time-grid";
import type { Params } from "../learner";
import { forecastErrors, meanErrors, naiveScale, type ForecastMetric } from "./forecast-metrics";
import type { FittedForecaster, Forecaster } from "./forecaster";

export const DEFAULT_BACKTEST_FOLDS = 3;
/** The interval's coverage. */
export const INTERVAL_LEVEL = 0.8;

/** Where a series is cut: its backtests' origins (indices), and where its test window starts. */
export interface SeriesCuts {
  origins: number[];
  testStart: number;
}

/** The least history a fit needs before its first cut-off: two seasons and a little, or ten points. */
export function minimumHistory(seasonality: number): number {
  return Math.max(10, seasonality > 1 ? 2 * seasonality + 2 : 10);
}

/** The longest horizon a series of `n` points allows with one backtest and a test window after `minimumHistory`. */
export function maximumHorizon(n: number, seasonality: number): number {
  return Math.max(0, Math.floor((n - minimumHistory(seasonality)) / 2));
}

/**
 * The cut-offs for each series: the test window last, `folds` backtest windows before it (fewer
 * when the history is short, said in the notes). A horizon no series can hold is refused with
 * the longest that works.
 */
export function cutSeries(frame: SeriesFrame, horizon: number, folds: number): { cuts: SeriesCuts[]; folds: number; notes: string[] } {
  const notes: string[] = [];
  const shortest = Math.min(...frame.series.map((s) => s.values.length));
  const most = maximumHorizon(shortest, frame.seasonality);
  if (!Number.isInteger(horizon) || horizon < 1) throw new InputError(`The horizon must be a whole number of steps, 1 or more; it is ${horizon}.`);
  if (horizon > most) {
    throw new InputError(
      `A horizon of ${horizon} steps is longer than the history allows: ${frame.series.length > 1 ? "the shortest series has" : "the series has"} ${shortest} ${frequencyInWords(frame.frequency)} points, ` +
        `and a forecast of h steps needs h to test on, h to backtest on and ${minimumHistory(frame.seasonality)} before them. The longest horizon here is ${most} steps; set horizon to ${most} or less.`,
    );
  }
  const possible = Math.floor((shortest - horizon - minimumHistory(frame.seasonality)) / horizon);
  const used = Math.max(1, Math.min(folds, possible));
  if (used < folds)
    notes.push(`The history holds ${used} backtest window(s) of ${horizon} steps before the test window, not ${folds}: model choice rests on ${used}.`);
  const cuts = frame.series.map((s) => {
    const testStart = s.values.length - horizon;
    return { testStart, origins: Array.from({ length: used }, (_, i) => testStart - (used - i) * horizon) };
  });
  return { cuts, folds: used, notes };
}

function history(s: TimeSeries, frame: SeriesFrame, end: number, horizon: number) {
  return { values: s.values.subarray(0, end), times: s.times.subarray(0, end), frequency: frame.frequency, seasonality: frame.seasonality, horizon };
}

export interface WindowForecast {
  series: string | null;
  origin: number;
  actual: Float64Array;
  forecast: Float64Array;
  errors: Partial<Record<ForecastMetric, number>>;
}

/** One model's backtests: each window's forecast and errors, and the mean errors over them. */
export async function backtest(
  forecaster: Forecaster,
  params: Params,
  frame: SeriesFrame,
  cuts: SeriesCuts[],
  horizon: number,
  /** after each cut-off (1, 2, …) over every series: the mean errors of the windows so far */
  onCutoff?: (cutoff: number, mean: Partial<Record<ForecastMetric, number>>) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<{ windows: WindowForecast[]; mean: Partial<Record<ForecastMetric, number>> }> {
  const windows: WindowForecast[] = [];
  const folds = Math.max(...cuts.map((c) => c.origins.length));
  for (let fold = 0; fold < folds; fold++) {
    for (let i = 0; i < frame.series.length; i++) {
      const origin = cuts[i]!.origins[fold];
      if (origin === undefined) continue;
      signal?.throwIfAborted();
      windows.push(await forecastWindow(forecaster, params, frame, frame.series[i]!, origin, horizon));
    }
    await onCutoff?.(fold + 1, meanErrors(windows.map((w) => w.errors)));
  }
  return { windows, mean: meanErrors(windows.map((w) => w.errors)) };
}

/** The model fit on a series before `origin`, its forecast of the `horizon` steps after, and their errors. */
export async function forecastWindow(
  forecaster: Forecaster,
  params: Params,
  frame: SeriesFrame,
  s: TimeSeries,
  origin: number,
  horizon: number,
): Promise<WindowForecast & { model: FittedForecaster }> {
  const past = history(s, frame, origin, horizon);
  const model = await forecaster.fit(past, params);
  const forecast = model.forecast(horizon);
  const actual = s.values.subarray(origin, origin + horizon);
  if (forecast.some((v) => !Number.isFinite(v))) throw new Error(`${forecaster.id} forecast a value that is not a number`);
  return { series: s.id, origin, actual, forecast, errors: forecastErrors(actual, forecast, naiveScale(past.values, frame.seasonality)), model };
}

/** The model fit on a whole series (for its future forecast). */
export async function fitWhole(forecaster: Forecaster, params: Params, frame: SeriesFrame, s: TimeSeries, horizon: number): Promise<FittedForecaster> {
  return forecaster.fit(history(s, frame, s.values.length, horizon), params);
}

/**
 * The interval's half-width for each step ahead, from the backtests' errors: the errors at
 * step k scaled by 1/√k are pooled (a handful of windows cannot give each step its own
 * quantile), and their INTERVAL_LEVEL quantile of absolute size times √k is step k's half-width.
 * Series of different scales get their own widths, relative to their scale.
 */
export function intervalWidths(windows: readonly WindowForecast[], horizon: number, seriesId: string | null): Float64Array {
  const own = windows.filter((w) => w.series === seriesId);
  const scaled: number[] = [];
  for (const w of own) for (let k = 0; k < w.actual.length; k++) scaled.push(Math.abs(w.actual[k]! - w.forecast[k]!) / Math.sqrt(k + 1));
  scaled.sort((a, b) => a - b);
  const q = scaled.length ? scaled[Math.min(scaled.length - 1, Math.floor(INTERVAL_LEVEL * scaled.length))]! : 0;
  return Float64Array.from({ length: horizon }, (_, k) => q * Math.sqrt(k + 1));
}
