// A whole project on a real-size table, against scikit-learn's HistGradientBoosting on the same
// split: `automl run --auto --no-pacing --time-budget B` (the built CLI, as a person runs it)
// with its wall time, peak memory (the largest process, by /usr/bin/time) and project folder
// size; then scikit-learn (Debian's python3-sklearn and pandas) fits HistGradientBoosting with
// its defaults on the same training rows (the split the project made, recomputed by the same
// code from its seed) and is scored on the same test rows. Categories go to scikit-learn as
// native categorical features (codes for more than 255 levels), dates as year, month, day,
// weekday and hour.
//   npm run build && node bench/generate-table.mjs /tmp/t1m.csv 1000000
//   node bench/real-size-run.mjs /tmp/t1m.csv y [BUDGET=120]
//   node bench/real-size-run.mjs node_modules/vega-datasets/data/flights-3m.parquet delay
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { loadTableFile } = require("../kernel/data/table-loader.ts");
const { encodeTarget } = require("../kernel/data/target-column.ts");
const { splitRows } = require("../kernel/data/row-split.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const [file, target, budgetArg = "120"] = process.argv.slice(2);
if (!file || !target) {
  console.error("usage: node bench/real-size-run.mjs FILE TARGET [BUDGET]");
  process.exit(2);
}
const dir = mkdtempSync(path.join(tmpdir(), "automl-real-size-"));
const ws = path.join(dir, "ws");
const out = path.join(dir, "out");

// 1. the product
const run = spawnSync(
  "/usr/bin/time",
  [
    "-f",
    "%e %M",
    process.execPath,
    path.join(here, "..", "bin", "automl.js"),
    "run",
    `predict ${target}`,
    "--data",
    path.resolve(file),
    "--target",
    target,
    "--auto",
    "--no-pacing",
    "--time-budget",
    budgetArg,
    "--workspace",
    ws,
    "--out",
    out,
  ],
  { encoding: "utf8", maxBuffer: 1 << 28 },
);
if (run.status !== 0) throw new Error(`automl run failed (${run.status}):\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
const [wall, peakKb] = run.stderr.trim().split("\n").pop().split(" ").map(Number);
const events = readFileSync(path.join(out, "events.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const payloads = (name) => events.filter((e) => e.event?.name === name).map((e) => e.event.payload);
const split = payloads("SPLIT_SUMMARY")[0];
const bestId = payloads("BEST_MODEL_UPDATED").pop().run_id;
const finished = payloads("TRAIN_RUN_FINISHED").find((p) => p.run_id === bestId);
const started = payloads("TRAIN_RUN_STARTED").find((p) => p.run_id === bestId);
const projects = path.join(ws, ".automl", "projects");
const project = path.join(projects, readdirSync(projects)[0]);
const du = (p) => Number(spawnSync("du", ["-sb", p], { encoding: "utf8" }).stdout.split("\t")[0]);
const searchLines = payloads("LOG_LINE")
  .filter((p) => p.text.startsWith("search:"))
  .map((p) => p.text);

// 2. the same split, for scikit-learn: the features as a CSV with the training and test rows marked
const { table } = await loadTableFile(path.resolve(file));
const task = started.config.task_type;
const rows = splitRows(encodeTarget(table, target, task), { seed: split.seed, testSize: split.test_size ?? 0.2, valSize: split.val_size ?? 0.2 });
const role = new Uint8Array(table.nRows);
for (const r of rows.train) role[r] = 1;
for (const r of rows.test) role[r] = 2;
const lines = [[...table.columnNames.map((n) => JSON.stringify(n)), "__role"].join(",")];
for (let r = 0; r < table.nRows; r++) {
  if (role[r] === 0) continue;
  lines.push(
    [
      ...table.columns.map((c) => {
        const v = table.cell(r, c.name);
        return v === null ? "" : typeof v === "string" ? JSON.stringify(v) : String(v);
      }),
      role[r],
    ].join(","),
  );
}
const csv = path.join(dir, "rows.csv");
writeFileSync(csv, lines.join("\n"));
const kinds = Object.fromEntries(table.columns.map((c) => [c.name, c.kind]));
const python = spawnSync(
  "/usr/bin/python3",
  [
    "-c",
    `
import json, sys, time
import numpy as np, pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor, HistGradientBoostingClassifier
from sklearn.metrics import mean_squared_error, accuracy_score
kinds = json.loads(sys.argv[3]); target = sys.argv[2]
df = pd.read_csv(sys.argv[1])
X = pd.DataFrame(index=df.index); cat = []
for name, kind in kinds.items():
    if name == target: continue
    col = df[name]
    if kind == "datetime":
        t = pd.to_datetime(col, utc=True, errors="coerce")
        for part in ["year", "month", "day", "dayofweek", "hour"]: X[name + "_" + part] = getattr(t.dt, part)
    elif kind == "categorical":
        codes = col.astype("category").cat.codes.replace(-1, np.nan)
        X[name] = codes
        if col.nunique() <= 255: cat.append(X.columns.get_loc(name))
    else: X[name] = col
train, test = df["__role"] == 1, df["__role"] == 2
mask = np.zeros(X.shape[1], dtype=bool); mask[cat] = True
model = (HistGradientBoostingRegressor if sys.argv[4] == "regression" else HistGradientBoostingClassifier)(random_state=0, categorical_features=mask if cat else None)
t0 = time.perf_counter(); model.fit(X[train], df.loc[train, target]); fit_s = time.perf_counter() - t0
pred = model.predict(X[test])
score = mean_squared_error(df.loc[test, target], pred) ** 0.5 if sys.argv[4] == "regression" else accuracy_score(df.loc[test, target].astype(str), pred.astype(str))
import sklearn
print(json.dumps({"fit_s": fit_s, "score": score, "train_rows": int(train.sum()), "test_rows": int(test.sum()), "sklearn": sklearn.__version__}))
`,
    csv,
    target,
    JSON.stringify(kinds),
    task,
  ],
  { encoding: "utf8", maxBuffer: 1 << 24 },
);
if (python.status !== 0) throw new Error(`scikit-learn's side failed: ${python.stderr}`);
const sk = JSON.parse(python.stdout.trim().split("\n").pop());

const primary = finished.final_metrics.primary;
console.log(
  `${path.basename(file)}: ${table.nRows.toLocaleString("en")} rows × ${table.nCols} columns, target ${target} (${task}), split seed ${split.seed}: ${rows.train.length.toLocaleString("en")} train / ${rows.val.length.toLocaleString("en")} validation / ${rows.test.length.toLocaleString("en")} test rows`,
);
console.log(
  `automl run --auto --no-pacing --time-budget ${budgetArg}: wall ${wall.toFixed(1)} s, peak memory ${(peakKb / 1024).toFixed(0)} MB, project folder ${(du(project) / 1048576).toFixed(0)} MB (data ${(du(path.join(project, "data")) / 1048576).toFixed(0)}, runs ${(du(path.join(project, "runs")) / 1048576).toFixed(0)}, models ${(du(path.join(project, "models")) / 1048576).toFixed(1)}, export ${(du(path.join(project, "export")) / 1048576).toFixed(0)})`,
);
console.log(
  `  best: ${finished.run_id.replace(/-[0-9a-f]+$/, "")} trained on ${started.config.train.rows?.toLocaleString("en") ?? "?"} rows, test ${primary.name} ${primary.value.toFixed(4)}`,
);
for (const l of searchLines.filter((l) => !/^search: trial \d/.test(l))) console.log(`  ${l}`);
const leaderboard = payloads("LEADERBOARD_UPDATED").pop()?.rows ?? [];
for (const p of payloads("TRAIN_RUN_FINISHED")) {
  const s = payloads("TRAIN_RUN_STARTED").find((x) => x.run_id === p.run_id);
  const row = leaderboard.find((r) => r.run_id === p.run_id);
  console.log(
    `    ${p.run_id.padEnd(24)} ${String(s?.config.train.rows ?? "?").padStart(8)} rows  ${p.status.padEnd(9)} validation ${row?.metric?.value.toFixed(4) ?? "-"}  test ${p.final_metrics?.primary.value.toFixed(4) ?? "-"}  ${row?.runtime_s?.toFixed(1) ?? "?"} s${p.reason ? `  (${p.reason})` : ""}`,
  );
}
console.log(
  `scikit-learn ${sk.sklearn} HistGradientBoosting (defaults) on the same ${sk.train_rows.toLocaleString("en")} training rows: fit ${sk.fit_s.toFixed(1)} s, test ${primary.name} ${sk.score.toFixed(4)}`,
);
rmSync(dir, { recursive: true, force: true });
