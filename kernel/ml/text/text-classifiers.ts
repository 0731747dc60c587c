/**
 * Classifiers of TF-IDF rows: logistic regression and a linear SVM (squared hinge, one
 * against the rest, as scikit-learn's LinearSVC), both L2-regularised with strength 1/C and
 * fitted by stochastic gradient descent epoch by epoch (each epoch's training loss and
 * validation accuracy are real, for the training charts; the best epoch's weights are kept
 * and training stops when validation accuracy has not improved for `patience` epochs); and
 * multinomial naive Bayes, fitted in one pass. A new classifier is an entry in TEXT_LEARNERS.
 */
import { seededRandom, shuffleInPlace } from "../../data/seeded-random";
import type { Params } from "../learner";
import { accuracyAndLogLoss } from "../metrics";
import type { SparseRows } from "./sparse-rows";

export interface EpochReport {
  epoch: number;
  epochs: number;
  train_loss: number;
  val_accuracy: number | null;
  val_loss: number | null;
}

export interface TextFitHooks {
  /** rows scored after every epoch (the validation split) */
  val?: { x: SparseRows; y: Int32Array };
  /** called after every epoch; resolving true stops the fit */
  onEpoch?(report: EpochReport): Promise<boolean | void>;
  signal?: AbortSignal;
  seed: number;
}

/** A fitted classifier's arrays, as its model file keeps them. */
export type TextModelState =
  | {
      kind: "linear";
      loss: "log" | "squared_hinge";
      outputs: number;
      weights: Float32Array;
      bias: Float32Array;
      /** an SVM's margins are multiplied by this before the softmax: fitted on the validation rows so its probabilities mean something */
      scale?: number;
      /** each class's share of the training texts: what a text with no known word or n-gram is given */
      prior?: Float32Array;
    }
  | { kind: "naive_bayes"; logProb: Float32Array; logPrior: Float32Array };

export interface TextLearner {
  id: string;
  name: string;
  family: string;
  why: string;
  defaults: Params;
  /** the settings a time-budgeted search tries after the defaults */
  searchSpace(): Params[];
  fit(x: SparseRows, y: Int32Array, k: number, params: Params, hooks: TextFitHooks): Promise<{ state: TextModelState; epochs: number }>;
}

/** Each row's class probabilities (n × k, row-major); a linear SVM's are the softmax of its margins, scores rather than calibrated probabilities. */
export function textScores(state: TextModelState, x: SparseRows, k: number): Float64Array {
  const out = new Float64Array(x.rows * k);
  const margins = new Float64Array(k);
  for (let r = 0; r < x.rows; r++) {
    // a text with no feature the model knows (an empty one) has nothing to go on but how common each class was
    if (state.kind === "linear" && state.prior && x.indptr[r] === x.indptr[r + 1]) {
      for (let c = 0; c < k; c++) out[r * k + c] = state.prior[c]!;
      continue;
    }
    rowMargins(state, x, r, k, margins);
    if (state.kind === "linear" && state.scale !== undefined) for (let c = 0; c < margins.length; c++) margins[c]! *= state.scale;
    if (state.kind === "linear" && state.outputs === 1) {
      const p = sigmoid(margins[0]!);
      out[r * k] = 1 - p;
      out[r * k + 1] = p;
    } else softmaxInto(margins, out, r * k);
  }
  return out;
}

function rowMargins(state: TextModelState, x: SparseRows, r: number, k: number, into: Float64Array): void {
  const a = x.indptr[r]!;
  const b = x.indptr[r + 1]!;
  if (state.kind === "naive_bayes") {
    for (let c = 0; c < k; c++) {
      let s = state.logPrior[c]!;
      for (let j = a; j < b; j++) s += x.values[j]! * state.logProb[c * x.cols + x.indices[j]!]!;
      into[c] = s;
    }
    return;
  }
  const d = x.cols;
  for (let c = 0; c < state.outputs; c++) {
    let s = state.bias[c]!;
    for (let j = a; j < b; j++) s += x.values[j]! * state.weights[c * d + x.indices[j]!]!;
    into[c] = s;
  }
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function softmaxInto(m: Float64Array, out: Float64Array, at: number): void {
  let max = -Infinity;
  for (const v of m) max = Math.max(max, v);
  let sum = 0;
  for (let c = 0; c < m.length; c++) sum += out[at + c] = Math.exp(m[c]! - max);
  for (let c = 0; c < m.length; c++) out[at + c]! /= sum;
}

/**
 * SGD on the L2-regularised loss with scikit-learn's "optimal" step size 1/(λ(t0 + t)) (λ =
 * 1/(C n)), the weights kept as a scale times a vector so the regularisation of a step costs
 * one multiplication, not a pass over every feature.
 */
async function fitLinear(loss: "log" | "squared_hinge", x: SparseRows, y: Int32Array, k: number, params: Params, hooks: TextFitHooks) {
  const C = Number(params["C"] ?? 1);
  const maxEpochs = Math.max(1, Math.round(Number(params["epochs"] ?? 30)));
  const patience = Math.max(1, Math.round(Number(params["patience"] ?? 4)));
  if (!(C > 0)) throw new Error(`C must be above 0 (it is ${C})`);
  const n = x.rows;
  const d = x.cols;
  const outputs = k === 2 ? 1 : k;
  const lambda = 1 / (C * n);
  const v = new Float64Array(outputs * d);
  const bias = new Float64Array(outputs);
  let scale = 1;
  // the starting step, as scikit-learn's "optimal" schedule picks it
  const typw = Math.sqrt(1 / Math.sqrt(lambda));
  const eta0 = typw / Math.max(1, loss === "log" ? 0.5 : 2 * (1 + typw));
  const t0 = 1 / (eta0 * lambda);
  let t = 0;
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(hooks.seed);
  const margins = new Float64Array(outputs);
  const grad = new Float64Array(outputs);
  let best: { accuracy: number; weights: Float32Array; bias: Float32Array; epoch: number } | null = null;
  let epochsRun = 0;
  const linearState = (): TextModelState & { kind: "linear" } => ({
    kind: "linear",
    loss,
    outputs,
    weights: Float32Array.from(v, (w) => w * scale),
    bias: Float32Array.from(bias),
  });
  for (let epoch = 1; epoch <= maxEpochs; epoch++) {
    hooks.signal?.throwIfAborted();
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (const r of order) {
      const eta = 1 / (lambda * (t0 + t++));
      const a = x.indptr[r]!;
      const b = x.indptr[r + 1]!;
      for (let c = 0; c < outputs; c++) {
        let s = 0;
        for (let j = a; j < b; j++) s += x.values[j]! * v[c * d + x.indices[j]!]!;
        margins[c] = s * scale + bias[c]!;
      }
      lossSum += lossAndGradient(loss, margins, y[r]!, outputs, grad);
      scale *= 1 - eta * lambda;
      if (scale < 1e-9) {
        for (let i = 0; i < v.length; i++) v[i]! *= scale;
        scale = 1;
      }
      for (let c = 0; c < outputs; c++) {
        const g = grad[c]!;
        if (g === 0) continue;
        const step = (eta * g) / scale;
        for (let j = a; j < b; j++) v[c * d + x.indices[j]!]! -= step * x.values[j]!;
        bias[c]! -= eta * g * 0.01; // scikit-learn's smaller step for the intercept of sparse data
      }
    }
    epochsRun = epoch;
    const report: EpochReport = { epoch, epochs: maxEpochs, train_loss: lossSum / n, val_accuracy: null, val_loss: null };
    if (hooks.val && hooks.val.x.rows > 0) {
      const s = linearState();
      const scored = textScores(s, hooks.val.x, k);
      ({ accuracy: report.val_accuracy, loss: report.val_loss } = accuracyAndLogLoss(scored, hooks.val.y, k));
      if (!best || report.val_accuracy > best.accuracy) best = { accuracy: report.val_accuracy, weights: s.weights, bias: s.bias, epoch };
    }
    const stop = await hooks.onEpoch?.(report);
    if (stop || (best && epoch - best.epoch >= patience)) break;
  }
  const prior = new Float32Array(k);
  for (const c of y) prior[c]! += 1 / n;
  const fitted: TextModelState & { kind: "linear" } = {
    ...(best ? { kind: "linear", loss, outputs, weights: best.weights, bias: best.bias } : linearState()),
    prior,
  };
  return { state: loss === "squared_hinge" && hooks.val?.x.rows ? calibrated(fitted, hooks.val, k) : fitted, epochs: epochsRun };
}

/**
 * The SVM with the scale of its margins that gives the validation rows the lowest log loss (a
 * one-parameter Platt scaling, searched on a log grid then by golden section): its ranking and
 * its predictions stay the same, its probabilities become calibrated ones.
 */
function calibrated(state: TextModelState & { kind: "linear" }, val: { x: SparseRows; y: Int32Array }, k: number): TextModelState {
  const lossAt = (logScale: number) => accuracyAndLogLoss(textScores({ ...state, scale: Math.exp(logScale) }, val.x, k), val.y, k).loss;
  let lo = -4;
  let hi = 4;
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = lossAt(a);
  let fb = lossAt(b);
  for (let i = 0; i < 30; i++) {
    if (fa < fb) ((hi = b), (b = a), (fb = fa), (a = hi - phi * (hi - lo)), (fa = lossAt(a)));
    else ((lo = a), (a = b), (fa = fb), (b = lo + phi * (hi - lo)), (fb = lossAt(b)));
  }
  return { ...state, scale: Math.exp((lo + hi) / 2) };
}

/** The sample's loss, and its gradient with respect to each output's margin. */
function lossAndGradient(loss: "log" | "squared_hinge", m: Float64Array, label: number, outputs: number, grad: Float64Array): number {
  if (loss === "log") {
    if (outputs === 1) {
      const target = label === 1 ? 1 : 0;
      const p = sigmoid(m[0]!);
      grad[0] = p - target;
      return -Math.log(Math.max(1e-15, target ? p : 1 - p));
    }
    let max = -Infinity;
    for (let c = 0; c < outputs; c++) max = Math.max(max, m[c]!);
    let sum = 0;
    for (let c = 0; c < outputs; c++) sum += grad[c] = Math.exp(m[c]! - max);
    for (let c = 0; c < outputs; c++) grad[c]! /= sum;
    const p = grad[label]!;
    grad[label]! -= 1;
    return -Math.log(Math.max(1e-15, p));
  }
  // squared hinge, one output against the rest per class (one output for two classes)
  let total = 0;
  for (let c = 0; c < outputs; c++) {
    const target = outputs === 1 ? (label === 1 ? 1 : -1) : label === c ? 1 : -1;
    const z = 1 - target * m[c]!;
    grad[c] = z > 0 ? -2 * target * z : 0;
    total += z > 0 ? z * z : 0;
  }
  return total;
}

/** Multinomial naive Bayes on the TF-IDF weights (as scikit-learn's MultinomialNB on TfidfVectorizer output), additive smoothing `alpha`. */
async function fitNaiveBayes(x: SparseRows, y: Int32Array, k: number, params: Params) {
  const alpha = Number(params["alpha"] ?? 0.1);
  if (!(alpha > 0)) throw new Error(`alpha must be above 0 (it is ${alpha})`);
  const d = x.cols;
  const counts = new Float64Array(k * d);
  const classRows = new Float64Array(k);
  for (let r = 0; r < x.rows; r++) {
    const c = y[r]!;
    classRows[c]!++;
    for (let j = x.indptr[r]!; j < x.indptr[r + 1]!; j++) counts[c * d + x.indices[j]!]! += x.values[j]!;
  }
  const logProb = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    let total = 0;
    for (let f = 0; f < d; f++) total += counts[c * d + f]! + alpha;
    for (let f = 0; f < d; f++) logProb[c * d + f] = Math.log((counts[c * d + f]! + alpha) / total);
  }
  const logPrior = Float32Array.from(classRows, (m) => Math.log(Math.max(m, 1e-12) / x.rows));
  return { state: { kind: "naive_bayes" as const, logProb, logPrior }, epochs: 1 };
}

export const TEXT_LEARNERS: readonly TextLearner[] = [
  {
    id: "text_logistic_regression",
    name: "Logistic regression on TF-IDF",
    family: "linear",
    why: "the standard strong baseline for text: a weight per word and character n-gram, calibrated probabilities, and its weights say which terms point to which class",
    defaults: { C: 10, epochs: 30, patience: 4 },
    searchSpace: () => [{ C: 1 }, { C: 100 }, { C: 3 }, { C: 30 }],
    fit: (x, y, k, params, hooks) => fitLinear("log", x, y, k, params, hooks),
  },
  {
    id: "text_linear_svm",
    name: "Linear SVM on TF-IDF",
    family: "linear",
    why: "a maximum-margin linear model, often the most accurate on sparse text features; its scores rank well but are not probabilities",
    defaults: { C: 1, epochs: 30, patience: 4 },
    searchSpace: () => [{ C: 0.3 }, { C: 3 }, { C: 0.1 }, { C: 10 }],
    fit: (x, y, k, params, hooks) => fitLinear("squared_hinge", x, y, k, params, hooks),
  },
  {
    id: "text_naive_bayes",
    name: "Multinomial naive Bayes on TF-IDF",
    family: "probabilistic",
    why: "fitted in one pass over the texts: the fastest model, strong when there are few texts per class",
    defaults: { alpha: 0.1 },
    searchSpace: () => [{ alpha: 0.01 }, { alpha: 0.03 }, { alpha: 0.3 }, { alpha: 1 }],
    fit: (x, y, k, params) => fitNaiveBayes(x, y, k, params),
  },
];

export function findTextLearner(id: string): TextLearner | undefined {
  return TEXT_LEARNERS.find((l) => l.id === id);
}
