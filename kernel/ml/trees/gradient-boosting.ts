/**
 * Histogram gradient boosting: scikit-learn's HistGradientBoosting defaults (255 bins, 31
 * leaves, 20 rows per leaf, learning rate 0.1, early stopping on a validation split), with
 * row and column subsampling, L2 on leaf values, squared / absolute / Huber loss for
 * regression and log loss for classification (one tree per class and round for multiclass).
 * Each round's real training and validation loss is reported as a step.
 */
import { availableParallelism } from "node:os";
import { seededRandom } from "../../data/seeded-random";
import { FitCancelled, type FitHooks, type FitInput, type FittedModel, type Learner, type Params, type SavedModel } from "../learner";
import type { Matrix } from "../../data/matrix";
import { evenlySpacedRows, selectTargets } from "../row-selection";
import { softmaxRows } from "../softmax";
import { applyBins, fitBins, reviveMapper, serialiseMapper, type BinMapper, type PartRunner } from "./feature-binning";
import { TreeGrower, addTreeValues, growerThreads, type LeafRows, type Tree } from "./histogram-tree";
import { leaseShardWorkers, releaseShardWorkers, runInParts, type PartRange, type ShardWorker } from "./shard-workers";
import { sharedBytes, sharedCopy, sharedMirror, sharedScratch } from "./shared-memory";
import { compileTrees, predictCompiledTrees, type CompiledTrees, type CompiledTreesJob } from "./compiled-trees";
import { packFields, unpackFields } from "./packed-arrays";

type Loss = "squared_error" | "absolute_error" | "huber" | "log_loss";

/** Tables of fewer rows are binned on one thread, and fewer rows' gradients computed on one. */
const PARALLEL_BIN_MIN_ROWS = 10_000;
const PARALLEL_GRADIENT_MIN_ROWS = 20_000;
/** Predictions for this many rows or more run through compiled trees (compiled-trees.ts), split between threads from PARALLEL_PREDICT_MIN_ROWS a thread. */
const COMPILED_PREDICT_MIN_ROWS = 16_384;
const PARALLEL_PREDICT_MIN_ROWS = 8_192;

interface BoostedState {
  loss: Loss;
  k: number;
  baseline: number[];
  learningRate: number;
  /** trees[round * k + class] */
  trees: Tree[];
  mapper: BinMapper;
}

export const histGradientBoosting: Learner = {
  id: "hist_gbdt",
  name: "Histogram gradient boosting",
  family: "gradient_boosted_trees",
  iterative: true,
  tasks: ["regression", "classification"],
  why: "Usually the strongest model on tables: captures non-linear effects and interactions, handles missing values, and trains fast on binned features.",
  defaults: {
    learning_rate: 0.1,
    max_iter: 100,
    max_leaf_nodes: 31,
    max_depth: 1000,
    min_samples_leaf: 20,
    l2_regularization: 0,
    max_bins: 255,
    subsample: 1,
    colsample: 1,
    n_iter_no_change: 10,
    tol: 1e-7,
    loss: "auto",
    huber_delta: 1,
    seed: 0,
    /** threads to grow trees with; 0: all cores when the table is big enough to pay */
    n_threads: 0,
  },
  async fit(input, params, hooks) {
    return fitBoosting({ ...this.defaults, ...params }, input, hooks);
  },
  restore(saved) {
    return fittedBoosting(saved.params, reviveState(saved.state), 0, "fitted");
  },
};

async function fitBoosting(params: Params, input: FitInput, hooks: FitHooks): Promise<FittedModel> {
  // leased for the whole fit: the workers bin the table (columns' edges, then rows) and grow the trees
  const threads = growerThreads(input.train.x.rows, input.train.x.cols, Number(params["n_threads"]));
  const workers = threads > 1 ? leaseShardWorkers(threads - 1) : [];
  try {
    return await boost(params, input, hooks, workers);
  } finally {
    releaseShardWorkers(workers); // also on cancel or failure
  }
}

async function boost(params: Params, input: FitInput, hooks: FitHooks, workers: ShardWorker[]): Promise<FittedModel> {
  const num = (k: string) => Number(params[k]);
  const classification = input.task === "classification";
  const loss: Loss = classification ? "log_loss" : params["loss"] === "auto" ? "squared_error" : (params["loss"] as Loss);
  const k = classification && input.nClasses > 2 ? input.nClasses : 1;
  const { train, val } = input;
  const n = train.x.rows;
  const byColumns: PartRunner = (job, args, parts) => runInParts(workers, job, args, parts, 1);
  const byRows: PartRunner = (job, args, parts) => runInParts(workers, job, args, parts, PARALLEL_BIN_MIN_ROWS);
  const table = workers.length > 0 ? { ...train.x, data: sharedMirror(train.x.data) } : train.x;
  const mapper = fitBins(table, [], Math.min(255, num("max_bins")), undefined, byColumns);
  const xb = applyBins(mapper, table, byRows);
  const grower = new TreeGrower(xb, mapper, { workers });
  const vb = applyBins(mapper, val.x);
  const random = seededRandom(num("seed") + 1);
  const lr = num("learning_rate");
  const maxIter = Math.max(1, Math.floor(num("max_iter")));
  const y = train.y;

  const baseline = initialRaw(loss, y, k, input.nClasses);
  // what the gradient job reads and writes, in memory the tree workers share
  const { grad, hess } = grower.gradientBuffers();
  const sharedY = workers.length > 0 ? sharedMirror(y) : y;
  const raw = new Float64Array(new SharedArrayBuffer(n * k * 8));
  const probs = new Float64Array(new SharedArrayBuffer(k > 1 ? n * k * 8 : 8));
  const rawVal = new Float64Array(val.x.rows * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) raw[i * k + c] = baseline[c]!;
  for (let i = 0; i < val.x.rows; i++) for (let c = 0; c < k; c++) rawVal[i * k + c] = baseline[c]!;
  const rows = new Uint32Array(n);
  const trees: Tree[] = [];
  let best = { loss: Infinity, round: 0 };
  let stopReason: FittedModel["stopReason"] = "max_steps";
  let round = 0;
  const lossRows = evenlySpacedRows(n, 10_000);
  const lossTargets = selectTargets(y, lossRows);
  try {
    for (round = 1; round <= maxIter; round++) {
      if (hooks.signal?.aborted) throw new FitCancelled();
      if (k > 1) softmaxRows(raw, n, k, probs);
      for (let c = 0; c < k; c++) {
        runInParts<GradientJob>(
          workers,
          gradientRows,
          { loss, y: sharedY, raw, k, c, probs, grad, hess, delta: num("huber_delta") },
          n,
          PARALLEL_GRADIENT_MIN_ROWS,
        );
        const m = sampleRows(rows, n, num("subsample"), random);
        const features = sampleFeatures(train.x.cols, num("colsample"), random);
        const { tree, leaves } = grower.grow(rows.subarray(0, m), grad, hess, loss === "squared_error", {
          maxLeafNodes: num("max_leaf_nodes"),
          maxDepth: num("max_depth"),
          minSamplesLeaf: num("min_samples_leaf"),
          minHessianLeaf: 1e-3,
          l2: num("l2_regularization"),
          minGain: 1e-12,
          features,
        });
        for (let i = 0; i < tree.value.length; i++) tree.value[i] = tree.value[i]! * lr;
        if (loss === "absolute_error") medianLeaves(tree, leaves, y, raw, k, c, lr);
        trees.push(tree);
        if (m === n) {
          // every row is in a leaf of the tree it helped grow: update without walking the tree
          for (const leaf of leaves) {
            const v = tree.value[leaf.node]!;
            for (const part of leaf.parts) for (let i = 0; i < part.length; i++) raw[part[i]! * k + c]! += v;
          }
        } else addTreeValues(tree, xb, raw, k, c);
        addTreeValues(tree, vb, rawVal, k, c);
      }
      // the training loss on a fixed sample of ≤10,000 rows, as scikit-learn scores training progress
      const trainLoss = meanLoss(loss, lossTargets, gatherRows(raw, lossRows, k), k, num("huber_delta"));
      const valLoss = meanLoss(loss, val.y, rawVal, k, num("huber_delta"));
      if (hooks.onStep) {
        await hooks.onStep({ step: round, steps: maxIter, epoch: round, epochs: maxIter, scalars: { loss: { train: trainLoss, val: valLoss } } });
      }
      const improved = best.round === 0 || valLoss < best.loss - num("tol") * Math.max(1, Math.abs(best.loss));
      if (improved) best = { loss: valLoss, round };
      else if (round - best.round >= num("n_iter_no_change")) {
        stopReason = "converged";
        break;
      }
    }
  } finally {
    grower.dispose();
  }
  // keep the rounds up to the best validation loss
  const keep = best.round > 0 ? best.round : Math.min(round, maxIter);
  const state: BoostedState = { loss, k, baseline, learningRate: lr, trees: trees.slice(0, keep * k), mapper };
  return fittedBoosting(params, state, Math.min(round, maxIter), stopReason);
}

function fittedBoosting(params: Params, state: BoostedState, stepsRun: number, stopReason: FittedModel["stopReason"]): FittedModel {
  const { k, loss } = state;
  // made at the first big prediction (a search's trials predict a few thousand validation rows, where the loop is as quick)
  let compiled: CompiledTrees | null | undefined;
  /** baseline + every tree's value per row and output, trees added in order whichever way they run */
  const rawScores = (x: Matrix): Float64Array => {
    if (x.rows < COMPILED_PREDICT_MIN_ROWS) {
      const xb = applyBins(state.mapper, x);
      const out = withBaseline(new Float64Array(x.rows * k), x.rows);
      state.trees.forEach((tree, t) => addTreeValues(tree, xb, out, k, t % k));
      return out;
    }
    if (compiled === undefined) compiled = compileTrees(state.trees, k, sharedBytes);
    // rows split between this thread and the spare cores' tree workers (none free: all here)
    const workers = leaseShardWorkers(availableParallelism() - 1);
    try {
      const byRows: PartRunner = (job, args, parts) => runInParts(workers, job, args, parts, PARALLEL_PREDICT_MIN_ROWS);
      // the batch's arrays in buffers reused from batch to batch (see sharedScratch)
      const xb = applyBins(state.mapper, workers.length ? { ...x, data: sharedCopy("predict-rows", x.data) } : x, byRows, (bytes) =>
        sharedScratch("predict-bins", bytes),
      );
      const out = withBaseline(new Float64Array(sharedScratch("predict-out", x.rows * k * 8), 0, x.rows * k), x.rows);
      if (compiled) {
        const c = compiled;
        byRows<CompiledTreesJob>(predictCompiledTrees, { key: c.key, sources: c.sources, values: c.values, bins: xb.bins, cols: xb.cols, out }, x.rows);
      } else state.trees.forEach((tree, t) => addTreeValues(tree, xb, out, k, t % k));
      // the caller's array is its own (not memory the workers share)
      return out.slice();
    } finally {
      releaseShardWorkers(workers);
    }
  };
  const withBaseline = (out: Float64Array, rows: number) => {
    for (let i = 0; i < rows; i++) for (let c = 0; c < k; c++) out[i * k + c] = state.baseline[c]!;
    return out;
  };
  return {
    modelId: "hist_gbdt",
    params,
    stepsRun,
    stopReason,
    predict(x: Matrix) {
      const out = rawScores(x);
      if (loss !== "log_loss") return out;
      if (k === 1) {
        const p = new Float64Array(x.rows * 2);
        for (let i = 0; i < x.rows; i++) {
          const q = 1 / (1 + Math.exp(-out[i]!));
          p[i * 2] = 1 - q;
          p[i * 2 + 1] = q;
        }
        return p;
      }
      const p = new Float64Array(x.rows * k);
      softmaxRows(out, x.rows, k, p);
      return p;
    },
    gainImportance() {
      const total = new Float64Array(state.mapper.edges.length);
      for (const t of state.trees) t.gain.forEach((g, f) => (total[f]! += g));
      const sum = total.reduce((a, b) => a + b, 0) || 1;
      return Array.from(total, (v) => v / sum);
    },
    save(): SavedModel {
      return {
        model_id: "hist_gbdt",
        params,
        task: loss === "log_loss" ? "classification" : "regression",
        n_features: state.mapper.edges.length,
        n_classes: loss === "log_loss" ? Math.max(2, k) : 0,
        state: serialiseState(state),
      };
    },
  };
}

function initialRaw(loss: Loss, y: Float64Array | Int32Array, k: number, nClasses: number): number[] {
  const n = y.length;
  if (loss === "log_loss") {
    const counts = new Float64Array(Math.max(2, nClasses));
    for (const c of y) counts[c]!++;
    const eps = 1e-12;
    if (k === 1) {
      const p = Math.min(1 - eps, Math.max(eps, counts[1]! / n));
      return [Math.log(p / (1 - p))];
    }
    return Array.from(counts, (c) => Math.log(Math.max(eps, c / n)));
  }
  const values = Float64Array.from(y as Float64Array);
  if (loss === "absolute_error") return [values.sort()[Math.floor(n / 2)]!];
  return [values.reduce((s, v) => s + v, 0) / n];
}

interface GradientJob {
  loss: Loss;
  y: Float64Array | Int32Array;
  /** raw scores, n × k */
  raw: Float64Array;
  k: number;
  /** the class whose tree comes next (multiclass) */
  c: number;
  /** softmax of the raw scores (multiclass) */
  probs: Float64Array;
  grad: Float64Array;
  hess: Float64Array;
  delta: number;
}

/**
 * The gradients and hessians of rows [from, to). One loop per loss: a per-row switch
 * measured ~2x slower on 180k rows. Self-contained: the tree workers run it from its text.
 */
function gradientRows(a: GradientJob & PartRange): void {
  const { loss, y, raw, k, c, probs, grad, hess, delta, from, to } = a;
  if (loss === "squared_error") {
    for (let i = from; i < to; i++) grad[i] = raw[i]! - y[i]!;
    hess.fill(1, from, to);
  } else if (loss === "absolute_error") {
    for (let i = from; i < to; i++) grad[i] = Math.sign(raw[i]! - y[i]!);
    hess.fill(1, from, to);
  } else if (loss === "huber") {
    for (let i = from; i < to; i++) {
      const d = raw[i]! - y[i]!;
      const inside = Math.abs(d) <= delta;
      grad[i] = inside ? d : delta * Math.sign(d);
      hess[i] = inside ? 1 : 1e-3;
    }
  } else if (k === 1) {
    for (let i = from; i < to; i++) {
      const p = 1 / (1 + Math.exp(-raw[i]!));
      grad[i] = p - y[i]!;
      hess[i] = Math.max(p * (1 - p), 1e-16);
    }
  } else {
    for (let i = from; i < to; i++) {
      const p = probs[i * k + c]!;
      grad[i] = p - (y[i] === c ? 1 : 0);
      hess[i] = Math.max(p * (1 - p), 1e-16);
    }
  }
}

function meanLoss(loss: Loss, y: Float64Array | Int32Array, raw: Float64Array, k: number, delta: number): number {
  const n = y.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (loss === "log_loss") {
      if (k === 1) {
        const z = raw[i]!;
        // log(1 + e^z) - y z, computed stably
        s += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i]! * z;
      } else {
        let max = -Infinity;
        for (let c = 0; c < k; c++) max = Math.max(max, raw[i * k + c]!);
        let sum = 0;
        for (let c = 0; c < k; c++) sum += Math.exp(raw[i * k + c]! - max);
        s += max + Math.log(sum) - raw[i * k + y[i]!]!;
      }
    } else {
      const d = raw[i]! - y[i]!;
      s +=
        loss === "squared_error"
          ? 0.5 * d * d
          : loss === "absolute_error"
            ? Math.abs(d)
            : Math.abs(d) <= delta
              ? 0.5 * d * d
              : delta * (Math.abs(d) - 0.5 * delta);
    }
  }
  return s / n;
}

/** Absolute error: a leaf's best constant is the median residual of its rows (as scikit-learn does). */
function medianLeaves(tree: Tree, leaves: LeafRows[], y: Float64Array | Int32Array, raw: Float64Array, k: number, c: number, lr: number): void {
  for (const leaf of leaves) {
    const rows = leaf.parts.flatMap((part) => Array.from(part));
    const res = Float64Array.from(rows, (r) => y[r]! - raw[r * k + c]!);
    res.sort();
    tree.value[leaf.node] = lr * (res[res.length >> 1] ?? 0);
  }
}

function gatherRows(raw: Float64Array, rows: Uint32Array, k: number): Float64Array {
  const out = new Float64Array(rows.length * k);
  for (let i = 0; i < rows.length; i++) for (let c = 0; c < k; c++) out[i * k + c] = raw[rows[i]! * k + c]!;
  return out;
}

function sampleRows(rows: Uint32Array, n: number, fraction: number, random: () => number): number {
  if (fraction >= 1) {
    for (let i = 0; i < n; i++) rows[i] = i;
    return n;
  }
  let m = 0;
  for (let i = 0; i < n; i++) if (random() < fraction) rows[m++] = i;
  return Math.max(1, m);
}

function sampleFeatures(cols: number, fraction: number, random: () => number): Int32Array | null {
  if (fraction >= 1) return null;
  const chosen: number[] = [];
  for (let f = 0; f < cols; f++) if (random() < fraction) chosen.push(f);
  if (chosen.length === 0) chosen.push(Math.floor(random() * cols));
  return Int32Array.from(chosen);
}

/** a boosted tree's node arrays, each packed across trees in the model file */
const BOOSTED_TREE_FIELDS = ["feature", "threshold", "missingLeft", "catLeft", "left", "right", "value", "gain"] as const;

/** The state as the model file stores it: the trees' node arrays packed into one array per field. */
function serialiseState(s: BoostedState) {
  return {
    loss: s.loss,
    k: s.k,
    baseline: s.baseline,
    learningRate: s.learningRate,
    mapper: serialiseMapper(s.mapper),
    trees: packFields(s.trees, BOOSTED_TREE_FIELDS),
  };
}

/** A state from serialiseState, or from a model saved as JSON before the model file (one object of lists per tree). */
function reviveState(raw: Record<string, unknown>): BoostedState {
  const s = raw as Omit<BoostedState, "mapper" | "trees"> & { mapper: Parameters<typeof reviveMapper>[0]; trees: unknown };
  const trees = Array.isArray(s.trees)
    ? (s.trees as (Record<Exclude<(typeof BOOSTED_TREE_FIELDS)[number], "catLeft">, number[]> & { catLeft: number[] | null })[]).map((t) => ({
        feature: Int32Array.from(t.feature),
        threshold: Uint8Array.from(t.threshold),
        missingLeft: Uint8Array.from(t.missingLeft),
        catLeft: t.catLeft ? Uint32Array.from(t.catLeft) : null,
        left: Int32Array.from(t.left),
        right: Int32Array.from(t.right),
        value: Float64Array.from(t.value),
        gain: Float64Array.from(t.gain),
      }))
    : (unpackFields(s.trees as Parameters<typeof unpackFields>[0]) as unknown as Tree[]);
  return { loss: s.loss, k: s.k, baseline: s.baseline, learningRate: s.learningRate, mapper: reviveMapper(s.mapper), trees };
}
