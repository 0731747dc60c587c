/**
 * Training forecasters: each model (or each setting a time-budgeted search tries) is one run.
 * A run fits at every backtest cut-off and forecasts the horizon after it (its validation
 * score, the mean over the windows and the series), then fits on everything before the test
 * window and is scored once on it, then fits on the whole history for the future forecast
 * its model file holds. The runs' events are the tabular runs' (TRAIN_RUN_STARTED … FINISHED,
 * the leaderboard, the best model); the steps are the real fits, never paced.
 */
import { EV, type MetricValue } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import { seriesName } from "../data/series-framing";
import { frequencyInWords } from "../data/time-grid";
import { isoOfEpoch } from "../data/table";
import { InputError } from "../errors/input-error";
import type { EventSink } from "../events/event-sink";
import type { Params } from "../ml/learner";
import { encodeModelFile, modelFileOf } from "../ml/model-file";
import { newRunId, type RunResult } from "../ml/training-run";
import { backtest, fitWhole, forecastWindow, intervalWidths, INTERVAL_LEVEL, type WindowForecast } from "../ml/forecast/backtest";
import { findForecaster, FORECASTERS } from "../ml/forecast/forecast-zoo";
import type { FittedForecaster, Forecaster } from "../ml/forecast/forecaster";
import { meanErrors, type ForecastMetric } from "../ml/forecast/forecast-metrics";
import { trainingPoints, type ForecastData } from "../ml/forecast/forecast-data";
import type { BestRun, LeaderboardRow } from "./leaderboard";
import { round4, RunReporter, runSignal, searchInTurns, type ArtifactReady } from "./run-board";
import { futureForecast, seriesForecaster, type ForecastModelDocument } from "../predict/series-forecast";

export interface ForecastOutcome {
  runs: RunResult[];
  leaderboard: LeaderboardRow[];
  best: BestRun;
}

const VL = "https://vega.github.io/schema/vega-lite/v5.json";
/** the chart shows this many horizons of history before the test window (up to twice as many, for two seasons) */
const HISTORY_SHOWN = 3;

export class ForecastTraining {
  private readonly report: RunReporter;

  constructor(
    private readonly events: EventSink,
    private readonly assets: AssetStore,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.report = new RunReporter(events, assets, signal);
  }

  /** Each model once, with its settings. */
  async train(models: Array<{ id: string; params?: Params }>, data: ForecastData, metric: string, board: ForecastOutcome): Promise<ForecastOutcome> {
    for (const m of models) {
      board.runs.push(await this.run(forecasterFor(m.id), { ...forecasterFor(m.id).defaults, ...(m.params ?? {}) }, data, metric, board));
      if (this.signal?.aborted) break;
    }
    return board;
  }

  /** Every model's defaults first, then the settings of their search spaces in turn, until the budget is spent (run-board.ts searchInTurns). */
  async search(
    models: string[],
    data: ForecastData,
    metric: string,
    budgetSeconds: number,
    board: ForecastOutcome,
  ): Promise<ForecastOutcome & { overrunSeconds: number; trials: number }> {
    const positive = data.frame.series.every((s) => s.values.every((v) => v > 0));
    const points = Math.min(...data.frame.series.map((s) => s.values.length));
    const entries = [...new Set(models)].map(forecasterFor).map((f) => ({
      model: f,
      id: f.id,
      defaults: f.defaults,
      space: f.searchSpace({ seasonality: data.frame.seasonality, points, positive }),
    }));
    return searchInTurns(entries, budgetSeconds, "forecasting", this.events, this.signal, board, (forecaster, params, deadline) =>
      this.run(forecaster, params, data, metric, board, deadline),
    );
  }

  /** Says whether the best model beat every baseline in the backtests, as a recommendation needs. */
  sayAgainstBaselines(board: ForecastOutcome, metric: string): void {
    const best = board.best;
    if (!best) return;
    const baselines = board.leaderboard.filter((r) => r.metric && findForecaster(r.model)?.baseline);
    if (baselines.length === 0) return;
    const bestBaseline = baselines[0]!;
    const bestIsBaseline = findForecaster(best.model_id)?.baseline === true;
    const text = bestIsBaseline
      ? `no model beat the baselines in the backtests: the best is the ${findForecaster(best.model_id)!.name.toLowerCase()} baseline (${metric} ${best.metric.value.toFixed(4)}); a forecast this simple is what the data supports`
      : `${best.model_id} beats every baseline in the backtests: ${metric} ${best.metric.value.toFixed(4)} against ${bestBaseline.model}'s ${bestBaseline.metric!.value.toFixed(4)}`;
    this.events.emit(EV.LOG_LINE, { run_id: null, level: bestIsBaseline ? "warn" : "info", text: `forecast: ${text}` });
  }

  private async run(forecaster: Forecaster, params: Params, data: ForecastData, metric: string, board: ForecastOutcome, deadline?: number): Promise<RunResult> {
    const runId = newRunId(forecaster.id);
    const started = performance.now();
    const { frame, horizon, folds } = data;
    const steps = folds + 2;
    const totalPoints = frame.series.reduce((n, s) => n + s.values.length, 0);
    this.events.emit(EV.TRAIN_RUN_STARTED, {
      run_id: runId,
      model_id: forecaster.id,
      metric_primary: metric,
      config: {
        task_type: "time_series_forecasting",
        target: frame.target,
        split: {
          seed: data.seed,
          test_size: round4((horizon * frame.series.length) / totalPoints),
          val_size: round4((folds * horizon * frame.series.length) / totalPoints),
        },
        preprocess: { ...data.framing, series: frame.series.length },
        train: { steps, epochs: 1, rows: trainingPoints(data) },
        params,
      },
    });
    const stepDone = (step: number, phase: "fit" | "eval" | "finalize") =>
      this.events.emit(EV.TRAIN_PROGRESS, {
        run_id: runId,
        epoch: 1,
        epochs: 1,
        step,
        steps,
        eta_s: step > 0 ? (((performance.now() - started) / 1000) * (steps - step)) / step : null,
        phase,
      });
    stepDone(0, "fit");
    const signal = runSignal(this.signal, deadline);
    try {
      // the backtests: one step per cut-off (all series), its running mean as the validation curve
      const bt = await backtest(
        forecaster,
        params,
        frame,
        data.cuts,
        horizon,
        async (fold, mean) => {
          const value = mean[metric as ForecastMetric];
          stepDone(fold, "fit");
          if (value !== undefined) this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: metric, split: "val", step: fold, value });
          await new Promise((r) => setImmediate(r));
        },
        signal,
      );
      const valValue = bt.mean[metric as ForecastMetric];
      if (valValue === undefined)
        throw new InputError(
          `${metric} cannot be measured on this series${metric === "rmsle" ? " (it has values of zero or below)" : metric === "mase" ? " (its history is flat)" : ""}: rank by mae or rmse instead.`,
        );
      // the test window, once
      signal?.throwIfAborted();
      const tests: Array<WindowForecast & { lower: Float64Array; upper: Float64Array }> = [];
      for (let i = 0; i < frame.series.length; i++) {
        const w = await forecastWindow(forecaster, params, frame, frame.series[i]!, data.cuts[i]!.testStart, horizon);
        const width = intervalWidths(bt.windows, horizon, frame.series[i]!.id);
        tests.push({ ...w, lower: w.forecast.map((v, k) => v - width[k]!), upper: w.forecast.map((v, k) => v + width[k]!) });
      }
      stepDone(folds + 1, "fit");
      const test = meanErrors(tests.map((t) => t.errors));
      // the whole history, for the future forecast
      signal?.throwIfAborted();
      const whole: FittedForecaster[] = [];
      for (const s of frame.series) whole.push(await fitWhole(forecaster, params, frame, s, horizon));
      const chosen = whole[0]?.chosen;
      // how often the test window's actual values fell inside the interval (an 80% interval should hold about 80%)
      const coverage = round4(tests.reduce((n, w) => n + w.actual.filter((a, k) => w.lower[k]! <= a && a <= w.upper[k]!).length, 0) / (tests.length * horizon));
      const metrics: MetricValue[] = [
        ...Object.entries(test).map(([name, value]) => ({ name, split: "test" as const, value: value! })),
        { name: `coverage_${Math.round(INTERVAL_LEVEL * 100)}`, split: "test", value: coverage },
        ...Object.entries(bt.mean).map(([name, value]) => ({ name, split: "val" as const, value: value! })),
      ];
      const primary = test[metric as ForecastMetric];
      if (primary === undefined) throw new Error(`${metric} could not be measured on the test window`);
      const valMetric = { name: metric, split: "val" as const, value: valValue };
      const finalMetrics = { task_type: "time_series_forecasting" as const, primary: { name: metric, split: "test" as const, value: primary }, metrics };
      const document: ForecastModelDocument = {
        run_id: runId,
        task: "time_series_forecasting",
        target: frame.target,
        final_metrics: finalMetrics,
        forecast: {
          model_id: forecaster.id,
          params,
          framing: data.framing,
          interval_level: INTERVAL_LEVEL,
          series: frame.series.map((s, i) => ({
            id: s.id,
            last_time: s.times[s.times.length - 1]!,
            interval: Array.from(intervalWidths(bt.windows, horizon, s.id)),
            model: whole[i]!.save(),
          })),
        },
      };
      this.assets.write(modelFileOf(runId), encodeModelFile(document));
      stepDone(steps, "fit");
      stepDone(steps, "finalize");
      this.writeArtifacts(runId, data, tests, bt.windows, document, valMetric);
      const runtimeS = (performance.now() - started) / 1000;
      this.events.emit(EV.TRAIN_RUN_FINISHED, { run_id: runId, status: "success", final_metrics: finalMetrics });
      this.report.rank(board, {
        model: forecaster.id,
        params: { ...params, ...(chosen ? Object.fromEntries(Object.entries(chosen).map(([k, v]) => [`chosen_${k}`, v])) : {}) },
        metric: valMetric,
        runtime_s: round4(runtimeS),
        run_id: runId,
        status: "success",
        test_metric: finalMetrics.primary,
        validation: "backtest",
        train_rows: trainingPoints(data),
      });
      return { runId, modelId: forecaster.id, status: "success", model: null, valMetric, finalMetrics, runtimeS };
    } catch (err) {
      return this.report.failed(err, signal, board, { runId, modelId: forecaster.id, params, started, validation: "backtest" });
    }
  }

  /** The forecast chart (history, the test window's actuals, forecast and interval, and the future), the residuals over time, the backtests' table. */
  private writeArtifacts(
    runId: string,
    data: ForecastData,
    tests: Array<WindowForecast & { lower: Float64Array; upper: Float64Array }>,
    windows: WindowForecast[],
    document: ForecastModelDocument,
    valMetric: MetricValue,
  ): void {
    const { frame, horizon } = data;
    const dateOnly = !["minute", "hour"].includes(frame.frequency.unit);
    // the future as the exported model forecasts it, from the model file's document
    const future = futureForecast(seriesForecaster(document, modelFileOf(runId)));
    const iso = (t: number) => isoOfEpoch(t, dateOnly);
    const multi = frame.series.length > 1;
    const points: Array<Record<string, string | number | null>> = [];
    // enough history to see the level and a season or two, not so much that the test window and the future are a sliver
    const shownHistory = Math.max(HISTORY_SHOWN * horizon, Math.min(2 * frame.seasonality, 2 * HISTORY_SHOWN * horizon));
    frame.series.forEach((s, i) => {
      const series = seriesName(s);
      const testStart = data.cuts[i]!.testStart;
      for (let t = Math.max(0, testStart - shownHistory); t < s.values.length; t++) {
        points.push({ series, time: iso(s.times[t]!), part: t < testStart ? "history" : "actual (test)", value: s.values[t]! });
      }
      const w = tests[i]!;
      for (let k = 0; k < horizon; k++) {
        points.push({ series, time: iso(s.times[testStart + k]!), part: "forecast (test)", value: w.forecast[k]!, lower: w.lower[k]!, upper: w.upper[k]! });
      }
      for (const p of future.filter((r) => r.series === s.id))
        points.push({ series, time: p.time, part: "future", value: p.value, lower: p.lower, upper: p.upper });
    });
    // years on the axis: a monthly axis read "April, April, April" without them
    const format = { minute: "%Y-%m-%d %H:%M", hour: "%Y-%m-%d %H:%M", day: "%Y-%m-%d", week: "%Y-%m-%d", month: "%Y-%m", quarter: "%Y-%m", year: "%Y" }[
      frame.frequency.unit
    ];
    const timeType = { field: "time", type: "temporal", title: frame.timeColumn, axis: { format, labelOverlap: true } };
    const forecastChart = {
      $schema: VL,
      description: `${frame.target}: the last of the history, the test window's actual values and the forecast of them with its ${Math.round(INTERVAL_LEVEL * 100)}% interval, and the forecast of the next ${horizon} ${frequencyInWords(frame.frequency)} steps`,
      data: { values: points },
      ...(multi
        ? {
            facet: { row: { field: "series", type: "nominal", title: frame.idColumn } },
            spec: { width: 520, height: 140, layer: forecastLayers(timeType, frame.target) },
            resolve: { scale: { y: "independent" } },
          }
        : { layer: forecastLayers(timeType, frame.target) }),
    };
    this.announce(runId, "forecast", "Forecast (test window and future)", {
      target: frame.target,
      horizon,
      interval_level: INTERVAL_LEVEL,
      test_coverage: document.final_metrics!.metrics.find((m) => m.name.startsWith("coverage_"))!.value,
      series: frame.series.map((s, i) => ({ id: s.id, test_errors: tests[i]!.errors })),
      vega_lite: forecastChart,
    });
    const residuals = tests.flatMap((w, i) =>
      Array.from(w.actual, (a, k) => ({
        series: seriesName(frame.series[i]!),
        time: iso(frame.series[i]!.times[w.origin + k]!),
        residual: a - w.forecast[k]!,
        steps_ahead: k + 1,
      })),
    );
    this.announce(
      runId,
      "residuals",
      "Residuals over time (test)",
      {
        test_rows: residuals.length,
        vega_lite: {
          $schema: VL,
          description: "Actual minus forecast over the test window",
          data: { values: residuals },
          layer: [
            { mark: { type: "rule", color: "#999" }, encoding: { y: { datum: 0 } } },
            {
              mark: { type: "line", point: true, tooltip: true },
              encoding: { x: timeType, y: { field: "residual", type: "quantitative" }, ...(multi ? { color: { field: "series", type: "nominal" } } : {}) },
            },
          ],
        },
      },
      EV.RESIDUALS_PLOT_READY,
    );
    const table = windows.map((w) => ({
      series: w.series ?? "the series",
      cutoff: iso(frame.series.find((s) => s.id === w.series)!.times[w.origin]!),
      ...Object.fromEntries(Object.entries(w.errors).map(([k, v]) => [k, round4(v!)])),
    }));
    this.announce(runId, "backtests", `Backtests (${data.folds} cut-offs)`, {
      metric: valMetric.name,
      mean: valMetric.value,
      windows: table,
      vega_lite: {
        $schema: VL,
        description: `${valMetric.name} at each backtest cut-off (forecasting ${horizon} steps from it)`,
        data: { values: table },
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: { field: "cutoff", type: "ordinal" },
          y: { field: valMetric.name, type: "quantitative" },
          ...(multi ? { color: { field: "series", type: "nominal" }, xOffset: { field: "series" } } : {}),
        },
      },
    });
  }

  private announce(runId: string, kind: string, name: string, body: Record<string, unknown>, ready?: ArtifactReady): void {
    this.report.announce(runId, kind, name, body, ready);
  }
}

function forecastLayers(time: Record<string, unknown>, target: string): unknown[] {
  const color = {
    field: "part",
    type: "nominal",
    title: null,
    scale: { domain: ["history", "actual (test)", "forecast (test)", "future"], range: ["#4c78a8", "#b279a2", "#f58518", "#54a24b"] },
    // the legend's symbols drawn solid: they would otherwise take the faint interval band's opacity
    legend: { symbolOpacity: 1, symbolType: "stroke", symbolStrokeWidth: 3 },
  };
  return [
    {
      transform: [{ filter: "datum.lower != null" }],
      mark: { type: "area", opacity: 0.2 },
      encoding: { x: time, y: { field: "lower", type: "quantitative", title: target }, y2: { field: "upper" }, color },
    },
    { mark: { type: "line", tooltip: true }, encoding: { x: time, y: { field: "value", type: "quantitative", title: target, scale: { zero: false } }, color } },
  ];
}

function forecasterFor(id: string): Forecaster {
  const f = findForecaster(id);
  if (!f) throw new InputError(`Model ${JSON.stringify(id)} cannot forecast. Choose from: ${FORECASTERS.map((x) => x.id).join(", ")}.`);
  return f;
}
