/**
 * The gradient-descent view of 003_…: the loss surface (a sampled grid from
 * LOSS_SURFACE_GRID_READY, or a parametric one from LOSS_SURFACE_SPEC_READY, which says it is
 * illustrative) with the optimiser's path drawn over it as it streams in (GD_PATH_*).
 */
import type { EventPayload } from "../../contract";
import { formatNumber, h, replaceChildren } from "./dom-builder";
import type { DashboardStore } from "./dashboard-store";
import { fetchAsset } from "./panel-host";
import { VegaChart } from "./vega-chart";

type Surface = EventPayload<"LOSS_SURFACE_GRID_READY"> | EventPayload<"LOSS_SURFACE_SPEC_READY">;

const SPEC = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  height: 320,
  layer: [
    {
      transform: [{ filter: "datum.kind === 'cell'" }],
      // each cell outlined in its own colour: anti-aliased edges of touching rects otherwise leave hairline gaps
      mark: { type: "rect", strokeWidth: 0.6 },
      encoding: {
        stroke: { field: "z", type: "quantitative", scale: { scheme: "viridis", type: "symlog" }, legend: null },
        x: { field: "x", type: "quantitative", bin: { binned: true }, title: "direction 1" },
        x2: { field: "x2" },
        y: { field: "y", type: "quantitative", bin: { binned: true }, title: "direction 2" },
        y2: { field: "y2" },
        // no legend: before the surface arrives its scale is empty and a legend would read NaN; the notes give the range
        color: { field: "z", type: "quantitative", title: "loss", scale: { scheme: "viridis", type: "symlog" }, legend: null },
        tooltip: [{ field: "z", title: "loss", format: ".4g" }],
      },
    },
    {
      transform: [{ filter: "datum.kind === 'path'" }],
      mark: { type: "line", color: "#ff5a36", strokeWidth: 2, point: { size: 12, color: "#ff5a36" } },
      encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" }, order: { field: "step" }, tooltip: [{ field: "step" }] },
    },
  ],
};

export class GradientView {
  readonly el = h("section", { class: "view gradient" });
  private readonly notes = h("div", { class: "gd-notes" });
  private readonly chartEl = h("div", { class: "chart" });
  private readonly chart = new VegaChart(this.chartEl, SPEC, "cells");
  private grids = new Map<string, number[]>();
  private drawn = "";

  constructor(private readonly rerender: () => void) {
    this.el.append(h("h2", {}, "Gradient descent"), this.notes, this.chartEl);
  }

  render(store: DashboardStore): void {
    const runId = [...store.paths.keys()].at(-1);
    if (!runId) {
      replaceChildren(
        this.notes,
        h(
          "p",
          { class: "hint" },
          "No gradient-descent run yet. Models trained by gradient descent draw their path over their real loss surface here; tree and closed-form models have none.",
        ),
      );
      return;
    }
    const path = store.paths.get(runId)!;
    const surface = store.surfaces.get(runId);
    const hyper = store.gdHyper.get(runId);
    const diag = store.diagnostics.get(runId);
    const key = `${runId}:${path.points.length}:${surface ? "s" : ""}:${this.grids.has(runId)}`;
    if (key === this.drawn) return;
    this.drawn = key;
    replaceChildren(
      this.notes,
      h(
        "p",
        {},
        `${store.snapshot.runs[runId]?.model_id ?? ""} ${runId} · ${path.points.length} points${path.finished ? ` · ${path.finished.reason} at step ${path.finished.final_step}` : ""}`,
      ),
      surface && "surface_spec" in surface && surface.illustrative !== false ? h("p", { class: "hint" }, "Illustrative surface: not this model's loss.") : null,
      surface && "asset_url" in surface
        ? h("p", { class: "hint" }, "The model's true loss on the plane of the two main directions of its weight trajectory.")
        : null,
      hyper ? h("p", {}, `learning rate ${formatNumber(hyper.eta)} · ${hyper.steps} steps planned`) : null,
      diag ? h("p", {}, `weights ‖w‖ ${formatNumber(diag.diagnostics.weight_l2)} · gradient ‖g‖ ${formatNumber(diag.diagnostics.grad_l2)}`) : null,
    );
    const half = path.domainHalf;
    const values: unknown[] = path.points.map((p, step) => ({ kind: "path", x: p.x * half, y: p.y * half, step }));
    const cells = surface ? (this.cells(runId, surface) as Array<{ z: number }>) : [];
    values.push(...cells);
    let lo = Infinity;
    let hi = -Infinity;
    for (const { z } of cells) if (Number.isFinite(z)) ((lo = Math.min(lo, z)), (hi = Math.max(hi, z)));
    this.notes.append(
      lo <= hi
        ? h("p", { class: "hint" }, `Colour: loss from ${formatNumber(lo)} (dark) to ${formatNumber(hi)} (light), on a log-like scale.`)
        : h("p", { class: "hint" }, "The surface is drawn once it has been computed; the path streams in meanwhile."),
    );
    this.chart.update(values);
  }

  private cells(runId: string, surface: Surface): unknown[] {
    const half = "surface_spec" in surface ? surface.surface_spec.domainHalf : surface.domainHalf;
    if ("asset_url" in surface) {
      const grid = this.grids.get(runId);
      if (!grid) {
        fetchAsset(surface.asset_url).then(
          (v) => (this.grids.set(runId, v as number[]), this.rerender()),
          () => undefined,
        );
        return [];
      }
      return gridCells(surface.resolution, half, (i, j) => grid[j * surface.resolution + i]!);
    }
    const f = parametric(surface.surface_spec.kind);
    const n = 40;
    return gridCells(n, half, (i, j) => f(-half + ((i + 0.5) * 2 * half) / n, -half + ((j + 0.5) * 2 * half) / n));
  }
}

function gridCells(n: number, half: number, z: (i: number, j: number) => number): unknown[] {
  const w = (2 * half) / n;
  const out: unknown[] = [];
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) out.push({ kind: "cell", x: -half + i * w, x2: -half + (i + 1) * w, y: -half + j * w, y2: -half + (j + 1) * w, z: z(i, j) });
  return out;
}

function parametric(kind: string): (x: number, y: number) => number {
  switch (kind) {
    case "ripples":
      return (x, y) => 0.1 * (x * x + y * y) + Math.sin(x) * Math.cos(y);
    case "multi_hill":
      return (x, y) => 0.05 * (x * x + y * y) - Math.exp(-((x - 2) ** 2 + (y - 1) ** 2)) - 0.7 * Math.exp(-((x + 2) ** 2 + (y + 2) ** 2));
    default:
      return (x, y) => x * x + y * y;
  }
}
