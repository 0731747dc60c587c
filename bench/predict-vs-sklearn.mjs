// Prediction speed, against scikit-learn (Debian's python3-sklearn and pandas) in the same run
// on the same data: a boosting model (100 trees of 31 leaves, trained on 16,000 × 20) and an MLP
// (64, 64) predicting a file of ROWS rows (default 1,000,000) from CSV to CSV, as a person runs
// it: `automl predict` against pandas.read_csv + model.predict + to_csv, each run a fresh
// process under /usr/bin/time (wall seconds, peak resident memory), alternating the two sides;
// medians of REPS runs. Also the models alone on the rows already in memory, and the conductor's
// POST /api/projects/{id}/predict for one row (p50 and p99 of 1,000 requests, one at a time).
// Usage: node bench/predict-vs-sklearn.mjs [ROWS=1000000] [REPS=3]   (runs TypeScript through tsx)
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { loadTableFile } = require("../kernel/data/table-loader.ts");
const { profileTable } = require("../kernel/data/table-profile.ts");
const { planPreprocessing } = require("../kernel/data/preprocess-plan.ts");
const { fitPreprocessor } = require("../kernel/data/preprocessor.ts");
const { transformRows } = require("../kernel/data/feature-transform.ts");
const { findLearner } = require("../kernel/ml/model-zoo.ts");
const { encodeModelFile } = require("../kernel/ml/model-file.ts");
const { regressionMetrics } = require("../kernel/ml/metrics.ts");
const { predictorFromModelFile } = require("../kernel/predict/model-predictor.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, "..", "bin", "automl.js");
const PY = "/usr/bin/python3";
const rows = Number(process.argv[2] ?? 1_000_000);
const reps = Number(process.argv[3] ?? 3);
const dir = fs.mkdtempSync(path.join(tmpdir(), "automl-predict-bench-"));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const python = (...args) =>
  JSON.parse(
    execFileSync(PY, [path.join(here, "sklearn_predict.py"), ...args], { encoding: "utf8", maxBuffer: 1 << 26 })
      .trim()
      .split("\n")
      .pop(),
  );

/** A command under /usr/bin/time: its wall seconds, peak resident MB and stdout. */
function timedRun(cmd, args) {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %M", cmd, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
  const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr);
  return { seconds: Number(m[1]), peakMb: Number(m[2]) / 1024, stdout: r.stdout };
}

console.log(`data: ${rows.toLocaleString("en")} rows × 20 numeric columns to predict; models trained on 16,000 × 20 (seeded); files in ${dir}`);
python("prepare", dir, String(rows));
console.log(`new.csv: ${(fs.statSync(path.join(dir, "new.csv")).size / 1e6).toFixed(0)} MB`);
const sk = python("fit", dir);

// ours: the pipeline's default plan on the same training rows, the models saved as projects save them
const { table } = await loadTableFile(path.join(dir, "train.csv"));
const { table: holdout } = await loadTableFile(path.join(dir, "holdout.csv"));
const steps = planPreprocessing(profileTable(table, "y", "regression"), "y");
const all = Array.from({ length: table.nRows }, (_, i) => i);
// the last 10% for early stopping where a learner uses it (the boosting model here grows all 100 trees, as scikit-learn's)
const cut = Math.floor(table.nRows * 0.9);
const prep = fitPreprocessor(steps, table, all.slice(0, cut), "y");
const setOf = (t, r) => ({ x: transformRows(prep, t, r), y: Float64Array.from(r, (i) => t.cell(i, "y")) });
const input = { task: "regression", train: setOf(table, all.slice(0, cut)), val: setOf(table, all.slice(cut)), nClasses: 0 };
const ours = {};
const holdoutSet = setOf(
  holdout,
  Array.from({ length: holdout.nRows }, (_, i) => i),
);
for (const [name, id, params] of [
  ["boosting", "hist_gbdt", { max_iter: 100, max_leaf_nodes: 31, n_iter_no_change: 1_000_000 }],
  ["mlp", "mlp", { max_epochs: 200 }],
]) {
  const model = await findLearner(id).fit(input, params, {});
  const file = path.join(dir, `ours-${name}.model`);
  fs.writeFileSync(file, encodeModelFile({ run_id: `${id}-bench`, task: "regression", target: "y", classes: [], preprocessor: prep, model: model.save() }));
  ours[name] = { file, r2: regressionMetrics(holdoutSet.y, model.predict(holdoutSet.x)).r2 };
}
console.log(
  `holdout R² (4,000 rows): boosting ours ${ours.boosting.r2.toFixed(4)} vs scikit-learn ${sk.holdout_r2.boosting.toFixed(4)}; MLP ours ${ours.mlp.r2.toFixed(4)} vs scikit-learn ${sk.holdout_r2.mlp.toFixed(4)}`,
);

// file to file, alternating, a fresh process each
const runs = { boosting: { ours: [], sk: [] }, mlp: { ours: [], sk: [] } };
for (let rep = 0; rep < reps; rep++) {
  for (const name of ["boosting", "mlp"]) {
    const s = timedRun(PY, [path.join(here, "sklearn_predict.py"), "predict", dir, name]);
    runs[name].sk.push({ ...s, phases: JSON.parse(s.stdout.trim()) });
    const o = timedRun(process.execPath, [
      BIN,
      "predict",
      "--model",
      ours[name].file,
      "--data",
      path.join(dir, "new.csv"),
      "--out",
      path.join(dir, `ours-${name}.predictions.csv`),
    ]);
    runs[name].ours.push(o);
  }
}
// the models alone, rows already in memory (a warm-up, then the median of REPS)
const { table: fresh } = await loadTableFile(path.join(dir, "new.csv"));
const freshX = transformRows(
  prep,
  fresh,
  Uint32Array.from({ length: fresh.nRows }, (_, i) => i),
);
const modelOnly = {};
for (const name of ["boosting", "mlp"]) {
  const p = predictorFromModelFile(new Uint8Array(fs.readFileSync(ours[name].file)), name);
  p.model.predict(freshX);
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    p.model.predict(freshX);
    times.push((performance.now() - t0) / 1000);
  }
  modelOnly[name] = median(times);
}

const rate = (s) => Math.round(rows / s).toLocaleString("en");
console.log(`\nfile to file (CSV in, CSV out), ${reps} runs each, medians:`);
console.log("model | side | wall s | rows/s | peak MB | of which predict s");
for (const name of ["boosting", "mlp"]) {
  const o = runs[name].ours;
  const s = runs[name].sk;
  const skPredict = median(s.map((r) => r.phases.predict_s));
  console.log(
    `${name} | ours (automl predict) | ${median(o.map((r) => r.seconds)).toFixed(2)} | ${rate(median(o.map((r) => r.seconds)))} | ${median(o.map((r) => r.peakMb)).toFixed(0)} | ${modelOnly[name].toFixed(2)} (in memory)`,
  );
  console.log(
    `${name} | scikit-learn + pandas | ${median(s.map((r) => r.seconds)).toFixed(2)} | ${rate(median(s.map((r) => r.seconds)))} | ${median(s.map((r) => r.peakMb)).toFixed(0)} | ${skPredict.toFixed(2)}`,
  );
  console.log(
    `${name} | ratio ours/sklearn | wall ${(median(o.map((r) => r.seconds)) / median(s.map((r) => r.seconds))).toFixed(2)} | | peak memory ${(median(o.map((r) => r.peakMb)) / median(s.map((r) => r.peakMb))).toFixed(2)} | model alone ${(modelOnly[name] / skPredict).toFixed(2)} (rows/s ours ${rate(modelOnly[name])}, sklearn ${rate(skPredict)})`,
  );
}
// the same numbers both ways? (not expected: two different models; a sanity check that both predicted every row)
for (const name of ["boosting", "mlp"]) {
  const lines = fs.readFileSync(path.join(dir, `ours-${name}.predictions.csv`), "utf8").split("\n").length - 2;
  if (lines !== rows) throw new Error(`ours wrote ${lines} predictions for ${rows} rows`);
}

// the conductor's endpoint, one row at a time, on a project trained on the same rows
const ws = path.join(dir, "workspace");
execFileSync(
  process.execPath,
  [BIN, "run", "predict y", "--data", path.join(dir, "train.csv"), "--target", "y", "--auto", "--no-pacing", "--workspace", ws, "--out", path.join(dir, "run")],
  {
    stdio: "ignore",
  },
);
const server = spawn(process.execPath, [BIN, "serve", "--workspace", ws], { stdio: ["ignore", "pipe", "inherit"] });
const ready = await new Promise((resolve) => server.stdout.once("data", (d) => resolve(JSON.parse(String(d).split("\n")[0]))));
const base = `http://127.0.0.1:${ready.port}`;
const headers = { authorization: `Bearer ${ready.token}`, "content-type": "application/json" };
const { projects } = await (await fetch(`${base}/api/projects`, { headers })).json();
const project = projects[0];
const row = Object.fromEntries(fresh.columnNames.map((c) => [c, fresh.cell(0, c)]));
const body = JSON.stringify({ rows: [row] });
const latencies = [];
for (let i = 0; i < 1100; i++) {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/projects/${project.id}/predict`, { method: "POST", headers, body });
  await res.json();
  if (!res.ok) throw new Error(`predict answered ${res.status}`);
  // the first 100 warm the connection and the JIT
  if (i >= 100) latencies.push(performance.now() - t0);
}
server.kill();
latencies.sort((a, b) => a - b);
console.log(
  `\nPOST /api/projects/{id}/predict, one row, 1,000 requests one after another (after 100 warm-up), model ${project.best_model.model_id}: p50 ${latencies[499].toFixed(2)} ms, p99 ${latencies[989].toFixed(2)} ms, max ${latencies.at(-1).toFixed(2)} ms`,
);
fs.rmSync(dir, { recursive: true, force: true });
