/**
 * The data: sample rows (or sample images by class), the profile summary, missingness and the
 * target's distribution; for a classifier, how the best model did on the test split (its
 * confusion matrix and misclassified examples).
 */
import { EV } from "../../contract";
import { imageGrid, renderArtifact } from "./classifier-artifacts";
import type { DashboardStore } from "./dashboard-store";
import { formatNumber, h, replaceChildren } from "./dom-builder";
import { renderAsset } from "./vega-chart";

export class DataView {
  readonly el = h("section", { class: "view data" });
  private readonly sample = h("div", { class: "sample" });
  private readonly profile = h("div", { class: "profile" });
  private readonly missing = h("div", { class: "chart" });
  private readonly target = h("div", { class: "chart" });
  private readonly results = h("div", { class: "test-results" });
  private shown = { sample: "", profile: "", missing: "", target: "", results: "" };

  constructor() {
    this.el.append(
      h("h2", {}, "Sample"),
      this.sample,
      h("h2", {}, "Profile"),
      this.profile,
      h("h3", {}, "Missing values"),
      this.missing,
      h("h3", {}, "Target distribution"),
      this.target,
      this.results,
    );
  }

  render(store: DashboardStore): void {
    const s = store.snapshot;
    const sample = s.sample;
    const sampleKey = sample ? `${sample.asset_url}:${sample.n_rows}` : "";
    if (sampleKey !== this.shown.sample) {
      this.shown.sample = sampleKey;
      if (!sample) replaceChildren(this.sample, h("p", { class: "hint" }, "No data yet."));
      else if (sample.images?.length)
        replaceChildren(
          this.sample,
          h("p", {}, `${sample.n_rows.toLocaleString("en")} images; the first of each class:`),
          imageGrid(sample.images, sample.image_labels),
        );
      else {
        const rows = sample.sample_rows ?? [];
        replaceChildren(
          this.sample,
          h("p", {}, `${sample.n_rows.toLocaleString("en")} rows × ${sample.columns.length.toLocaleString("en")} columns`),
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "sample-table" },
              h("thead", {}, h("tr", {}, ...sample.columns.map((c) => h("th", {}, c)))),
              h("tbody", {}, ...rows.map((r) => h("tr", {}, ...sample.columns.map((c) => h("td", {}, cell(r[c])))))),
            ),
          ),
        );
      }
    }
    const p = s.profile;
    const profileKey = JSON.stringify(p);
    if (profileKey !== this.shown.profile) {
      this.shown.profile = profileKey;
      replaceChildren(
        this.profile,
        p
          ? h(
              "div",
              {},
              h(
                "p",
                {},
                s.intent?.task_type === "image_classification"
                  ? `${p.n_rows.toLocaleString("en")} readable images. Sizes: ${Object.entries(p.types_breakdown)
                      .map(([k, n]) => `${n.toLocaleString("en")} of ${k}`)
                      .join(", ")}.`
                  : `${p.n_rows.toLocaleString("en")} rows, ${p.n_cols.toLocaleString("en")} columns, ${formatNumber(p.missing_pct, 2)}% of cells missing. Types: ${Object.entries(
                      p.types_breakdown,
                    )
                      .map(([k, n]) => `${n} ${k}`)
                      .join(", ")}.`,
              ),
              ...(p.read_as?.length ? [h("p", { class: "hint" }, `Read as: ${p.read_as.join(" ")}`)] : []),
              p.warnings.length ? h("ul", { class: "warnings" }, ...p.warnings.map((w) => h("li", {}, w))) : h("p", { class: "hint" }, "No warnings."),
            )
          : h("p", { class: "hint" }, "Not profiled yet."),
      );
    }
    if (p && p.missing_pct === 0) {
      if (this.shown.missing !== "none")
        replaceChildren(this.missing, h("p", { class: "hint", "data-missing": "none" }, "No missing values: every cell of every column is present."));
      this.shown.missing = "none";
    } else this.chart(s.assets.missingness, "missing", this.missing);
    this.chart(s.assets.target_distribution, "target", this.target);
    this.renderResults(store);
  }

  /** A classifier's best run on the test split: its confusion matrix and the examples it got wrong. */
  private renderResults(store: DashboardStore): void {
    const best = store.snapshot.best?.run_id;
    const mine = store.artifactUrls.filter((a) => a.run === best && (a.kind === EV.CONFUSION_MATRIX_READY || a.kind === "misclassified"));
    const key = mine.map((a) => a.url).join("|");
    if (key === this.shown.results) return;
    this.shown.results = key;
    if (!mine.length) return replaceChildren(this.results);
    replaceChildren(
      this.results,
      h("h2", {}, `Test split: ${store.snapshot.best!.model_id}`),
      ...mine.flatMap((a) => {
        const el = h("div", { class: "chart artifact", "data-kind": a.kind });
        renderArtifact(el, a.kind, a.url);
        return [h("h3", {}, a.kind === "misclassified" ? "Misclassified examples" : "Confusion matrix"), el];
      }),
    );
  }

  private chart(url: string | undefined, key: "missing" | "target", el: HTMLElement): void {
    if (!url || this.shown[key] === url) return;
    this.shown[key] = url;
    renderAsset(el, url);
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "number" ? formatNumber(v) : String(v);
}
