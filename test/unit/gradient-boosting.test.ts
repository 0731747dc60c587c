import { strict as assert } from "node:assert";
import { throughModelFile } from "../support/model-file-round-trip";
import { seededRandom } from "../../kernel/data/seeded-random";
import { table } from "../support/synthetic-table";
import type { FitInput } from "../../kernel/ml/learner";
import { classificationMetrics, regressionMetrics } from "../../kernel/ml/metrics";
import { applyBins, fitBins } from "../../kernel/ml/trees/feature-binning";
import { histGradientBoosting } from "../../kernel/ml/trees/gradient-boosting";
import { TreeGrower, leafOf } from "../../kernel/ml/trees/histogram-tree";

describe("histogram gradient boosting", () => {
  it("separates a perfectly separable set", async () => {
    const make = (x: number[]) => (x[0]! > 0.1 ? 1 : 0);
    const input: FitInput = { task: "classification", train: table(2000, 1, make), val: table(400, 2, make), nClasses: 2 };
    const model = await histGradientBoosting.fit(input, {}, {});
    const test = table(1000, 3, make);
    assert.equal(classificationMetrics(test.y, model.predict(test.x), 2).accuracy, 1);
  });

  it("fits a pure linear target closely, with a falling real loss per round", async () => {
    const make = (x: number[]) => 3 * x[0]! - 2 * x[1]!;
    const input: FitInput = { task: "regression", train: table(4000, 4, make, 4, false), val: table(800, 5, make, 4, false), nClasses: 0 };
    const losses: number[] = [];
    const model = await histGradientBoosting.fit(input, { max_iter: 300 }, { onStep: (s) => void losses.push(s.scalars["loss"]!.val!) });
    const test = table(1000, 6, make, 4, false);
    assert.ok(regressionMetrics(test.y, model.predict(test.x)).r2 > 0.99);
    assert.ok(losses[losses.length - 1]! < losses[0]! / 20);
  });

  it("routes missing values to the side that gains, and learns from missingness itself", async () => {
    // the class is hidden in whether x0 is missing
    const make = (x: number[], r: () => number) => {
      const c = r() < 0.5 ? 1 : 0;
      if (c === 1) x[0] = NaN;
      return c;
    };
    const input: FitInput = { task: "classification", train: table(2000, 7, make), val: table(400, 8, make), nClasses: 2 };
    const model = await histGradientBoosting.fit(input, {}, {});
    const test = table(1000, 9, make);
    assert.equal(classificationMetrics(test.y, model.predict(test.x), 2).accuracy, 1);
  });

  it("splits a categorical feature on a set of categories", () => {
    // categories 1, 4 and 6 of 8 push the gradient one way: no single threshold separates them
    const n = 800;
    const data = new Float64Array(n);
    const grad = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      data[i] = i % 8;
      grad[i] = [1, 4, 6].includes(i % 8) ? -1 : 1;
    }
    const x = { data, rows: n, cols: 1 };
    const mapper = fitBins(x, [true]);
    const binned = applyBins(mapper, x);
    const grower = new TreeGrower(binned, mapper);
    const { tree } = grower.grow(
      Uint32Array.from({ length: n }, (_, i) => i),
      grad,
      new Float64Array(n).fill(1),
      true,
      {
        maxLeafNodes: 2,
        maxDepth: 5,
        minSamplesLeaf: 1,
        minHessianLeaf: 0,
        l2: 0,
        minGain: 0,
        features: null,
      },
    );
    for (let i = 0; i < 16; i++) {
      const leaf = leafOf(tree, binned.bins, binned.cols, i);
      assert.equal(Math.sign(tree.value[leaf]!), [1, 4, 6].includes(i % 8) ? 1 : -1, `category ${i % 8}`);
    }
  });

  it("handles three classes, is deterministic for a seed, and round-trips through a model file", async () => {
    const make = (x: number[]) => (x[0]! > 0.3 ? 2 : x[1]! > 0 ? 1 : 0);
    const input: FitInput = { task: "classification", train: table(3000, 10, make), val: table(500, 11, make), nClasses: 3 };
    const params = { subsample: 0.8, colsample: 0.75, seed: 3 };
    const a = await histGradientBoosting.fit(input, params, {});
    const b = await histGradientBoosting.fit(input, params, {});
    const test = table(1000, 12, make);
    assert.deepEqual(a.predict(test.x), b.predict(test.x));
    assert.ok(classificationMetrics(test.y, a.predict(test.x), 3).accuracy > 0.97);
    const restored = histGradientBoosting.restore(throughModelFile(a.save()));
    assert.deepEqual(restored.predict(test.x), a.predict(test.x));
  });

  it("keeps exact counts and hessian sums with varying hessians (the packed histogram slot)", () => {
    const n = 5000;
    const cols = 6;
    const r = seededRandom(21);
    const data = new Float64Array(n * cols).map(() => (r() < 0.05 ? NaN : r()));
    const grad = new Float64Array(n).map(() => r() * 2 - 1);
    const hess = new Float64Array(n).map(() => 0.01 + r() * 0.24); // log-loss range
    const x = { data, rows: n, cols };
    const mapper = fitBins(x);
    const grower = new TreeGrower(applyBins(mapper, x), mapper);
    const rows = Uint32Array.from({ length: n }, (_, i) => i);
    const l2 = 0.5;
    const { tree, leaves } = grower.grow(rows, grad, hess, false, {
      maxLeafNodes: 40,
      maxDepth: 20,
      minSamplesLeaf: 37,
      minHessianLeaf: 1e-3,
      l2,
      minGain: 0,
      features: null,
    });
    assert.equal(leaves.length, 40);
    const leafRows = leaves.map((l) => l.parts.flatMap((part) => Array.from(part)));
    assert.deepEqual(
      leafRows.flat().sort((a, b) => a - b),
      Array.from(rows),
    );
    leaves.forEach((leaf, i) => {
      const members = leafRows[i]!;
      assert.ok(members.length >= 37, `leaf of ${members.length} rows`);
      let G = 0;
      let H = 0;
      for (const r of members) ((G += grad[r]!), (H += hess[r]!));
      assert.ok(Math.abs(tree.value[leaf.node]! - -G / (H + l2)) < 1e-9 * Math.max(1, Math.abs(G / H)));
    });
  });

  it("grows the same trees on one thread and on two (row shards in a worker)", async () => {
    const make = (x: number[]) => (x[0]! + x[1]! * x[2]! > 0.1 ? 1 : 0);
    // big enough that splits near the root are shared with the worker
    const input: FitInput = { task: "classification", train: table(30_000, 31, make, 8), val: table(2000, 32, make, 8), nClasses: 2 };
    const one = await histGradientBoosting.fit(input, { max_iter: 15, n_threads: 1 }, {});
    const two = await histGradientBoosting.fit(input, { max_iter: 15, n_threads: 2 }, {});
    // the saved state packs each node field of all trees into one array (with each tree's length)
    type Packed = { data: ArrayLike<number>; lengths: Int32Array };
    const trees = (m: typeof one) => (m.save().state as { trees: { feature: Packed; threshold: Packed } }).trees;
    assert.deepEqual([trees(two).feature, trees(two).threshold], [trees(one).feature, trees(one).threshold]);
    const test = table(2000, 33, make, 8);
    const p1 = one.predict(test.x);
    const p2 = two.predict(test.x);
    for (let i = 0; i < p1.length; i++) assert.ok(Math.abs(p1[i]! - p2[i]!) < 1e-9);
  });
});
