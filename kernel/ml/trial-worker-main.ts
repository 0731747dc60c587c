/**
 * The worker thread behind TrialWorker (trial-worker.ts): runs the trials it is sent, one
 * message each, and sends their events back in batches, then the outcome with the model in
 * its saved form. Built as its own bundle, dist/kernel/trial-worker.js.
 */
import { parentPort } from "node:worker_threads";
import { AssetStore } from "../assets/asset-store";
import type { EventSink } from "../events/event-sink";
import { averagedEnsemble } from "./averaged-ensemble";
import type { Learner, SavedModel } from "./learner";
import { findLearner, restoreModel } from "./model-zoo";
import { decodeModelFile, encodeModelFile } from "./model-file";
import { runTrial } from "./trial";
import { BATCH_EVENTS, BATCH_MS, type FromTrialWorker, type Held, type LearnerWire, type ToTrialWorker } from "./trial-worker";

const port = parentPort;
if (!port) throw new Error("trial-worker-main runs as a worker thread (see trial-worker.ts)");

const heldData = new Map<string, unknown>();
const stops = new Map<number, AbortController>();

port.on("message", (m: ToTrialWorker) => {
  if (m.type === "cancel") stops.get(m.id)?.abort();
  else void run(m);
});

function take<T>(held: Held<T>): T {
  if (held.value !== undefined) heldData.set(held.key, held.value);
  if (!heldData.has(held.key)) throw new Error(`the training worker no longer holds data ${held.key}`);
  return heldData.get(held.key) as T;
}

function learnerFrom(wire: LearnerWire): Learner {
  if ("ensemble" in wire) {
    const members = wire.ensemble.members.map((bytes) => restoreModel(decodeModelFile(bytes, "an averaged model's member") as SavedModel));
    return averagedEnsemble(members, wire.ensemble.runIds, restoreModel);
  }
  const learner = findLearner(wire.id);
  if (!learner) throw new Error(`no learner ${wire.id}`);
  return learner;
}

/**
 * Events for trial `id`, sent in batches: at once when none went out for BATCH_MS (so what a
 * run says before a long synchronous fit, such as its start, is not held back by it), else
 * BATCH_MS after the batch began, or when it holds BATCH_EVENTS.
 */
function batchingSink(id: number): EventSink & { flush(): void } {
  let items: Array<{ name: import("../../contract").EventName; payload: unknown }> = [];
  let timer: NodeJS.Timeout | null = null;
  let lastFlush = 0;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!items.length) return;
    port!.postMessage({ type: "events", id, items } satisfies FromTrialWorker);
    items = [];
    lastFlush = performance.now();
  };
  return {
    emit(name, payload) {
      items.push({ name, payload });
      if (items.length >= BATCH_EVENTS || performance.now() - lastFlush >= BATCH_MS) flush();
      else timer ??= setTimeout(flush, BATCH_MS);
    },
    flush,
  };
}

async function run(m: Extract<ToTrialWorker, { type: "run" }>): Promise<void> {
  for (const key of m.forget) heldData.delete(key);
  const stop = new AbortController();
  stops.set(m.id, stop);
  const events = batchingSink(m.id);
  try {
    const outcome = await runTrial(
      {
        run: {
          ...m.request,
          runId: m.runId,
          learner: learnerFrom(m.learner),
          params: m.params,
          data: take(m.fit),
          test: take(m.test),
          signal: stop.signal,
          ...(m.deadlineAt !== undefined ? { deadline: m.deadlineAt - performance.timeOrigin } : {}),
        },
        ...(m.folds ? { folds: take(m.folds) } : {}),
        ...(m.modelFile ? { modelFile: { folder: m.modelFile.folder, about: take(m.modelFile.about) } } : {}),
        ...(m.onlyIfBetter ? { onlyIfBetter: m.onlyIfBetter } : {}),
        ...(m.cvDeadlineAt !== undefined ? { cvDeadline: m.cvDeadlineAt - performance.timeOrigin } : {}),
      },
      events,
      new AssetStore(m.project.id, m.project.dir),
    );
    events.flush();
    if (!outcome.result) {
      port!.postMessage({ type: "done", id: m.id, result: null, crossValidated: null } satisfies FromTrialWorker);
      return;
    }
    const { model, ...result } = outcome.result;
    const bytes = model ? ownBuffer(encodeModelFile(model.save())) : null;
    const wire = model && bytes ? { bytes, modelId: model.modelId, params: model.params, stepsRun: model.stepsRun, stopReason: model.stopReason } : null;
    port!.postMessage(
      { type: "done", id: m.id, result: { ...result, model: wire }, crossValidated: outcome.crossValidated } satisfies FromTrialWorker,
      bytes ? [bytes.buffer as ArrayBuffer] : [],
    );
  } catch (error) {
    events.flush();
    port!.postMessage({ type: "failed", id: m.id, error: (error as Error)?.message ?? String(error) } satisfies FromTrialWorker);
  } finally {
    stops.delete(m.id);
  }
}

/** Bytes with an ArrayBuffer of their own, safe to transfer (a small Buffer is a slice of Node's shared pool). */
function ownBuffer(bytes: Buffer): Uint8Array {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : Uint8Array.from(bytes);
}
