/**
 * Linear regression (squared error) and softmax regression (cross-entropy) fitted by
 * full-batch gradient descent with Adam. Every step's train and validation loss is the
 * real loss of the weights at that step; the weights with the best validation loss win.
 */
import { FitCancelled, type FitHooks, type FitInput, type FittedModel, type Learner, type Params, type SavedModel } from "./learner";
import type { Matrix } from "../data/matrix";
import { evenlySpacedRows, selectRows } from "./row-selection";
import { softmaxRows } from "./softmax";

interface LinearState {
  /** (features + 1) × outputs, row-major; the last row is the bias */
  weights: number[];
  outputs: number;
  /** regression trains on a standardised target */
  y_center: number;
  y_scale: number;
}

function makeLearner(task: "regression" | "classification"): Learner {
  const id = task === "regression" ? "linear_gd" : "logistic_gd";
  return {
    id,
    name: task === "regression" ? "Linear regression (gradient descent)" : "Logistic regression (gradient descent)",
    family: "linear",
    iterative: true,
    tasks: [task],
    why:
      task === "regression"
        ? "A transparent baseline: one weight per feature, trained step by step so its loss curve and descent path are real."
        : "A transparent baseline: one weight per feature and class, trained step by step so its loss curve and descent path are real.",
    defaults: { learning_rate: 0.05, max_epochs: 400, l2: 1e-4, patience: 30, tol: 1e-6 },
    async fit(input, params, hooks) {
      return fitLinear(id, task, input, { ...this.defaults, ...params }, hooks);
    },
    restore(saved) {
      return fittedLinear(saved.model_id, saved.params, saved.task, saved.state as unknown as LinearState, 0, "fitted");
    },
  };
}

export const linearRegressionGd = makeLearner("regression");
export const logisticRegressionGd = makeLearner("classification");

async function fitLinear(id: string, task: "regression" | "classification", input: FitInput, params: Params, hooks: FitHooks): Promise<FittedModel> {
  const lr = Number(params["learning_rate"]);
  const maxEpochs = Math.max(1, Math.floor(Number(params["max_epochs"])));
  const l2 = Number(params["l2"]);
  const patience = Math.max(1, Math.floor(Number(params["patience"])));
  const tol = Number(params["tol"]);
  const { train, val } = input;
  const d = train.x.cols;
  const k = task === "regression" ? 1 : input.nClasses;

  let yCenter = 0;
  let yScale = 1;
  let yTrain: Float64Array | Int32Array = train.y;
  let yVal: Float64Array | Int32Array = val.y;
  if (task === "regression") {
    const y = train.y as Float64Array;
    yCenter = y.reduce((s, v) => s + v, 0) / y.length;
    yScale = Math.sqrt(y.reduce((s, v) => s + (v - yCenter) ** 2, 0) / y.length) || 1;
    yTrain = y.map((v) => (v - yCenter) / yScale);
    yVal = (val.y as Float64Array).map((v) => (v - yCenter) / yScale);
  }

  const w = new Float64Array((d + 1) * k);
  const m = new Float64Array(w.length);
  const v = new Float64Array(w.length);
  const grad = new Float64Array(w.length);
  const beta1 = 0.9;
  const beta2 = 0.999;
  let best = { loss: Infinity, weights: w.slice(), epoch: 0 };
  const trajectory: Float64Array[] = [];
  let stopReason: "converged" | "max_steps" = "max_steps";
  let epoch = 0;

  for (epoch = 1; epoch <= maxEpochs; epoch++) {
    if (hooks.signal?.aborted) throw new FitCancelled();
    const trainHits = { correct: 0 };
    const trainLoss = lossAndGradient(task, w, train.x, yTrain, k, l2, grad, trainHits);
    let gradNorm = 0;
    let updateNorm = 0;
    let weightNorm = 0;
    for (let i = 0; i < w.length; i++) {
      const g = grad[i]!;
      gradNorm += g * g;
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      const mHat = m[i]! / (1 - beta1 ** epoch);
      const vHat = v[i]! / (1 - beta2 ** epoch);
      const update = (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
      w[i] = w[i]! - update;
      updateNorm += update * update;
      weightNorm += w[i]! * w[i]!;
    }
    trajectory.push(w.slice());
    const valHits = { correct: 0 };
    const valLoss = lossAndGradient(task, w, val.x, yVal, k, 0, null, valHits);
    const improved = valLoss < best.loss - tol * Math.max(1, Math.abs(best.loss));
    if (valLoss < best.loss) best = { loss: valLoss, weights: w.slice(), epoch };

    if (hooks.onStep) {
      const scalars: Record<string, { train?: number; val?: number }> = { loss: { train: trainLoss, val: valLoss } };
      if (task === "regression") {
        // loss is the mean squared error of the standardised target; rmse is in the target's own units
        scalars["rmse"] = { train: Math.sqrt(2 * trainLoss) * yScale, val: Math.sqrt(2 * valLoss) * yScale };
      } else {
        // counted in the loss passes (the train pass sees the weights before this step's update, as its loss does)
        scalars["accuracy"] = { train: trainHits.correct / train.x.rows, val: valHits.correct / val.x.rows };
      }
      await hooks.onStep({
        step: epoch,
        steps: maxEpochs,
        epoch,
        epochs: maxEpochs,
        scalars,
        diagnostics: {
          lr,
          weight_l2: Math.sqrt(weightNorm),
          grad_l2: Math.sqrt(gradNorm),
          update_l2: Math.sqrt(updateNorm),
          batch_size: train.x.rows,
        },
      });
    }
    if (!improved && epoch - best.epoch >= patience) {
      stopReason = "converged";
      break;
    }
  }
  const state: LinearState = { weights: Array.from(best.weights), outputs: k, y_center: yCenter, y_scale: yScale };
  // the landscape's loss is the one optimised, on at most 2,000 training rows so a 41 × 41 grid stays cheap
  const sample = selectRows({ x: train.x, y: yTrain }, evenlySpacedRows(train.x.rows, 2000));
  const descent = { trajectory, center: best.weights, lossAt: (weights: Float64Array) => lossAndGradient(task, weights, sample.x, sample.y, k, l2, null) };
  return { ...fittedLinear(id, params, task, state, Math.min(epoch, maxEpochs), stopReason), descent };
}

/**
 * Mean loss over rows (plus the L2 term), and its gradient into `grad` when given.
 * Regression: ½·mean squared error. Classification: mean cross-entropy of the softmax, and
 * the rows whose highest score is their class counted into `hits` when given (a second pass
 * for accuracy doubled a step's cost).
 */
function lossAndGradient(
  task: "regression" | "classification",
  w: Float64Array,
  x: Matrix,
  y: Float64Array | Int32Array,
  k: number,
  l2: number,
  grad: Float64Array | null,
  hits: { correct: number } | null = null,
): number {
  const { rows: n, cols: d, data } = x;
  if (grad) grad.fill(0);
  let loss = 0;
  const z = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let c = 0; c < k; c++) {
      let s = w[d * k + c]!;
      for (let j = 0; j < d; j++) s += data[row + j]! * w[j * k + c]!;
      z[c] = s;
    }
    if (task === "regression") {
      const r = z[0]! - (y[i] as number);
      loss += 0.5 * r * r;
      if (grad) {
        for (let j = 0; j < d; j++) grad[j]! += r * data[row + j]!;
        grad[d]! += r;
      }
    } else {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, z[c]!);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - max);
      const t = y[i] as number;
      loss += -(z[t]! - max - Math.log(sum));
      if (hits && z[t] === max) hits.correct++;
      if (grad) {
        for (let c = 0; c < k; c++) {
          const p = Math.exp(z[c]! - max) / sum - (c === t ? 1 : 0);
          for (let j = 0; j < d; j++) grad[j * k + c]! += p * data[row + j]!;
          grad[d * k + c]! += p;
        }
      }
    }
  }
  loss /= n;
  let penalty = 0;
  for (let j = 0; j < d * k; j++) penalty += w[j]! * w[j]!;
  loss += 0.5 * l2 * penalty;
  if (grad) {
    for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! / n;
    for (let j = 0; j < d * k; j++) grad[j]! += l2 * w[j]!;
  }
  return loss;
}

function scores(w: ArrayLike<number>, x: Matrix, k: number): Float64Array {
  const { rows: n, cols: d, data } = x;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = w[d * k + c]!;
      for (let j = 0; j < d; j++) s += data[i * d + j]! * w[j * k + c]!;
      out[i * k + c] = s;
    }
  }
  return out;
}

function fittedLinear(
  modelId: string,
  params: Params,
  task: "regression" | "classification",
  state: LinearState,
  stepsRun: number,
  stopReason: FittedModel["stopReason"],
): FittedModel {
  return {
    modelId,
    params,
    stepsRun,
    stopReason,
    predict(x) {
      const z = scores(state.weights, x, state.outputs);
      if (task === "regression") return z.map((v) => v * state.y_scale + state.y_center);
      return softmaxRows(z, x.rows, state.outputs);
    },
    save(): SavedModel {
      const d = state.weights.length / state.outputs - 1;
      return { model_id: modelId, params, task, n_features: d, n_classes: task === "regression" ? 0 : state.outputs, state: { ...state } };
    },
  };
}
