/**
 * What every task's own trainer (forecasters, text and image classifiers) shares around its
 * runs: the time-budgeted search that tries each model's defaults and then each one's next
 * setting in turn, the run stopped at the search's deadline, a failed or cancelled run on the
 * leaderboard, the ranked board after each run, and a run's artifact announced.
 */
import { EV, type FinalMetrics, type MetricValue } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import { InputError } from "../errors/input-error";
import type { EventSink } from "../events/event-sink";
import { anySignal } from "../ml/cross-validation";
import type { Params } from "../ml/learner";
import { classificationMetrics } from "../ml/metrics";
import type { RunResult } from "../ml/training-run";
import { announceBoard, rankRows, type BestRun, type LeaderboardRow } from "./leaderboard";

export interface RunBoard {
  runs: RunResult[];
  leaderboard: LeaderboardRow[];
  best: BestRun;
}

/** A model a search tries: its defaults first, then each setting of its space (over the defaults). */
export interface SearchEntry<M> {
  model: M;
  id: string;
  defaults: Params;
  space: Params[];
}

/**
 * Every model's defaults, then each one's next setting in turn (each setting once), until the
 * budget is spent: a run that would start past it is not started; the run at the deadline is
 * given a signal that stops it (said cancelled). `what` names the models in messages ("text").
 */
export async function searchInTurns<M>(
  entries: Array<SearchEntry<M>>,
  budgetSeconds: number,
  what: string,
  events: EventSink,
  signal: AbortSignal | undefined,
  board: RunBoard,
  run: (model: M, params: Params, deadline: number) => Promise<RunResult>,
): Promise<RunBoard & { overrunSeconds: number; trials: number }> {
  const started = performance.now();
  const deadline = started + budgetSeconds * 1000;
  const queues = entries.map((e) => [e.defaults, ...e.space.map((p) => ({ ...e.defaults, ...p }))]);
  const order: Array<{ entry: SearchEntry<M>; params: Params }> = [];
  const seen = new Set<string>();
  for (let round = 0; queues.some((q) => q.length > round); round++) {
    queues.forEach((q, i) => {
      const params = q[round];
      const key = `${entries[i]!.id} ${JSON.stringify(params)}`;
      if (params && !seen.has(key)) (seen.add(key), order.push({ entry: entries[i]!, params }));
    });
  }
  let trials = 0;
  for (const { entry, params } of order) {
    if (performance.now() >= deadline || signal?.aborted) break;
    events.emit(EV.LOG_LINE, {
      run_id: null,
      level: "info",
      text: `search: trial ${trials + 1} (${entry.id}), ${((deadline - performance.now()) / 1000).toFixed(1)} s of the ${budgetSeconds} s budget left`,
    });
    board.runs.push(await run(entry.model, params, deadline));
    trials++;
  }
  const overrunSeconds = Math.max(0, (performance.now() - deadline) / 1000);
  events.emit(EV.LOG_LINE, {
    run_id: null,
    level: "info",
    text: `search: ${trials} trial(s) in ${((performance.now() - started) / 1000).toFixed(2)} s of a ${budgetSeconds} s budget (${trials < order.length ? `the budget ended the search; ${order.length - trials} setting(s) not tried` : "every setting tried"})`,
  });
  if (!board.best) throw new InputError(`No ${what} model finished within the ${budgetSeconds} s budget. Give the search more time.`);
  return { ...board, overrunSeconds, trials };
}

/** The run's signal: the caller's, and the search's deadline when there is one. */
export function runSignal(signal: AbortSignal | undefined, deadline?: number): AbortSignal | undefined {
  if (deadline === undefined) return signal;
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now())));
  return signal ? anySignal([signal, timeout]) : timeout;
}

/** The trainers' shared reporting: the board ranked after a run, a failed or cancelled run, a run's artifacts. */
export class RunReporter {
  constructor(
    readonly events: EventSink,
    readonly assets: AssetStore,
    /** the caller's signal (a stop), to tell a stop from a search's deadline */
    private readonly stop: AbortSignal | undefined,
  ) {}

  rank(board: RunBoard, row: LeaderboardRow): void {
    board.leaderboard = rankRows([...board.leaderboard, row]);
    board.best = announceBoard(board.leaderboard, board.best, this.events);
  }

  /**
   * A run that threw: cancelled when its signal fired (a stop, or the search's time), else
   * failed with the error's message; either way finished and on the board. A mistake in the
   * person's input (InputError) is thrown on, to be said as it is.
   */
  failed(
    err: unknown,
    signal: AbortSignal | undefined,
    board: RunBoard,
    run: { runId: string; modelId: string; params: Params; started: number; validation: LeaderboardRow["validation"] },
  ): RunResult {
    const cancelled = signal?.aborted === true;
    if (!cancelled && err instanceof InputError) throw err;
    const reason = cancelled ? (this.stop?.aborted ? "stopped" : "the search's time ran out") : (err as Error).message;
    const status = cancelled ? "cancelled" : "failed";
    this.events.emit(EV.TRAIN_RUN_FINISHED, { run_id: run.runId, status, final_metrics: null, reason });
    const runtimeS = (performance.now() - run.started) / 1000;
    this.rank(board, {
      model: run.modelId,
      params: run.params,
      metric: null,
      runtime_s: round4(runtimeS),
      run_id: run.runId,
      status,
      validation: run.validation,
    });
    return { runId: run.runId, modelId: run.modelId, status, model: null, valMetric: null, finalMetrics: null, runtimeS, reason };
  }

  /** A run's artifact: `runs/<run>/<kind>.json` (its PNG beside it, rendered when asked for unless written already), ARTIFACT_ADDED and its READY event. */
  announce(runId: string, kind: string, name: string, body: Record<string, unknown>, ready?: ArtifactReady): void {
    const rel = `runs/${runId}/${kind}.json`;
    const written = this.assets.writeJson(rel, { run_id: runId, split: "test", ...body });
    this.events.emit(EV.ARTIFACT_ADDED, {
      artifact: {
        id: `${runId}-${kind}`,
        type: kind,
        name,
        url: written.url,
        meta: { run_id: runId, format: "json", png: this.assets.url(rel.replace(/\.json$/, ".png")) },
      },
    });
    if (ready) this.events.emit(ready, { asset_url: written.url, run_id: runId });
  }
}

export type ArtifactReady = typeof EV.CONFUSION_MATRIX_READY | typeof EV.RESIDUALS_PLOT_READY | typeof EV.ROC_CURVE_READY | typeof EV.FEATURE_IMPORTANCE_READY;

export function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** A classifier's scores on the validation and test rows as the run's metrics: the ranking's validation value and the final metrics (test, then validation). */
export function classifierMetrics(
  taskType: "text_classification" | "image_classification",
  metric: string,
  val: { y: ArrayLike<number>; proba: Float64Array },
  test: { y: ArrayLike<number>; proba: Float64Array },
  k: number,
): { valMetric: MetricValue; finalMetrics: FinalMetrics } {
  const onVal: Record<string, number> = classificationMetrics(val.y, val.proba, k);
  const onTest: Record<string, number> = classificationMetrics(test.y, test.proba, k);
  const primary = onTest[metric];
  const ranked = onVal[metric];
  if (primary === undefined || ranked === undefined)
    throw new InputError(`${metric} is not a metric of ${taskType.replace(/_/g, " ")}: rank by ${Object.keys(onTest).join(", ")}.`);
  const metrics: MetricValue[] = [
    ...Object.entries(onTest).map(([name, value]) => ({ name, split: "test" as const, value })),
    ...Object.entries(onVal).map(([name, value]) => ({ name, split: "val" as const, value })),
  ].filter((m) => Number.isFinite(m.value));
  return {
    valMetric: { name: metric, split: "val", value: ranked },
    finalMetrics: { task_type: taskType, primary: { name: metric, split: "test", value: primary }, metrics },
  };
}

/**
 * Says so when the best classifier is hardly better on the validation rows than always
 * answering the most common class: a model near chance looks like a result and is not one.
 */
export function sayIfNearChance(events: EventSink, board: RunBoard, valLabels: ArrayLike<number>, classes: string[]): void {
  const best = board.leaderboard.find((r) => r.run_id === board.best?.run_id);
  const accuracy = best?.metric?.name === "accuracy" ? best.metric.value : null;
  if (accuracy === null || valLabels.length === 0) return;
  const counts = new Array<number>(classes.length).fill(0);
  for (let i = 0; i < valLabels.length; i++) counts[valLabels[i]!]!++;
  const top = counts.indexOf(Math.max(...counts));
  const majority = counts[top]! / valLabels.length;
  if (accuracy > majority + 0.05) return;
  events.emit(EV.LOG_LINE, {
    run_id: null,
    level: "warn",
    text: `the best model's validation accuracy (${accuracy.toFixed(3)}) is hardly above always answering "${classes[top]}" (${majority.toFixed(3)}): it has learnt little. More examples of each class would help most; longer training (the suggested edits) next.`,
  });
}
