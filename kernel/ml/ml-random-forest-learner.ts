/**
 * The design card's `ml-random-forest`, kept as a candidate only for small tables: measured
 * here at 1.7 s for 50 trees on 400 rows, 9.5 s on 1,000 and 31.6 s on 2,000 (and 192 s for
 * 10 trees on 16,000 rows), so it is offered up to 600 training rows. A one-shot fit; class
 * probabilities are the trees' vote shares.
 */
import { RandomForestClassifier, RandomForestRegression } from "ml-random-forest";
import type { FittedModel, Learner, Params, SavedModel } from "./learner";
import type { Matrix } from "../data/matrix";

const rowsOf = (x: Matrix) => Array.from({ length: x.rows }, (_, i) => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));

export const mlRandomForest: Learner = {
  id: "ml_random_forest",
  name: "Random forest (ml-random-forest)",
  family: "random_forest",
  iterative: false,
  tasks: ["regression", "classification"],
  maxRows: 600,
  why: "Averages many decorrelated trees: robust with little tuning; this implementation is only fast on small tables.",
  defaults: { n_estimators: 30, max_features: 0.7, seed: 1 },
  async fit(input, params) {
    const p = { ...this.defaults, ...params };
    const options = {
      nEstimators: Number(p["n_estimators"]),
      maxFeatures: Number(p["max_features"]),
      seed: Number(p["seed"]),
      noOOB: true,
      replacement: true,
      useSampleBagging: true,
    };
    const x = rowsOf(input.train.x);
    const y = Array.from(input.train.y);
    if (input.task === "regression") {
      const rf = new RandomForestRegression(options);
      rf.train(x, y);
      return fitted(p, "regression", rf.toJSON(), 0);
    }
    const rf = new RandomForestClassifier(options);
    rf.train(x, y);
    return fitted(p, "classification", rf.toJSON(), input.nClasses);
  },
  restore(saved) {
    return fitted(saved.params, saved.task, saved.state, saved.n_classes);
  },
};

function fitted(params: Params, task: "regression" | "classification", model: unknown, k: number): FittedModel {
  const rf =
    task === "regression"
      ? RandomForestRegression.load(model as Parameters<typeof RandomForestRegression.load>[0])
      : RandomForestClassifier.load(model as Parameters<typeof RandomForestClassifier.load>[0]);
  return {
    modelId: "ml_random_forest",
    params,
    stepsRun: 1,
    stopReason: "fitted",
    predict(x: Matrix) {
      if (task === "regression") return Float64Array.from(rf.predict(rowsOf(x)));
      const votes = rf.predictionValues(rowsOf(x));
      const out = new Float64Array(x.rows * k);
      for (let i = 0; i < x.rows; i++) {
        const row = votes.getRow(i);
        for (const v of row) out[i * k + v]! += 1 / row.length;
      }
      return out;
    },
    save(): SavedModel {
      return { model_id: "ml_random_forest", params, task, n_features: 0, n_classes: k, state: model as unknown as Record<string, unknown> };
    },
  };
}
