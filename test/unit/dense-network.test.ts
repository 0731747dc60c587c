import { strict as assert } from "node:assert";
import { throughModelFile } from "../support/model-file-round-trip";
import type { FitInput, StepReport } from "../../kernel/ml/learner";
import { classificationMetrics, regressionMetrics } from "../../kernel/ml/metrics";
import { mlp, tfjsLinearRegression, tfjsLogisticRegression } from "../../kernel/ml/tfjs/dense-network";
import { tensorflow } from "../../kernel/ml/tfjs/tensorflow-backend";
import { table } from "../support/synthetic-table";

describe("TensorFlow.js networks", function () {
  this.timeout(60_000);

  it("run on the wasm backend when tfjs-node is not really installed", async () => {
    const { backend } = await tensorflow();
    assert.ok(["wasm", "tensorflow"].includes(backend), backend);
  });

  it("linear regression finds a pure linear target, every epoch a real step with its diagnostics", async () => {
    const make = (x: number[]) => 3 * x[0]! - 2 * x[1]! + 5;
    const input: FitInput = { task: "regression", train: table(2000, 1, make, 4, false), val: table(400, 2, make, 4, false), nClasses: 0 };
    const steps: StepReport[] = [];
    const model = await tfjsLinearRegression.fit(input, { max_epochs: 150, learning_rate: 0.05 }, { onStep: (s) => void steps.push(s) });
    const test = table(500, 3, make, 4, false);
    assert.ok(regressionMetrics(test.y, model.predict(test.x)).rmse < 0.05);
    assert.ok(steps.length > 5);
    assert.ok(steps[steps.length - 1]!.scalars["loss"]!.val! < steps[0]!.scalars["loss"]!.val! / 50);
    for (const s of steps) assert.ok(s.diagnostics && s.diagnostics.grad_l2 >= 0 && s.diagnostics.batch_size === 256 && s.diagnostics.lr === 0.05);
    assert.ok(model.descent && model.descent.trajectory.length === steps.length, "a linear model has a descent path");
  });

  it("an MLP learns an interaction that logistic regression cannot", async () => {
    const make = (x: number[]) => (x[0]! * x[1]! > 0 ? 1 : 0);
    const input: FitInput = { task: "classification", train: table(3000, 4, make), val: table(500, 5, make), nClasses: 2 };
    const test = table(1000, 6, make);
    const linear = await tfjsLogisticRegression.fit(input, { max_epochs: 40 }, {});
    const net = await mlp.fit(input, { max_epochs: 60, learning_rate: 0.01 }, {});
    assert.ok(classificationMetrics(test.y, linear.predict(test.x), 2).accuracy < 0.7);
    assert.ok(classificationMetrics(test.y, net.predict(test.x), 2).accuracy > 0.93);
    assert.equal(net.descent, undefined, "no landscape is claimed for a network's thousands of weights");
  });

  it("is deterministic for a seed, predicts the same after a JSON round trip, and stops when cancelled", async () => {
    const make = (x: number[]) => (x[0]! > 0.2 ? 2 : x[1]! > 0 ? 1 : 0);
    const input: FitInput = { task: "classification", train: table(1500, 7, make), val: table(300, 8, make), nClasses: 3 };
    const a = await mlp.fit(input, { max_epochs: 8, seed: 4 }, {});
    const b = await mlp.fit(input, { max_epochs: 8, seed: 4 }, {});
    const test = table(200, 9, make);
    assert.deepEqual(a.predict(test.x), b.predict(test.x));
    const restored = mlp.restore(throughModelFile(a.save()));
    assert.deepEqual(restored.predict(test.x), a.predict(test.x));
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      mlp.fit(input, { max_epochs: 500, patience: 500 }, { signal: controller.signal, onStep: () => void (++seen === 3 && controller.abort()) }),
      /cancelled/,
    );
    assert.equal(seen, 3);
  });
});
