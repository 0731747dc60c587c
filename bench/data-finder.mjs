// From a prompt with no data to the first event of PROFILE_DATA, with the data found on a
// Hugging Face Hub on 127.0.0.1 (test/support/test-hub-server.ts, real HTTP: search, card, file
// tree, a redirect, the download): search + rank, download, load, for a 5 MB and a 200 MB CSV.
// The data is real (vega-datasets' flights-3m.parquet: date, delay, distance, origin,
// destination), written as CSV; the 200 MB file holds its 3 million rows and then repeats them
// until it reaches 200 MB. Each measure is `automl serve` (the conductor, a fresh process) given
// `predict flight delays` in auto mode, timed from the project's first event to its first
// PROFILE_DATA event, read from its event log. Cold: a new workspace (nothing cached); warm: a
// second project in the same workspace, whose download the cache answers (the Hub's request log
// shows no second download). Beside them, the floor:
// the same file fetched over the same loopback HTTP by a plain fetch into a file.
// Usage: node bench/data-finder.mjs [REPS=3]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { startTestHub } = require("../test/support/test-hub-server.ts");
const { flightDelayDatasets } = require("../test/support/flight-hub.ts");
const { loadTableFile } = require("../kernel/data/table-loader.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, "..", "bin", "automl.js");
const reps = Number(process.argv[2] ?? 3);
const dir = fs.mkdtempSync(path.join(tmpdir(), "automl-finder-bench-"));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MB = 1024 * 1024;

/** flights as CSV, up to `bytes` (the rows repeated when the file holds them all) */
async function flightsCsv(file, bytes) {
  const { table } = await loadTableFile(path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", "flights-3m.parquet"));
  const names = table.columnNames;
  const out = fs.createWriteStream(file);
  let written = 0;
  const header = `${names.join(",")}\n`;
  out.write(header);
  written += header.length;
  let full = false;
  while (!full) {
    for (let start = 0; start < table.nRows && !full; start += 50_000) {
      const lines = table
        .records(start, Math.min(table.nRows, start + 50_000))
        .map((r) => names.map((n) => (r[n] instanceof Date ? r[n].toISOString().slice(0, 16).replace("T", " ") : (r[n] ?? ""))).join(","))
        .join("\n");
      const chunk = `${lines}\n`;
      const room = bytes - written;
      // cut at a line's end
      const piece = chunk.length <= room ? chunk : chunk.slice(0, chunk.lastIndexOf("\n", room) + 1);
      if (!out.write(piece)) await new Promise((r) => out.once("drain", r));
      written += piece.length;
      // the next line would not fit: the file is as full as whole lines make it
      full = piece.length < chunk.length || written >= bytes;
    }
  }
  await new Promise((r) => out.end(r));
  return fs.statSync(file).size;
}

/** `automl run` given the prompt in auto mode: seconds (the envelopes' ts) from the project's first event to its first PROFILE_DATA event, by phase. */
async function promptToProfile(workspace, hubUrl) {
  const child = spawn(process.execPath, [BIN, "run", "predict flight delays", "--auto", "--no-pacing", "--workspace", workspace], {
    env: { ...process.env, HF_ENDPOINT: hubUrl, AUTOML_DATASET_SOURCES: "workspace,catalog,hf" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((r) => child.once("close", r));
  const projects = path.join(workspace, ".automl", "projects");
  const before = new Set(fs.existsSync(projects) ? fs.readdirSync(projects) : []);
  const until = Date.now() + 600_000;
  try {
    for (;;) {
      if (Date.now() > until) throw new Error("no PROFILE_DATA event in 10 minutes");
      const id = fs.existsSync(projects) ? fs.readdirSync(projects).find((p) => !before.has(p)) : undefined;
      const log = id && path.join(projects, id, "events.jsonl");
      if (log && fs.existsSync(log)) {
        const events = fs
          .readFileSync(log, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l));
        const profile = events.find((e) => e.stage.id === "PROFILE_DATA");
        const failed = events.find((e) => e.event.name === "STAGE_STATUS" && e.event.payload.status === "failed");
        if (failed) throw new Error(`${failed.event.payload.stage_id} failed: ${failed.event.payload.message}`);
        if (profile) {
          const at = (name) => events.find((e) => e.event.name === name).ts;
          const t0 = events[0].ts;
          const cached = events.some((e) => e.event.name === "LOG_LINE" && /download cache/.test(e.event.payload.text));
          return {
            total: profile.ts - t0,
            search: at("DATASET_CANDIDATES") - t0,
            fetch: at("DATASET_SELECTED") - at("DATASET_CANDIDATES"),
            load: at("DATASET_SAMPLE_READY") - at("DATASET_SELECTED"),
            cached,
            rows: events.find((e) => e.event.name === "DATASET_SAMPLE_READY").event.payload.n_rows,
          };
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

async function plainDownload(hubUrl, dest) {
  const started = performance.now();
  const res = await fetch(`${hubUrl}/datasets/open-aviation/flight-delays/resolve/main/data/flights-train.csv`);
  await pipeline(Readable.fromWeb(res.body), fs.createWriteStream(dest));
  return performance.now() - started;
}

const rows = [];
for (const size of [5, 200]) {
  const file = path.join(dir, `flights-${size}mb.csv`);
  const bytes = await flightsCsv(file, size * MB);
  // the GPL dataset with the most downloads and one licensed one (a clear choice)
  const hub = await startTestHub(flightDelayDatasets({ diskFile: file }, { extension: ".csv", downloadSize: bytes, closeSecond: false }));
  const cold = [];
  const warm = [];
  const floor = [];
  for (let i = 0; i < reps; i++) {
    const ws = fs.mkdtempSync(path.join(dir, `ws-${size}-`));
    cold.push(await promptToProfile(ws, hub.url));
    warm.push(await promptToProfile(ws, hub.url));
    floor.push(await plainDownload(hub.url, path.join(dir, "plain.csv")));
    fs.rmSync(ws, { recursive: true, force: true });
  }
  await hub.close();
  if (cold.some((c) => c.cached) || warm.some((w) => !w.cached)) throw new Error("the cache did not behave: cold runs must download, warm ones must not");
  const m = (xs, k) => median(xs.map((x) => x[k]));
  rows.push({
    dataset: `${size} MB CSV (${(bytes / MB).toFixed(1)} MB, ${cold[0].rows.toLocaleString("en")} rows)`,
    cold_total_s: m(cold, "total"),
    cold_search_rank_s: m(cold, "search"),
    cold_download_s: m(cold, "fetch"),
    cold_load_s: m(cold, "load"),
    warm_total_s: m(warm, "total"),
    warm_fetch_from_cache_s: m(warm, "fetch"),
    saved_s: m(cold, "total") - m(warm, "total"),
    plain_http_download_s: median(floor) / 1000,
  });
  fs.rmSync(file, { force: true });
}
fs.rmSync(dir, { recursive: true, force: true });
const fmt = (x) => (typeof x === "number" ? x.toFixed(2) : x);
console.log(`prompt → first PROFILE_DATA event, against a Hub on 127.0.0.1 (medians of ${reps}; seconds)`);
console.log(["dataset", ...Object.keys(rows[0]).slice(1)].join(" | "));
for (const r of rows) console.log(Object.values(r).map(fmt).join(" | "));
console.log(JSON.stringify(rows));
