/**
 * What a finished run shows about itself on the held-out test rows: residuals (regression),
 * a confusion matrix and ROC curves (classification, one-vs-rest for more than two classes),
 * and feature importance (split gain where the model has it, and permutation importance for
 * every model). Each is a JSON asset with its data and a vega-lite spec; its PNG is rendered
 * from that spec when first asked for (see chart-png.ts), so a search's many trials cost no
 * rendering.
 */
import { EV, type MetricValue } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import { seededRandom, shuffleInPlace } from "../data/seeded-random";
import type { EventSink } from "../events/event-sink";
import type { FittedModel, LabelledSet } from "./learner";
import type { Matrix } from "../data/matrix";
import { argmaxRows, classificationMetrics, isBetter, regressionMetrics } from "./metrics";
import { evenlySpacedRows } from "./row-selection";

const VL = "https://vega.github.io/schema/vega-lite/v5.json";
/** permutation importance on at most this many test rows, for at most this many features */
const PERMUTATION_ROWS = 2000;
const PERMUTATION_FEATURES = 50;
/** the residuals chart shows at most this many test rows */
const RESIDUAL_POINTS = 5000;

export interface ArtifactRequest {
  events: EventSink;
  assets: AssetStore;
  runId: string;
  task: "regression" | "classification";
  model: FittedModel;
  test: LabelledSet;
  /** the model's predictions for the test rows (already made for the test metrics) */
  predictions: Float64Array;
  classes: string[];
  featureNames: string[];
  metric: MetricValue;
}

export function emitEvaluationArtifacts(r: ArtifactRequest): void {
  const out = r.predictions;
  if (r.task === "regression") {
    // a chart of 200,000 points is one blot and a 40 MB asset per run: at most RESIDUAL_POINTS rows, spread over the test split
    const rows = evenlySpacedRows(r.test.y.length, RESIDUAL_POINTS);
    const points = Array.from(rows, (i) => ({ actual: r.test.y[i]!, predicted: out[i]!, residual: r.test.y[i]! - out[i]! }));
    const shown =
      rows.length < r.test.y.length
        ? ` (${rows.length.toLocaleString("en")} of its ${r.test.y.length.toLocaleString("en")} rows, evenly spaced; the metrics use all of them)`
        : "";
    announce(r, "residuals", "Residuals (test)", EV.RESIDUALS_PLOT_READY, {
      test_rows: r.test.y.length,
      vega_lite: {
        $schema: VL,
        description: `Residuals on the test split${shown}`,
        data: { values: points },
        mark: { type: "point", tooltip: true },
        encoding: { x: { field: "predicted", type: "quantitative" }, y: { field: "residual", type: "quantitative" } },
      },
    });
  } else {
    const k = r.classes.length;
    const pred = argmaxRows(out, r.test.x.rows, k);
    announce(r, "confusion_matrix", "Confusion matrix (test)", EV.CONFUSION_MATRIX_READY, confusionMatrixBody(r.test.y, pred, r.classes));
    const curves = rocCurves(r.test.y, out, k, r.classes);
    announce(r, "roc_curve", "ROC curve (test)", EV.ROC_CURVE_READY, {
      curves: curves.map(({ label, auc }) => ({ label, auc })),
      vega_lite: {
        $schema: VL,
        description: k > 2 ? "ROC curves on the test split, one class against the rest" : "ROC curve on the test split",
        data: { values: curves.flatMap((c) => c.points.map((p) => ({ ...p, curve: `${c.label} (AUC ${c.auc.toFixed(3)})` }))) },
        mark: { type: "line", tooltip: true },
        encoding: {
          x: { field: "fpr", type: "quantitative", title: "false positive rate" },
          y: { field: "tpr", type: "quantitative", title: "true positive rate" },
          color: { field: "curve", type: "nominal" },
          order: { field: "fpr" },
        },
      },
    });
  }
  const importances = featureImportance(r);
  announce(r, "feature_importance", "Feature importance (test)", EV.FEATURE_IMPORTANCE_READY, {
    features: importances,
    vega_lite: {
      $schema: VL,
      description: `Permutation importance on the test split (drop in ${r.metric.name} when a feature is shuffled)${importances.some((f) => f.gain !== null) ? ", and each feature's share of split gain" : ""}`,
      data: { values: importances.slice(0, 25) },
      mark: { type: "bar", tooltip: true },
      encoding: { y: { field: "feature", type: "nominal", sort: "-x" }, x: { field: "permutation", type: "quantitative", title: `drop in ${r.metric.name}` } },
    },
  });
}

function announce(
  r: ArtifactRequest,
  kind: string,
  name: string,
  ready: typeof EV.RESIDUALS_PLOT_READY | typeof EV.CONFUSION_MATRIX_READY | typeof EV.ROC_CURVE_READY | typeof EV.FEATURE_IMPORTANCE_READY,
  body: Record<string, unknown>,
): void {
  const rel = `runs/${r.runId}/${kind}.json`;
  const written = r.assets.writeJson(rel, { run_id: r.runId, split: "test", ...body });
  r.events.emit(EV.ARTIFACT_ADDED, {
    artifact: {
      id: `${r.runId}-${kind}`,
      type: kind,
      name,
      url: written.url,
      meta: { run_id: r.runId, format: "json", png: r.assets.url(rel.replace(/\.json$/, ".png")) },
    },
  });
  r.events.emit(ready, { asset_url: written.url, run_id: r.runId });
}

/** ROC points and AUC per class (one class for a binary task: the positive one). */
function rocCurves(y: ArrayLike<number>, proba: Float64Array, k: number, classes: string[]) {
  const n = y.length;
  const targets = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  return targets.map((c) => {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => proba[b * k + c]! - proba[a * k + c]!);
    const pos = order.filter((i) => y[i] === c).length;
    const neg = n - pos;
    const points = [{ fpr: 0, tpr: 0 }];
    let tp = 0;
    let fp = 0;
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      if (y[i] === c) tp++;
      else fp++;
      const tie = j + 1 < n && proba[order[j + 1]! * k + c] === proba[i * k + c];
      if (!tie) points.push({ fpr: neg ? fp / neg : 0, tpr: pos ? tp / pos : 0 });
    }
    let auc = 0;
    for (let j = 1; j < points.length; j++) auc += ((points[j]!.fpr - points[j - 1]!.fpr) * (points[j]!.tpr + points[j - 1]!.tpr)) / 2;
    return { label: classes[c]!, auc, points };
  });
}

/** Permutation importance (seeded) on a sample of the test rows, plus gain shares when the model has them. */
function featureImportance(r: ArtifactRequest): Array<{ feature: string; permutation: number; gain: number | null }> {
  const { x, y } = r.test;
  const rows = Math.min(x.rows, PERMUTATION_ROWS);
  const sample: Matrix = { data: x.data.slice(0, rows * x.cols), rows, cols: x.cols };
  const ys = y.slice(0, rows);
  const k = Math.max(2, r.classes.length);
  const score = (m: Matrix) => {
    const out = r.model.predict(m);
    const all = r.task === "regression" ? regressionMetrics(ys, out) : classificationMetrics(ys, out, k);
    return (all as Record<string, number>)[r.metric.name] ?? NaN;
  };
  const base = score(sample);
  const gains = r.model.gainImportance?.() ?? null;
  const random = seededRandom(7);
  const result = r.featureNames.map((feature, j) => ({ feature, permutation: 0, gain: gains ? (gains[j] ?? 0) : null }));
  const order = gains ? result.map((_, j) => j).sort((a, b) => gains[b]! - gains[a]!) : result.map((_, j) => j);
  for (const j of order.slice(0, PERMUTATION_FEATURES)) {
    const shuffled: Matrix = { data: sample.data.slice(), rows, cols: x.cols };
    const column = shuffleInPlace(
      Array.from({ length: rows }, (_, i) => sample.data[i * x.cols + j]!),
      random,
    );
    column.forEach((v, i) => (shuffled.data[i * x.cols + j] = v));
    const s = score(shuffled);
    // how much worse the score got: positive means the feature mattered
    result[j]!.permutation = isBetter(r.metric.name, base, s) ? Math.abs(base - s) : -Math.abs(base - s);
  }
  return result.sort((a, b) => b.permutation - a.permutation);
}

/** The confusion matrix of the test rows (rows: the actual class, columns: the predicted), with its chart. */
export function confusionMatrixBody(y: ArrayLike<number>, predicted: ArrayLike<number>, classes: string[]): Record<string, unknown> {
  const k = classes.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < y.length; i++) matrix[y[i]!]![predicted[i]!]!++;
  const cells = matrix.flatMap((row, a) => row.map((count, p) => ({ actual: classes[a]!, predicted: classes[p]!, count })));
  const axis = (field: string) => ({ field, type: "nominal", sort: classes, axis: { labelLimit: 140 } });
  return {
    labels: classes,
    matrix,
    vega_lite: {
      $schema: VL,
      description: "Confusion matrix on the test split",
      data: { values: cells },
      layer: [
        { mark: { type: "rect", tooltip: true }, encoding: { x: axis("predicted"), y: axis("actual"), color: { field: "count", type: "quantitative" } } },
        {
          mark: { type: "text" },
          encoding: {
            x: axis("predicted"),
            y: axis("actual"),
            text: { field: "count", type: "quantitative" },
            // dark cells get light text: readable in both themes' PNGs
            color: { condition: { test: `datum.count > ${Math.max(1, Math.max(...matrix.flat()) / 2)}`, value: "white" }, value: "black" },
          },
        },
      ],
    },
  };
}

/** Each class's precision, recall and F1 on the test rows, with its chart. */
export function perClassBody(y: ArrayLike<number>, predicted: ArrayLike<number>, classes: string[]): Record<string, unknown> {
  const k = classes.length;
  const tp = new Array<number>(k).fill(0);
  const fp = new Array<number>(k).fill(0);
  const fn = new Array<number>(k).fill(0);
  for (let i = 0; i < y.length; i++) {
    if (y[i] === predicted[i]) tp[y[i]!]!++;
    else (fp[predicted[i]!]!++, fn[y[i]!]!++);
  }
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const rows = classes.map((label, c) => {
    const precision = tp[c]! + fp[c]! ? tp[c]! / (tp[c]! + fp[c]!) : 0;
    const recall = tp[c]! + fn[c]! ? tp[c]! / (tp[c]! + fn[c]!) : 0;
    return {
      label,
      precision: round(precision),
      recall: round(recall),
      f1: round(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
      support: tp[c]! + fn[c]!,
    };
  });
  return {
    classes: rows,
    vega_lite: {
      $schema: VL,
      description: "Precision and recall of each class on the test split",
      data: { values: rows },
      transform: [{ fold: ["precision", "recall"], as: ["measure", "value"] }],
      mark: { type: "bar", tooltip: true },
      encoding: {
        y: { field: "label", type: "nominal", sort: classes, title: null },
        yOffset: { field: "measure" },
        x: { field: "value", type: "quantitative", scale: { domain: [0, 1] } },
        color: { field: "measure", type: "nominal", title: null },
      },
    },
  };
}
