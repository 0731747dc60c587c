/**
 * The data a forecasting project trains on: the table framed as series (series-framing.ts),
 * with its horizon and cut-offs (backtest.ts). Made by the runtime's frameSeries call from a
 * framing the plan states; proposed here from the table and the request.
 */
import type { ForecastFraming } from "../../../contract";
import { InputError } from "../../errors/input-error";
import { chooseIdColumn, chooseTimeColumn, frameSeries, type SeriesFrame } from "../../data/series-framing";
import type { Table } from "../../data/table";
import { defaultHorizon, frequencyName, parseFrequency, stepsFor, FREQUENCY_UNITS, type FrequencyUnit } from "../../data/time-grid";
import { cutSeries, DEFAULT_BACKTEST_FOLDS, maximumHorizon, type SeriesCuts } from "./backtest";

export interface ForecastData {
  kind: "forecast";
  frame: SeriesFrame;
  framing: ForecastFraming;
  horizon: number;
  folds: number;
  cuts: SeriesCuts[];
  /** what framing and cutting changed or found */
  notes: string[];
  seed: number;
}

export function isForecastData(value: unknown): value is ForecastData {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "forecast";
}

/** A horizon as the request says it ("the next 30 days"): a count of a unit. */
export interface HorizonAsked {
  count: number;
  /** "step": the data's own steps */
  unit: FrequencyUnit | "step";
}

export function isHorizonAsked(value: unknown): value is HorizonAsked {
  const v = value as HorizonAsked | null;
  return typeof v === "object" && v !== null && typeof v.count === "number" && [...FREQUENCY_UNITS, "step"].includes(v.unit);
}

/**
 * The framing proposed for a table: its time column, its frequency and season as detected, the
 * series id when timestamps repeat, the horizon asked for (else a default for the frequency,
 * cut to what the history allows, said in the notes).
 */
export function proposeFraming(table: Table, target: string, asked: HorizonAsked | null): { framing: ForecastFraming; notes: string[] } {
  const timeColumn = chooseTimeColumn(table);
  const seriesId = chooseIdColumn(table, timeColumn, target);
  const frame = frameSeries(table, { target, timeColumn, idColumn: seriesId });
  const notes: string[] = [];
  let horizon = !asked ? defaultHorizon(frame.frequency) : asked.unit === "step" ? asked.count : stepsFor(asked.count, asked.unit, frame.frequency);
  if (asked && asked.unit !== "step" && asked.unit !== frame.frequency.unit)
    notes.push(`${asked.count} ${asked.unit}(s) of ${frequencyName(frame.frequency)} steps: a horizon of ${horizon} step(s).`);
  const shortest = Math.min(...frame.series.map((s) => s.values.length));
  const most = maximumHorizon(shortest, frame.seasonality);
  if (most < 1) throw new InputError(`The series is too short to forecast and check: ${shortest} points. Give a longer history.`);
  if (horizon > most) {
    notes.push(
      `${asked ? `The request asks for ${asked.count} ${asked.unit}(s), ${horizon} steps` : `The usual horizon here is ${horizon} steps`}, more than the history allows: the plan forecasts ${most}, the most it can test.`,
    );
    horizon = most;
  }
  return {
    framing: {
      time_column: timeColumn,
      frequency: frequencyName(frame.frequency),
      horizon,
      series_id: seriesId,
      seasonality: frame.seasonality,
      backtest_folds: DEFAULT_BACKTEST_FOLDS,
      aggregate: "mean",
    },
    notes,
  };
}

/** The table framed and cut as the plan says; bad settings are refused with what to set instead. */
export function forecastData(table: Table, target: string, framing: ForecastFraming, seed: number): ForecastData {
  const frequency = parseFrequency(framing.frequency);
  if (!frequency)
    throw new InputError(
      `The frequency ${JSON.stringify(framing.frequency)} is not one this can read: write minute, hour, day, week, month, quarter or year (optionally with a count, such as "15 minute").`,
    );
  const frame = frameSeries(table, {
    target,
    timeColumn: framing.time_column,
    idColumn: framing.series_id,
    frequency,
    seasonality: framing.seasonality,
    aggregate: framing.aggregate,
  });
  const points = frame.series.reduce((n, x) => n + x.values.length, 0);
  if (frame.filledPeriods > points / 2) {
    // most of the series would be made up: a frequency finer than the data's
    const own = frameSeries(table, { target, timeColumn: framing.time_column, idColumn: framing.series_id }).frequency;
    throw new InputError(
      `At a frequency of ${framing.frequency}, ${frame.filledPeriods} of the ${points} periods have no value and would be invented by interpolation: the data's own step is ${frequencyName(own)}. Set frequency to ${frequencyName(own)} (or a coarser one).`,
    );
  }
  const { cuts, folds, notes } = cutSeries(frame, framing.horizon, framing.backtest_folds);
  return {
    kind: "forecast",
    frame,
    framing: { ...framing, seasonality: frame.seasonality },
    horizon: framing.horizon,
    folds,
    cuts,
    notes: [...frame.notes, ...notes],
    seed,
  };
}

/** Points before the test windows (what the final models fit on), over all series. */
export function trainingPoints(data: ForecastData): number {
  return data.cuts.reduce((n, c) => n + c.testStart, 0);
}
