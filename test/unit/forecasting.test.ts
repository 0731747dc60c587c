/**
 * Forecasting's parts on real series (vega-datasets): the calendar, framing (time column,
 * frequency, season, series ids, gaps, duplicates, unsorted rows), the time-ordered cut-offs,
 * the metrics, and the forecasters against the baselines they must beat.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { horizonAsked, parseIntentByRules } from "../../kernel/agents/intent-rules";
import { resolveIntent } from "../../kernel/agents/target-resolver";
import { frameSeries } from "../../kernel/data/series-framing";
import { loadTableBlocking } from "../../kernel/data/table-load";
import { Table, type Column } from "../../kernel/data/table";
import { textLevelsOf } from "../../kernel/data/text-levels";
import { addSteps, inferFrequency, parseFrequency } from "../../kernel/data/time-grid";
import { InputError } from "../../kernel/errors/input-error";
import { backtest, cutSeries, forecastWindow } from "../../kernel/ml/forecast/backtest";
import { forecastErrors, naiveScale } from "../../kernel/ml/forecast/forecast-metrics";
import { forecastData, proposeFraming } from "../../kernel/ml/forecast/forecast-data";
import { forecastingTask } from "../../kernel/tasks/forecasting";
import { findForecaster, restoreForecaster } from "../../kernel/ml/forecast/forecast-zoo";
import type { SavedForecaster } from "../../kernel/ml/forecast/forecaster";
import { decodeModelFile, encodeModelFile } from "../../kernel/ml/model-file";

const VEGA = path.join(__dirname, "..", "..", "node_modules", "vega-datasets", "data");
const load = (name: string) => loadTableBlocking(path.join(VEGA, name)).table;
const day = 86_400_000;

function table(times: number[], values: number[], ids?: string[]): Table {
  const columns: Column[] = [
    { name: "when", kind: "datetime", values: Float64Array.from(times), dateOnly: true },
    { name: "demand", kind: "numeric", values: Float64Array.from(values) },
  ];
  if (ids) {
    const levels = [...new Set(ids)];
    columns.push({ name: "region", kind: "categorical", codes: Int32Array.from(ids.map((i) => levels.indexOf(i))), levels: textLevelsOf(levels) });
  }
  return new Table(columns);
}

describe("forecasting", () => {
  it("steps along the calendar: month ends kept within their month, frequencies read from gaps and from words", () => {
    assert.equal(new Date(addSteps(Date.UTC(2024, 0, 31), { unit: "month", every: 1 }, 1)).toISOString().slice(0, 10), "2024-02-29");
    assert.equal(new Date(addSteps(Date.UTC(2024, 0, 31), { unit: "quarter", every: 1 }, -1)).toISOString().slice(0, 10), "2023-10-31");
    assert.deepEqual(inferFrequency([0, 3600_000, 7200_000, 10800_000]), { unit: "hour", every: 1 });
    assert.deepEqual(inferFrequency([Date.UTC(2020, 0, 1), Date.UTC(2020, 1, 1), Date.UTC(2020, 2, 1)]), { unit: "month", every: 1 });
    assert.deepEqual(parseFrequency("15min"), { unit: "minute", every: 15 });
    assert.deepEqual(parseFrequency("Daily"), { unit: "day", every: 1 });
    assert.equal(parseFrequency("fortnightly-ish"), null);
  });

  it("reads how far ahead a request asks", () => {
    assert.deepEqual(horizonAsked("forecast temp_max for the next 30 days"), { count: 30, unit: "day", phrase: "next 30 days" });
    assert.deepEqual(horizonAsked("forecast employment next year")?.unit, "year");
    assert.equal(horizonAsked("forecast sales 3 weeks ahead")?.count, 3);
    assert.equal(horizonAsked("forecast electricity demand"), null);
    assert.deepEqual(horizonAsked("forecast sales 10 steps ahead"), { count: 10, unit: "step", phrase: "10 steps ahead" });
    const monthly = load("us-employment.csv");
    assert.equal(proposeFraming(monthly, "nonfarm", { count: 10, unit: "step" }).framing.horizon, 10);
    const weeks = proposeFraming(monthly, "nonfarm", { count: 8, unit: "week" });
    assert.equal(weeks.framing.horizon, 2);
    assert.match(weeks.notes.join(" "), /8 week\(s\) of month steps: a horizon of 2 step/);
  });

  it("frames stocks.csv as five monthly series by symbol, from dates written as 'Jan 1 2000'", () => {
    const frame = frameSeries(load("stocks.csv"), { target: "price" });
    assert.equal(frame.timeColumn, "date");
    assert.equal(frame.idColumn, "symbol");
    assert.deepEqual(frame.frequency, { unit: "month", every: 1 });
    assert.deepEqual(frame.series.map((s) => s.id).sort(), ["AAPL", "AMZN", "GOOG", "IBM", "MSFT"]);
    for (const s of frame.series) for (let i = 1; i < s.times.length; i++) assert.ok(s.times[i]! > s.times[i - 1]!);
  });

  it("reads whole years in a column named year as yearly times (global-temp.csv)", () => {
    const frame = frameSeries(load("global-temp.csv"), { target: "temp" });
    assert.equal(frame.timeColumn, "year");
    assert.deepEqual(frame.frequency, { unit: "year", every: 1 });
    assert.equal(new Date(frame.series[0]!.times[0]!).toISOString().slice(0, 10), "1880-01-01");
  });

  it("finds the season: 12 months in co2-concentration, none in the seasonally adjusted us-employment", () => {
    assert.equal(frameSeries(load("co2-concentration.csv"), { target: "CO2" }).seasonality, 12);
    assert.equal(frameSeries(load("us-employment.csv"), { target: "nonfarm" }).seasonality, 1);
  });

  it("sorts unsorted rows, combines duplicate timestamps, fills gaps, and says each", () => {
    const t0 = Date.UTC(2024, 0, 1);
    const days = Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 10 && i !== 11);
    const times = [...days.map((i) => t0 + i * day), t0 + 5 * day].reverse();
    const values = [...days.map((i) => i), 105].reverse();
    const frame = frameSeries(table(times, values), { target: "demand" });
    const s = frame.series[0]!;
    assert.equal(s.values.length, 40);
    assert.equal(s.values[5], (5 + 105) / 2, "two values on one day become their mean");
    assert.equal(s.values[10], 10, "a gap is filled between its neighbours");
    assert.match(frame.notes.join(" "), /not in time order/);
    assert.match(frame.notes.join(" "), /combined by their mean/);
    assert.match(frame.notes.join(" "), /2 missing period/);
  });

  it("settles a forecast of dated data on its numeric target; labels over time are classified, said so", () => {
    const t = load("seattle-weather.csv");
    const temp = resolveIntent(parseIntentByRules("forecast temp_max for the next 30 days"), t);
    assert.deepEqual([temp.intent.target, temp.intent.task_type], ["temp_max", "time_series_forecasting"]);
    const labels = resolveIntent(parseIntentByRules("forecast the weather type for next week"), t);
    assert.deepEqual([labels.intent.target, labels.intent.task_type], ["weather", "classification"]);
    assert.match(labels.notes.join(" "), /weather holds text labels, and forecasting predicts a number over time/);
  });

  it("forecasts the numbers a request names, not the series it names them by ('units per sku')", () => {
    const t0 = Date.UTC(2024, 0, 1);
    const times: number[] = [];
    const units: number[] = [];
    const skus: string[] = [];
    for (const sku of ["A1", "B2", "C3"]) for (let i = 0; i < 30; i++) (times.push(t0 + i * day), units.push(10 + (i % 7)), skus.push(sku));
    const t = new Table([
      { name: "sku", kind: "categorical", codes: Int32Array.from(skus.map((s) => ["A1", "B2", "C3"].indexOf(s))), levels: textLevelsOf(["A1", "B2", "C3"]) },
      { name: "date", kind: "datetime", values: Float64Array.from(times), dateOnly: true },
      { name: "units", kind: "numeric", values: Float64Array.from(units) },
    ]);
    const r = resolveIntent(parseIntentByRules("forecast units per sku for the next 7 days"), t);
    assert.deepEqual([r.intent.target, r.intent.task_type], ["units", "time_series_forecasting"]);
  });

  it("refuses a text target and a horizon longer than the history, each saying what to do", () => {
    const t = load("seattle-weather.csv");
    assert.throws(
      () => frameSeries(t, { target: "weather" }),
      (e: Error) => e instanceof InputError && /not numbers.*Choose a numeric column: precipitation/.test(e.message),
    );
    const frame = frameSeries(load("us-employment.csv"), { target: "nonfarm" });
    assert.throws(
      () => cutSeries(frame, 80, 3),
      (e: Error) => e instanceof InputError && /The longest horizon here is 55 steps/.test(e.message),
    );
    const short = table(
      Array.from({ length: 8 }, (_, i) => i * day),
      Array.from({ length: 8 }, (_, i) => i),
    );
    assert.throws(
      () => frameSeries(short, { target: "demand" }),
      (e: Error) => e instanceof InputError && /at least 12 daily points/.test(e.message),
    );
  });

  it("cuts by time: each test window is the series' last steps, every backtest window before it", () => {
    const frame = frameSeries(load("stocks.csv"), { target: "price" });
    const { cuts, folds } = cutSeries(frame, 6, 3);
    assert.equal(folds, 3);
    frame.series.forEach((s, i) => {
      const c = cuts[i]!;
      assert.equal(c.testStart, s.values.length - 6);
      assert.ok(
        c.origins.every((o, k) => o + 6 <= (c.origins[k + 1] ?? c.testStart)),
        "windows do not overlap the next one or the test window",
      );
    });
  });

  it("reads times written in mixed time zones (a clock change) as one hourly series in UTC, without gaps or duplicates", () => {
    // New York across the spring change: 00:00-05:00 … 01:00-05:00, then 03:00-04:00 (the local 02:00 never happens)
    const lines = ["when,load"];
    const start = Date.UTC(2024, 2, 9, 5); // 2024-03-09T00:00-05:00
    for (let k = 0; k < 72; k++) {
      const t = start + k * 3600_000;
      const offset = t >= Date.UTC(2024, 2, 10, 7) ? -4 : -5;
      const local = new Date(t + offset * 3600_000).toISOString().slice(0, 19);
      lines.push(`${local}${offset === -4 ? "-04:00" : "-05:00"},${100 + (k % 24)}`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "automl-tz-"));
    fs.writeFileSync(path.join(dir, "load.csv"), lines.join("\n"));
    const frame = frameSeries(loadTableBlocking(path.join(dir, "load.csv")).table, { target: "load" });
    assert.deepEqual(frame.frequency, { unit: "hour", every: 1 });
    assert.equal(frame.series[0]!.values.length, 72);
    assert.deepEqual(frame.notes, [], "no gap and no duplicate once in UTC");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the data's own times: weeks dated on Sundays stay Sundays, month ends stay month ends", () => {
    const sunday = Date.UTC(2023, 0, 1); // a Sunday
    const weekly = frameSeries(
      table(
        Array.from({ length: 20 }, (_, i) => sunday + i * 7 * day),
        Array.from({ length: 20 }, (_, i) => i),
      ),
      { target: "demand" },
    );
    assert.deepEqual(weekly.frequency, { unit: "week", every: 1 });
    assert.ok(Array.from(weekly.series[0]!.times).every((t) => new Date(t).getUTCDay() === 0));
    const ends = Array.from({ length: 14 }, (_, i) => Date.UTC(2021, i + 1, 0)); // 2021-01-31, 02-28, 03-31, …
    const monthly = frameSeries(
      table(
        ends,
        ends.map((_, i) => i),
      ),
      { target: "demand" },
    );
    assert.deepEqual(
      Array.from(monthly.series[0]!.times.subarray(0, 3), (t) => new Date(t).toISOString().slice(0, 10)),
      ["2021-01-31", "2021-02-28", "2021-03-31"],
    );
  });

  it("refuses an edited framing at the gate, before anything is applied: a horizon past the history, a column that is not there, a frequency typo", () => {
    const t = load("us-employment.csv");
    const scope = {
      get: (n: string) => (n === "table" ? t : n === "intent" ? { target: "nonfarm", task: "time_series_forecasting" } : undefined),
      set() {},
      madeBy: () => undefined,
    };
    const { framing } = proposeFraming(t, "nonfarm", null);
    const split = { seed: 42, test_size: 0.1, val_size: 0.3, forecast: framing };
    forecastingTask.checkSplit!(split, scope);
    for (const [change, message] of [
      [{ horizon: 400 }, /set horizon to 55 or less/],
      [{ series_id: "store" }, /no column "store"/],
      [{ frequency: "dya" }, /frequency "dya" is not one this can read/],
    ] as const)
      assert.throws(
        () => forecastingTask.checkSplit!({ ...split, forecast: { ...framing, ...change } }, scope),
        (e: Error) => e instanceof InputError && message.test(e.message),
      );
  });

  it("refuses a frequency finer than the data's (most values would be invented), naming the data's own", () => {
    const t = load("us-employment.csv");
    const { framing } = proposeFraming(t, "nonfarm", null);
    assert.throws(
      () => forecastData(t, "nonfarm", { ...framing, frequency: "day" }, 42),
      (e: Error) => e instanceof InputError && /the data's own step is month\. Set frequency to month/.test(e.message),
    );
  });

  it("scales MASE by the naive forecast's error when the history repeats its season exactly", () => {
    const periodic = Array.from({ length: 48 }, (_, i) => [1, 5, 3, 8][i % 4]!);
    assert.ok(naiveScale(periodic, 4) > 0);
    assert.equal(naiveScale([2, 2, 2, 2, 2], 1), 0, "a flat history has no scale");
  });

  it("a season too long for the history falls back to none, said in the notes", () => {
    const t0 = Date.UTC(2024, 0, 1);
    const frame = frameSeries(
      table(
        Array.from({ length: 30 }, (_, i) => t0 + i * day),
        Array.from({ length: 30 }, (_, i) => i % 7),
      ),
      { target: "demand", seasonality: 365 },
    );
    assert.equal(frame.seasonality, 1);
    assert.match(frame.notes.join(" "), /no season/);
  });

  it("measures MASE against the seasonal naive forecast's own error on the history", () => {
    const history = [1, 2, 3, 1, 2, 3, 1, 2, 4];
    // lag 3: |1-1|,|2-2|,|3-3|,|1-1|,|2-2|,|4-3| → mean 1/6
    assert.equal(naiveScale(history, 3), 1 / 6);
    const e = forecastErrors([3, 1], [2, 1], 1 / 6);
    assert.equal(e.mae, 0.5);
    assert.equal(e.mase, 3);
    assert.ok(Math.abs(e.smape! - 20) < 1e-9);
    assert.equal(forecastErrors([0, 1], [0, 1], 1).rmsle, undefined, "no RMSLE unless every value is positive");
  });

  it("exponential smoothing and the lag trees beat seasonal naive on co2-concentration's last year; a model file's model forecasts the same", async () => {
    const t = load("co2-concentration.csv");
    const { framing } = proposeFraming(t, "CO2", { count: 12, unit: "month" });
    assert.equal(framing.horizon, 12);
    const frame = frameSeries(t, { target: "CO2" });
    const { cuts } = cutSeries(frame, 12, 2);
    const s = frame.series[0]!;
    const naive = await forecastWindow(findForecaster("seasonal_naive")!, {}, frame, s, cuts[0]!.testStart, 12);
    for (const id of ["ets", "lag_gbdt"]) {
      const f = findForecaster(id)!;
      const w = await forecastWindow(f, f.defaults, frame, s, cuts[0]!.testStart, 12);
      assert.ok(w.errors.mase! < naive.errors.mase! / 2, `${id} test MASE ${w.errors.mase} against seasonal naive's ${naive.errors.mase}`);
      assert.deepEqual(Array.from(restoreForecaster(decodeModelFile(encodeModelFile(w.model.save())) as SavedForecaster).forecast(12)), Array.from(w.forecast));
    }
    const bt = await backtest(findForecaster("ets")!, { trend: "auto", seasonal: "auto" }, frame, cuts, 12);
    assert.equal(bt.windows.length, 2);
    assert.ok(bt.mean.mase! < 1);
  });
});
