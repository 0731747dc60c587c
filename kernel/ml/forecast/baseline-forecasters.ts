/**
 * The baselines every forecasting model must beat: the last value (naive), the value one
 * season ago (seasonal naive), and the line from the first value to the last (drift).
 */
import type { FittedForecaster, Forecaster, SavedForecaster } from "./forecaster";

function fitted(modelId: string, state: { tail: number[]; slope: number; season: number }): FittedForecaster {
  return {
    modelId,
    params: {},
    forecast(h) {
      const { tail, slope, season } = state;
      const last = tail[tail.length - 1]!;
      return Float64Array.from({ length: h }, (_, k) => (season > 1 ? tail[tail.length - season + (k % season)]! : last + slope * (k + 1)));
    },
    save: (): SavedForecaster => ({ model_id: modelId, params: {}, state }),
  };
}

function baseline(
  id: string,
  name: string,
  why: string,
  state: (values: Float64Array, m: number) => { tail: number[]; slope: number; season: number },
): Forecaster {
  return {
    id,
    name,
    family: "baseline",
    baseline: true,
    why,
    defaults: {},
    searchSpace: () => [],
    fit: async (h) => fitted(id, state(h.values, h.seasonality)),
    restore: (saved) => fitted(id, saved.state as { tail: number[]; slope: number; season: number }),
  };
}

export const naiveForecaster = baseline("naive", "Naive (last value)", "The baseline of persistence: tomorrow is like today.", (v) => ({
  tail: [v[v.length - 1]!],
  slope: 0,
  season: 1,
}));

export const seasonalNaiveForecaster = baseline(
  "seasonal_naive",
  "Seasonal naive",
  "The baseline of a repeating season: each step is what it was one season ago (the last value when there is no season).",
  (v, m) => {
    const season = m > 1 && v.length >= m ? m : 1;
    return { tail: Array.from(v.subarray(v.length - season)), slope: 0, season };
  },
);

export const driftForecaster = baseline("drift", "Drift", "The baseline of a trend: the line through the first and last values, carried on.", (v) => ({
  tail: [v[v.length - 1]!],
  slope: v.length > 1 ? (v[v.length - 1]! - v[0]!) / (v.length - 1) : 0,
  season: 1,
}));
