/**
 * One training run, told as the contract's TRAIN story: TRAIN_RUN_STARTED, then per step
 * TRAIN_PROGRESS + METRIC_SCALAR (+ diagnostics), then artifacts, then TRAIN_RUN_FINISHED
 * with metrics from a real evaluation on the held-out test rows.
 *
 * Iterative learners report their real steps. One-shot learners are fitted for real and
 * then paced through simulated steps (000_… "Simulation Rules"), every such event marked
 * `simulated: true`, with both ends of the curve real numbers.
 */
import { randomBytes } from "node:crypto";
import { EV, type EventPayload, type FinalMetrics, type MetricValue, type TaskType } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import type { EventSink } from "../events/event-sink";
import { FitCancelled, type FitInput, type FittedModel, type LabelledSet, type Learner, type Params, type StepReport } from "./learner";
import { lossLandscape, type Descent } from "./loss-landscape";
import { emitEvaluationArtifacts } from "./evaluation-artifacts";
import { classificationMetrics, regressionMetrics, type Split } from "./metrics";

export interface RunRequest {
  /** the run's id (made here when not given): a trial worker's caller knows it before any event arrives */
  runId?: string;
  learner: Learner;
  params: Params;
  data: FitInput;
  test: LabelledSet;
  /** class labels, for classification */
  classes: string[];
  /** the feature matrix's column names, for importances */
  featureNames: string[];
  metricPrimary: string;
  /** what TRAIN_RUN_STARTED.config reports about the data side */
  config: Omit<EventPayload<"TRAIN_RUN_STARTED">["config"], "train" | "params">;
  /** sleep between steps so a person can watch; off for benchmarks */
  pacing: boolean;
  signal?: AbortSignal;
  /** performance.now() past which the run is cancelled (a search's hard budget), checked every step */
  deadline?: number;
  /** why a run stopped at its deadline was stopped (default: the search's time ran out) */
  outOfTimeReason?: string;
  /**
   * Saves a successful run's model before the run is announced finished: a save that throws
   * (a disk full, a model too big to write) makes the run a failed one, said why, and the
   * stage goes on with the others.
   */
  saveModel?: (model: FittedModel, run: { runId: string; valMetric: MetricValue; finalMetrics: FinalMetrics }) => void;
}

export interface RunResult {
  runId: string;
  modelId: string;
  status: "success" | "failed" | "cancelled";
  model: FittedModel | null;
  /** the ranking score on the validation rows */
  valMetric: MetricValue | null;
  finalMetrics: FinalMetrics | null;
  runtimeS: number;
  /** prediction time on the test rows, per row (successful runs) */
  predictUsPerRow?: number;
  reason?: string;
}

const SIMULATED_STEPS = 50;
const UNPACED_SIMULATED_STEPS = 10;
/**
 * An unpaced iterative run sends its scalars (METRIC_SCALAR, GD_DIAGNOSTIC) for at most one
 * step per this many milliseconds, TRAIN_PROGRESS for every step (the contract allows 0..K
 * scalars per step): a gradient descent doing a thousand steps a second would otherwise send
 * six thousand events a second to every client, and into the log, that no chart can show. The
 * first and last steps always have theirs, and the run's log line says how many steps did.
 */
export const UNPACED_SCALARS_EVERY_MS = 25;
/** a paced run of either kind takes about this long */
const PACED_RUN_MS = 2500;
const RESOURCE_EVERY_MS = 500;

export async function runTraining(req: RunRequest, events: EventSink, assets: AssetStore): Promise<RunResult> {
  const runId = req.runId ?? newRunId(req.learner.id);
  const task = req.data.task;
  const params = { ...req.learner.defaults, ...req.params };
  // unpaced, a one-shot fit's stand-in steps would all arrive at once: a few suffice for its curve
  const simulatedSteps = req.pacing ? SIMULATED_STEPS : UNPACED_SIMULATED_STEPS;
  const plannedSteps = req.learner.iterative ? Number(params["max_epochs"] ?? params["max_iter"] ?? 100) : simulatedSteps;
  const pacingMs = req.pacing ? Math.min(50, Math.ceil(PACED_RUN_MS / plannedSteps)) : 0;
  const started = performance.now();
  const pace = pacer(pacingMs);
  const resources = resourceMeter();
  const scalarsEveryMs = req.learner.iterative && pacingMs === 0 ? UNPACED_SCALARS_EVERY_MS : 0;

  events.emit(EV.TRAIN_RUN_STARTED, {
    run_id: runId,
    model_id: req.learner.id,
    metric_primary: req.metricPrimary,
    config: {
      ...req.config,
      train: {
        steps: plannedSteps,
        epochs: req.learner.iterative ? plannedSteps : 1,
        simulated: !req.learner.iterative,
        pacing_ms: pacingMs,
        ...(scalarsEveryMs ? { scalars_every_ms: scalarsEveryMs } : {}),
        rows: req.data.train.x.rows,
      },
      params,
    },
  });
  events.emit(EV.LOG_LINE, {
    run_id: runId,
    level: "info",
    text: `fitting ${req.learner.name} on ${req.data.train.x.rows} rows × ${req.data.train.x.cols} features`,
  });
  events.emit(EV.TRAIN_PROGRESS, {
    run_id: runId,
    epoch: 0,
    epochs: req.learner.iterative ? plannedSteps : 1,
    step: 0,
    steps: plannedSteps,
    eta_s: null,
    phase: "init",
    simulated: !req.learner.iterative,
  });

  let model: FittedModel;
  const steps = { seen: 0, withScalars: 0, lastAt: 0, held: null as StepReport | null };
  try {
    if (req.learner.iterative) {
      model = await req.learner.fit(req.data, params, {
        signal: req.signal,
        onStep: async (r) => {
          if (req.deadline !== undefined && performance.now() > req.deadline) throw new FitCancelled();
          steps.seen++;
          const now = performance.now();
          const withScalars = !scalarsEveryMs || steps.withScalars === 0 || now - steps.lastAt >= scalarsEveryMs;
          emitStep(events, runId, withScalars ? r : { ...r, scalars: {} }, false, etaSeconds(started, r.step, r.steps, pacingMs));
          if (withScalars) {
            if (r.diagnostics) events.emit(EV.GD_DIAGNOSTIC, { run_id: runId, step: r.step, diagnostics: r.diagnostics });
            steps.withScalars++;
            steps.lastAt = now;
            steps.held = null;
          } else steps.held = structuredClone(r);
          resources.maybeEmit(events, runId, r.step);
          await pace();
        },
      });
      // the last step's scalars always go out (after its TRAIN_PROGRESS, aligned to its step)
      if (steps.held) {
        emitScalars(events, runId, steps.held, false);
        if (steps.held.diagnostics) events.emit(EV.GD_DIAGNOSTIC, { run_id: runId, step: steps.held.step, diagnostics: steps.held.diagnostics });
        steps.withScalars++;
      }
    } else {
      model = await req.learner.fit(req.data, params, { signal: req.signal });
      const from = baselineLoss(req.data);
      const to = lossOf(req.data, model);
      for (let step = 1; step <= simulatedSteps; step++) {
        if (req.signal?.aborted || (req.deadline !== undefined && performance.now() > req.deadline)) throw new FitCancelled();
        const t = step / simulatedSteps;
        const wobble = step < simulatedSteps ? 0.02 * Math.sin(step * 1.7) * (1 - t) : 0;
        const loss = to + (from - to) * Math.exp(-5 * t) * (1 - t) + Math.abs(from - to) * wobble;
        emitStep(
          events,
          runId,
          { step, steps: simulatedSteps, epoch: 1, epochs: 1, scalars: { loss: { train: loss } } },
          true,
          ((simulatedSteps - step) * pacingMs) / 1000,
        );
        resources.maybeEmit(events, runId, step);
        await pace();
      }
    }
    // settings that make no sense (a text where a number belongs) can fit a model that predicts NaN: a failed run, said so
    const probe = model.predict(req.data.val.x);
    if (probe.some((v) => !Number.isFinite(v))) {
      throw new Error(`its predictions are not finite numbers (NaN or infinite): check its settings (${JSON.stringify(params)})`);
    }
  } catch (err) {
    const cancelled = err instanceof FitCancelled;
    const outOfTime = req.deadline !== undefined && performance.now() > req.deadline;
    const reason = cancelled ? (outOfTime ? (req.outOfTimeReason ?? "the search's time ran out") : "stopped") : `${(err as Error).message}`;
    events.emit(EV.LOG_LINE, { run_id: runId, level: cancelled ? "warn" : "error", text: `run ${runId} ${cancelled ? "cancelled" : "failed"}: ${reason}` });
    events.emit(EV.TRAIN_RUN_FINISHED, { run_id: runId, status: cancelled ? "cancelled" : "failed", final_metrics: null, reason });
    return {
      runId,
      modelId: req.learner.id,
      status: cancelled ? "cancelled" : "failed",
      model: null,
      valMetric: null,
      finalMetrics: null,
      runtimeS: (performance.now() - started) / 1000,
      reason,
    };
  }

  const finalStep = req.learner.iterative ? model.stepsRun : simulatedSteps;
  if (model.descent)
    await emitDescent(events, assets, runId, model.descent, {
      eta: Number(params["learning_rate"] ?? 0),
      steps: plannedSteps,
      finalStep: model.stepsRun,
      converged: model.stopReason === "converged",
      pacingMs,
    });
  else {
    const text =
      req.learner.family === "neural_network"
        ? `${req.learner.name} is fitted by gradient descent over thousands of weights: its loss curves are real, but no two-dimensional loss landscape is drawn for it`
        : `${req.learner.name} is not fitted by gradient descent, so it has no descent path or loss landscape to show`;
    events.emit(EV.LOG_LINE, { run_id: runId, level: "info", text });
  }
  events.emit(EV.TRAIN_PROGRESS, {
    run_id: runId,
    epoch: req.learner.iterative ? finalStep : 1,
    epochs: req.learner.iterative ? finalStep : 1,
    step: finalStep,
    steps: finalStep,
    eta_s: 0,
    phase: "eval",
    simulated: !req.learner.iterative,
  });
  const val = evaluate(task, model, req.data.val, req.data.nClasses, "val");
  const predictStarted = performance.now();
  const testPredictions = model.predict(req.test.x);
  const predictUsPerRow = ((performance.now() - predictStarted) * 1000) / Math.max(1, req.test.x.rows);
  const test = metricsOf(task, testPredictions, req.test, req.data.nClasses, "test");
  for (const m of [...val, ...test]) events.emit(EV.METRIC_SCALAR, { run_id: runId, name: m.name, split: m.split, step: finalStep, value: m.value });
  const primaryOf = (ms: MetricValue[]) => ms.find((m) => m.name === req.metricPrimary) ?? ms[0]!;
  const finalMetrics: FinalMetrics = { task_type: task as TaskType, primary: primaryOf(test), metrics: test };
  events.emit(EV.LOG_LINE, {
    run_id: runId,
    level: "info",
    text: req.learner.iterative
      ? `${req.learner.name}: ${model.stopReason} after ${finalStep} step(s); test ${finalMetrics.primary.name} = ${finalMetrics.primary.value.toFixed(4)}${steps.withScalars < steps.seen ? ` (scalars for ${steps.withScalars} of its ${steps.seen} steps: one step per ${scalarsEveryMs} ms at most, as the run was not paced)` : ""}`
      : `${req.learner.name}: fitted in one shot (it has no optimisation steps; its ${simulatedSteps} progress steps are stand-ins for display, marked simulated${pacingMs ? ", and paced so they can be followed" : ""}); test ${finalMetrics.primary.name} = ${finalMetrics.primary.value.toFixed(4)}`,
  });
  // the contract's order: steps (with their diagnostics), then artifacts, then TRAIN_RUN_FINISHED
  emitEvaluationArtifacts({
    events,
    assets,
    runId,
    task,
    model,
    test: req.test,
    predictions: testPredictions,
    classes: req.classes,
    featureNames: req.featureNames,
    metric: finalMetrics.primary,
  });
  if (req.saveModel) {
    try {
      req.saveModel(model, { runId, valMetric: primaryOf(val), finalMetrics });
    } catch (err) {
      const reason = `its model could not be saved: ${(err as Error).message}`;
      events.emit(EV.LOG_LINE, { run_id: runId, level: "error", text: `run ${runId} failed: ${reason}` });
      events.emit(EV.TRAIN_RUN_FINISHED, { run_id: runId, status: "failed", final_metrics: null, reason });
      return {
        runId,
        modelId: req.learner.id,
        status: "failed",
        model: null,
        valMetric: null,
        finalMetrics: null,
        runtimeS: (performance.now() - started) / 1000,
        reason,
      };
    }
  }
  const runtimeS = (performance.now() - started) / 1000;
  events.emit(EV.TRAIN_RUN_FINISHED, { run_id: runId, status: "success", final_metrics: finalMetrics });
  return { runId, modelId: req.learner.id, status: "success", model, valMetric: primaryOf(val), finalMetrics, runtimeS, predictUsPerRow };
}

export function newRunId(learnerId: string): string {
  return `${learnerId}-${randomBytes(3).toString("hex")}`;
}

/** The real loss landscape of a gradient-descent run and its path over it (003_…), after the fit that defines its plane. */
export async function emitDescent(
  events: EventSink,
  assets: AssetStore,
  runId: string,
  descent: Descent,
  run: { eta: number; steps: number; finalStep: number; converged: boolean; pacingMs: number; what?: string },
): Promise<void> {
  const { eta: lr, steps, pacingMs } = run;
  const land = lossLandscape(descent);
  const grid = assets.write(`runs/${runId}/loss_grid.bin`, new Uint8Array(land.grid.buffer));
  events.emit(EV.GD_HYPERPARAMS, { run_id: runId, eta: lr, steps, tolGrad: 0, tolStep: 0 });
  events.emit(EV.LOSS_SURFACE_GRID_READY, {
    run_id: runId,
    asset_url: grid.url,
    grid_format: "float32",
    resolution: land.resolution,
    domainHalf: land.domainHalf,
    zScale: 0.3,
  });
  events.emit(EV.GD_PATH_STARTED, { run_id: runId, space: "normalized", domainHalf: land.domainHalf, point0: land.path[0] ?? { x: 0, y: 0 } });
  const BATCH = 20;
  for (let start = 1; start < land.path.length; start += BATCH) {
    events.emit(EV.GD_PATH_UPDATE, { run_id: runId, space: "normalized", step_start: start, points: land.path.slice(start, start + BATCH) });
    if (pacingMs > 0) await new Promise((r) => setTimeout(r, pacingMs));
  }
  events.emit(EV.GD_PATH_FINISHED, { run_id: runId, final_step: run.finalStep, reason: run.converged ? "converged" : "max_steps" });
  events.emit(EV.LOG_LINE, {
    run_id: runId,
    level: "info",
    text: `loss landscape${run.what ? ` (${run.what})` : ""}: the plane of the trajectory's two main directions holds ${(100 * land.explained).toFixed(1)}% of its variance`,
  });
}

function emitStep(events: EventSink, runId: string, r: StepReport, simulated: boolean, eta: number | null): void {
  events.emit(EV.TRAIN_PROGRESS, {
    run_id: runId,
    epoch: r.epoch,
    epochs: r.epochs,
    step: r.step,
    steps: r.steps,
    eta_s: eta === null ? null : Math.max(0, Math.round(eta * 100) / 100),
    phase: "fit",
    ...(simulated ? { simulated: true } : {}),
  });
  emitScalars(events, runId, r, simulated);
}

function emitScalars(events: EventSink, runId: string, r: StepReport, simulated: boolean): void {
  for (const [name, bySplit] of Object.entries(r.scalars)) {
    for (const split of ["train", "val"] as const) {
      const value = bySplit[split];
      if (value === undefined || !Number.isFinite(value)) continue;
      events.emit(EV.METRIC_SCALAR, { run_id: runId, name, split, step: r.step, value, ...(simulated ? { simulated: true } : {}) });
    }
  }
}

/** Upper bound: early stopping usually ends a run before its planned steps. */
function etaSeconds(started: number, step: number, steps: number, pacingMs: number): number {
  const perStep = (performance.now() - started) / Math.max(1, step);
  return ((steps - step) * Math.max(perStep, pacingMs)) / 1000;
}

export function evaluate(task: "regression" | "classification", model: FittedModel, set: LabelledSet, k: number, split: Split): MetricValue[] {
  return metricsOf(task, model.predict(set.x), set, k, split);
}

function metricsOf(task: "regression" | "classification", out: Float64Array, set: LabelledSet, k: number, split: Split): MetricValue[] {
  const metrics: Record<string, number> = task === "regression" ? regressionMetrics(set.y, out) : classificationMetrics(set.y, out, k);
  return Object.entries(metrics)
    .filter(([, v]) => Number.isFinite(v))
    .map(([name, value]) => ({ name, split, value }));
}

/** The same loss the iterative learners report: ½·MSE of the standardised target, or cross-entropy. */
function lossOf(data: FitInput, model: FittedModel): number {
  const { x, y } = data.train;
  const out = model.predict(x);
  if (data.task === "regression") {
    const v = variance(y as Float64Array);
    let se = 0;
    for (let i = 0; i < x.rows; i++) se += (y[i]! - out[i]!) ** 2;
    return (0.5 * se) / x.rows / (v || 1);
  }
  const k = data.nClasses;
  let ll = 0;
  for (let i = 0; i < x.rows; i++) ll -= Math.log(Math.max(1e-15, out[i * k + y[i]!]!));
  return ll / x.rows;
}

/** The loss of knowing nothing: predicting the mean, or the class frequencies. */
function baselineLoss(data: FitInput): number {
  const y = data.train.y;
  if (data.task === "regression") return 0.5;
  const counts = new Float64Array(data.nClasses);
  for (const c of y) counts[c]!++;
  let ll = 0;
  for (const c of y) ll -= Math.log(counts[c]! / y.length);
  return ll / y.length;
}

function variance(y: Float64Array): number {
  const m = y.reduce((s, v) => s + v, 0) / y.length;
  return y.reduce((s, v) => s + (v - m) ** 2, 0) / y.length;
}

/** Sleeps `ms` per step when pacing; otherwise yields to the event loop every ~15 ms so sockets keep flowing. */
function pacer(ms: number): () => Promise<void> {
  let lastYield = performance.now();
  return async () => {
    if (ms > 0) {
      await new Promise((r) => setTimeout(r, ms));
      return;
    }
    if (performance.now() - lastYield > 15) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
  };
}

function resourceMeter() {
  let lastAt = performance.now();
  let lastCpu = process.cpuUsage();
  let lastStep = 0;
  return {
    maybeEmit(events: EventSink, runId: string, step: number) {
      const now = performance.now();
      const wall = now - lastAt;
      if (wall < RESOURCE_EVERY_MS) return;
      const cpu = process.cpuUsage(lastCpu);
      events.emit(EV.RESOURCE_STATS, {
        run_id: runId,
        cpu_pct: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 1000) / 10,
        ram_mb: Math.round(process.memoryUsage().rss / 1e5) / 10,
        gpu_pct: null,
        vram_mb: null,
        step_per_sec: Math.round(((step - lastStep) / wall) * 1e4) / 10,
      });
      lastAt = now;
      lastCpu = process.cpuUsage();
      lastStep = step;
    },
  };
}
