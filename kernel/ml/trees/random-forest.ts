/**
 * Random forest and extra-trees on binned features: scikit-learn's defaults (100 fully grown
 * trees; bootstrap samples and the best cut for the forest, every row and a random cut for
 * extra-trees; √features per node for classification, all for regression), trees grown on
 * every core. Each finished tree is a real step: the validation loss of the forest so far.
 */
import { availableParallelism } from "node:os";
import { FitCancelled, type FitHooks, type FitInput, type FittedModel, type Learner, type Params, type SavedModel } from "../learner";
import type { Matrix } from "../../data/matrix";
import { evenlySpacedRows, selectTargets } from "../row-selection";
import { applyBins, fitBins, reviveMapper, serialiseMapper, type BinMapper } from "./feature-binning";
import type { ForestData, ForestTree, ForestTreeParams } from "./forest-tree-builder";
import { growForest } from "./forest-workers";
import { packFields, unpackFields } from "./packed-arrays";

interface ForestState {
  classification: boolean;
  /** outputs per row: 1 (regression), 2 (two classes) or the number of classes */
  nClasses: number;
  k: number;
  trees: ForestTree[];
  mapper: BinMapper;
}

const defaults: Params = {
  n_estimators: 100,
  /** "sqrt", "log2", a fraction of the features (≤ 1) or a count; "auto": sqrt for classes, all for regression */
  max_features: "auto",
  max_depth: 0,
  min_samples_leaf: 1,
  min_samples_split: 2,
  max_bins: 255,
  seed: 0,
  /** threads to grow trees with; 0: all cores */
  n_threads: 0,
};

/** The two forests differ only in their sampling: bootstrap + best cut, or every row + a random cut. */
function forestLearner(id: "random_forest" | "extra_trees", name: string, why: string): Learner {
  return {
    id,
    name,
    family: "random_forest",
    iterative: true,
    tasks: ["regression", "classification"],
    why,
    defaults: { ...defaults, bootstrap: id === "random_forest" },
    fit(input, params, hooks) {
      return fitForest({ ...this.defaults, ...params }, input, hooks, id);
    },
    restore(saved) {
      return fittedForest(id, saved.params, reviveState(saved.state));
    },
  };
}

export const randomForest = forestLearner(
  "random_forest",
  "Random forest",
  "Averages many decorrelated deep trees: strong with almost no tuning, hard to overfit, and a good check on the boosted trees.",
);

export const extraTrees = forestLearner(
  "extra_trees",
  "Extra trees",
  "A forest with random cut points: lower variance than a random forest and faster to grow, often as accurate on noisy tables.",
);

function featuresPerNode(setting: string | number | boolean | undefined, cols: number, classification: boolean): number {
  const s = setting === "auto" ? (classification ? "sqrt" : 1) : setting;
  if (s === "sqrt") return Math.max(1, Math.floor(Math.sqrt(cols)));
  if (s === "log2") return Math.max(1, Math.floor(Math.log2(cols)));
  const v = Number(s);
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`max_features must be "sqrt", "log2", a fraction in (0, 1] or a count of features; got ${String(setting)}`);
  return Math.min(cols, Math.max(1, v <= 1 ? Math.round(v * cols) : Math.floor(v)));
}

async function fitForest(params: Params, input: FitInput, hooks: FitHooks, modelId: string): Promise<FittedModel> {
  const num = (key: string) => Number(params[key]);
  const classification = input.task === "classification";
  const { train, val } = input;
  const n = train.x.rows;
  const cols = train.x.cols;
  const nClasses = classification ? Math.max(2, input.nClasses) : 1;
  const k = classification && nClasses > 2 ? nClasses : 1;
  const mapper = fitBins(train.x, [], Math.min(255, num("max_bins")));
  const binned = applyBins(mapper, train.x);
  const columns = new Uint8Array(new SharedArrayBuffer(Math.max(8, n * cols)));
  for (let i = 0; i < n; i++) for (let f = 0; f < cols; f++) columns[f * n + i] = binned.bins[i * cols + f]!;
  const targets = new Float64Array(new SharedArrayBuffer(Math.max(8, n * k * 8)));
  for (let i = 0; i < n; i++) {
    const y = train.y[i]!;
    if (!classification) targets[i] = y;
    else if (k === 1) targets[i] = y === 1 ? 1 : 0;
    else targets[i * k + y] = 1;
  }
  // bin b of feature f ends at mapper.edges[f][b - 1]; bin 0 (missing) has no edge
  const binEdges = new Float64Array(new SharedArrayBuffer(cols * 256 * 8)).fill(NaN);
  mapper.edges.forEach((e, f) => e.forEach((v, i) => (binEdges[f * 256 + i + 1] = v)));
  const data: ForestData = { columns, rows: n, cols, targets, k, binEdges };
  const nTrees = Math.max(1, Math.floor(num("n_estimators")));
  const treeParams = (index: number): ForestTreeParams => ({
    seed: (num("seed") * 7919 + index * 104729 + 1) >>> 0,
    maxFeatures: featuresPerNode(params["max_features"], cols, classification),
    maxDepth: num("max_depth") > 0 ? num("max_depth") : Infinity,
    minSamplesLeaf: Math.max(1, num("min_samples_leaf")),
    minSamplesSplit: Math.max(2, num("min_samples_split")),
    bootstrap: Boolean(params["bootstrap"]),
    randomCuts: modelId === "extra_trees",
  });

  // the forest so far, on the validation rows and on a sample of the training rows
  const valBins = applyBins(mapper, val.x);
  const sampleRows = evenlySpacedRows(n, 2000);
  const sample = sampleRows.length;
  const sampleTargets = selectTargets(train.y, sampleRows);
  const valSum = new Float64Array(val.x.rows * k);
  const trainSum = new Float64Array(sample * k);
  const trees: ForestTree[] = [];
  let grown = 0;
  const threads = num("n_threads") > 0 ? num("n_threads") : n * cols >= 20_000 ? availableParallelism() : 1;
  await growForest(
    data,
    nTrees,
    treeParams,
    async (index, tree) => {
      // by index, not arrival: the forest's sums then run in the same order on any thread count
      trees[index] = tree;
      grown++;
      for (let i = 0; i < val.x.rows; i++) addLeaf(tree, valBins.bins, cols, i, k, valSum, i);
      for (let s = 0; s < sample; s++) addLeaf(tree, binned.bins, cols, sampleRows[s]!, k, trainSum, s);
      if (hooks.onStep) {
        const m = grown;
        const valLoss = forestLoss(valSum, m, val.y, k, classification);
        const trainLoss = forestLoss(trainSum, m, sampleTargets, k, classification);
        await hooks.onStep({ step: m, steps: nTrees, epoch: m, epochs: nTrees, scalars: { loss: { train: trainLoss, val: valLoss } } });
      }
    },
    threads,
    hooks.signal,
  );
  if (hooks.signal?.aborted) throw new FitCancelled();
  return fittedForest(modelId, params, { classification, nClasses, k, trees: trees.filter(Boolean), mapper });
}

/** Adds the value of the leaf row `row` falls in to out[at * k ..]. */
function addLeaf(tree: ForestTree, bins: Uint8Array, cols: number, row: number, k: number, out: Float64Array, at: number): void {
  let node = 0;
  while (tree.feature[node]! >= 0) node = bins[row * cols + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  for (let c = 0; c < k; c++) out[at * k + c]! += tree.value[node * k + c]!;
}

/** Half squared error (regression) or log loss (classes) of the mean of m trees. */
function forestLoss(sum: Float64Array, m: number, y: Float64Array | Int32Array, k: number, classification: boolean): number {
  const n = y.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (!classification) {
      const d = sum[i]! / m - y[i]!;
      s += 0.5 * d * d;
    } else {
      const p = k === 1 ? (y[i] === 1 ? sum[i]! / m : 1 - sum[i]! / m) : sum[i * k + y[i]!]! / m;
      s -= Math.log(Math.min(1, Math.max(1e-15, p)));
    }
  }
  return s / Math.max(1, n);
}

function fittedForest(modelId: string, params: Params, state: ForestState, stepsRun = state.trees.length): FittedModel {
  const { k, classification, nClasses, trees, mapper } = state;
  return {
    modelId,
    params,
    stepsRun,
    stopReason: "max_steps",
    predict(x: Matrix) {
      const xb = applyBins(mapper, x);
      const sum = new Float64Array(x.rows * k);
      for (const tree of trees) for (let i = 0; i < x.rows; i++) addLeaf(tree, xb.bins, x.cols, i, k, sum, i);
      const m = Math.max(1, trees.length);
      if (!classification) return sum.map((v) => v / m);
      if (k > 1) return sum.map((v) => v / m);
      const p = new Float64Array(x.rows * 2);
      for (let i = 0; i < x.rows; i++) {
        p[i * 2 + 1] = sum[i]! / m;
        p[i * 2] = 1 - sum[i]! / m;
      }
      return p;
    },
    gainImportance() {
      const total = new Float64Array(mapper.edges.length);
      for (const t of trees) t.gain.forEach((g, f) => (total[f]! += g));
      const all = total.reduce((a, b) => a + b, 0) || 1;
      return Array.from(total, (v) => v / all);
    },
    save(): SavedModel {
      return {
        model_id: modelId,
        params,
        task: classification ? "classification" : "regression",
        n_features: mapper.edges.length,
        n_classes: classification ? nClasses : 0,
        state: serialiseState(state),
      };
    },
  };
}

/** a forest tree's node arrays, each packed across trees in the model file */
const FOREST_TREE_FIELDS = ["feature", "threshold", "left", "right", "value", "gain"] as const;

/** The state as the model file stores it: the trees' node arrays packed into one array per field. */
function serialiseState(s: ForestState) {
  return {
    classification: s.classification,
    nClasses: s.nClasses,
    k: s.k,
    mapper: serialiseMapper(s.mapper),
    trees: packFields(s.trees, FOREST_TREE_FIELDS),
  };
}

/** A state from serialiseState, or from a model saved as JSON before the model file (one object of lists per tree). */
function reviveState(raw: Record<string, unknown>): ForestState {
  const s = raw as { classification: boolean; nClasses: number; k: number; mapper: Parameters<typeof reviveMapper>[0]; trees: unknown };
  const trees = Array.isArray(s.trees)
    ? (s.trees as Record<(typeof FOREST_TREE_FIELDS)[number], number[]>[]).map((t) => ({
        feature: Int32Array.from(t.feature),
        threshold: Uint8Array.from(t.threshold),
        left: Int32Array.from(t.left),
        right: Int32Array.from(t.right),
        value: Float64Array.from(t.value),
        gain: Float64Array.from(t.gain),
      }))
    : (unpackFields(s.trees as Parameters<typeof unpackFields>[0]) as unknown as ForestTree[]);
  return { classification: s.classification, nClasses: s.nClasses, k: s.k, mapper: reviveMapper(s.mapper), trees };
}
