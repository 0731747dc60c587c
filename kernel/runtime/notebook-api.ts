/**
 * `import * as automl from "automl-builder/runtime"`: what a notebook cell sees. `connect`
 * returns the same PipelineRuntime the conductor's stages use, bound to the project the
 * kernel serves, so every call emits the project's live events. Under a plain Jupyter kernel
 * (no AutoML kernel host) it runs standalone: events are still checked against the contract
 * and kept in `rt.standaloneEvents`, and assets go to a temporary folder, so the product's
 * files are never touched.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validatePayload, type EventName, type EventPayload, type StageId, type TrainingPlan } from "../../contract";
import { AssetStore } from "../assets/asset-store";
import type { Table } from "../data/table";
import { loadTableFile } from "../data/table-loader";
import type { EventSink } from "../events/event-sink";
import { Displayable, VEGA_LITE_MIME, tableDisplay } from "./displayable";
import { findKernelHost } from "./kernel-host";
import { PipelineRuntime, type LeaderboardRow } from "./pipeline-runtime";

export type { PreprocessStep, TaskType } from "../../contract";
/** A model to train: its zoo id and settings (a training plan's models are these). */
export type ModelSpec = TrainingPlan["models"][number];
export type { PreparedData, SplitData, LeaderboardRow, TrainOutcome } from "./pipeline-runtime";
export type { Table } from "../data/table";
export type { TableProfile } from "../data/table-profile";
export { Displayable, VEGA_LITE_MIME };

export interface NotebookRuntime extends PipelineRuntime {
  readonly projectId: string;
  /** true under a plain Jupyter kernel */
  readonly standalone: boolean;
  /** standalone only: the events the calls produced, checked against the contract */
  readonly standaloneEvents: Array<{ stage: StageId; name: EventName; payload: unknown }>;
}

export async function connect(projectId: string): Promise<NotebookRuntime> {
  const host = findKernelHost();
  if (host) {
    if (host.projectId !== projectId) {
      throw new Error(`This kernel serves project ${host.projectId}, not ${projectId}. Open the notebook of ${projectId} to run its cells.`);
    }
    const runtime = new PipelineRuntime({
      sinkFor: (stage) => ({ emit: (name, payload) => host.emit(stage, name, payload) }),
      assets: new AssetStore(projectId, host.projectDir),
      pacing: host.pacing,
      get signal() {
        return host.currentSignal();
      },
      state: () => host.state(),
      track: (work) => host.track(work),
    });
    return Object.assign(runtime, { projectId, standalone: false, standaloneEvents: [] });
  }
  const events: NotebookRuntime["standaloneEvents"] = [];
  const sinkFor = (stage: StageId): EventSink => ({
    emit<N extends EventName>(name: N, payload: EventPayload<N>) {
      const checked = validatePayload(name, payload);
      if (!checked.ok) throw new Error(checked.error);
      events.push({ stage, name, payload });
    },
  });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `automl-${projectId}-`));
  // the notebook's folder is the project's: its files are read from there, nothing is written there
  const runtime = new PipelineRuntime({
    sinkFor,
    assets: new AssetStore(projectId, scratch),
    projectFiles: new AssetStore(projectId, process.cwd()),
    pacing: false,
    ownEvents: () => events,
  });
  return Object.assign(runtime, { projectId, standalone: true, standaloneEvents: events });
}

/** A data file read as the pipeline reads it (every shape: CSV in any encoding, JSON, Parquet, Arrow, Excel, compressed), to explore. */
export async function readTable(file: string): Promise<Table> {
  return (await loadTableFile(file)).table;
}

/** The first `rows` records of a table to explore in a DataFrame: texts on one line and cut to `maxChars` (an e-mail's newlines and length would break a DataFrame's printing). */
export function previewRecords(t: Table, rows: number, maxChars = 200): Array<Record<string, string | number | null>> {
  return t.records(0, rows).map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => {
        if (typeof v !== "string") return [k, v];
        const line = v.replace(/\p{Cc}+/gu, " ");
        return [k, line.length > maxChars ? `${line.slice(0, maxChars)}…` : line];
      }),
    ),
  );
}

/** Shows rows (a leaderboard, a sample) as a table. */
export function table(rows: Array<Record<string, unknown>>, caption?: string): Displayable {
  return tableDisplay(rows, caption);
}

/** The leaderboard as a table: model, validation and test scores, time. */
export function leaderboard(rows: LeaderboardRow[]): Displayable {
  return tableDisplay(
    rows.map((r) => ({
      model: r.model,
      run: r.run_id ?? "",
      status: r.status ?? "",
      validation: r.metric ? `${r.metric.name} ${r.metric.value.toFixed(6)}` : "",
      test: r.test_metric ? `${r.test_metric.name} ${r.test_metric.value.toFixed(6)}` : "",
      seconds: r.runtime_s,
    })),
    "Leaderboard (ranked on validation)",
  );
}

/** Anything with a text form and optionally an HTML form (a danfo DataFrame, for one). */
export function show(value: { toString(): string; shape?: number[]; columns?: string[] }): Displayable {
  const text = String(value);
  const shape = Array.isArray(value.shape) ? `${value.shape.join(" × ")}` : null;
  return new Displayable({ "text/plain": shape ? `${text}\n[${shape}]` : text });
}

/** A vega-lite chart. */
export function vegaLite(spec: Record<string, unknown>, description = "chart"): Displayable {
  return new Displayable({ "text/plain": `<vega-lite ${description}>`, [VEGA_LITE_MIME]: spec });
}

/** Shows a value now, as an output of the running cell (in plain Jupyter: prints its text). */
export function display(value: Displayable | string): void {
  const bundle = typeof value === "string" ? { "text/plain": value } : value.toMimeBundle();
  const host = findKernelHost();
  if (host) host.display(bundle);
  else console.log(String(bundle["text/plain"] ?? ""));
}

/** Markdown, rendered (in plain Jupyter's text output: as it is). */
export function markdown(text: string): Displayable {
  return new Displayable({ "text/plain": text, "text/markdown": text });
}

/** HTML output. */
export function html(markup: string): Displayable {
  return new Displayable({ "text/plain": markup.replace(/<[^<>]*>/g, ""), "text/html": markup });
}

/** A PNG image (bytes, e.g. from fs.readFileSync). */
export function png(bytes: Uint8Array, description = "image"): Displayable {
  return new Displayable({ "text/plain": `<png ${description}, ${bytes.length} bytes>`, "image/png": Buffer.from(bytes).toString("base64") });
}

/** Any JSON value, shown as a collapsible tree where the client supports it. */
export function json(value: unknown): Displayable {
  return new Displayable({ "text/plain": JSON.stringify(value, null, 2), "application/json": value });
}
