/**
 * Training as people know it from TensorBoard and W&B: loss and metric curves per run, runs
 * overlaid, smoothing with the raw line still visible, a min/max band where long series are
 * bucketed, hover values, step or wall-clock x-axis; progress with ETA, the leaderboard, the
 * best model, resources, logs and the evaluation artifacts as they arrive.
 */
import { formatNumber, h, replaceChildren } from "./dom-builder";
import type { DashboardStore } from "./dashboard-store";
import { toDrawPoints } from "./chart-series";
import { fetchAsset } from "./panel-host";
import { VegaChart, renderSpec } from "./vega-chart";

const MAX_DRAWN_POINTS = 400;

function curveSpec(title: string): Record<string, unknown> {
  const x = { field: "x", type: "quantitative", title: "step, or seconds since the run started" };
  const color = { field: "series", type: "nominal", title: "run" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    height: 200,
    layer: [
      { mark: { type: "area", opacity: 0.15 }, encoding: { x, y: { field: "lo", type: "quantitative", title: null }, y2: { field: "hi" }, color } },
      { mark: { type: "line", opacity: 0.3, strokeWidth: 1 }, encoding: { x, y: { field: "raw", type: "quantitative", title: null }, color } },
      {
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          x,
          y: { field: "smooth", type: "quantitative", title: null, scale: { zero: false } },
          color,
          strokeDash: { field: "simulated", type: "nominal", title: "steps", scale: { domain: ["real", "simulated"], range: [[1, 0], [4, 3]] } },
          tooltip: [{ field: "series" }, { field: "x", title: "x" }, { field: "raw", format: ".5g" }, { field: "smooth", format: ".5g" }],
        },
      },
    ],
  };
}

export class TrainingView {
  readonly el = h("section", { class: "view training" });
  private readonly controls = h("div", { class: "controls" });
  private readonly progress = h("div", { class: "progress-list" });
  private readonly lossEl = h("div", { class: "chart", "data-chart": "loss" });
  private readonly metricEl = h("div", { class: "chart", "data-chart": "metric" });
  private readonly board = h("div", { class: "leaderboard" });
  private readonly stats = h("div", { class: "stats" });
  private readonly logs = h("pre", { class: "logs" });
  private readonly artifacts = h("div", { class: "artifacts" });
  private readonly loss = new VegaChart(this.lossEl, curveSpec("loss"), "points");
  private readonly metric = new VegaChart(this.metricEl, curveSpec("primary metric"), "points");
  private weight = 0.6;
  private xAxis: "step" | "wall" = "step";
  private shownArtifacts = new Set<string>();

  constructor(private readonly rerender: () => void) {
    const slider = h("input", { type: "range", min: "0", max: "0.99", step: "0.01", value: String(this.weight), "aria-label": "smoothing" });
    slider.addEventListener("input", () => ((this.weight = Number(slider.value)), this.rerender()));
    const axis = h("select", { "aria-label": "x axis" }, h("option", { value: "step" }, "step"), h("option", { value: "wall" }, "wall-clock (s)"));
    axis.addEventListener("change", () => ((this.xAxis = axis.value as "step" | "wall"), this.rerender()));
    this.controls.append(h("label", {}, "smoothing ", slider), h("label", {}, " x-axis ", axis));
    this.el.append(h("h2", {}, "Training"), this.progress, this.controls, this.lossEl, this.metricEl, h("h3", {}, "Leaderboard"), this.board, this.stats, h("h3", {}, "Artifacts"), this.artifacts, h("h3", {}, "Log"), this.logs);
  }

  render(store: DashboardStore): void {
    const s = store.snapshot;
    const t0 = Math.min(...[...store.runStarted.values()], Infinity);
    const curves = (pick: (name: string, runMetric: string) => boolean) => {
      const values: unknown[] = [];
      for (const { runId, modelId } of store.runs()) {
        const run = s.runs[runId]!;
        for (const [key, points] of store.series.get(runId) ?? []) {
          const [name, split] = key.split("/") as [string, string];
          if (split === "test" || !pick(name, run.metric_primary)) continue;
          for (const p of toDrawPoints(points, { weight: this.weight, xAxis: this.xAxis, t0: store.runStarted.get(runId) ?? t0, maxPoints: MAX_DRAWN_POINTS })) {
            values.push({ ...p, series: `${modelId} ${runId.slice(-6)} · ${name} ${split}`, simulated: points[0]?.simulated ? "simulated" : "real" });
          }
        }
      }
      return values;
    };
    this.loss.update(curves((name) => name === "loss"));
    this.metric.update(curves((name, primary) => name === primary));

    replaceChildren(
      this.progress,
      ...Object.values(s.runs)
        .filter((r) => r.status === "running")
        .map((r) => {
          const p = store.progress.get(r.run_id);
          const frac = p && p.steps ? p.step / p.steps : 0;
          const bar = h("progress", { max: "1", value: String(frac) });
          return h("div", { class: "run-progress" }, h("span", {}, `${r.model_id}${r.simulated ? " (paced one-shot fit)" : ""}`), bar, h("span", {}, p ? `${p.step}/${p.steps}${p.eta_s !== null ? ` · ETA ≤ ${formatNumber(p.eta_s, 1)} s` : ""}` : "starting"));
        }),
    );

    const best = s.best;
    replaceChildren(
      this.board,
      best ? h("p", { class: "best" }, `Best: ${best.model_id} — ${best.metric.split} ${best.metric.name} ${formatNumber(best.metric.value)}`) : null,
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ...["model", "run", "validation", "test", "run (s)", "predict (µs/row)", "status"].map((c) => h("th", {}, c)))),
        h(
          "tbody",
          {},
          ...s.leaderboard.map((r) =>
            h(
              "tr",
              { class: r.run_id === best?.run_id ? "is-best" : "" },
              h("td", {}, r.model),
              h("td", {}, r.run_id ?? ""),
              h("td", {}, r.metric ? `${r.metric.name} ${formatNumber(r.metric.value)}` : "–"),
              h("td", {}, r.test_metric ? `${r.test_metric.name} ${formatNumber(r.test_metric.value)}` : "–"),
              h("td", {}, formatNumber(r.runtime_s, 3)),
              h("td", {}, r.predict_us_per_row !== undefined ? formatNumber(r.predict_us_per_row, 2) : "–"),
              h("td", {}, r.status ?? ""),
            ),
          ),
        ),
      ),
    );
    const latest = [...store.resources.values()].at(-1);
    replaceChildren(this.stats, latest ? h("p", {}, `CPU ${formatNumber(latest.cpu_pct, 1)}% · RAM ${formatNumber(latest.ram_mb, 0)} MB · ${formatNumber(latest.step_per_sec, 1)} steps/s`) : null);
    this.logs.textContent = store.logs.slice(-200).map((l) => `${new Date(l.ts * 1000).toLocaleTimeString()} ${l.level.padEnd(5)} ${l.text}`).join("\n");
    for (const a of store.artifactUrls) {
      if (this.shownArtifacts.has(a.url)) continue;
      this.shownArtifacts.add(a.url);
      const el = h("div", { class: "chart artifact" });
      this.artifacts.append(h("h4", {}, `${a.kind.replace(/_READY$/, "").replace(/_/g, " ").toLowerCase()} · ${a.run ?? ""}`), el);
      fetchAsset(a.url).then((json) => renderSpec(el, (json as { vega_lite: Record<string, unknown> }).vega_lite), (err: Error) => (el.textContent = err.message));
    }
  }
}
