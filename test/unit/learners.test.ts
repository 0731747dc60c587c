import { strict as assert } from "node:assert";
import { throughModelFile } from "../support/model-file-round-trip";
import { seededRandom } from "../../kernel/data/seeded-random";
import { gaussianNaiveBayes } from "../../kernel/ml/gaussian-naive-bayes";
import type { FitInput, LabelledSet } from "../../kernel/ml/learner";
import { linearRegressionGd, logisticRegressionGd } from "../../kernel/ml/linear-gradient-descent";
import { lossLandscape } from "../../kernel/ml/loss-landscape";
import { classificationMetrics, regressionMetrics } from "../../kernel/ml/metrics";
import { ridgeRegression } from "../../kernel/ml/ridge-regression";
import { mlRandomForest } from "../../kernel/ml/ml-random-forest-learner";
import { learnersFor } from "../../kernel/ml/model-zoo";

function linearSet(n: number, seed: number, noise = 0): LabelledSet {
  const r = seededRandom(seed);
  const x = new Float64Array(n * 3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) x[i * 3 + j] = r() * 2 - 1;
    y[i] = 3 * x[i * 3]! - 2 * x[i * 3 + 1]! + 0.5 * x[i * 3 + 2]! + 10 + noise * (r() - 0.5);
  }
  return { x: { data: x, rows: n, cols: 3 }, y };
}

function separableSet(n: number, seed: number): LabelledSet {
  const r = seededRandom(seed);
  const x = new Float64Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x[i * 2] = c * 4 + r();
    x[i * 2 + 1] = -c * 4 + r();
    y[i] = c;
  }
  return { x: { data: x, rows: n, cols: 2 }, y };
}

describe("learners", () => {
  it("gradient descent finds a pure linear target, with a falling real loss", async () => {
    const input: FitInput = { task: "regression", train: linearSet(200, 1), val: linearSet(50, 2), nClasses: 0 };
    const losses: number[] = [];
    const model = await linearRegressionGd.fit(
      input,
      { max_epochs: 2000, patience: 100, learning_rate: 0.1, l2: 0 },
      {
        onStep: (s) => void losses.push(s.scalars["loss"]!.train!),
      },
    );
    const test = linearSet(50, 3);
    const m = regressionMetrics(test.y, model.predict(test.x));
    assert.ok(m.rmse < 0.01, `rmse ${m.rmse}`);
    assert.ok(losses[losses.length - 1]! < losses[0]! / 100, "the loss falls");
    assert.equal(losses.length, model.stepsRun);
  });

  it("maps a descent onto the true loss over its trajectory's main plane", async () => {
    const input: FitInput = { task: "regression", train: linearSet(200, 7, 0.3), val: linearSet(50, 8, 0.3), nClasses: 0 };
    const model = await linearRegressionGd.fit(input, { max_epochs: 300, patience: 300, learning_rate: 0.05 }, {});
    const land = lossLandscape(model.descent!, 41);
    assert.equal(land.path.length, model.stepsRun);
    assert.ok(
      land.path.every((p) => Math.abs(p.x) <= 1 && Math.abs(p.y) <= 1),
      "normalised to [-1, 1]",
    );
    const centre = land.grid[20 * 41 + 20]!;
    assert.ok(Math.abs(centre - model.descent!.lossAt(model.descent!.center)) < 1e-5, "the centre cell is the kept weights' loss");
    assert.ok(
      [...land.grid].every((z) => z >= centre - 1e-6),
      "a convex loss is lowest at the weights gradient descent converged to",
    );
    assert.ok(land.explained > 0.5, `${land.explained}`);
  });

  it("ridge's closed form agrees with gradient descent", async () => {
    const input: FitInput = { task: "regression", train: linearSet(300, 4, 0.5), val: linearSet(50, 5, 0.5), nClasses: 0 };
    const ridge = await ridgeRegression.fit(input, { alpha: 1e-6 }, {});
    const gd = await linearRegressionGd.fit(input, { max_epochs: 3000, patience: 200, learning_rate: 0.05, l2: 0, tol: 0 }, {});
    const test = linearSet(100, 6);
    const a = ridge.predict(test.x);
    const b = gd.predict(test.x);
    for (let i = 0; i < 100; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 0.05, `row ${i}: ${a[i]} vs ${b[i]}`);
  });

  it("ridge on a table with far more columns than rows solves the dual system: the same weights, in milliseconds", async () => {
    // 50 rows × 2,000 columns: the primal system is 2,000 × 2,000, the dual 50 × 50
    const make = (n: number, seed: number) => {
      const r = seededRandom(seed);
      const data = Float64Array.from({ length: n * 2000 }, () => r() * 2 - 1);
      const y = Float64Array.from({ length: n }, (_, i) => 3 * data[i * 2000]! - 2 * data[i * 2000 + 1]! + 0.1 * r());
      return { x: { data, rows: n, cols: 2000 }, y };
    };
    const input: FitInput = { task: "regression", train: make(50, 1), val: make(10, 2), nClasses: 0 };
    const started = performance.now();
    const wide = await ridgeRegression.fit(input, { alpha: 0.5 }, {});
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 2, `${seconds.toFixed(2)} s`);
    const { data } = input.train.x;
    const w = (wide.save().state as { weights: number[] }).weights;
    const xm = new Float64Array(2000);
    for (let i = 0; i < 50; i++) for (let j = 0; j < 2000; j++) xm[j]! += data[i * 2000 + j]! / 50;
    const ym = Array.from(input.train.y).reduce((a, b) => a + b, 0) / 50;
    // the normal equations hold: Xcᵀ(y − ȳ − Xc w) = α w
    for (const j of [0, 1, 7, 1999]) {
      let g = 0;
      for (let i = 0; i < 50; i++) {
        let fit = 0;
        for (let l = 0; l < 2000; l++) fit += (data[i * 2000 + l]! - xm[l]!) * w[l]!;
        g += (data[i * 2000 + j]! - xm[j]!) * (input.train.y[i]! - ym - fit);
      }
      assert.ok(Math.abs(g - 0.5 * w[j]!) < 1e-8, `column ${j}: ${g} against ${0.5 * w[j]!}`);
    }
  });

  it("logistic regression and naive Bayes separate separable classes", async () => {
    const input: FitInput = { task: "classification", train: separableSet(150, 1), val: separableSet(30, 2), nClasses: 3 };
    const test = separableSet(60, 3);
    for (const learner of [logisticRegressionGd, gaussianNaiveBayes]) {
      const model = await learner.fit(input, {}, {});
      const m = classificationMetrics(test.y, model.predict(test.x), 3);
      assert.equal(m.accuracy, 1, learner.id);
      const restored = learner.restore(throughModelFile(model.save()));
      assert.deepEqual(restored.predict(test.x), model.predict(test.x), `${learner.id} round-trips through a model file`);
    }
  });

  it("keeps ml-random-forest for small tables only, with vote-share probabilities", async () => {
    assert.ok(learnersFor("classification", 500).some((l) => l.id === "ml_random_forest"));
    assert.ok(!learnersFor("classification", 5000).some((l) => l.id === "ml_random_forest"), "too slow beyond 600 rows (measured)");
    const input: FitInput = { task: "classification", train: separableSet(150, 1), val: separableSet(30, 2), nClasses: 3 };
    const model = await mlRandomForest.fit(input, { n_estimators: 10 }, {});
    const test = separableSet(60, 3);
    const p = model.predict(test.x);
    for (let i = 0; i < 60; i++) assert.ok(Math.abs(p[i * 3]! + p[i * 3 + 1]! + p[i * 3 + 2]! - 1) < 1e-9);
    assert.ok(classificationMetrics(test.y, p, 3).accuracy > 0.95);
    assert.deepEqual(mlRandomForest.restore(throughModelFile(model.save())).predict(test.x), p);
  });

  it("computes metrics as scikit-learn does on known cases", () => {
    const r = regressionMetrics([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]);
    assert.ok(Math.abs(r.rmse - Math.sqrt(0.375)) < 1e-12);
    assert.ok(Math.abs(r.r2 - 0.9486081370449679) < 1e-12); // sklearn r2_score example
    // roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
    const proba = Float64Array.from([0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8]);
    const c = classificationMetrics([0, 0, 1, 1], proba, 2);
    assert.equal(c.roc_auc, 0.75);
    assert.equal(c.accuracy, 0.75); // the third row is the one mistake
  });
});
