/**
 * Big predictions take faster paths (boosted trees compiled to code, networks four units and
 * two rows at a time, rows split between threads); they must give the same numbers, to the
 * last bit, as the plain loops that small predictions run (what a REST request of one row gets).
 */
import { strict as assert } from "node:assert";
import type { FitInput, FittedModel } from "../../kernel/ml/learner";
import type { Matrix } from "../../kernel/data/matrix";
import { softmaxRows } from "../../kernel/ml/softmax";
import { mlp } from "../../kernel/ml/tfjs/dense-network";
import { histGradientBoosting } from "../../kernel/ml/trees/gradient-boosting";
import { throughModelFile } from "../support/model-file-round-trip";
import { table } from "../support/synthetic-table";

/** The model's predictions for x a thousand rows at a time (the small-batch paths). */
function inSmallBatches(model: FittedModel, x: Matrix): Float64Array {
  const parts: Float64Array[] = [];
  for (let from = 0; from < x.rows; from += 1000) {
    const to = Math.min(x.rows, from + 1000);
    parts.push(model.predict({ data: x.data.subarray(from * x.cols, to * x.cols), rows: to - from, cols: x.cols }));
  }
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

describe("fast prediction paths", function () {
  this.timeout(120_000);

  // three classes, a missing value in a tenth of x0's cells (sent left or right by each split)
  const make = (x: number[], r: () => number) => {
    if (r() < 0.1) x[0] = NaN;
    return (x[0]! > 0.2 ? 1 : 0) + (x[1]! + x[2]! > 0 ? 1 : 0);
  };

  it("compiled boosted trees on 40,000 rows equal the node loop, for classes and for values", async () => {
    for (const task of ["classification", "regression"] as const) {
      const input: FitInput = {
        task,
        train: table(3000, 1, make, 6, task === "classification"),
        val: table(600, 2, make, 6, task === "classification"),
        nClasses: task === "classification" ? 3 : 0,
      };
      const model = histGradientBoosting.restore(throughModelFile((await histGradientBoosting.fit(input, { max_iter: 40 }, {})).save()));
      const big = table(40_000, 3, make, 6).x;
      const fast = model.predict(big);
      assert.deepEqual(Array.from(fast), Array.from(inSmallBatches(model, big)), task);
      assert.ok(!(fast.buffer instanceof SharedArrayBuffer), "the caller's array is not shared memory");
    }
  });

  it("a network's blocked, threaded forward pass on 40,000 rows equals it row by row", async () => {
    const input: FitInput = {
      task: "classification",
      train: table(
        2000,
        4,
        (x, r) =>
          make(
            x.map((v) => (Number.isNaN(v) ? 0 : v)),
            r,
          ),
        6,
      ),
      val: table(400, 5, (x) => (x[0]! > 0 ? 1 : 0), 6),
      nClasses: 3,
    };
    const model = mlp.restore(throughModelFile((await mlp.fit(input, { max_epochs: 3 }, {})).save()));
    const big = table(40_001, 6, (x) => (x[0]! > 0 ? 1 : 0), 6).x;
    const fast = model.predict(big);
    assert.deepEqual(Array.from(fast), Array.from(inSmallBatches(model, big)));
    // and the textbook loop over the saved weights (kernel inputs × outputs), a row and a unit at a time
    const layers = (model.save().state as { layers: Array<{ kernel: number[]; bias: number[]; inputs: number; outputs: number }> }).layers;
    let h = big.data;
    let width = big.cols;
    layers.forEach((l, li) => {
      const out = new Float64Array(big.rows * l.outputs);
      for (let i = 0; i < big.rows; i++)
        for (let o = 0; o < l.outputs; o++) {
          let s = l.bias[o]!;
          for (let j = 0; j < width; j++) s += h[i * width + j]! * l.kernel[j * l.outputs + o]!;
          out[i * l.outputs + o] = li < layers.length - 1 ? Math.max(0, s) : s;
        }
      h = out;
      width = l.outputs;
    });
    const textbook = new Float64Array(h.length);
    softmaxRows(h, big.rows, 3, textbook);
    assert.deepEqual(Array.from(fast), Array.from(textbook));
  });
});
