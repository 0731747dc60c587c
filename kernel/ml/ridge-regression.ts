/**
 * Ridge regression solved in closed form, (XᵀX + αI)w = Xᵀy on centred data, by Cholesky
 * (or its dual, n × n, when there are more columns than rows).
 * A one-shot fit: there are no steps to report, so the trainer paces it as simulated.
 */
import type { FittedModel, Learner, Params, SavedModel } from "./learner";
import type { Matrix } from "../data/matrix";

interface RidgeState {
  weights: number[];
  intercept: number;
}

export const ridgeRegression: Learner = {
  id: "ridge",
  name: "Ridge regression (closed form)",
  family: "linear",
  iterative: false,
  tasks: ["regression"],
  why: "The exact least-squares answer with a little shrinkage: a strong, instant reference for the gradient-descent fit.",
  defaults: { alpha: 1.0 },
  async fit(input, params) {
    const alpha = Number({ ...this.defaults, ...params }["alpha"]);
    const { x, y } = input.train;
    const { rows: n, cols: d, data } = x;
    const xMean = new Float64Array(d);
    let yMean = 0;
    for (let i = 0; i < n; i++) {
      yMean += y[i]!;
      for (let j = 0; j < d; j++) xMean[j]! += data[i * d + j]!;
    }
    yMean /= n;
    for (let j = 0; j < d; j++) xMean[j] = xMean[j]! / n;
    // more columns than rows (a 50 × 5,000 table): the dual system is n × n instead of d × d,
    // w = Xᵀ(XXᵀ + αI)⁻¹y, the same weights (push-through identity) at a fraction of the cost
    const w = d > n ? dualWeights(data, y, xMean, yMean, n, d, alpha) : primalWeights(data, y, xMean, yMean, n, d, alpha);
    let intercept = yMean;
    for (let j = 0; j < d; j++) intercept -= w[j]! * xMean[j]!;
    return fittedRidge({ ...this.defaults, ...params }, { weights: Array.from(w), intercept });
  },
  restore(saved) {
    return fittedRidge(saved.params, saved.state as unknown as RidgeState);
  },
};

/** (XᵀX + αI)w = Xᵀy on centred data: a d × d system. */
function primalWeights(
  data: Float64Array,
  y: Float64Array | Int32Array,
  xMean: Float64Array,
  yMean: number,
  n: number,
  d: number,
  alpha: number,
): Float64Array {
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const yc = y[i]! - yMean;
    for (let j = 0; j < d; j++) {
      const xj = data[i * d + j]! - xMean[j]!;
      b[j]! += xj * yc;
      for (let l = 0; l <= j; l++) a[j * d + l]! += xj * (data[i * d + l]! - xMean[l]!);
    }
  }
  for (let j = 0; j < d; j++) {
    a[j * d + j]! += alpha;
    for (let l = 0; l < j; l++) a[l * d + j] = a[j * d + l]!;
  }
  return choleskySolve(a, b, d);
}

/** (XXᵀ + αI)c = y, then w = Xᵀc, on centred data: an n × n system, for d > n. */
function dualWeights(data: Float64Array, y: Float64Array | Int32Array, xMean: Float64Array, yMean: number, n: number, d: number, alpha: number): Float64Array {
  const xc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xc[i * d + j] = data[i * d + j]! - xMean[j]!;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l <= i; l++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += xc[i * d + j]! * xc[l * d + j]!;
      k[i * n + l] = s;
      k[l * n + i] = s;
    }
    k[i * n + i]! += alpha;
  }
  const yc = Float64Array.from(y, (v) => v - yMean);
  const c = choleskySolve(k, yc, n);
  const w = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) w[j]! += xc[i * d + j]! * c[i]!;
  return w;
}

function fittedRidge(params: Params, state: RidgeState): FittedModel {
  return {
    modelId: "ridge",
    params,
    stepsRun: 1,
    stopReason: "fitted",
    predict(x: Matrix) {
      const out = new Float64Array(x.rows);
      for (let i = 0; i < x.rows; i++) {
        let s = state.intercept;
        for (let j = 0; j < x.cols; j++) s += x.data[i * x.cols + j]! * state.weights[j]!;
        out[i] = s;
      }
      return out;
    },
    save(): SavedModel {
      return { model_id: "ridge", params, task: "regression", n_features: state.weights.length, n_classes: 0, state: { ...state } };
    },
  };
}

/** Solves A w = b for symmetric positive definite A (d × d, row-major). */
function choleskySolve(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (s <= 0) throw new Error("ridge system is not positive definite; increase alpha");
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * d + k]! * z[k]!;
    z[i] = s / l[i * d + i]!;
  }
  const w = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * w[k]!;
    w[i] = s / l[i * d + i]!;
  }
  return w;
}
