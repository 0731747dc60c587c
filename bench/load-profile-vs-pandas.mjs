// Loading and profiling a big CSV, ours against pandas (Debian's python3-pandas), side by side in
// one run: ours is kernel/data's loader and profile (bundled as the product bundles them, run by
// plain node), pandas' is read_csv + describe(include="all"). Each side runs REPS times in a
// fresh process, alternating (this machine's speed drifts); each run reports its own wall time
// and its process's peak resident memory. Prints the medians and their ratios.
//   node bench/generate-table.mjs /tmp/t1m.csv 1000000   (the 1M-row × 20-column table)
//   node bench/load-profile-vs-pandas.mjs /tmp/t1m.csv [REPS=5]
// Also takes Parquet, Arrow, Excel, JSON (ours only: pandas is then skipped with `--ours-only`).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { EXTERNAL } from "../scripts/bundles.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const oursOnly = process.argv.includes("--ours-only");
const [file, repsArg = "5"] = args;
if (!file) {
  console.error("usage: node bench/load-profile-vs-pandas.mjs FILE [REPS] [--ours-only]");
  process.exit(2);
}
const reps = Number(repsArg);
const dir = mkdtempSync(path.join(tmpdir(), "automl-load-bench-"));
const entry = path.join(dir, "entry.ts");
writeFileSync(
  entry,
  `import { loadTableFile } from ${JSON.stringify(path.join(here, "..", "kernel/data/table-loader.ts"))};
import { profileTable } from ${JSON.stringify(path.join(here, "..", "kernel/data/table-profile.ts"))};
(async () => {
  const t0 = performance.now();
  const { table } = await loadTableFile(process.argv[2]);
  const t1 = performance.now();
  const profile = profileTable(table, null, "regression");
  const t2 = performance.now();
  console.log(JSON.stringify({ rows: table.nRows, cols: table.nCols, load_s: (t1 - t0) / 1000, profile_s: (t2 - t1) / 1000,
    total_s: (t2 - t0) / 1000, peak_mb: process.resourceUsage().maxRSS / 1024, kinds: profile.types_breakdown }));
})();
`,
);
const bundle = path.join(dir, "load-profile.js");
buildSync({ entryPoints: [entry], outfile: bundle, bundle: true, platform: "node", format: "cjs", target: "es2022", external: EXTERNAL, logLevel: "error" });
const pandasScript = `
import sys, time, resource
import pandas as pd
t0 = time.perf_counter(); df = pd.read_csv(sys.argv[1]); t1 = time.perf_counter()
d = df.describe(include="all"); t2 = time.perf_counter()
import json
print(json.dumps({"rows": len(df), "cols": df.shape[1], "load_s": t1 - t0, "profile_s": t2 - t1, "total_s": t2 - t0,
  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "pandas": pd.__version__}))
`;
const run = (cmd, argv) => {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ours = [];
const pandas = [];
for (let i = 0; i < reps; i++) {
  ours.push(run(process.execPath, [bundle, file]));
  if (!oursOnly) pandas.push(run("/usr/bin/python3", ["-c", pandasScript, file]));
}
rmSync(dir, { recursive: true, force: true });
const size = (statSync(file).size / 1024 / 1024).toFixed(0);
console.log(`${path.basename(file)}: ${ours[0].rows.toLocaleString("en")} rows × ${ours[0].cols} columns, ${size} MB; ${reps} runs each, medians`);
const row = (name, runs) =>
  console.log(
    `${name.padEnd(28)} load ${median(runs.map((r) => r.load_s)).toFixed(2)} s  profile ${median(runs.map((r) => r.profile_s)).toFixed(2)} s  ` +
      `total ${median(runs.map((r) => r.total_s)).toFixed(2)} s  peak ${median(runs.map((r) => r.peak_mb)).toFixed(0)} MB`,
  );
row("ours (node " + process.version + ")", ours);
if (!oursOnly) {
  row(`pandas ${pandas[0].pandas} read_csv+describe`, pandas);
  const t = median(ours.map((r) => r.total_s)) / median(pandas.map((r) => r.total_s));
  const m = median(ours.map((r) => r.peak_mb)) / median(pandas.map((r) => r.peak_mb));
  console.log(`ratio ours/pandas: time ${t.toFixed(2)}, peak memory ${m.toFixed(2)}`);
}
