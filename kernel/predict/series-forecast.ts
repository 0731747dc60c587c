/**
 * Future forecasts from a forecasting model file: each series' model, fitted on its whole
 * history, forecasts the `horizon` steps after the history's end, with the interval the
 * backtests' errors gave. `automl predict --model SOURCE` (no data) and the bundle's
 * `node predict.mjs` (no data) write them as a CSV through here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { FinalMetrics, ForecastFraming } from "../../contract";
import { InputError } from "../errors/input-error";
import { isoOfEpoch } from "../data/table";
import { addSteps, parseFrequency } from "../data/time-grid";
import type { Params } from "../ml/learner";
import type { FittedForecaster, SavedForecaster } from "../ml/forecast/forecaster";
import { restoreForecaster } from "../ml/forecast/forecast-zoo";
import { decodeModelDocument } from "./model-document";
import { csvField } from "./prediction-report";

/** The document a forecasting run's model file holds. */
export interface ForecastModelDocument {
  run_id: string;
  task: "time_series_forecasting";
  target: string;
  final_metrics: FinalMetrics | null;
  forecast: {
    model_id: string;
    params: Params;
    framing: ForecastFraming;
    /** the intervals' coverage (0.8: 80%) */
    interval_level: number;
    series: Array<{
      /** the series' id (the value of framing.series_id), null for a table of one series */
      id: string | null;
      /** the last time of its history (epoch ms, UTC): the forecast starts one step after */
      last_time: number;
      /** the interval's half-width per step ahead */
      interval: number[];
      model: SavedForecaster;
    }>;
  };
}

export function isForecastDocument(doc: unknown): doc is ForecastModelDocument {
  return typeof doc === "object" && doc !== null && (doc as { task?: unknown }).task === "time_series_forecasting" && "forecast" in doc;
}

export interface SeriesForecaster {
  source: string;
  runId: string;
  modelId: string;
  target: string;
  framing: ForecastFraming;
  intervalLevel: number;
  series: Array<{ id: string | null; lastTime: number; interval: number[]; model: FittedForecaster }>;
}

/** The forecaster of a model file's bytes; a table model is refused, saying what it takes instead. */
export function forecasterFromModelFile(bytes: Uint8Array, shownAs: string): SeriesForecaster {
  const doc = decodeModelDocument(bytes, shownAs);
  if (!isForecastDocument(doc))
    throw new InputError(
      `${shownAs} is not a forecasting model: it predicts a value for each row of new data. Give the rows with --data (node predict.mjs NEW.csv in its bundle).`,
    );
  return seriesForecaster(doc, shownAs);
}

export function seriesForecaster(doc: ForecastModelDocument, source: string): SeriesForecaster {
  const f = doc.forecast;
  if (!parseFrequency(f.framing.frequency)) throw new InputError(`${source} names a frequency this version cannot read (${f.framing.frequency}).`);
  return {
    source,
    runId: doc.run_id,
    modelId: f.model_id,
    target: doc.target,
    framing: f.framing,
    intervalLevel: f.interval_level,
    series: f.series.map((s) => ({ id: s.id, lastTime: s.last_time, interval: s.interval, model: restoreForecaster(s.model) })),
  };
}

export interface ForecastRow {
  series: string | null;
  time: string;
  value: number;
  lower: number;
  upper: number;
}

/** Each series' next `horizon` steps (the horizon it was trained and checked for). */
export function futureForecast(f: SeriesForecaster): ForecastRow[] {
  const frequency = parseFrequency(f.framing.frequency)!;
  const dateOnly = !["minute", "hour"].includes(frequency.unit);
  const h = f.framing.horizon;
  return f.series.flatMap((s) => {
    const values = s.model.forecast(h);
    return Array.from(values, (value, k) => ({
      series: s.id,
      time: isoOfEpoch(addSteps(s.lastTime, frequency, k + 1), dateOnly),
      value,
      lower: value - (s.interval[k] ?? 0),
      upper: value + (s.interval[k] ?? 0),
    }));
  });
}

/** Writes the future forecast as a CSV (under a temporary name, put in place whole); returns its rows. */
export function writeForecastCsv(f: SeriesForecaster, out: string): ForecastRow[] {
  const rows = futureForecast(f);
  const level = Math.round(f.intervalLevel * 100);
  const idColumn = f.framing.series_id;
  const header = [...(idColumn ? [idColumn] : []), f.framing.time_column, f.target, `${f.target}_lower_${level}`, `${f.target}_upper_${level}`];
  const lines = [header.map(csvField).join(",")];
  for (const r of rows) lines.push([...(idColumn ? [r.series ?? ""] : []), r.time, r.value, r.lower, r.upper].map((v) => csvField(String(v))).join(","));
  const tmp = `${out}.part`;
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(tmp, lines.join("\n") + "\n");
  fs.renameSync(tmp, out);
  return rows;
}

/** What a person is told when they give rows to a forecasting model. */
export function forecastTakesNoRows(shownAs: string, how: string): InputError {
  return new InputError(`${shownAs} is a forecasting model: it forecasts the steps after the end of the history it was trained on and takes no rows. ${how}`);
}

/**
 * Writes the forecast of the forecaster `load` gives to `out`, saying where and showing its first
 * steps; a problem with the model or the path is said with what to do (exit 2), as predictions are.
 */
export function runForecast(load: () => SeriesForecaster, out: string, name: string): number {
  try {
    const f = load();
    const rows = writeForecastCsv(f, out);
    const series = f.series.length > 1 ? ` for each of ${f.series.length} series` : "";
    process.stdout.write(
      `${f.modelId} (run ${f.runId}): ${f.framing.horizon} ${f.framing.frequency} step(s) of ${f.target} after the history${series}, with ${Math.round(f.intervalLevel * 100)}% intervals from its backtests\n`,
    );
    for (const r of rows.slice(0, 5))
      process.stdout.write(`  ${r.series ? `${r.series} ` : ""}${r.time}  ${r.value.toPrecision(6)}  [${r.lower.toPrecision(6)}, ${r.upper.toPrecision(6)}]\n`);
    if (rows.length > 5) process.stdout.write(`  … ${rows.length - 5} more\n`);
    process.stdout.write(`wrote ${rows.length} rows to ${out}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    return 2;
  }
}
