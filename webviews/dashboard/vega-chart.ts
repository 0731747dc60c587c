/**
 * A vega-lite chart embedded once and then fed new data, so streaming updates do not rebuild
 * it. Expressions run through vega-interpreter: the panel's CSP allows no eval.
 */
import embed, { type Result } from "vega-embed";
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
    legend: { labelColor: fg, titleColor: fg },
    title: { color: fg },
    view: { stroke: "transparent" },
    range: { category: ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7"] },
  };
}

export class VegaChart {
  private result: Promise<Result> | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly spec: Record<string, unknown>,
    private readonly dataName: string,
  ) {}

  update(values: unknown[]): void {
    if (!this.result) {
      const spec = { ...this.spec, config: themeConfig(), data: { name: this.dataName, values }, autosize: { type: "fit-x", contains: "padding" }, width: "container" };
      this.result = embed(this.el, spec as never, { ast: true, expr: expressionInterpreter, actions: false, renderer: "svg", defaultStyle: false });
      return;
    }
    void this.result.then((r) => r.view.data(this.dataName, values).runAsync());
  }

  dispose(): void {
    void this.result?.then((r) => r.finalize());
  }
}

/** A one-off chart from a complete vega-lite spec (artifacts carry their own). */
export function renderSpec(el: HTMLElement, spec: Record<string, unknown>): void {
  void embed(el, { ...spec, config: themeConfig(), width: "container" } as never, { ast: true, expr: expressionInterpreter, actions: false, renderer: "svg", defaultStyle: false });
}
