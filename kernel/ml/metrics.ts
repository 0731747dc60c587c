/**
 * Evaluation metrics, computed the way scikit-learn computes them, so numbers can be
 * compared with a Python notebook's.
 */
import type { MetricValue } from "../../contract";

export type Split = MetricValue["split"];

/** Which direction is better, per metric name. */
export const LOWER_IS_BETTER = new Set(["rmse", "mae", "mse", "log_loss", "loss", "mase", "smape", "rmsle"]);

export function isBetter(name: string, a: number, b: number): boolean {
  return LOWER_IS_BETTER.has(name) ? a < b : a > b;
}

export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Record<"rmse" | "mae" | "r2", number> {
  const n = yTrue.length;
  let se = 0;
  let ae = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = yTrue[i]! - yPred[i]!;
    se += d * d;
    ae += Math.abs(d);
    ss += (yTrue[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2: ss > 0 ? 1 - se / ss : 0 };
}

/**
 * `proba` is n × k row-major class probabilities.
 * f1 is macro-averaged; roc_auc is binary AUC, or the macro one-vs-rest AUC for k > 2.
 */
export function classificationMetrics(yTrue: ArrayLike<number>, proba: Float64Array, k: number): Record<"accuracy" | "f1" | "log_loss" | "roc_auc", number> {
  const n = yTrue.length;
  const pred = argmaxRows(proba, n, k);
  let correct = 0;
  let logLoss = 0;
  const tp = new Float64Array(k);
  const fp = new Float64Array(k);
  const fn = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const t = yTrue[i]!;
    const p = pred[i]!;
    if (t === p) (correct++, tp[t]!++);
    else (fp[p]!++, fn[t]!++);
    logLoss -= Math.log(Math.min(1 - 1e-15, Math.max(1e-15, proba[i * k + t]!)));
  }
  let f1 = 0;
  let present = 0;
  for (let c = 0; c < k; c++) {
    if (tp[c]! + fn[c]! + fp[c]! === 0) continue;
    present++;
    const denom = 2 * tp[c]! + fp[c]! + fn[c]!;
    f1 += denom > 0 ? (2 * tp[c]!) / denom : 0;
  }
  let auc: number;
  if (k === 2) auc = binaryAuc(yTrue, (i) => proba[i * 2 + 1]!, 1);
  else {
    let sum = 0;
    let counted = 0;
    for (let c = 0; c < k; c++) {
      const a = binaryAuc(yTrue, (i) => proba[i * k + c]!, c);
      if (!Number.isNaN(a)) ((sum += a), counted++);
    }
    auc = counted ? sum / counted : NaN;
  }
  return { accuracy: correct / n, f1: present ? f1 / present : 0, log_loss: logLoss / n, roc_auc: auc };
}

export function argmaxRows(proba: Float64Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[i * k + c]! > proba[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** AUC by ranks (ties averaged): the probability a positive scores above a negative. NaN if a class is absent. */
function binaryAuc(yTrue: ArrayLike<number>, score: (i: number) => number, positive: number): number {
  const n = yTrue.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score(a) - score(b));
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && score(idx[j + 1]!) === score(idx[i]!)) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let m = i; m <= j; m++) if (yTrue[idx[m]!] === positive) (nPos++, (rankSumPos += avgRank));
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Accuracy and mean log loss of k-class probabilities (n × k, row-major), without the rest of
 * classificationMetrics: what an epoch's validation report needs. `floor` bounds a probability
 * from below (float32 probabilities reach 1e-7, not 1e-15).
 */
export function accuracyAndLogLoss(proba: ArrayLike<number>, y: ArrayLike<number>, k: number, floor = 1e-15): { accuracy: number; loss: number } {
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[i * k + c]! > proba[i * k + best]!) best = c;
    if (best === y[i]) correct++;
    loss -= Math.log(Math.max(floor, proba[i * k + y[i]!]!));
  }
  return { accuracy: y.length ? correct / y.length : 0, loss: y.length ? loss / y.length : 0 };
}
