/**
 * One trial of a training pass or a search: a training run, then (when the search ranks by
 * it) its cross-validated score. What a trial worker runs, and its outcome.
 */
import { EV, type MetricValue } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import type { EventSink } from "../events/event-sink";
import { crossValidated, type Fold } from "./cross-validation";
import { isBetter } from "./metrics";
import { encodeModelFile, MODEL_FILE_EXTENSION } from "./model-file";
import { evaluate, runTraining, type RunRequest, type RunResult } from "./training-run";

export interface Trial {
  run: RunRequest;
  /** rank a successful run by cross-validation over these folds (until the run's deadline) */
  folds?: readonly Fold[];
  /**
   * the folder where a successful run's model is saved (`models`: models/<run>.model, see model-file.ts), with what describes its
   * data (task, target, classes, features, the fitted preprocessor): written where the trial
   * runs, so a big model is never serialised on the caller's thread
   */
  modelFile?: { folder: string; about: Record<string, unknown> };
  /**
   * an average of a search's best runs: scored on the validation rows first, and trained as a
   * run only when it beats `best` (the best single run's score), said so either way
   */
  onlyIfBetter?: { best: number; bestModel: string };
  /**
   * performance.now() past which cross-validation gives up (the run is then ranked by its
   * validation split, said so): a search gives each learner's cross-validation its share of
   * the budget, so one slow learner cannot spend half of it on folds
   */
  cvDeadline?: number;
}

export interface TrialOutcome {
  /** null: an average (onlyIfBetter) that did not beat the best run, so no run was trained */
  result: RunResult | null;
  /** the cross-validated score, or why there is none; null when not asked for or the run did not succeed */
  crossValidated: MetricValue | { reason: string } | null;
}

export async function runTrial(trial: Trial, events: EventSink, assets: AssetStore): Promise<TrialOutcome> {
  const { run } = trial;
  if (trial.onlyIfBetter) {
    const fitted = await run.learner.fit(run.data, run.params, {});
    const metric = run.metricPrimary;
    const score = evaluate(run.data.task, fitted, run.data.val, run.data.nClasses, "val").find((m) => m.name === metric)?.value;
    const { best, bestModel } = trial.onlyIfBetter;
    const wins = score !== undefined && isBetter(metric, score, best);
    events.emit(EV.LOG_LINE, {
      run_id: null,
      level: "info",
      text: `search: the ${run.learner.name.replace(/^Average/, "average")} scores validation ${metric} ${score?.toFixed(4) ?? "?"} against ${best.toFixed(4)} for ${bestModel} alone: ${wins ? "training it as a run" : "not kept"}`,
    });
    if (!wins) return { result: null, crossValidated: null };
  }
  const modelFile = trial.modelFile;
  const saveModel: RunRequest["saveModel"] = modelFile
    ? (model, { runId, valMetric, finalMetrics }) =>
        void assets.write(
          `${modelFile.folder}/${runId}${MODEL_FILE_EXTENSION}`,
          encodeModelFile({ run_id: runId, ...modelFile.about, model: model.save(), val_metric: valMetric, final_metrics: finalMetrics }),
        )
    : undefined;
  const result = await runTraining({ ...run, saveModel }, events, assets);
  const cv =
    trial.folds && result.status === "success"
      ? await crossValidated(
          run.learner,
          run.params,
          trial.folds,
          run.data,
          run.metricPrimary,
          Math.min(trial.cvDeadline ?? Number.POSITIVE_INFINITY, run.deadline ?? Number.POSITIVE_INFINITY),
          run.signal,
        )
      : null;
  return { result, crossValidated: cv };
}
