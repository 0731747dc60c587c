/**
 * Gaussian naive Bayes: per-class means and variances, counted in one pass. A one-shot fit,
 * paced as simulated steps by the trainer. Variance smoothing follows scikit-learn
 * (1e-9 × the largest feature variance).
 */
import type { FittedModel, Learner, Params, SavedModel } from "./learner";
import type { Matrix } from "../data/matrix";
import { softmaxRows } from "./softmax";

interface NaiveBayesState {
  log_prior: number[];
  /** classes × features, row-major */
  mean: number[];
  variance: number[];
}

export const gaussianNaiveBayes: Learner = {
  id: "gaussian_nb",
  name: "Gaussian naive Bayes",
  family: "probabilistic",
  iterative: false,
  tasks: ["classification"],
  why: "Fits in one pass and copes with few rows; a quick check of how separable the classes are.",
  defaults: { var_smoothing: 1e-9 },
  async fit(input, params) {
    const all = { ...this.defaults, ...params };
    const { x, y } = input.train;
    const { rows: n, cols: d, data } = x;
    const k = input.nClasses;
    const count = new Float64Array(k);
    const mean = new Float64Array(k * d);
    const sq = new Float64Array(k * d);
    for (let i = 0; i < n; i++) {
      const c = y[i]!;
      count[c]!++;
      for (let j = 0; j < d; j++) mean[c * d + j]! += data[i * d + j]!;
    }
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) mean[c * d + j] = count[c] ? mean[c * d + j]! / count[c]! : 0;
    for (let i = 0; i < n; i++) {
      const c = y[i]!;
      for (let j = 0; j < d; j++) sq[c * d + j]! += (data[i * d + j]! - mean[c * d + j]!) ** 2;
    }
    let maxVar = 0;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += data[i * d + j]!;
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (data[i * d + j]! - m) ** 2;
      maxVar = Math.max(maxVar, v / n);
    }
    const eps = Number(all["var_smoothing"]) * (maxVar || 1);
    const variance = Array.from(sq, (s, idx) => {
      const c = Math.floor(idx / d);
      return (count[c] ? s / count[c]! : 0) + eps;
    });
    // a class absent from training keeps a vanishing prior rather than -Infinity
    const logPrior = Array.from(count, (c) => Math.log(Math.max(c, 1e-9) / n));
    return fittedNaiveBayes(all, { log_prior: logPrior, mean: Array.from(mean), variance });
  },
  restore(saved) {
    return fittedNaiveBayes(saved.params, saved.state as unknown as NaiveBayesState);
  },
};

function fittedNaiveBayes(params: Params, state: NaiveBayesState): FittedModel {
  const k = state.log_prior.length;
  const d = state.mean.length / k;
  return {
    modelId: "gaussian_nb",
    params,
    stepsRun: 1,
    stopReason: "fitted",
    predict(x: Matrix) {
      const out = new Float64Array(x.rows * k);
      for (let i = 0; i < x.rows; i++) {
        for (let c = 0; c < k; c++) {
          let s = state.log_prior[c]!;
          for (let j = 0; j < d; j++) {
            const v = state.variance[c * d + j]!;
            const diff = x.data[i * x.cols + j]! - state.mean[c * d + j]!;
            s -= 0.5 * Math.log(2 * Math.PI * v) + (diff * diff) / (2 * v);
          }
          out[i * k + c] = s;
        }
      }
      // joint log-likelihoods → class probabilities
      return softmaxRows(out, x.rows, k);
    },
    save(): SavedModel {
      return { model_id: "gaussian_nb", params, task: "classification", n_features: d, n_classes: k, state: { ...state } };
    },
  };
}
