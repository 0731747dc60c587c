/**
 * Exponential smoothing (Holt–Winters, the ETS family with additive errors): a level, an
 * optional trend (additive or damped) and an optional season (additive or multiplicative),
 * each smoothed at a rate fitted by minimising the one-step-ahead squared error with
 * Nelder–Mead. With "auto", every form the data allows is fitted and the one with the lowest
 * AICc kept (said in `chosen`).
 */
import type { Params } from "../learner";
import type { FittedForecaster, Forecaster, SavedForecaster, SeriesHistory } from "./forecaster";
import { nelderMead } from "./nelder-mead";

type Trend = "none" | "additive" | "damped";
type Seasonal = "none" | "additive" | "multiplicative";

interface SmoothingState {
  trend: Trend;
  seasonal: Seasonal;
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
  level: number;
  slope: number;
  /** seasonal terms by position in the season (time index mod m) */
  season: number[];
  /** the time index the next forecast step has */
  next: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Runs the smoothing over `y` from `t0`; the sum of squared one-step errors and the final state. */
function smooth(y: Float64Array, t0: number, s: SmoothingState): { sse: number; state: SmoothingState } {
  const m = s.season.length;
  const season = s.season.slice();
  let level = s.level;
  let slope = s.slope;
  let sse = 0;
  const damp = s.trend === "damped" ? s.phi : 1;
  const hasTrend = s.trend !== "none";
  for (let t = t0; t < y.length; t++) {
    const trendPart = hasTrend ? damp * slope : 0;
    const base = level + trendPart;
    const si = m > 0 ? season[t % m]! : s.seasonal === "multiplicative" ? 1 : 0;
    const yhat = s.seasonal === "multiplicative" ? base * si : base + si;
    const e = y[t]! - yhat;
    sse += e * e;
    const previous = level;
    level = s.seasonal === "multiplicative" ? s.alpha * (y[t]! / si) + (1 - s.alpha) * base : s.alpha * (y[t]! - si) + (1 - s.alpha) * base;
    if (hasTrend) slope = s.beta * (level - previous) + (1 - s.beta) * trendPart;
    if (m > 0)
      season[t % m] = s.seasonal === "multiplicative" ? s.gamma * (y[t]! / level) + (1 - s.gamma) * si : s.gamma * (y[t]! - level) + (1 - s.gamma) * si;
    if (!Number.isFinite(level)) return { sse: Infinity, state: s };
  }
  return { sse, state: { ...s, level, slope, season, next: y.length } };
}

/** Starting states from the first two seasons (or the first two points without a season); where the recursion starts. */
function initial(y: Float64Array, m: number, trend: Trend, seasonal: Seasonal): { level: number; slope: number; season: number[]; t0: number } {
  if (seasonal === "none" || m <= 1) {
    const t0 = Math.max(2, m > 1 ? m : 2);
    return { level: y[t0 - 1]!, slope: trend === "none" ? 0 : y[t0 - 1]! - y[t0 - 2]!, season: [], t0 };
  }
  const mean = (a: number, b: number) => {
    let sum = 0;
    for (let i = a; i < b; i++) sum += y[i]!;
    return sum / (b - a);
  };
  const first = mean(0, m);
  const second = y.length >= 2 * m ? mean(m, 2 * m) : first;
  const slope = trend === "none" ? 0 : (second - first) / m;
  const season = new Array<number>(m);
  // the first season's deviations from its trend line (centred on the season's middle)
  for (let i = 0; i < m; i++) {
    const line = first + slope * (i - (m - 1) / 2);
    season[i] = seasonal === "multiplicative" ? y[i]! / line : y[i]! - line;
  }
  return { level: first + (slope * (m - 1)) / 2, slope, season, t0: m };
}

function fitForm(y: Float64Array, m: number, trend: Trend, seasonal: Seasonal): { state: SmoothingState; aicc: number } {
  const init = initial(y, m, trend, seasonal);
  const useSeason = seasonal !== "none" && m > 1;
  const make = (x: number[]): SmoothingState => {
    const alpha = 0.0001 + 0.9998 * sigmoid(x[0]!);
    return {
      trend,
      seasonal: useSeason ? seasonal : "none",
      alpha,
      beta: trend === "none" ? 0 : alpha * sigmoid(x[1]!),
      gamma: useSeason ? (1 - alpha) * sigmoid(x[2]!) : 0,
      phi: trend === "damped" ? 0.8 + 0.18 * sigmoid(x[3]!) : 1,
      level: init.level,
      slope: init.slope,
      season: useSeason ? init.season : [],
      next: 0,
    };
  };
  const start = [0, -2, -2, 1].slice(0, 1 + (trend === "none" ? 0 : 1) + (useSeason ? 1 : 0) + (trend === "damped" ? 1 : 0));
  // the variables' slots: [alpha, beta?, gamma?, phi?], packed into as many as the form has
  const unpack = (v: number[]): number[] => {
    const out = [v[0]!, -2, -2, 1];
    let i = 1;
    if (trend !== "none") out[1] = v[i++]!;
    if (useSeason) out[2] = v[i++]!;
    if (trend === "damped") out[3] = v[i++]!;
    return out;
  };
  const best = nelderMead((v) => smooth(y, init.t0, make(unpack(v))).sse, start, { step: 1, maxEvaluations: 150 * start.length });
  const { sse, state } = smooth(y, init.t0, make(unpack(best.x)));
  const n = y.length - init.t0;
  const k = start.length + 1 + (trend === "none" ? 0 : 1) + (useSeason ? m - 1 : 0);
  const aicc = n * Math.log(Math.max(sse, 1e-12) / n) + 2 * k + (n - k - 1 > 0 ? (2 * k * (k + 1)) / (n - k - 1) : Infinity);
  return { state, aicc };
}

function fitted(params: Params, state: SmoothingState): FittedForecaster {
  return {
    modelId: "ets",
    params,
    chosen: {
      trend: state.trend,
      seasonal: state.seasonal,
      alpha: round(state.alpha),
      beta: round(state.beta),
      gamma: round(state.gamma),
      phi: round(state.phi),
    },
    forecast(h) {
      const m = state.season.length;
      const out = new Float64Array(h);
      let damp = 0;
      for (let k = 1; k <= h; k++) {
        damp += state.trend === "damped" ? state.phi ** k : 1;
        const base = state.level + (state.trend === "none" ? 0 : damp * state.slope);
        const si = m > 0 ? state.season[(state.next + k - 1) % m]! : state.seasonal === "multiplicative" ? 1 : 0;
        out[k - 1] = state.seasonal === "multiplicative" ? base * si : base + si;
      }
      return out;
    },
    save: (): SavedForecaster => ({ model_id: "ets", params, state: { ...state } }),
  };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

const TRENDS: readonly Trend[] = ["none", "additive", "damped"];
const SEASONALS: readonly Seasonal[] = ["none", "additive", "multiplicative"];

export const exponentialSmoothing: Forecaster = {
  id: "ets",
  name: "Exponential smoothing (ETS)",
  family: "exponential_smoothing",
  baseline: false,
  why: "The classical forecaster: a smoothed level, trend and season, fitted by optimisation; strong on series with a steady trend and a regular season.",
  defaults: { trend: "auto", seasonal: "auto" },
  searchSpace({ seasonality, positive }) {
    const forms: Params[] = [];
    for (const trend of TRENDS)
      for (const seasonal of SEASONALS) {
        if (seasonal !== "none" && seasonality <= 1) continue;
        if (seasonal === "multiplicative" && !positive) continue;
        forms.push({ trend, seasonal });
      }
    return forms;
  },
  async fit(history: SeriesHistory, params: Params) {
    const y = history.values;
    const m = history.seasonality;
    const positive = y.every((v) => v > 0);
    const trends = params["trend"] === "auto" || params["trend"] === undefined ? TRENDS : [params["trend"] as Trend];
    const seasonals = (params["seasonal"] === "auto" || params["seasonal"] === undefined ? SEASONALS : [params["seasonal"] as Seasonal]).filter(
      (s) => s === "none" || (m > 1 && y.length >= 2 * m + 2 && (s !== "multiplicative" || positive)),
    );
    let best: { state: SmoothingState; aicc: number } | null = null;
    for (const trend of trends)
      for (const seasonal of seasonals.length ? seasonals : (["none"] as const)) {
        const form = fitForm(y, m, trend, seasonal);
        if (!best || form.aicc < best.aicc) best = form;
      }
    return fitted({ ...exponentialSmoothing.defaults, ...params }, best!.state);
  },
  restore(saved) {
    return fitted(saved.params, saved.state as unknown as SmoothingState);
  },
};
