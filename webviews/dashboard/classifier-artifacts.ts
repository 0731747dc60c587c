/**
 * What a classifier's run shows beside its charts: images (sample grids, misclassified test
 * images) fetched through the extension as data: URIs, since the panel never reaches the
 * conductor itself; misclassified texts as a table; every other artifact as its vega-lite chart.
 */
import { formatNumber, h, replaceChildren } from "./dom-builder";
import { fetchAsset } from "./panel-host";
import { renderSpec } from "./vega-chart";

/** An image asset, fetched through the extension (as a data: URI), into a new <img>. */
function image(url: string, alt: string): HTMLImageElement {
  const img = h("img", { alt, title: alt }) as HTMLImageElement;
  fetchAsset(url).then(
    (src) => (typeof src === "string" && src.startsWith("data:image/") ? (img.src = src) : (img.alt = `${alt} (not an image)`)),
    (err: Error) => (img.alt = `${alt}: ${err.message}`),
  );
  return img;
}

/** Sample images grouped by class: a row per class, its label first. */
export function imageGrid(urls: readonly string[], labels: readonly string[] | undefined): HTMLElement {
  const byClass = new Map<string, string[]>();
  urls.forEach((u, i) => {
    const label = labels?.[i] ?? "";
    (byClass.get(label) ?? byClass.set(label, []).get(label)!).push(u);
  });
  return h(
    "div",
    { class: "image-grid" },
    ...[...byClass].map(([label, list]) =>
      h("div", { class: "image-row" }, h("span", { class: "image-label" }, label || "—"), ...list.map((u) => image(u, label))),
    ),
  );
}

interface Misclassified {
  misclassified: number;
  test_rows: number;
  shown: Array<{ url?: string; file?: string; text?: string; actual: string; predicted: string; confidence: number }>;
}

/** A run's artifact of `kind` (an event name or an artifact type) from its JSON at `url`, drawn into `el`. */
export function renderArtifact(el: HTMLElement, kind: string, url: string): void {
  fetchAsset(url).then(
    (json) => {
      if (kind === "misclassified") return renderMisclassified(el, json as Misclassified);
      renderSpec(el, (json as { vega_lite: Record<string, unknown> }).vega_lite);
    },
    (err: Error) => replaceChildren(el, h("p", { class: "error" }, err.message)),
  );
}

function renderMisclassified(el: HTMLElement, m: Misclassified): void {
  const head = h(
    "p",
    {},
    `${m.misclassified.toLocaleString("en")} of ${m.test_rows.toLocaleString("en")} test examples misclassified; the first ${m.shown.length}:`,
  );
  if (m.shown.some((s) => s.url))
    return replaceChildren(
      el,
      head,
      h(
        "div",
        { class: "misclassified-images" },
        ...m.shown.map((s) =>
          h("figure", {}, image(s.url!, s.file ?? ""), h("figcaption", {}, `${s.actual} → ${s.predicted} (${formatNumber(s.confidence, 2)})`)),
        ),
      ),
    );
  replaceChildren(
    el,
    head,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "sample-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "true"), h("th", {}, "predicted"), h("th", {}, "confidence"), h("th", {}, "text"))),
        h(
          "tbody",
          {},
          ...m.shown.map((s) =>
            h(
              "tr",
              {},
              h("td", {}, s.actual),
              h("td", {}, s.predicted),
              h("td", {}, formatNumber(s.confidence, 2)),
              h("td", { class: "text-cell" }, s.text ?? ""),
            ),
          ),
        ),
      ),
    ),
  );
}
