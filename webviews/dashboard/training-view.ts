/**
 * Training as people know it from TensorBoard and W&B: loss and metric curves per run, runs
 * overlaid, smoothing with the raw line still visible, a min/max band where long series are
 * bucketed, hover values, step or wall-clock x-axis; progress with ETA, the leaderboard, the
 * best model, resources, logs and the evaluation artifacts as they arrive.
 */
import { distinguishingSettings, wasInterrupted } from "../../contract";
import { formatNumber, h, replaceChildren } from "./dom-builder";
import type { DashboardStore } from "./dashboard-store";
import { toDrawPoints } from "./chart-series";
import { VegaChart } from "./vega-chart";
import { renderArtifact } from "./classifier-artifacts";

/** the artifacts named by their type rather than by a READY event */
const ARTIFACT_TITLES: Record<string, string> = {
  per_class: "precision and recall per class",
  misclassified: "misclassified test examples",
  top_terms: "terms that weigh most per class",
};

const MAX_DRAWN_POINTS = 400;

/** How many runs the curves show by default: a 60 s search makes dozens, and 50 lines read as none. */
const TOP_RUNS = 5;

function curveSpec(title: string, logScale: boolean): Record<string, unknown> {
  // padded, so a one-shot fit's point at x = 0 is drawn whole, not cut by the axis
  const x = { field: "x", type: "quantitative", title: "step, or seconds since the run started", scale: { padding: 6, nice: false } };
  // the legend's symbols drawn solid: they would otherwise take the faint band layer's opacity
  const color = {
    field: "series",
    type: "nominal",
    title: "run (click to pick)",
    legend: { symbolOpacity: 1, symbolType: "stroke", symbolStrokeWidth: 3, labelLimit: 320 },
  };
  // a click on a legend entry picks that series (shift-click adds); the others fade
  const picked = { condition: { param: "pick", value: 1 }, value: 0.12 };
  const y = (field: string) => ({ field, type: "quantitative", title: null, scale: { zero: false, type: logScale ? "log" : "linear" } });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    height: 220,
    layer: [
      { mark: { type: "area", opacity: 0.15 }, encoding: { x, y: y("lo"), y2: { field: "hi" }, color } },
      { mark: { type: "line", opacity: 0.3, strokeWidth: 1 }, encoding: { x, y: y("raw"), color } },
      {
        // wheel to zoom, drag to pan, double-click to reset
        params: [
          { name: "pick", select: { type: "point", fields: ["series"] }, bind: "legend" },
          { name: "zoom", select: "interval", bind: "scales" },
        ],
        mark: { type: "line", strokeWidth: 2, point: { filled: true, size: 30 } },
        encoding: {
          x,
          y: y("smooth"),
          color,
          opacity: picked,
          tooltip: [{ field: "series" }, { field: "x", title: "x" }, { field: "raw", format: ".5g" }, { field: "smooth", format: ".5g" }],
        },
      },
    ],
  };
}

/** leaderboard rows shown before "Show all" */
const BOARD_ROWS = 10;

/** A run's settings for its tooltip: "alpha 0.1, max_depth 8". */
function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k} ${typeof v === "number" ? formatNumber(v) : String(v)}`)
    .join(", ");
}

export class TrainingView {
  readonly el = h("section", { class: "view training" });
  private readonly controls = h("div", { class: "controls" });
  private readonly progress = h("div", { class: "progress-list" });
  private readonly lossEl = h("div", { class: "chart", "data-chart": "loss" });
  private readonly metricEl = h("div", { class: "chart", "data-chart": "metric" });
  private boardAll = false;
  /** the conductor is stopped: nothing is training now */
  stopped = false;
  private readonly shownRunsNote = h("p", { class: "hint", "data-note": "shown-runs" });
  private readonly board = h("div", { class: "leaderboard" });
  private readonly stats = h("div", { class: "stats" });
  private readonly logs = h("pre", { class: "logs" });
  private readonly artifacts = h("div", { class: "artifacts" });
  private loss: VegaChart;
  private metric: VegaChart;
  private weight = 0.6;
  private xAxis: "step" | "wall" = "step";
  private logScale = false;
  private topRuns: number = TOP_RUNS;
  private runFilter = "";
  private shownArtifacts = "";

  constructor(private readonly rerender: () => void) {
    this.loss = new VegaChart(this.lossEl, curveSpec("loss", false), "points");
    this.metric = new VegaChart(this.metricEl, curveSpec("primary metric", false), "points");
    const slider = h("input", { type: "range", min: "0", max: "0.99", step: "0.01", value: String(this.weight), "aria-label": "smoothing" });
    slider.addEventListener("input", () => ((this.weight = Number(slider.value)), this.rerender()));
    const axis = h("select", { "aria-label": "x axis" }, h("option", { value: "step" }, "step"), h("option", { value: "wall" }, "wall-clock (s)"));
    axis.addEventListener("change", () => ((this.xAxis = axis.value as "step" | "wall"), this.rerender()));
    const top = h(
      "select",
      { "aria-label": "runs shown", "data-control": "top-runs" },
      ...[5, 10, 0].map((n) => h("option", { value: String(n) }, n ? `top ${n} runs` : "all runs")),
    );
    top.addEventListener("change", () => ((this.topRuns = Number(top.value)), this.rerender()));
    const filter = h("input", { type: "search", placeholder: "filter runs (model or run id)", "aria-label": "run filter", "data-control": "run-filter" });
    filter.addEventListener("input", () => ((this.runFilter = filter.value.trim().toLowerCase()), this.rerender()));
    const log = h("input", { type: "checkbox", "aria-label": "log scale", "data-control": "log-scale" });
    log.addEventListener("change", () => {
      this.logScale = log.checked;
      // a scale type is part of the spec: the charts are made again
      this.loss.dispose();
      this.metric.dispose();
      this.loss = new VegaChart(this.lossEl, curveSpec("loss", this.logScale), "points");
      this.metric = new VegaChart(this.metricEl, curveSpec("primary metric", this.logScale), "points");
      this.rerender();
    });
    this.controls.append(
      h("label", {}, "show ", top),
      filter,
      h("label", {}, " smoothing ", slider),
      h("label", {}, " x-axis ", axis),
      h("label", {}, log, " log scale"),
    );
    this.el.append(
      h("h2", {}, "Training"),
      this.progress,
      h("h3", {}, "Leaderboard"),
      this.board,
      h("h3", {}, "Curves"),
      this.controls,
      this.shownRunsNote,
      this.lossEl,
      this.metricEl,
      this.stats,
      h("h3", {}, "Evaluation of each run (best first)"),
      this.artifacts,
      h("h3", {}, "Log"),
      this.logs,
    );
  }

  /** Runs in leaderboard order (best first), then those still running, filtered and cut to the top N. */
  private shownRuns(store: DashboardStore): { shown: Array<{ runId: string; modelId: string }>; total: number } {
    const s = store.snapshot;
    const ranked = s.leaderboard.map((r) => r.run_id).filter((id): id is string => Boolean(id && s.runs[id]));
    // runs of earlier passes (before a retry or a rewind) are in the log, not on this board: not drawn
    const rest = store
      .runs()
      .map((r) => r.runId)
      .filter((id) => !ranked.includes(id) && s.runs[id]?.status === "running");
    const all = [...ranked, ...rest].map((runId) => ({ runId, modelId: s.runs[runId]!.model_id }));
    const matching = this.runFilter ? all.filter((r) => `${r.modelId} ${r.runId}`.toLowerCase().includes(this.runFilter)) : all;
    return { shown: this.topRuns ? matching.slice(0, this.topRuns) : matching, total: all.length };
  }

  render(store: DashboardStore): void {
    const s = store.snapshot;
    const t0 = Math.min(...[...store.runStarted.values()], Infinity);
    const { shown, total } = this.shownRuns(store);
    const curves = (pick: (name: string, runMetric: string) => boolean) => {
      const values: unknown[] = [];
      for (const { runId, modelId } of shown) {
        const run = s.runs[runId]!;
        for (const [key, points] of store.series.get(runId) ?? []) {
          const [name, split] = key.split("/") as [string, string];
          if (split === "test" || !pick(name, run.metric_primary)) continue;
          const series = `${modelId} ${runId.slice(-6)} · ${name} ${split}`;
          if (run.simulated) {
            // a one-shot fit has no curve: its one real figure is its final score, drawn as a point
            if (split !== "val" || run.status !== "success") continue;
            const last = points[points.length - 1]!;
            values.push({ x: 0, raw: last.value, smooth: last.value, lo: last.value, hi: last.value, series: `${series} (one-shot)` });
            continue;
          }
          for (const p of toDrawPoints(points, {
            weight: this.weight,
            xAxis: this.xAxis,
            t0: store.runStarted.get(runId) ?? t0,
            maxPoints: MAX_DRAWN_POINTS,
          })) {
            if (this.logScale && !(p.lo > 0)) continue; // log axes hold positive values only
            values.push({ ...p, series });
          }
        }
      }
      return values;
    };
    this.loss.update(curves((name) => name === "loss"));
    this.metric.update(curves((name, primary) => name === primary));
    this.shownRunsNote.textContent = `Curves of ${shown.length} of ${total} runs, best on validation first${this.runFilter ? ` (filter "${this.runFilter}")` : ""}. Click a legend entry to pick a run; wheel to zoom, drag to pan, double-click to reset. One-shot fits show as one point, their validation score.`;

    replaceChildren(
      this.progress,
      ...Object.values(s.runs)
        // a run shows as running only while its stage runs and the conductor is there to run it
        .filter((r) => r.status === "running" && s.stages.TRAIN.status === "running" && !this.stopped)
        .map((r) => {
          const p = store.progress.get(r.run_id);
          const frac = p && p.steps ? p.step / p.steps : 0;
          const bar = h("progress", { max: "1", value: String(frac) });
          return h(
            "div",
            { class: "run-progress" },
            h("span", {}, `${r.model_id}${r.simulated ? " (one-shot fit, paced)" : ""}`),
            bar,
            h("span", {}, p ? `${p.step}/${p.steps}${p.eta_s !== null ? ` · ETA ≤ ${formatNumber(p.eta_s, 1)} s` : ""}` : "starting"),
          );
        }),
    );

    const best = s.best;
    // the test rows are looked at once, for the chosen model, when training is over
    const trainingOver = ["completed", "stale"].includes(s.stages.TRAIN.status);
    const bestTest = best && trainingOver ? s.leaderboard.find((r) => r.run_id === best.run_id)?.test_metric : null;
    const validation = s.leaderboard.some((r) => r.validation === "5-fold") ? "validation (5-fold CV)" : "validation (split)";
    const interrupted = wasInterrupted(s.stages.TRAIN);
    const settings = distinguishingSettings(s.leaderboard);
    replaceChildren(
      this.board,
      interrupted
        ? h(
            "p",
            { class: "banner warn", "data-state": "interrupted" },
            `This search was interrupted (${s.stages.TRAIN.message}); the runs below are what it had. On the Timeline, Resume the search to carry on from them, or Retry to start it over.`,
          )
        : null,
      best
        ? h(
            "p",
            { class: "best" },
            `Best: ${best.model_id}, ${validation} ${best.metric.name} ${formatNumber(best.metric.value)}${bestTest ? `; test ${bestTest.name} ${formatNumber(bestTest.value)} (held-out rows, looked at once)` : ""}`,
          )
        : null,
      h(
        "table",
        { "data-runs": String(s.leaderboard.length) },
        h("thead", {}, h("tr", {}, ...["#", "model", "run", validation, "run (s)", "predict (µs/row)", "status"].map((c) => h("th", {}, c)))),
        h(
          "tbody",
          {},
          ...(this.boardAll ? s.leaderboard : s.leaderboard.slice(0, BOARD_ROWS)).map((r, i) =>
            h(
              "tr",
              { class: r.run_id === best?.run_id ? "is-best" : "" },
              h("td", {}, String(i + 1)),
              h(
                "td",
                { title: paramsText(r.params) },
                r.model,
                r.run_id && s.runs[r.run_id]?.simulated ? h("span", { class: "tag" }, "one-shot") : null,
                r.run_id && settings.get(r.run_id) ? h("div", { class: "settings" }, settings.get(r.run_id)!) : null,
              ),
              h("td", {}, r.run_id ?? ""),
              // fixed decimals in a column, so its figures line up
              h("td", {}, r.metric ? `${r.metric.name} ${r.metric.value.toFixed(4)}` : "–"),
              h("td", {}, r.runtime_s.toFixed(3)),
              h("td", {}, r.predict_us_per_row !== undefined ? r.predict_us_per_row.toFixed(2) : "–"),
              h("td", {}, interrupted && r.status !== "success" ? "interrupted" : (r.status ?? "")),
            ),
          ),
        ),
      ),
      // a long search's table would push the curves off screen: the best ten, the rest one click away
      s.leaderboard.length > BOARD_ROWS
        ? h(
            "button",
            { class: "link", "data-action": "board-rows", onclick: () => ((this.boardAll = !this.boardAll), this.rerender()) },
            this.boardAll ? `Show the best ${BOARD_ROWS}` : `Show all ${s.leaderboard.length} runs`,
          )
        : null,
    );
    const latest = [...store.resources.values()].at(-1);
    const training = s.stages.TRAIN.status === "running" && !this.stopped;
    replaceChildren(
      this.stats,
      latest && training
        ? h("p", {}, `CPU ${formatNumber(latest.cpu_pct, 1)}% · RAM ${formatNumber(latest.ram_mb, 0)} MB · ${formatNumber(latest.step_per_sec, 1)} steps/s`)
        : null,
    );
    this.logs.textContent = store.logs
      .slice(-200)
      .map((l) => `${new Date(l.ts * 1000).toLocaleTimeString()} ${l.level.padEnd(5)} ${l.text}`)
      .join("\n");
    this.renderArtifacts(store);
  }

  /** Each run's evaluation charts, collapsed, best run first; drawn when opened. */
  private renderArtifacts(store: DashboardStore): void {
    const s = store.snapshot;
    const order = new Map(s.leaderboard.map((r, i) => [r.run_id ?? "", i]));
    const byRun = new Map<string, Array<{ kind: string; url: string }>>();
    for (const a of store.artifactUrls) (byRun.get(a.run ?? "") ?? byRun.set(a.run ?? "", []).get(a.run ?? "")!).push(a);
    // the leaderboard's runs only: an earlier pass's (before a retry or a rewind) are not this result's
    const runs = [...byRun.keys()].filter((r) => order.has(r)).sort((a, b) => order.get(a)! - order.get(b)!);
    const key = runs.map((r) => `${r}:${byRun.get(r)!.length}`).join("|");
    if (key === this.shownArtifacts) return;
    this.shownArtifacts = key;
    replaceChildren(
      this.artifacts,
      ...runs.map((runId, i) => {
        const run = s.runs[runId];
        const details = h("details", { "data-run": runId }, h("summary", {}, `${i + 1}. ${run?.model_id ?? "?"} · ${runId}`));
        let drawn = false;
        details.addEventListener("toggle", () => {
          if (!details.open || drawn) return;
          drawn = true;
          for (const a of byRun.get(runId)!) {
            const el = h("div", { class: "chart artifact" });
            details.append(
              h(
                "h4",
                {},
                ARTIFACT_TITLES[a.kind] ??
                  a.kind
                    .replace(/_READY$/, "")
                    .replace(/_/g, " ")
                    .toLowerCase(),
              ),
              el,
            );
            renderArtifact(el, a.kind, a.url);
          }
        });
        return details;
      }),
    );
  }
}
