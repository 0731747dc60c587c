// Forecasting on three real series from vega-datasets, side by side in one run: our best model (chosen by
// rolling-origin backtests among the CLI's default forecasters: naive, seasonal naive, drift, ETS, gradient boosting
// on lags), seasonal naive, and scikit-learn's HistGradientBoostingRegressor (Debian's python3-sklearn, its defaults)
// on the same lag features (the same rows our lag model trains on, direct multi-step: one row per origin and step
// ahead), once on the series' level and once on the target our lag model chose (the level or its change from the
// origin). Test window: each series' last `horizon` steps, never seen before the score. MASE is against the seasonal
// naive forecast's in-sample error; sMAPE in percent. Wall time: the whole model choice + test fit for ours, the fit
// alone for scikit-learn.
// Usage: node bench/forecasting.mjs
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { loadTableBlocking } = require("../kernel/data/table-load.ts");
const { forecastData, proposeFraming } = require("../kernel/ml/forecast/forecast-data.ts");
const { backtest, forecastWindow } = require("../kernel/ml/forecast/backtest.ts");
const { FORECASTERS, findForecaster } = require("../kernel/ml/forecast/forecast-zoo.ts");
const { forecastErrors, naiveScale } = require("../kernel/ml/forecast/forecast-metrics.ts");
const { lagSpec, trainingRows, featureRow, modelled } = require("../kernel/ml/forecast/lag-tree-forecaster.ts");
const { addSteps } = require("../kernel/data/time-grid.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const VEGA = path.join(here, "..", "node_modules", "vega-datasets", "data");
const PYTHON = process.env.PYTHON ?? "/usr/bin/python3";

const cases = [
  { name: "co2-concentration (monthly)", file: "co2-concentration.csv", target: "CO2", horizon: { count: 12, unit: "month" } },
  { name: "seattle-weather temp_max (daily)", file: "seattle-weather.csv", target: "temp_max", horizon: { count: 30, unit: "day" } },
  { name: "us-employment nonfarm (monthly)", file: "us-employment.csv", target: "nonfarm", horizon: { count: 12, unit: "month" } },
];

function sklearnOnLags(frame, s, testStart, h, transform) {
  const history = {
    values: s.values.subarray(0, testStart),
    times: s.times.subarray(0, testStart),
    frequency: frame.frequency,
    seasonality: frame.seasonality,
    horizon: h,
  };
  const spec = lagSpec({ ...findForecaster("lag_gbdt").defaults, transform }, history);
  const { x, y } = trainingRows(history, spec, h);
  const rows = (m) => Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols), (v) => (Number.isNaN(v) ? null : v)));
  const z = modelled(history.values, spec.transform);
  const last = history.values[history.values.length - 1];
  const lastTime = history.times[history.times.length - 1];
  const test = Array.from({ length: h }, (_, k) =>
    featureRow(z, z.length, addSteps(lastTime, frame.frequency, k + 1), spec, [], k + 1).map((v) => (Number.isNaN(v) ? null : v)),
  );
  const out = spawnSync(PYTHON, [path.join(here, "sklearn_lag_model.py")], {
    input: JSON.stringify({ x: rows(x), y: Array.from(y), test }),
    maxBuffer: 1 << 28,
  });
  if (out.status !== 0) throw new Error(String(out.stderr));
  const { predictions, fit_s } = JSON.parse(String(out.stdout));
  const forecast = Float64Array.from(predictions, (v) => (spec.transform === "diff" ? last + v : v));
  return { errors: forecastErrors(s.values.subarray(testStart, testStart + h), forecast, naiveScale(history.values, frame.seasonality)), seconds: fit_s };
}

const rows = [];
for (const c of cases) {
  const table = loadTableBlocking(path.join(VEGA, c.file)).table;
  const { framing } = proposeFraming(table, c.target, c.horizon);
  const data = forecastData(table, c.target, framing, 42);
  const { frame, cuts, horizon } = data;
  const s = frame.series[0];
  const t0 = performance.now();
  const scored = [];
  for (const f of FORECASTERS) scored.push({ f, bt: await backtest(f, f.defaults, frame, cuts, horizon) });
  scored.sort((a, b) => a.bt.mean.mase - b.bt.mean.mase);
  const best = scored[0].f;
  const ours = await forecastWindow(best, best.defaults, frame, s, cuts[0].testStart, horizon);
  const oursSeconds = (performance.now() - t0) / 1000;
  const snaive = await forecastWindow(findForecaster("seasonal_naive"), {}, frame, s, cuts[0].testStart, horizon);
  const lag = await forecastWindow(findForecaster("lag_gbdt"), findForecaster("lag_gbdt").defaults, frame, s, cuts[0].testStart, horizon);
  const chosenTransform = lag.model.chosen.transform;
  const skLevel = sklearnOnLags(frame, s, cuts[0].testStart, horizon, "none");
  const skSame = sklearnOnLags(frame, s, cuts[0].testStart, horizon, chosenTransform);
  rows.push({ c, data, best: best.id, ours, oursSeconds, snaive, lag, chosenTransform, skLevel, skSame });
}

const f = (v, d = 3) => (v === undefined ? "-" : v.toFixed(d));
console.log(`forecasting, test window = each series' last horizon steps; ${new Date().toISOString()}`);
console.log(
  "| series | horizon | season | our best (by backtest) | its test MASE / sMAPE | seasonal naive MASE / sMAPE | our lag_gbdt MASE / sMAPE | sklearn HGB on the lags, level: MASE / sMAPE | sklearn HGB, same target as ours | our wall (choice + test fit) | sklearn fit |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.c.name} | ${r.data.horizon} | ${r.data.frame.seasonality} | ${r.best} | ${f(r.ours.errors.mase)} / ${f(r.ours.errors.smape, 2)} | ${f(r.snaive.errors.mase)} / ${f(r.snaive.errors.smape, 2)} | ${f(r.lag.errors.mase)} / ${f(r.lag.errors.smape, 2)} (${r.chosenTransform === "diff" ? "changes" : "level"}) | ${f(r.skLevel.errors.mase)} / ${f(r.skLevel.errors.smape, 2)} | ${f(r.skSame.errors.mase)} / ${f(r.skSame.errors.smape, 2)} | ${r.oursSeconds.toFixed(2)} s | ${r.skLevel.seconds.toFixed(2)} s |`,
  );
}
const beatsNaive = rows.filter((r) => r.ours.errors.mase < r.snaive.errors.mase).length;
const beatsSk = rows.filter((r) => r.ours.errors.mase < Math.min(r.skLevel.errors.mase, r.skSame.errors.mase)).length;
console.log(
  `\nour best beats seasonal naive on ${beatsNaive} of ${rows.length}; beats scikit-learn's lag model (the better of its two targets) on ${beatsSk} of ${rows.length}`,
);
