/**
 * The export zip: the notebook, the report, the best model with its preprocessing, every run,
 * the evaluation artifacts, the event log and the data (files up to 50 MB), with a sha256 per
 * file and for the zip itself. It is built from the project's folder, so a notebook cell and
 * the EXPORT stage produce the same zip.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Zippable } from "fflate";
import { backgroundWorker } from "../data/worker-script";
import { EV, type EventPayload, type FinalMetrics } from "../../contract";
import { sha256, type AssetStore } from "../assets/asset-store";
import type { EventSink } from "../events/event-sink";

export interface ExportOptions {
  projectId: string;
  prompt: string;
  /** the best run, and its model file in the project (models/<run>.model) when it is there */
  best: { run_id: string; model_id: string; model_file: string | null; final_metrics: FinalMetrics | null } | null;
}

const TOP_FILES = ["notebook.ipynb", "report.md", "project.json", "events.jsonl"];
const FOLDERS = ["preprocess", "profile", "models", "runs", "data"];
const MAX_FILE_BYTES = 50 * 1024 * 1024;

/** Reads the project's files from `source` and writes the zip into `target` (the same store, but for a standalone notebook). */
export async function exportProjectZip(
  source: AssetStore,
  target: AssetStore,
  events: EventSink,
  options: ExportOptions,
): Promise<EventPayload<"EXPORT_READY">> {
  const entries = collectEntries(source, options.best?.model_file ?? null);
  const extra = { "README.md": exportReadme(options) };
  const files: Record<string, Uint8Array> = {};
  const contents: EventPayload<"EXPORT_READY">["contents"] = [];
  const total = entries.length + 1;
  let done = 0;
  const add = (zipPath: string, bytes: Uint8Array) => {
    files[zipPath] = bytes;
    contents.push({ path: zipPath, size: bytes.length, sha256: sha256(bytes) });
    done++;
    events.emit(EV.EXPORT_PROGRESS, { pct: Math.round((90 * done) / total), message: `added ${zipPath}` });
  };
  events.emit(EV.EXPORT_PROGRESS, { pct: 0, message: `collecting ${total} files` });
  for (const e of entries) add(e.zipPath, new Uint8Array(source.read(e.source)));
  for (const [zipPath, text] of Object.entries(extra)) add(zipPath, new TextEncoder().encode(text));
  // a fixed timestamp keeps the zip byte-identical for identical contents
  // compressed in a worker thread: a big search's models take seconds of deflate, off this event loop
  const zipped = await zipOffThread(Object.fromEntries(Object.entries(files).map(([p, b]) => [p, [b, { mtime: new Date("2020-01-01T00:00:00Z") }]])));
  events.emit(EV.EXPORT_PROGRESS, { pct: 95, message: "compressed" });
  const zipRel = `export/${options.projectId}.zip`;
  const written = target.write(zipRel, zipped);
  const ready = { asset_url: written.url, contents, checksum: `sha256:${written.sha256}` };
  events.emit(EV.EXPORT_PROGRESS, { pct: 100, message: `wrote ${zipRel}` });
  events.emit(EV.EXPORT_READY, ready);
  events.emit(EV.FILE_TREE_UPDATE, { files: [{ path: zipRel, type: "file", size: written.size, sha: written.sha256 }] });
  return ready;
}

/** fflate's zipSync in a worker thread (its own async zip still deflates small files and computes every CRC on this thread). */
async function zipOffThread(files: Zippable): Promise<Uint8Array> {
  const worker = backgroundWorker(path.join(__dirname, "zip-worker.ts"), "zip-worker.js", __filename, { workerData: files });
  try {
    const answer = await new Promise<{ zipped: Uint8Array } | { error: string }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the zip thread exited (code ${code}) before it answered`)));
    });
    if ("error" in answer) throw new Error(`the export zip could not be compressed: ${answer.error}`);
    return answer.zipped;
  } finally {
    void worker.terminate();
  }
}

function collectEntries(assets: AssetStore, bestModelFile: string | null): Array<{ zipPath: string; source: string }> {
  const out: Array<{ zipPath: string; source: string }> = [];
  // only regular files inside the project: a planted link (data/x.csv → /etc/passwd) is left out
  for (const f of TOP_FILES) if (assets.regularFile(f)) out.push({ zipPath: f, source: f });
  for (const folder of FOLDERS) {
    for (const rel of listFiles(assets.absolute(folder), folder)) {
      const real = assets.regularFile(rel);
      if (real && fs.statSync(real).size <= MAX_FILE_BYTES) out.push({ zipPath: rel, source: rel });
    }
  }
  if (bestModelFile && assets.regularFile(bestModelFile)) out.push({ zipPath: `model/best-model${path.extname(bestModelFile)}`, source: bestModelFile });
  return out;
}

function listFiles(dir: string, rel: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), `${rel}/${d.name}`) : d.name.endsWith(".tmp") ? [] : [`${rel}/${d.name}`]));
}

function exportReadme(o: ExportOptions): string {
  const primary = o.best?.final_metrics?.primary;
  return [
    `# ${o.prompt}`,
    "",
    `Exported by AutoML Builder from project \`${o.projectId}\`.`,
    "",
    "- `notebook.ipynb`: the pipeline as a TypeScript notebook (kernel: tslab), one section per stage.",
    "- `report.md`: what was done and how well it worked.",
    `- \`model/best-model${o.best?.model_file ? path.extname(o.best.model_file) : ".model"}\`: the best model (${o.best?.model_id ?? "none"}) with its fitted preprocessing, feature names and test metrics, as a model file: the safetensors layout (its arrays as little-endian bytes; a JSON document, the rest, in the header's \`__metadata__.document\`).`,
    "- `models/`: the models of the best runs (the leaderboard's first few and the chosen one); `runs/`: every run's evaluation artifacts (JSON data with a vega-lite spec).",
    "- `data/`: the data the project used; `events.jsonl`: the project's complete event log.",
    "",
    primary ? `Test ${primary.name} of the best model: ${primary.value.toFixed(4)}.` : "No model finished training.",
    "",
  ].join("\n");
}
