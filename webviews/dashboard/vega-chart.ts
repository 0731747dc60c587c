/**
 * vega-lite charts in the dashboard. A streaming chart is embedded once and then fed new data,
 * so updates do not rebuild it. Every chart is registered so that it follows its panel: it is
 * resized when its box changes (a tab hidden while the panel was resized draws at zero width
 * until then) and rebuilt with the new colours when VS Code's theme changes. Expressions run
 * through vega-interpreter: the panel's CSP allows no eval.
 */
import embed, { type Result } from "vega-embed";
import { h, replaceChildren } from "./dom-builder";
import { fetchAsset } from "./panel-host";
import { expressionInterpreter } from "vega-interpreter";

/** Chart colours from the VS Code theme, so light and dark themes both read well. */
export function themeConfig(): Record<string, unknown> {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const fg = v("--vscode-foreground", "#444");
  const grid = v("--vscode-editorWidget-border", "#8884");
  return {
    background: "transparent",
    font: v("--vscode-font-family", "sans-serif"),
    axis: { labelColor: fg, titleColor: fg, domainColor: grid, tickColor: grid, gridColor: grid, gridOpacity: 0.4 },
    legend: { labelColor: fg, titleColor: fg, labelLimit: 260 },
    title: { color: fg },
    view: { stroke: "transparent" },
    range: { category: ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7"] },
  };
}

const EMBED_OPTIONS = { ast: true, expr: expressionInterpreter, actions: false, renderer: "svg", defaultStyle: false } as const;

interface Drawn {
  el: HTMLElement;
  /** embeds (again) with the current theme */
  draw(): void;
  result: Promise<Result> | null;
}

/** the chart drawn in each element: a new chart in an element replaces the old one's registration */
const drawn = new Map<Element, Drawn>();
const widths = new WeakMap<Element, number>();
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const width = Math.round(entry.contentRect.width);
    if (width === 0 || widths.get(entry.target) === width) continue; // hidden, or unchanged
    widths.set(entry.target, width);
    void drawn.get(entry.target)?.result?.then((r) => r.view.width(width).resize().runAsync());
  }
});
// VS Code changes the body's class (vscode-light/-dark) and its style (the colour variables) on a theme change
const themeKey = () => `${document.body.className}|${document.body.getAttribute("style") ?? ""}`;
let drawnTheme = themeKey();
new MutationObserver(() => {
  if (themeKey() === drawnTheme) return;
  drawnTheme = themeKey();
  for (const d of drawn.values()) d.draw();
}).observe(document.body, { attributes: true, attributeFilter: ["class", "style"] });

/** Registers `d` as its element's chart; the chart it replaces there, if any, is finalized. */
function track(d: Drawn): Promise<Result> | null {
  const replaced = drawn.get(d.el);
  drawn.set(d.el, d);
  resizer.observe(d.el);
  return replaced && replaced !== d ? replaced.result : null;
}

function embedInto(el: HTMLElement, spec: Record<string, unknown>, previous: Promise<Result> | null): Promise<Result> {
  void previous?.then((r) => r.finalize());
  const width = el.clientWidth;
  // fit the box it has; a hidden box (width 0) gets a provisional width, corrected when it shows
  // padding on every side: a rotated axis title at the left edge was cut off without it
  const sized = { ...spec, config: themeConfig(), autosize: { type: "fit-x", contains: "padding" }, padding: 8, width: width > 0 ? width : 600 };
  return embed(el, sized as never, EMBED_OPTIONS);
}

export class VegaChart implements Drawn {
  result: Promise<Result> | null = null;
  private values: unknown[] = [];

  constructor(
    readonly el: HTMLElement,
    private readonly spec: Record<string, unknown>,
    private readonly dataName: string,
  ) {}

  update(values: unknown[]): void {
    this.values = values;
    if (!this.result) {
      this.result = track(this);
      this.draw();
      return;
    }
    void this.result.then((r) => r.view.data(this.dataName, values).resize().runAsync());
  }

  draw(): void {
    this.result = embedInto(this.el, { ...this.spec, data: { name: this.dataName, values: this.values } }, this.result);
  }

  dispose(): void {
    if (drawn.get(this.el) === this) {
      drawn.delete(this.el);
      resizer.unobserve(this.el);
    }
    void this.result?.then((r) => r.finalize());
  }
}

/** A one-off chart from a complete vega-lite spec (artifacts carry their own). */
export function renderSpec(el: HTMLElement, spec: Record<string, unknown>): void {
  const chart: Drawn = {
    el,
    result: null,
    draw() {
      chart.result = embedInto(el, spec, chart.result);
    },
  };
  chart.result = track(chart);
  chart.draw();
}

/** The chart of a JSON asset that carries its vega-lite spec (an artifact), fetched through the extension; its error in its place if it cannot be read. */
export function renderAsset(el: HTMLElement, url: string): void {
  fetchAsset(url).then(
    (json) => renderSpec(el, (json as { vega_lite: Record<string, unknown> }).vega_lite),
    (err: Error) => replaceChildren(el, h("p", { class: "error" }, err.message)),
  );
}
