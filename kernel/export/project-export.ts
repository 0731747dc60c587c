/**
 * The export bundle: a zip that predicts on its own (predict.mjs, its package.json, the best
 * model, its input schema, a sample of rows, a README documenting the model format) and keeps
 * the project's record (the notebook, the report, every run, the evaluation artifacts, the
 * event log and the data, files up to 50 MB), with a manifest of every file's sha256. Written
 * as a stream in a worker thread (zip-worker.ts): a large project never sits in memory. Built
 * from the project's folder, so a notebook cell and the EXPORT stage produce the same zip, and
 * the same folder the same bytes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { backgroundWorker } from "../data/worker-script";
import { EV, type EventPayload, type FinalMetrics, type ForecastFraming } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import type { EventSink } from "../events/event-sink";
import type { FittedPreprocessor } from "../data/feature-transform";
import { readModelFileSummary } from "../ml/model-file";
import { AUDIT_FILE } from "../assets/audit-log";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, BUNDLED_MODEL, MANIFEST_FILE } from "../predict/bundle-manifest";
import {
  PREDICT_SCRIPT,
  SAMPLE_FILE,
  SAMPLE_IMAGES_FOLDER,
  SCHEMA_FILE,
  bundlePackageJson,
  bundleReadme,
  bundleSchema,
  sampleCsv,
  type BundledModel,
} from "./bundle-files";
import type { ZipMessage, ZipRequest } from "./zip-worker";

export interface ExportOptions {
  projectId: string;
  prompt: string;
  /** the best run, and its model file in the project (models/<run>.model) when it is there */
  best: { run_id: string; model_id: string; model_file: string | null } | null;
  /** the data's license when it is non-commercial: the bundle's README says "research / demo only" */
  researchOnly?: string | null;
}

const TOP_FILES = ["notebook.ipynb", "report.md", "project.json", "events.jsonl", AUDIT_FILE];
const FOLDERS = ["preprocess", "profile", "models", "runs", "data"];
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const SAMPLE_ROWS = 20;

type Entry = ZipRequest["entries"][number];

/** Reads the project's files from `source` and writes the bundle into `target` (the same store, but for a standalone notebook). */
export async function exportProjectZip(
  source: AssetStore,
  target: AssetStore,
  events: EventSink,
  options: ExportOptions,
): Promise<EventPayload<"EXPORT_READY">> {
  const model = options.best?.model_file ? bundledModel(source, options.best.model_file, options.best.run_id) : null;
  // a forecast takes no rows: it has no sample to try; an image model's sample is a folder of images
  const sampleImages = model?.image_size ? imageSample(source, model) : [];
  const sample = model && !model.forecast && !model.image_size ? sampleOf(source, model) : null;
  const entries: Entry[] = [
    {
      path: "README.md",
      text: bundleReadme({
        projectId: options.projectId,
        prompt: options.prompt,
        model,
        sampleRows: sample?.rows ?? null,
        sampleImages: sampleImages.length,
        researchOnly: options.researchOnly ?? null,
      }),
    },
  ];
  if (model) {
    entries.push(
      { path: PREDICT_SCRIPT, ...predictScript() },
      { path: "package.json", text: bundlePackageJson(options.projectId) },
      { path: BUNDLED_MODEL, ...fileEntry(source, options.best!.model_file!)! },
      { path: SCHEMA_FILE, text: bundleSchema(model) },
    );
    if (sample) entries.push({ path: SAMPLE_FILE, text: sample.csv });
    entries.push(...sampleImages);
  }
  entries.push(...collectEntries(source));
  const manifest = {
    format: BUNDLE_FORMAT,
    format_version: BUNDLE_FORMAT_VERSION,
    project_id: options.projectId,
    prompt: options.prompt,
    model: model ? { file: BUNDLED_MODEL, run_id: model.run_id, model_id: model.model_id, task: model.task, target: model.target } : null,
  };
  const zipRel = `export/${options.projectId}.zip`;
  const temp = `${zipRel}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(target.absolute(zipRel)), { recursive: true });
  events.emit(EV.EXPORT_PROGRESS, { pct: 0, message: `writing ${entries.length + 1} files` });
  let lastPct = 0;
  const done = await zipOffThread({ out: target.absolute(temp), entries, manifest, manifestPath: MANIFEST_FILE }, (m) => {
    const pct = Math.min(99, Math.floor((99 * m.done) / m.total));
    // a project of thousands of files says each percent once, not each file
    if (pct > lastPct || m.done === m.total) {
      lastPct = pct;
      events.emit(EV.EXPORT_PROGRESS, { pct, message: `added ${m.path} (${m.done} of ${m.total})` });
    }
  }).catch((err: unknown) => {
    fs.rmSync(target.absolute(temp), { force: true });
    throw err;
  });
  fs.renameSync(target.absolute(temp), target.absolute(zipRel));
  const ready = { asset_url: target.url(zipRel), contents: done.contents, checksum: `sha256:${done.sha256}` };
  events.emit(EV.EXPORT_PROGRESS, { pct: 100, message: `wrote ${zipRel}` });
  events.emit(EV.EXPORT_READY, ready);
  events.emit(EV.FILE_TREE_UPDATE, { files: [{ path: zipRel, type: "file", size: done.size, sha: done.sha256 }] });
  return ready;
}

/** What the model file says about itself (its header only). */
function bundledModel(source: AssetStore, modelFile: string, runId: string): BundledModel | null {
  const opened = source.openRegular(modelFile);
  if (!opened) return null;
  let doc: {
    run_id?: string;
    task?: string;
    target?: string;
    classes?: string[];
    features?: string[];
    preprocessor?: FittedPreprocessor;
    final_metrics?: FinalMetrics;
    model?: { model_id?: string };
    forecast?: { model_id?: string; framing?: ForecastFraming; interval_level?: number };
    text?: { model_id?: string; column?: string; classes?: string[] };
    image?: { model_id?: string; column?: string; classes?: string[]; size?: { width: number; height: number; channels: number } };
  };
  try {
    doc = readModelFileSummary(opened, modelFile) as typeof doc;
  } finally {
    fs.closeSync(opened.fd);
  }
  if (doc.task === "time_series_forecasting" && doc.forecast?.framing && doc.forecast.model_id && typeof doc.target === "string") {
    return {
      run_id: doc.run_id ?? runId,
      model_id: doc.forecast.model_id,
      task: doc.task,
      target: doc.target,
      classes: null,
      inputs: [],
      features: [],
      final_metrics: doc.final_metrics ?? null,
      forecast: { ...doc.forecast.framing, interval_level: doc.forecast.interval_level ?? 0.8 },
    };
  }
  // a text or an image model reads one column: its texts, or its image files
  const oneColumn = doc.task === "text_classification" ? doc.text : doc.task === "image_classification" ? doc.image : undefined;
  if (oneColumn?.model_id && oneColumn.column && oneColumn.classes && typeof doc.target === "string") {
    return {
      run_id: doc.run_id ?? runId,
      model_id: oneColumn.model_id,
      task: doc.task!,
      target: doc.target,
      classes: oneColumn.classes,
      inputs: [{ name: oneColumn.column, kind: "categorical", missing: doc.task === "text_classification" }],
      features: [],
      final_metrics: doc.final_metrics ?? null,
      ...(doc.image?.size ? { image_size: doc.image.size } : {}),
    };
  }
  if (!doc.preprocessor || typeof doc.target !== "string" || !doc.model?.model_id) return null;
  return {
    run_id: doc.run_id ?? runId,
    model_id: doc.model.model_id,
    task: doc.task ?? "regression",
    target: doc.target,
    classes: doc.task === "classification" ? (doc.classes ?? null) : null,
    inputs: doc.preprocessor.inputs ?? [],
    features: doc.features ?? doc.preprocessor.features.map((f) => f.name),
    final_metrics: doc.final_metrics ?? null,
  };
}

/** A few of the training images (the data sample's first rows), to try predict.mjs on: sample/<file>. */
function imageSample(source: AssetStore, model: BundledModel): Entry[] {
  if (!source.regularFile("data/sample.json")) return [];
  const sample = JSON.parse(source.read("data/sample.json").toString("utf8")) as { rows?: Array<Record<string, unknown>> };
  const column = model.inputs[0]!.name;
  const out: Entry[] = [];
  for (const row of (sample.rows ?? []).slice(0, SAMPLE_ROWS)) {
    const file = typeof row[column] === "string" ? fileEntry(source, row[column] as string) : null;
    if (file) out.push({ path: `${SAMPLE_IMAGES_FOLDER}/${String(out.length).padStart(2, "0")}-${path.basename(String(row[column]))}`, ...file });
  }
  return out;
}

/** The first rows of the project's data sample, as CSV, to try predict.mjs on. */
function sampleOf(source: AssetStore, model: BundledModel): { csv: string; rows: number } | null {
  if (!source.regularFile("data/sample.json")) return null;
  const sample = JSON.parse(source.read("data/sample.json").toString("utf8")) as { rows?: unknown[] };
  const csv = sampleCsv(sample, model, SAMPLE_ROWS);
  return csv ? { csv, rows: Math.min(SAMPLE_ROWS, sample.rows?.length ?? 0) } : null;
}

/**
 * The built predict.mjs (scripts/bundles.mjs): next to the conductor's bundle (dist/kernel →
 * dist/bundle), next to the notebook runtime's, or in the checkout's dist when running from source.
 */
function predictScript(): { file: string; size: number } {
  const candidates = [path.join(__dirname, "..", "bundle", PREDICT_SCRIPT), path.join(__dirname, "..", "..", "dist", "bundle", PREDICT_SCRIPT)];
  for (const file of candidates) if (fs.existsSync(file)) return { file, size: fs.statSync(file).size };
  throw new Error(`${PREDICT_SCRIPT} is missing (looked in ${candidates.join(", ")}): rebuild with \`npm run build\`.`);
}

function fileEntry(assets: AssetStore, rel: string): { file: string; size: number } | null {
  const real = assets.regularFile(rel);
  return real ? { file: real, size: fs.statSync(real).size } : null;
}

/** The worker writes the zip and says each file it added; the promise settles with what it wrote. */
async function zipOffThread(request: ZipRequest, onProgress: (m: ZipMessage & { kind: "progress" }) => void): Promise<ZipMessage & { kind: "done" }> {
  const worker = backgroundWorker(path.join(__dirname, "zip-worker.ts"), "zip-worker.js", __filename, { workerData: request });
  try {
    return await new Promise((resolve, reject) => {
      worker.on("message", (m: ZipMessage) => {
        if (m.kind === "progress") onProgress(m);
        else if (m.kind === "done") resolve(m);
        else reject(new Error(`the export zip could not be written: ${m.message}`));
      });
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the zip thread exited (code ${code}) before it finished`)));
    });
  } finally {
    void worker.terminate();
  }
}

/** The project's record: its top files and folders, regular files only (a planted link, data/x.csv → /etc/passwd, is left out), each at its size now. */
function collectEntries(assets: AssetStore): Entry[] {
  const out: Entry[] = [];
  for (const rel of [...TOP_FILES, ...FOLDERS.flatMap((folder) => listFiles(assets.absolute(folder), folder))]) {
    const entry = fileEntry(assets, rel);
    if (entry && (entry.size <= MAX_FILE_BYTES || TOP_FILES.includes(rel))) out.push({ path: rel, ...entry });
  }
  return out;
}

function listFiles(dir: string, rel: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), `${rel}/${d.name}`) : d.name.endsWith(".tmp") ? [] : [`${rel}/${d.name}`]));
}
