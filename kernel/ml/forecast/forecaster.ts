/**
 * What every forecasting model looks like to the backtests and the runtime: it fits on one
 * series' history and forecasts the next steps from its end. A saved forecaster holds what it
 * needs to forecast from there (the export's future forecast), and nothing of the person's
 * data beyond that.
 */
import type { Frequency } from "../../data/time-grid";
import type { Params } from "../learner";

export interface SeriesHistory {
  values: Float64Array;
  /** the period starts of `values` */
  times: Float64Array;
  frequency: Frequency;
  /** steps in one season, 1 for none */
  seasonality: number;
  /** how many steps ahead it will be asked for (a direct model trains for each of them) */
  horizon?: number;
}

export interface SavedForecaster {
  model_id: string;
  params: Params;
  state: Record<string, unknown>;
}

export interface FittedForecaster {
  readonly modelId: string;
  readonly params: Params;
  /** the next `h` values after the history it was fit on */
  forecast(h: number): Float64Array;
  save(): SavedForecaster;
  /** what the fit chose (an exponential smoothing's form, a tree model's rounds), for the leaderboard's settings */
  readonly chosen?: Params;
}

export interface Forecaster {
  readonly id: string;
  readonly name: string;
  readonly family: string;
  /** a baseline every other model must beat to be recommended */
  readonly baseline: boolean;
  readonly why: string;
  readonly defaults: Params;
  /** the settings a time-budgeted search tries after the defaults, most promising first */
  searchSpace(history: { seasonality: number; points: number; positive: boolean }): Params[];
  fit(history: SeriesHistory, params: Params): Promise<FittedForecaster>;
  restore(saved: SavedForecaster): FittedForecaster;
}
