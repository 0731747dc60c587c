import { strict as assert } from "node:assert";
import { throughModelFile } from "../support/model-file-round-trip";
import { table } from "../support/synthetic-table";
import type { FitInput } from "../../kernel/ml/learner";
import { classificationMetrics, regressionMetrics } from "../../kernel/ml/metrics";
import { extraTrees, randomForest } from "../../kernel/ml/trees/random-forest";

for (const learner of [randomForest, extraTrees]) {
  describe(`${learner.name} on binned features`, () => {
    it("separates a perfectly separable set, reporting each tree as a real step", async () => {
      const make = (x: number[]) => (x[0]! > 0.1 ? 1 : 0);
      const input: FitInput = { task: "classification", train: table(2000, 1, make), val: table(400, 2, make), nClasses: 2 };
      const steps: number[] = [];
      const model = await learner.fit(input, { n_estimators: 20 }, { onStep: (s) => void steps.push(s.scalars["loss"]!.val!) });
      assert.equal(steps.length, 20);
      assert.ok(steps.every((v) => Number.isFinite(v)));
      const test = table(1000, 3, make);
      assert.ok(classificationMetrics(test.y, model.predict(test.x), 2).accuracy >= 0.99);
    });

    it("fits a linear target and three classes", async () => {
      const lin = (x: number[]) => 3 * x[0]! - 2 * x[1]!;
      const reg: FitInput = { task: "regression", train: table(3000, 4, lin, 4, false), val: table(300, 5, lin, 4, false), nClasses: 0 };
      const r = await learner.fit(reg, { n_estimators: 30 }, {});
      const rt = table(1000, 6, lin, 4, false);
      assert.ok(regressionMetrics(rt.y, r.predict(rt.x)).r2 > 0.95);
      const three = (x: number[]) => (x[0]! > 0.3 ? 2 : x[1]! > 0 ? 1 : 0);
      const cls: FitInput = { task: "classification", train: table(3000, 7, three), val: table(300, 8, three), nClasses: 3 };
      const c = await learner.fit(cls, { n_estimators: 30 }, {});
      const ct = table(1000, 9, three);
      const proba = c.predict(ct.x);
      assert.equal(proba.length, 3000);
      for (let i = 0; i < 1000; i++) assert.ok(Math.abs(proba[i * 3]! + proba[i * 3 + 1]! + proba[i * 3 + 2]! - 1) < 1e-9);
      assert.ok(classificationMetrics(ct.y, proba, 3).accuracy > 0.95);
    });

    it("learns from missing values (bin 0, sent left)", async () => {
      const make = (x: number[], r: () => number) => {
        const c = r() < 0.5 ? 1 : 0;
        if (c === 1) x[2] = NaN;
        return c;
      };
      const input: FitInput = { task: "classification", train: table(2000, 10, make), val: table(200, 11, make), nClasses: 2 };
      const model = await learner.fit(input, { n_estimators: 10, max_features: 1 }, {});
      const test = table(500, 12, make);
      assert.equal(classificationMetrics(test.y, model.predict(test.x), 2).accuracy, 1);
    });

    it("is the same forest for a seed on one thread or two, and round-trips through a model file", async () => {
      const make = (x: number[]) => (x[0]! * x[1]! > 0 ? 1 : 0);
      const input: FitInput = { task: "classification", train: table(6000, 13, make, 6), val: table(300, 14, make, 6), nClasses: 2 };
      const one = await learner.fit(input, { n_estimators: 12, seed: 5, n_threads: 1 }, {});
      const two = await learner.fit(input, { n_estimators: 12, seed: 5, n_threads: 2 }, {});
      const test = table(500, 15, make, 6);
      assert.deepEqual(two.predict(test.x), one.predict(test.x));
      const restored = learner.restore(throughModelFile(one.save()));
      assert.deepEqual(restored.predict(test.x), one.predict(test.x));
      const other = await learner.fit(input, { n_estimators: 12, seed: 6, n_threads: 1 }, {});
      assert.notDeepEqual(other.predict(test.x), one.predict(test.x));
    });

    it("stops when cancelled", async () => {
      const make = (x: number[]) => (x[0]! > 0 ? 1 : 0);
      const input: FitInput = { task: "classification", train: table(3000, 16, make), val: table(100, 17, make), nClasses: 2 };
      const controller = new AbortController();
      let seen = 0;
      await assert.rejects(
        learner.fit(input, { n_estimators: 500 }, { signal: controller.signal, onStep: () => void (++seen === 5 && controller.abort()) }),
        /cancelled/,
      );
      assert.ok(seen < 500);
    });
  });
}
