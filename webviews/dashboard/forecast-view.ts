/**
 * A forecasting project's results: how the series were cut by time, the best model's forecast
 * of the test window and of the future with its interval, each model's backtest and test score
 * beside the baselines it had to beat, the backtests cut-off by cut-off, and the residuals
 * over time. Every chart is the run's own artifact (its vega-lite spec), fetched through the
 * extension.
 */
import type { ProjectSnapshot } from "../../contract";
import { formatNumber, h, replaceChildren } from "./dom-builder";
import { fetchAsset } from "./panel-host";
import { renderAsset, renderSpec } from "./vega-chart";

interface BacktestWindow {
  series: string;
  cutoff: string;
  [metric: string]: string | number;
}

export class ForecastView {
  readonly el = h("section", { class: "view forecast" });
  private readonly split = h("div", { class: "split" });
  private readonly chart = h("div", { class: "chart", "data-chart": "forecast" });
  private readonly board = h("div", { class: "leaderboard" });
  private readonly backtests = h("div", { class: "backtests" });
  private readonly residuals = h("div", { class: "chart", "data-chart": "residuals" });
  private shown = { split: "", chart: "", board: "", backtests: "", residuals: "" };

  constructor() {
    this.el.append(
      h("h2", {}, "Forecast"),
      this.split,
      this.chart,
      h("h3", {}, "Models against the baselines"),
      this.board,
      h("h3", {}, "Backtests of the best model"),
      this.backtests,
      h("h3", {}, "Residuals over the test window"),
      this.residuals,
    );
  }

  render(s: ProjectSnapshot): void {
    const split = s.split;
    const splitKey = JSON.stringify(split);
    if (splitKey !== this.shown.split) {
      this.shown.split = splitKey;
      replaceChildren(
        this.split,
        split?.kind === "time_ordered"
          ? h(
              "p",
              {},
              `Split by time: the last ${split.horizon} step(s) of each series, from ${split.test_from}, are the test window (${split.test_rows.toLocaleString("en")} values, never seen before the final score). ` +
                `Models are ranked by backtests that forecast ${split.horizon} step(s) from each of ${split.cutoffs?.length ?? 0} earlier cut-off(s): ${(split.cutoffs ?? []).join(", ")}.`,
            )
          : h("p", { class: "hint" }, "The series have not been framed yet."),
      );
    }
    const best = s.best;
    const forecast = best && s.artifacts.find((a) => a.type === "forecast" && a.meta["run_id"] === best.run_id);
    if (!forecast) {
      if (this.shown.chart !== "none")
        replaceChildren(this.chart, h("p", { class: "hint" }, "No forecast yet: it appears when the first model has been trained."));
      this.shown.chart = "none";
    } else if (this.shown.chart !== forecast.url) {
      this.shown.chart = forecast.url;
      fetchAsset(forecast.url).then(
        (json) => {
          const doc = json as { vega_lite: Record<string, unknown>; interval_level?: number; test_coverage?: number };
          const run = s.runs[best.run_id];
          const test = run?.final_metrics?.primary;
          replaceChildren(
            this.chart,
            h(
              "p",
              { "data-best": best.model_id },
              `${best.model_id}: backtest ${best.metric.name} ${formatNumber(best.metric.value)}${test ? `, test ${test.name} ${formatNumber(test.value)}` : ""}; the band is the ${Math.round(100 * (doc.interval_level ?? 0.8))}% interval from its backtests' errors` +
                (doc.test_coverage !== undefined ? ` (it held ${Math.round(100 * doc.test_coverage)}% of the test window's actual values).` : "."),
            ),
            h("div", { class: "chart-body" }),
          );
          const body = this.chart.lastElementChild as HTMLElement;
          // several series: a chart each (a faceted chart does not fit the panel's width, and each series has its own scale)
          const facet = doc.vega_lite["spec"] as { layer: unknown[] } | undefined;
          if (!facet) return renderSpec(body, doc.vega_lite);
          const values = (doc.vega_lite["data"] as { values: Array<{ series: string }> }).values;
          for (const series of [...new Set(values.map((v) => v.series))]) {
            const el = h("div", { class: "chart", "data-series": series });
            body.append(el);
            renderSpec(el, {
              $schema: doc.vega_lite["$schema"],
              title: series,
              height: 220,
              data: { values: values.filter((v) => v.series === series) },
              layer: facet.layer,
            });
          }
        },
        (err: Error) => replaceChildren(this.chart, h("p", { class: "error" }, err.message)),
      );
    }
    const boardKey = JSON.stringify([s.leaderboard, s.model_candidates.length]);
    if (boardKey !== this.shown.board) {
      this.shown.board = boardKey;
      const baseline = new Set(s.model_candidates.filter((c) => c.requirements["baseline"] === true).map((c) => c.id));
      const rows = s.leaderboard.filter((r) => r.metric);
      replaceChildren(
        this.board,
        rows.length
          ? h(
              "table",
              { class: "board" },
              h("thead", {}, h("tr", {}, h("th", {}, "model"), h("th", {}, "backtest"), h("th", {}, "test"), h("th", {}, "time"))),
              h(
                "tbody",
                {},
                ...rows.map((r) =>
                  h(
                    "tr",
                    { class: r.run_id === best?.run_id ? "best" : baseline.has(r.model) ? "baseline" : "" },
                    h("td", {}, `${r.model}${baseline.has(r.model) ? " (baseline)" : ""}`),
                    h("td", {}, `${r.metric!.name} ${formatNumber(r.metric!.value)}`),
                    h("td", {}, r.test_metric ? `${r.test_metric.name} ${formatNumber(r.test_metric.value)}` : ""),
                    h("td", {}, `${formatNumber(r.runtime_s, 2)} s`),
                  ),
                ),
              ),
            )
          : h("p", { class: "hint" }, "No model trained yet."),
      );
    }
    const backtests = best && s.artifacts.find((a) => a.type === "backtests" && a.meta["run_id"] === best.run_id);
    if (backtests && this.shown.backtests !== backtests.url) {
      this.shown.backtests = backtests.url;
      fetchAsset(backtests.url).then(
        (json) => {
          const doc = json as { metric: string; windows: BacktestWindow[] };
          const metrics = ["mase", "smape", "mae", "rmse"].filter((m) => doc.windows.some((w) => typeof w[m] === "number"));
          const multi = new Set(doc.windows.map((w) => w.series)).size > 1;
          replaceChildren(
            this.backtests,
            h(
              "table",
              { class: "board" },
              h("thead", {}, h("tr", {}, ...(multi ? [h("th", {}, "series")] : []), h("th", {}, "cut-off"), ...metrics.map((m) => h("th", {}, m)))),
              h(
                "tbody",
                {},
                ...doc.windows.map((w) =>
                  h(
                    "tr",
                    {},
                    ...(multi ? [h("td", {}, w.series)] : []),
                    h("td", {}, w.cutoff),
                    ...metrics.map((m) => h("td", {}, formatNumber(w[m] as number))),
                  ),
                ),
              ),
            ),
          );
        },
        (err: Error) => replaceChildren(this.backtests, h("p", { class: "error" }, err.message)),
      );
    }
    const residuals = best && s.artifacts.find((a) => a.type === "residuals" && a.meta["run_id"] === best.run_id);
    if (residuals && this.shown.residuals !== residuals.url) {
      this.shown.residuals = residuals.url;
      renderAsset(this.residuals, residuals.url);
    }
  }
}
