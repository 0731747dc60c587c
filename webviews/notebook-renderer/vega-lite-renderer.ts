/** A notebook renderer for vega-lite outputs (application/vnd.vegalite.v5+json) from AutoML cells. */
import embed from "vega-embed";
import { expressionInterpreter } from "vega-interpreter";

interface OutputItem {
  json(): unknown;
}

export function activate() {
  return {
    renderOutputItem(item: OutputItem, element: HTMLElement) {
      const spec = item.json() as Record<string, unknown>;
      const fg = getComputedStyle(document.body).getPropertyValue("--vscode-foreground").trim() || "#444";
      void embed(
        element,
        {
          width: "container",
          ...spec,
          config: { background: "transparent", axis: { labelColor: fg, titleColor: fg }, legend: { labelColor: fg, titleColor: fg }, title: { color: fg } },
        } as never,
        {
          ast: true,
          expr: expressionInterpreter,
          actions: false,
          renderer: "svg",
        },
      );
    },
  };
}
