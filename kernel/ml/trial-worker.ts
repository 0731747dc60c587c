/**
 * Training off the caller's event loop. Each trial (a training run, and its cross-validation
 * when a search ranks by it) runs in a worker thread, so the conductor's server keeps
 * answering and streaming while a project trains, and a notebook kernel keeps answering
 * completion and variables. One worker per runtime, kept between trials (a search runs
 * dozens) and ended after IDLE_MS without one.
 *
 * - Events cross over in batches (every BATCH_MS, or BATCH_EVENTS at once) and go through the
 *   caller's sink, so the project's bus still validates, numbers, appends and notifies them.
 * - The data goes over once: the worker keeps the last few arrays it was sent, by key, and a
 *   trial on the same data sends only the key.
 * - The time budget is hard: a trial still running GRACE_MS past its deadline (or after a
 *   stop) is ended with its worker, since a learner inside one synchronous step cannot be
 *   interrupted any other way; the caller gets a cancelled run, announced as one.
 */
import * as path from "node:path";
import type { Worker } from "node:worker_threads";
import { EV, type EventName, type MetricValue } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import { backgroundWorker } from "../data/worker-script";
import type { EventSink } from "../events/event-sink";
import { isAveragedLearner } from "./averaged-ensemble";
import type { Fold } from "./cross-validation";
import type { FitInput, FittedModel, LabelledSet, Learner, Params, SavedModel } from "./learner";
import { decodeModelFile, encodeModelFile } from "./model-file";
import { restoreModel } from "./model-zoo";
import type { Trial, TrialOutcome } from "./trial";
import { newRunId, type RunRequest, type RunResult } from "./training-run";

export const BATCH_MS = 15;
export const BATCH_EVENTS = 256;
/** how long a stopped or timed-out trial gets to end by itself before its worker is ended */
export const GRACE_MS = 150;
const IDLE_MS = 60_000;
/** the training thread's heap: past it the trial fails (said so), not the conductor */
export const TRAINING_HEAP_MB = 4096;
/** data a worker keeps (a search holds four: training, test, the folds and what describes the data) */
const MAX_HELD = 8;

/** Data sent once: `value` only the first time this worker sees `key`. */
export interface Held<T> {
  key: string;
  value?: T;
}

/** a learner by id, or an average of fitted members (each as its saved form's JSON) */
export type LearnerWire = { id: string } | { ensemble: { members: Uint8Array[]; runIds: string[] } };

export type ToTrialWorker =
  | {
      type: "run";
      id: number;
      runId: string;
      learner: LearnerWire;
      params: Params;
      fit: Held<FitInput>;
      test: Held<LabelledSet>;
      folds?: Held<readonly Fold[]>;
      modelFile?: { folder: string; about: Held<Record<string, unknown>> };
      onlyIfBetter?: Trial["onlyIfBetter"];
      request: Pick<RunRequest, "classes" | "featureNames" | "metricPrimary" | "config" | "pacing" | "outOfTimeReason">;
      /** the deadline as epoch milliseconds (each thread's performance.now() has its own origin) */
      deadlineAt?: number;
      /** when cross-validation gives up, as epoch milliseconds */
      cvDeadlineAt?: number;
      project: { id: string; dir: string };
      /** keys to drop first */
      forget: string[];
    }
  | { type: "cancel"; id: number };

/** the model as its saved form's JSON (moved, not copied), revived only when the caller uses it */
export type WireModel = { bytes: Uint8Array; modelId: string; params: Params; stepsRun: number; stopReason: FittedModel["stopReason"] };
export type WireResult = Omit<RunResult, "model"> & { model: WireModel | null };

export type FromTrialWorker =
  | { type: "events"; id: number; items: Array<{ name: EventName; payload: unknown }> }
  | { type: "done"; id: number; result: WireResult | null; crossValidated: MetricValue | { reason: string } | null }
  | { type: "failed"; id: number; error: string };

interface PendingTrial {
  runId: string;
  modelId: string;
  events: EventSink;
  started: boolean;
  finished: boolean;
  startedAt: number;
  timers: NodeJS.Timeout[];
  settle(outcome: TrialOutcome | Error): void;
}

const keys = new WeakMap<object, string>();
let keyCount = 0;

function keyOf(value: object): string {
  let key = keys.get(value);
  if (!key) keys.set(value, (key = `d${++keyCount}`));
  return key;
}

export class TrialWorker {
  /** `heapMb`: the training thread's heap (tests make it small to see a trial that runs out of it) */
  constructor(private readonly heapMb = TRAINING_HEAP_MB) {}

  private worker: Worker | null = null;
  private readonly pending = new Map<number, PendingTrial>();
  /** the data keys the current worker holds, least recently used first */
  private held: string[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;

  /** Runs the trial in the worker; its events reach `events` in order, before the outcome. */
  run(trial: Trial, events: EventSink, assets: AssetStore): Promise<TrialOutcome> {
    const req = trial.run;
    const runId = req.runId ?? newRunId(req.learner.id);
    if (req.signal?.aborted) return Promise.resolve(cancelledBeforeStart(runId, req.learner.id));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const forget: string[] = [];
    const message: ToTrialWorker = {
      type: "run",
      id,
      runId,
      learner: learnerWire(req.learner),
      params: req.params,
      fit: this.hold(req.data, forget),
      test: this.hold(req.test, forget),
      ...(trial.folds ? { folds: this.hold(trial.folds, forget) } : {}),
      ...(trial.modelFile ? { modelFile: { folder: trial.modelFile.folder, about: this.hold(trial.modelFile.about, forget) } } : {}),
      ...(trial.onlyIfBetter ? { onlyIfBetter: trial.onlyIfBetter } : {}),
      request: {
        classes: req.classes,
        featureNames: req.featureNames,
        metricPrimary: req.metricPrimary,
        config: req.config,
        pacing: req.pacing,
        ...(req.outOfTimeReason ? { outOfTimeReason: req.outOfTimeReason } : {}),
      },
      ...(req.deadline !== undefined ? { deadlineAt: performance.timeOrigin + req.deadline } : {}),
      ...(trial.cvDeadline !== undefined ? { cvDeadlineAt: performance.timeOrigin + trial.cvDeadline } : {}),
      project: { id: assets.projectId, dir: assets.root },
      forget,
    };
    return new Promise<TrialOutcome>((resolve, reject) => {
      const pending: PendingTrial = {
        runId,
        modelId: req.learner.id,
        events,
        started: false,
        finished: false,
        startedAt: performance.now(),
        timers: [],
        settle: (outcome) => {
          for (const t of pending.timers) clearTimeout(t);
          req.signal?.removeEventListener("abort", onAbort);
          this.pending.delete(id);
          if (this.pending.size === 0) this.idle();
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      };
      const onAbort = () => {
        this.worker?.postMessage({ type: "cancel", id } satisfies ToTrialWorker);
        pending.timers.push(setTimeout(() => this.end("it was stopped"), GRACE_MS));
      };
      req.signal?.addEventListener("abort", onAbort, { once: true });
      if (req.deadline !== undefined) {
        const why = req.outOfTimeReason ?? "the search's time ran out";
        pending.timers.push(setTimeout(() => this.end(why), Math.max(0, req.deadline - performance.now()) + GRACE_MS));
      }
      this.pending.set(id, pending);
      worker.postMessage(message);
    });
  }

  /** Starts the worker ahead of the first trial (its script takes a moment to load). */
  warm(): void {
    if (!this.worker) {
      this.ensureWorker();
      this.idle();
    }
  }

  /** Ends the worker (nothing is lost: a trial in it is answered as cancelled). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    await this.end("the project closed");
  }

  private ensureWorker(): Worker {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.worker) {
      this.worker.ref();
      return this.worker;
    }
    const worker = backgroundWorker(path.join(__dirname, "trial-worker-main.ts"), "trial-worker.js", __filename, {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    worker.on("message", (m: FromTrialWorker) => this.onMessage(m));
    worker.on("error", (err) => this.onDeath(worker, `it failed: ${err.message}`));
    worker.on("exit", (code) => this.onDeath(worker, `it exited with code ${code}`));
    this.worker = worker;
    this.held = [];
    return worker;
  }

  private hold<T extends object>(value: T, forget: string[]): Held<T> {
    const key = keyOf(value);
    const at = this.held.indexOf(key);
    if (at >= 0) {
      this.held.splice(at, 1);
      this.held.push(key);
      return { key };
    }
    this.held.push(key);
    while (this.held.length > MAX_HELD) forget.push(this.held.shift()!);
    return { key, value };
  }

  private onMessage(m: FromTrialWorker): void {
    const pending = this.pending.get(m.id);
    if (!pending) return;
    switch (m.type) {
      case "events":
        for (const item of m.items) {
          if (item.name === EV.TRAIN_RUN_STARTED) pending.started = true;
          if (item.name === EV.TRAIN_RUN_FINISHED) pending.finished = true;
          try {
            pending.events.emit(item.name, item.payload as never);
          } catch (err) {
            // the bus refused an event (a contract violation under strict tests): the trial fails with it
            pending.settle(err as Error);
            void this.end("an event was refused");
            return;
          }
        }
        break;
      case "done": {
        if (!m.result) {
          pending.settle({ result: null, crossValidated: null });
          break;
        }
        const { model, ...rest } = m.result;
        pending.settle({ result: { ...rest, model: model ? revive(model) : null }, crossValidated: m.crossValidated });
        break;
      }
      case "failed":
        pending.settle(new Error(m.error));
        break;
    }
  }

  /**
   * Ends the worker now; each trial in it gets a cancelled run (its story finished with
   * TRAIN_RUN_FINISHED if it had started).
   */
  private async end(reason: string): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.held = [];
    const text = (p: PendingTrial) => `run ${p.runId} cancelled: ${reason} (its training did not stop within ${GRACE_MS} ms, so its worker thread was ended)`;
    this.settleAll("cancelled", reason, text);
    if (worker) await worker.terminate();
  }

  /**
   * The thread died under a trial (out of memory: its heap is capped at TRAINING_HEAP_MB, or a
   * crash): the trial is a failed run, said so, and the next trial starts a fresh thread.
   */
  private onDeath(worker: Worker, how: string): void {
    if (this.worker !== worker) return; // ended on purpose
    this.worker = null;
    this.held = [];
    const reason = `its training thread died (${how})`;
    this.settleAll("failed", reason, (p) => `run ${p.runId} failed: ${reason}`);
  }

  /** Answers every trial in the worker as a run that ended `status`, finishing the story of those that had started. */
  private settleAll(status: "cancelled" | "failed", reason: string, text: (p: PendingTrial) => string): void {
    for (const pending of [...this.pending.values()]) {
      try {
        if (pending.started && !pending.finished) {
          // not stamped with the run: it may have sent its artifacts, after which only TRAIN_RUN_FINISHED may follow (000_… ordering)
          pending.events.emit(EV.LOG_LINE, { run_id: null, level: status === "failed" ? "error" : "warn", text: text(pending) });
          pending.events.emit(EV.TRAIN_RUN_FINISHED, { run_id: pending.runId, status, final_metrics: null, reason });
        }
      } catch {
        /* the project's bus is closed (the project is closing): nothing left to tell */
      }
      const { result } = cancelledBeforeStart(pending.runId, pending.modelId);
      pending.settle({ result: { ...result, status, runtimeS: (performance.now() - pending.startedAt) / 1000, reason }, crossValidated: null });
    }
  }

  private idle(): void {
    this.worker?.unref();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.end("idle"), IDLE_MS);
    this.idleTimer.unref();
  }
}

function cancelledBeforeStart(runId: string, modelId: string): TrialOutcome & { result: RunResult } {
  return {
    result: { runId, modelId, status: "cancelled", model: null, valMetric: null, finalMetrics: null, runtimeS: 0, reason: "stopped" },
    crossValidated: null,
  };
}

function learnerWire(learner: Learner): LearnerWire {
  if (!isAveragedLearner(learner)) return { id: learner.id };
  // members fitted in a worker travel as the model file they came back as, never revived here
  const members = learner.members.map((m) => (m as { [SAVED_BYTES]?: Uint8Array })[SAVED_BYTES] ?? encodeModelFile(m.save()));
  return { ensemble: { members, runIds: [...learner.memberRunIds] } };
}

const SAVED_BYTES = Symbol("the saved model, as a model file's bytes");

/**
 * A model fitted in the worker, rebuilt here from its saved form the first time it predicts
 * or is saved: a search's trials are mostly never used again on this side, and reviving a big
 * forest costs this thread tens of milliseconds.
 */
function revive(model: WireModel): FittedModel {
  let restored: FittedModel | null = null;
  const restore = () => (restored ??= restoreModel(decodeModelFile(model.bytes, `the model of ${model.modelId}`) as SavedModel));
  return {
    modelId: model.modelId,
    params: model.params,
    stepsRun: model.stepsRun,
    stopReason: model.stopReason,
    predict: (x) => restore().predict(x),
    save: () => restore().save(),
    [SAVED_BYTES]: model.bytes,
  } as FittedModel;
}
