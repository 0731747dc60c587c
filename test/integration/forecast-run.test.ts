/**
 * Forecasting through the CLI as people run it, offline, on three real series from
 * vega-datasets: monthly CO2 with a trend and a season, daily Seattle maximum temperatures,
 * monthly US employment. Each run must split by time (no test timestamp before a training
 * one), rank by backtests, beat seasonal naive on the test window with its best model, and
 * leave the forecast chart (JSON with its vega-lite spec, and a PNG).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV } from "../../contract";
import { startCli } from "../support/cli-process";
import { assertValidLog } from "../support/contract-rules";
import { eventsOf, payloads } from "../support/event-log-file";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const VEGA = path.join(__dirname, "..", "..", "node_modules", "vega-datasets", "data");

interface ForecastPoint {
  series: string;
  time: string;
  part: "history" | "actual (test)" | "forecast (test)" | "future";
  value: number;
  lower?: number;
  upper?: number;
}

async function forecastRun(file: string, prompt: string, extra: string[] = []) {
  const ws = tempWorkspace("forecast");
  fs.copyFileSync(path.join(VEGA, file), path.join(ws, file));
  const out = path.join(ws, "out");
  const result = await startCli(["run", prompt, "--data", path.join(ws, file), "--auto", "--no-pacing", "--out", out, "--workspace", ws, ...extra]).done;
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const zip = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
  const projectId = zip.replace(/\.zip$/, "");
  const events = assertValidLog(eventsOf(path.join(out, "events.jsonl")), projectId);
  return { ws, out, result, events, projectDir: path.join(ws, ".automl", "projects", projectId) };
}

describe("forecasting runs through the CLI, offline, on real series", function () {
  this.timeout(600_000);
  after(removeTempWorkspaces);

  for (const c of [
    { file: "co2-concentration.csv", prompt: "forecast CO2 for the next 12 months", target: "CO2", horizon: 12, season: 12 },
    { file: "seattle-weather.csv", prompt: "forecast temp_max for the next 30 days", target: "temp_max", horizon: 30, season: 365 },
    { file: "us-employment.csv", prompt: "forecast nonfarm employment for the next 12 months", target: "nonfarm", horizon: 12, season: 1 },
  ]) {
    it(`${c.file}: a time-ordered split, the best model beats seasonal naive on the test window, and the forecast chart`, async () => {
      const { events, projectDir, result } = await forecastRun(c.file, c.prompt);
      const parsed = payloads(events, EV.PROMPT_PARSED).at(-1)!;
      assert.equal(parsed.task_type, "time_series_forecasting");
      assert.equal(payloads(events, EV.DATASET_SELECTED).length, 1);
      const intentTarget = events.find((e) => e.event.name === EV.STAGE_STATUS && e.stage?.id === "DATA_SOURCE" && e.event.payload.status === "completed");
      assert.match(JSON.stringify(intentTarget), new RegExp(`predicting ${c.target}`));

      // the split: by time, with its cut-offs
      const split = payloads(events, EV.SPLIT_SUMMARY).at(-1)!;
      assert.equal(split.kind, "time_ordered");
      assert.equal(split.horizon, c.horizon);
      assert.equal(split.test_rows, c.horizon);
      assert.ok(split.cutoffs!.length >= 1);
      const cutoffs = [...split.cutoffs!, split.test_from!].map((t) => Date.parse(t));
      for (let i = 1; i < cutoffs.length; i++) assert.ok(cutoffs[i]! > cutoffs[i - 1]!, "cut-offs in time order, the test window last");

      // runs ranked by their backtests; the baselines trained beside the others
      const finished = payloads(events, EV.TRAIN_RUN_FINISHED).filter((r) => r.status === "success");
      const started = new Map(payloads(events, EV.TRAIN_RUN_STARTED).map((r) => [r.run_id, r.model_id]));
      const testOf = (model: string) => finished.find((r) => started.get(r.run_id) === model)!.final_metrics!.primary.value;
      for (const m of ["naive", "seasonal_naive", "drift", "ets", "lag_gbdt"])
        assert.ok(started.has(finished.find((r) => started.get(r.run_id) === m)?.run_id ?? ""), `${m} trained`);
      const board = payloads(events, EV.LEADERBOARD_UPDATED).at(-1)!.rows;
      assert.ok(board.every((r) => r.validation === "backtest" && r.metric?.name === "mase"));
      const best = payloads(events, EV.BEST_MODEL_UPDATED).at(-1)!;
      assert.equal(best.model_id, board[0]!.model);
      const bestTest = finished.find((r) => r.run_id === best.run_id)!.final_metrics!.primary;
      assert.equal(bestTest.split, "test");
      assert.ok(
        bestTest.value < testOf("seasonal_naive"),
        `best ${best.model_id} test MASE ${bestTest.value} against seasonal naive's ${testOf("seasonal_naive")}`,
      );
      assert.match(result.stdout, new RegExp(`best model: ${best.model_id}; test mase`));

      // the forecast chart: no test timestamp before a training one; the forecast and its interval over the test window, then the future
      const artifact = payloads(events, EV.ARTIFACT_ADDED).find((a) => a.artifact.type === "forecast" && a.artifact.meta["run_id"] === best.run_id)!;
      assert.ok(artifact, "the best run's forecast artifact");
      const chart = JSON.parse(fs.readFileSync(path.join(projectDir, "runs", best.run_id, "forecast.json"), "utf8")) as {
        vega_lite: { data: { values: ForecastPoint[] } };
        horizon: number;
        test_coverage: number;
      };
      const points = chart.vega_lite.data.values;
      assert.ok(chart.test_coverage >= 0 && chart.test_coverage <= 1, "the interval's coverage of the test window is measured");
      const times = (part: ForecastPoint["part"]) => points.filter((p) => p.part === part).map((p) => Date.parse(p.time));
      assert.equal(times("actual (test)").length, c.horizon);
      assert.equal(times("forecast (test)").length, c.horizon);
      assert.equal(times("future").length, c.horizon);
      assert.ok(Math.max(...times("history")) < Math.min(...times("actual (test)")), "every test time after every training time");
      assert.equal(Math.min(...times("actual (test)")), Date.parse(split.test_from!));
      assert.ok(Math.max(...times("actual (test)")) < Math.min(...times("future")), "the future after the data");
      assert.ok(points.filter((p) => p.part !== "history" && p.part !== "actual (test)").every((p) => p.lower! <= p.value && p.value <= p.upper!));
      // a model file holds the future forecast's model
      assert.ok(fs.existsSync(path.join(projectDir, "models", `${best.run_id}.model`)));
      // the PNG, as the report and the export have it
      const png = path.join(projectDir, "runs", best.run_id, "forecast.png");
      assert.ok(fs.existsSync(png) && fs.readFileSync(png).subarray(1, 4).toString() === "PNG", "the forecast chart as a PNG");
    });
  }

  it("the export forecasts the next horizon from the end of the data: automl predict and the bundle's predict.mjs, the same numbers as the chart's future; rows refused", async () => {
    const { out, events, projectDir } = await forecastRun("us-employment.csv", "forecast nonfarm for the next 6 months");
    const zip = path.join(
      out,
      fs.readdirSync(out).find((f) => f.endsWith(".zip"))!,
    );
    const best = payloads(events, EV.BEST_MODEL_UPDATED).at(-1)!;
    const csv = path.join(out, "forecast.csv");
    const cli = await startCli(["predict", "--model", zip, "--out", csv]).done;
    assert.equal(cli.code, 0, cli.stderr);
    const lines = fs.readFileSync(csv, "utf8").trim().split("\n");
    assert.equal(lines[0], "month,nonfarm,nonfarm_lower_80,nonfarm_upper_80");
    assert.equal(lines.length, 1 + 6);
    const chart = JSON.parse(fs.readFileSync(path.join(projectDir, "runs", best.run_id, "forecast.json"), "utf8")) as {
      vega_lite: { data: { values: ForecastPoint[] } };
    };
    const future = chart.vega_lite.data.values.filter((p) => p.part === "future");
    lines.slice(1).forEach((line, k) => {
      const [time, value, lower, upper] = line.split(",");
      assert.equal(time, future[k]!.time);
      assert.ok(Math.abs(Number(value) - future[k]!.value) < 1e-9 && Number(lower) < Number(value) && Number(value) < Number(upper));
    });
    assert.equal(lines[1]!.split(",")[0], "2016-01-01", "the first step after the data's last month (2015-12)");
    // the unzipped bundle on its own
    const dir = path.join(out, "bundle");
    fs.mkdirSync(dir);
    const { unzipSync } = await import("fflate");
    for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(fs.readFileSync(zip))))) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), bytes);
    }
    const { spawnSync } = await import("node:child_process");
    const own = spawnSync(process.execPath, ["predict.mjs"], { cwd: dir, encoding: "utf8" });
    assert.equal(own.status, 0, own.stderr);
    assert.equal(fs.readFileSync(path.join(dir, "forecast.csv"), "utf8"), fs.readFileSync(csv, "utf8"));
    assert.match(fs.readFileSync(path.join(dir, "README.md"), "utf8"), /## Forecast[\s\S]*node predict\.mjs +# forecast\.csv: the next 6 month step/);
    // rows given to a forecasting model: refused, saying how to forecast
    const rows = await startCli(["predict", "--model", zip, "--data", path.join(out, "..", "us-employment.csv")]).done;
    assert.equal(rows.code, 2);
    assert.match(rows.stderr, /is a forecasting model: .* takes no rows\. Forecast with automl predict --model SOURCE \(without --data\)/);
  });

  it("a time-budgeted search tries the forecasters' settings in turn within the budget, ranked by backtests", async () => {
    const { events, result } = await forecastRun("us-employment.csv", "forecast nonfarm for the next 12 months", ["--time-budget", "8"]);
    const board = payloads(events, EV.LEADERBOARD_UPDATED).at(-1)!.rows;
    assert.ok(board.length > 5, `more trials than models: ${board.length}`);
    assert.ok(new Set(board.filter((r) => r.model === "lag_gbdt").map((r) => JSON.stringify(r.params))).size > 1, "several lag-model settings tried");
    const logs = payloads(events, EV.LOG_LINE).map((l) => l.text);
    const summary = logs.find((t) => /^search: \d+ trial\(s\) in [\d.]+ s of a 8 s budget/.test(t));
    assert.ok(summary, logs.join("\n"));
    assert.ok(Number(/in ([\d.]+) s/.exec(summary)![1]) < 8 + 3, "the budget holds (a trial started before the end may finish past it by a little)");
    assert.match(result.stdout, /best model: \w+; test mase/);
  });

  it("a forecasting request without data finds a real series in the bundled catalog: electricity, three yearly series by source", async () => {
    const ws = tempWorkspace("forecast-catalog");
    const out = path.join(ws, "out");
    const result = await startCli(["run", "forecast electricity demand", "--auto", "--no-pacing", "--out", out, "--workspace", ws]).done;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /Iowa electricity generation by source.*predicting net_generation \(time_series_forecasting\)/);
    const zip = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
    const events = assertValidLog(eventsOf(path.join(out, "events.jsonl")), zip.replace(/\.zip$/, ""));
    const split = payloads(events, EV.SPLIT_SUMMARY).at(-1)!;
    assert.equal(split.kind, "time_ordered");
    assert.equal(split.test_rows, 3 * split.horizon!, "a test window for each source");
    // with 17 years a series, a baseline may well win: then the run says so rather than recommending a model that lost
    const best = payloads(events, EV.BEST_MODEL_UPDATED).at(-1)!;
    if (["naive", "seasonal_naive", "drift"].includes(best.model_id)) assert.match(result.stdout, /no model beat the baselines/);
  });

  it("stocks.csv: five series by symbol; a horizon past the history is refused with the longest that works, and the project is kept", async () => {
    const { events } = await forecastRun("stocks.csv", "forecast the stock price for the next 6 months");
    const split = payloads(events, EV.SPLIT_SUMMARY).at(-1)!;
    assert.equal(split.test_rows, 6 * 5, "a test window per series");
    const chart = payloads(events, EV.ARTIFACT_ADDED).find((a) => a.artifact.type === "forecast");
    assert.ok(chart);
    const ws = tempWorkspace("forecast-long");
    fs.copyFileSync(path.join(VEGA, "us-employment.csv"), path.join(ws, "us-employment.csv"));
    const long = await startCli([
      "run",
      "forecast nonfarm for the next 30 years",
      "--data",
      path.join(ws, "us-employment.csv"),
      "--auto",
      "--no-pacing",
      "--workspace",
      ws,
    ]).done;
    assert.equal(long.code, 0, long.stderr + long.stdout);
    assert.match(long.stdout, /more than the history allows: the plan forecasts 55, the most it can test/);
  });
});
