/**
 * The tree engine as a forecaster: histogram gradient boosting on lag, rolling-window and
 * calendar features. Direct (the default): one model of the value k steps ahead, k a feature, from the
 * values at the forecast's origin, so errors do not feed on themselves; recursive: a model of the
 * next step whose forecasts become the next step's lags. Trees cannot carry a trend past the values they saw, so with `transform: "diff"`
 * the model learns the step-to-step changes and the forecast adds them up.
 */
import { addSteps, type Frequency } from "../../data/time-grid";
import type { Matrix } from "../../data/matrix";
import { histGradientBoosting } from "../trees/gradient-boosting";
import type { FittedModel, Params } from "../learner";
import type { FittedForecaster, Forecaster, SavedForecaster, SeriesHistory } from "./forecaster";

/** What a feature row is made of, fixed at fit time. */
export interface LagFeatureSpec {
  lags: number[];
  /** rolling means over the last `w` values */
  windows: number[];
  /** calendar features from the period's time, by frequency */
  calendar: boolean;
  frequency: Frequency;
  transform: "none" | "diff";
  /** recursive: one model of the next step, fed its own forecasts; direct: one model of step k ahead (k a feature), from the values at the origin */
  strategy: "recursive" | "direct";
}

/** The lags for a season `m` and a lag depth `p`: 1..p, then m and 2m when the history allows (each once). */
export function lagSpec(params: Params, history: SeriesHistory): LagFeatureSpec {
  const m = history.seasonality;
  const n = history.values.length;
  const p = Math.max(1, Math.floor(Number(params["lags"] ?? 12)));
  const lags = new Set<number>();
  for (let l = 1; l <= Math.min(p, Math.floor(n / 4)); l++) lags.add(l);
  if (m > 1 && n >= 3 * m) lags.add(m);
  if (m > 1 && m <= 52 && n >= 5 * m) lags.add(2 * m);
  const windows = [...new Set([3, m > 1 ? m : 7].filter((w) => w < n / 4))];
  return {
    lags: [...lags].sort((a, b) => a - b),
    windows,
    calendar: params["calendar"] !== false,
    frequency: history.frequency,
    transform: params["transform"] === "diff" ? "diff" : "none",
    strategy: params["strategy"] === "recursive" ? "recursive" : "direct",
  };
}

export function featureNames(spec: LagFeatureSpec): string[] {
  return [
    ...(spec.strategy === "direct" ? ["steps_ahead"] : []),
    ...spec.lags.map((l) => `lag_${l}`),
    ...spec.windows.map((w) => `mean_${w}`),
    ...(spec.calendar ? calendarNames(spec.frequency) : []),
  ];
}

function calendarNames(f: Frequency): string[] {
  switch (f.unit) {
    case "minute":
      return ["minute", "hour"];
    case "hour":
      return ["hour", "weekday"];
    case "day":
      return ["weekday", "month", "year_sin", "year_cos"];
    case "week":
      return ["year_sin", "year_cos"];
    case "month":
      return ["month"];
    case "quarter":
      return ["quarter"];
    case "year":
      return [];
  }
}

function calendarValues(t: number, f: Frequency, out: number[]): void {
  const d = new Date(t);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const yearFraction = (t - yearStart) / (365.25 * 86_400_000);
  switch (f.unit) {
    case "minute":
      out.push(d.getUTCMinutes(), d.getUTCHours());
      return;
    case "hour":
      out.push(d.getUTCHours(), d.getUTCDay());
      return;
    case "day":
      out.push(d.getUTCDay(), d.getUTCMonth(), Math.sin(2 * Math.PI * yearFraction), Math.cos(2 * Math.PI * yearFraction));
      return;
    case "week":
      out.push(Math.sin(2 * Math.PI * yearFraction), Math.cos(2 * Math.PI * yearFraction));
      return;
    case "month":
      out.push(d.getUTCMonth());
      return;
    case "quarter":
      out.push(Math.floor(d.getUTCMonth() / 3));
      return;
    case "year":
      return;
  }
}

/**
 * The feature row for the value `ahead` steps from index `t` of `z` (the series, or its changes), from the values
 * before `t` (recursive: `ahead` is always 1 and not a feature); `time` is the forecast value's time.
 */
export function featureRow(z: ArrayLike<number>, t: number, time: number, spec: LagFeatureSpec, out: number[] = [], ahead = 1): number[] {
  out.length = 0;
  if (spec.strategy === "direct") out.push(ahead);
  for (const l of spec.lags) out.push(t - l >= 0 ? z[t - l]! : NaN);
  for (const w of spec.windows) {
    let sum = 0;
    for (let i = t - w; i < t; i++) sum += z[i]!;
    out.push(sum / w);
  }
  if (spec.calendar) calendarValues(time, spec.frequency, out);
  return out;
}

/** The first index of `z` with every lag and window before it. */
export function firstRow(spec: LagFeatureSpec): number {
  return Math.max(...spec.lags, ...spec.windows, 1);
}

/** The modelled values: the series, or its changes from one step to the next (aligned to the series, the first NaN). */
export function modelled(values: Float64Array, transform: LagFeatureSpec["transform"]): Float64Array {
  if (transform === "none") return values;
  return Float64Array.from(values, (v, i) => (i === 0 ? NaN : v - values[i - 1]!));
}

/** A direct model learns from at most this many (origin, steps ahead) rows: a long daily series takes every few origins. */
const DIRECT_MAX_ROWS = 12_000;

/**
 * The training matrix. Recursive: one row per value with a full history before it. Direct:
 * one row per origin and step ahead (1..horizon), the target the value that many steps on
 * (with "diff", its change from the origin's last value).
 */
export function trainingRows(history: SeriesHistory, spec: LagFeatureSpec, horizon: number): { x: Matrix; y: Float64Array } {
  const values = history.values;
  const z = modelled(values, spec.transform);
  // with changes, index 0 has none: start one later
  const start = firstRow(spec) + (spec.transform === "diff" ? 1 : 0);
  const cols = featureNames(spec).length;
  const aheads = spec.strategy === "direct" ? horizon : 1;
  const origins = Math.max(0, z.length - start - aheads + 1);
  const stride = Math.max(1, Math.ceil((origins * aheads) / DIRECT_MAX_ROWS));
  const used = Math.ceil(origins / stride);
  const x = new Float64Array(used * aheads * cols);
  const y = new Float64Array(used * aheads);
  const row: number[] = [];
  let r = 0;
  // the last origin always in: it is the most recent
  for (let t = start + ((origins - 1) % stride); t + aheads - 1 < z.length; t += stride) {
    for (let k = 1; k <= aheads; k++) {
      featureRow(z, t, history.times[t + k - 1]!, spec, row, k);
      x.set(row, r * cols);
      y[r++] = spec.strategy === "direct" && spec.transform === "diff" ? values[t + k - 1]! - values[t - 1]! : z[t + k - 1]!;
    }
  }
  return { x: { data: x.subarray(0, r * cols), rows: r, cols }, y: y.subarray(0, r) };
}

/** Forecasts `h` steps with `predict` (one feature row in, one modelled value out): recursively, or each step directly from the origin. */
export function lagForecast(values: ArrayLike<number>, lastTime: number, spec: LagFeatureSpec, h: number, predict: (row: number[]) => number): Float64Array {
  const y = Array.from(values);
  const z = Array.from(modelled(Float64Array.from(y), spec.transform));
  const out = new Float64Array(h);
  const row: number[] = [];
  const origin = z.length;
  const last = y[y.length - 1]!;
  for (let k = 1; k <= h; k++) {
    const time = addSteps(lastTime, spec.frequency, k);
    if (spec.strategy === "direct") {
      featureRow(z, origin, time, spec, row, k);
      const v = predict(row);
      out[k - 1] = spec.transform === "diff" ? last + v : v;
      continue;
    }
    featureRow(z, z.length, time, spec, row);
    const step = predict(row);
    const next = spec.transform === "diff" ? y[y.length - 1]! + step : step;
    z.push(step);
    y.push(next);
    out[k - 1] = next;
  }
  return out;
}

/** How much of the end of the history the saved model keeps: enough for every lag and window. */
function keptTail(spec: LagFeatureSpec): number {
  return firstRow(spec) + 2;
}

/** A fit on the conductor's thread gives way this often, so its server answers (a stop, the dashboard's requests) while it fits. */
const GIVE_WAY_MS = 40;
let lastGaveWay = 0;

/** Between boosting rounds: a turn of the event loop when the fit has held it for GIVE_WAY_MS. */
function letOthersRun(): Promise<void> | void {
  const now = performance.now();
  if (now - lastGaveWay < GIVE_WAY_MS) return;
  lastGaveWay = now;
  return new Promise((resolve) => setImmediate(resolve));
}

/** Of the lag rows, this last share validates the boosting rounds (time-ordered); the model is then refit on all of them. */
const VALIDATION_SHARE = 0.15;

/** The training rows for `spec`, and the boosting rounds (and their validation loss) on the last rows in time. */
async function validatedRounds(history: SeriesHistory, spec: LagFeatureSpec, boosting: Params, maxIter: number) {
  const rows = trainingRows(history, spec, Math.max(1, history.horizon ?? 1));
  const { x, y } = rows;
  if (x.rows < 10) throw new Error(`only ${x.rows} rows of lags to learn from: too short a history for lags of ${spec.lags[spec.lags.length - 1]} steps`);
  const cut = Math.max(5, Math.floor(x.rows * (1 - VALIDATION_SHARE)));
  const slice = (a: number, b: number) => ({ x: { data: x.data.subarray(a * x.cols, b * x.cols), rows: b - a, cols: x.cols }, y: y.subarray(a, b) });
  let best = { loss: Infinity, round: maxIter };
  if (x.rows - cut >= 5) {
    best = { loss: Infinity, round: 1 };
    await histGradientBoosting.fit(
      { task: "regression", train: slice(0, cut), val: slice(cut, x.rows), nClasses: 0 },
      { ...boosting, max_iter: maxIter, n_iter_no_change: 30 },
      {
        onStep: (st) => {
          const v = st.scalars["loss"]?.val ?? Infinity;
          if (v < best.loss) best = { loss: v, round: st.step };
          return letOthersRun();
        },
      },
    );
  }
  return { rows, rounds: best.round, loss: best.loss };
}

function fitted(params: Params, spec: LagFeatureSpec, model: FittedModel, tail: number[], lastTime: number, rounds: number): FittedForecaster {
  const predictRow = (row: number[]) => model.predict({ data: Float64Array.from(row), rows: 1, cols: row.length })[0]!;
  return {
    modelId: "lag_gbdt",
    params,
    chosen: { rounds, lags: spec.lags.join(" "), transform: spec.transform, strategy: spec.strategy },
    forecast: (h) => lagForecast(tail, lastTime, spec, h, predictRow),
    save: (): SavedForecaster => ({ model_id: "lag_gbdt", params, state: { spec, model: model.save(), tail, lastTime, rounds } }),
  };
}

export const lagTreeForecaster: Forecaster = {
  id: "lag_gbdt",
  name: "Gradient boosting on lags",
  family: "gradient_boosted_trees",
  baseline: false,
  why: "The tree engine on the series' recent values, its values a season ago, rolling means and the calendar; learns non-linear patterns the classical models cannot; forecasts each step ahead directly from the last values (or recursively, one step at a time).",
  defaults: {
    lags: 12,
    transform: "auto",
    strategy: "direct",
    calendar: true,
    learning_rate: 0.05,
    max_leaf_nodes: 15,
    min_samples_leaf: 10,
    max_iter: 400,
    l2_regularization: 0,
  },
  searchSpace({ seasonality }) {
    const base = lagTreeForecaster.defaults;
    return [
      { ...base, transform: "diff" },
      { ...base, transform: "none" },
      { ...base, lags: Math.max(3, Math.min(seasonality > 1 ? seasonality : 7, 24)), min_samples_leaf: 5 },
      { ...base, transform: "diff", learning_rate: 0.1, max_leaf_nodes: 7 },
      { ...base, lags: 24, max_leaf_nodes: 31, min_samples_leaf: 20 },
      { ...base, transform: "diff", lags: 6, l2_regularization: 1, min_samples_leaf: 20 },
      { ...base, calendar: false },
    ];
  },
  async fit(history, params) {
    const settings = { ...lagTreeForecaster.defaults, ...params };
    const boosting = {
      learning_rate: Number(settings["learning_rate"]),
      max_leaf_nodes: Number(settings["max_leaf_nodes"]),
      min_samples_leaf: Number(settings["min_samples_leaf"]),
      l2_regularization: Number(settings["l2_regularization"]),
      n_threads: 1,
    };
    const maxIter = Number(settings["max_iter"]);
    // "auto": the series or its changes, whichever validates better (a trend needs the changes; errors are on one scale either way)
    const transforms: Array<LagFeatureSpec["transform"]> =
      settings["transform"] === "auto" ? ["none", "diff"] : [settings["transform"] === "diff" ? "diff" : "none"];
    let chosen: (Awaited<ReturnType<typeof validatedRounds>> & { spec: LagFeatureSpec }) | null = null;
    for (const transform of transforms) {
      const spec = lagSpec({ ...settings, transform }, history);
      const tried = await validatedRounds(history, spec, boosting, maxIter);
      if (!chosen || tried.loss < chosen.loss) chosen = { ...tried, spec };
    }
    const { spec, rows, rounds } = chosen!;
    const { x, y } = rows;
    const model = await histGradientBoosting.fit(
      {
        task: "regression",
        train: { x, y },
        val: { x: { data: x.data.subarray((x.rows - 1) * x.cols), rows: 1, cols: x.cols }, y: y.subarray(x.rows - 1) },
        nClasses: 0,
      },
      { ...boosting, max_iter: rounds, n_iter_no_change: rounds + 1 },
      { onStep: letOthersRun },
    );
    const tail = Array.from(history.values.subarray(Math.max(0, history.values.length - keptTail(spec))));
    return fitted(settings, spec, model, tail, history.times[history.times.length - 1]!, rounds);
  },
  restore(saved) {
    const s = saved.state as {
      spec: LagFeatureSpec;
      model: Parameters<typeof histGradientBoosting.restore>[0];
      tail: number[];
      lastTime: number;
      rounds: number;
    };
    return fitted(saved.params, s.spec, histGradientBoosting.restore(s.model), s.tail, s.lastTime, s.rounds);
  },
};
