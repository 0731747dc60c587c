/**
 * What every model in the zoo looks like to the trainer: it fits on a training set (with
 * a validation set for early stopping), reports each real optimisation step, and predicts.
 * One-shot learners (closed form, counting) report no steps; the trainer paces them.
 */
import type { Descent } from "./loss-landscape";
import type { Matrix } from "../data/matrix";
import type { FitInput, LabelledSet, LearningTask } from "../data/labelled-set";

export type { FitInput, LabelledSet, LearningTask };

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

/** One real optimisation step, with losses that were really computed at that step. */
export interface StepReport {
  step: number;
  steps: number;
  epoch: number;
  epochs: number;
  /** named scalars per split, e.g. { loss: { train, val }, rmse: { train, val } } */
  scalars: Record<string, { train?: number; val?: number }>;
  diagnostics?: { lr: number; weight_l2: number; grad_l2: number; update_l2: number; batch_size: number };
}

export interface FitHooks {
  onStep?(report: StepReport): void | Promise<void>;
  signal?: AbortSignal;
}

export interface SavedModel {
  model_id: string;
  params: Params;
  task: LearningTask;
  n_features: number;
  n_classes: number;
  state: Record<string, unknown>;
}

export interface FittedModel {
  readonly modelId: string;
  readonly params: Params;
  /** steps actually run and why fitting stopped (one-shot learners: 1, "fitted") */
  readonly stepsRun: number;
  readonly stopReason: "converged" | "max_steps" | "fitted";
  /** regression: one value per row; classification: rows × classes probabilities */
  predict(x: Matrix): Float64Array;
  save(): SavedModel;
  /** gradient-descent learners: the weight trajectory and the loss, for the loss-landscape view */
  readonly descent?: Descent;
  /** tree learners: each feature's share of the total split gain */
  gainImportance?(): number[];
}

export interface Learner {
  readonly id: string;
  readonly name: string;
  readonly family: string;
  /** true when fit() reports real steps */
  readonly iterative: boolean;
  readonly tasks: readonly LearningTask[];
  /** offered only up to this many training rows (too slow beyond) */
  readonly maxRows?: number;
  /** false: trainable by id (in notebook cells) but never proposed by MODEL_SELECT, e.g. a second implementation of a proposed model */
  readonly proposed?: boolean;
  /** why this learner is worth trying, for MODEL_CANDIDATES */
  readonly why: string;
  readonly defaults: Params;
  fit(input: FitInput, params: Params, hooks: FitHooks): Promise<FittedModel>;
  restore(saved: SavedModel): FittedModel;
}

export class FitCancelled extends Error {
  override name = "FitCancelled";
  constructor() {
    super("training was cancelled");
  }
}
