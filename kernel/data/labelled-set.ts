/**
 * Rows ready to learn from: a feature matrix with its targets, and the train/validation pair a
 * learner fits on. Data builds them; the learners in ml/ read them.
 */
import type { Matrix } from "./matrix";

export type LearningTask = "regression" | "classification";

export interface LabelledSet {
  x: Matrix;
  /** regression: target values; classification: class indices */
  y: Float64Array | Int32Array;
}

export interface FitInput {
  task: LearningTask;
  train: LabelledSet;
  val: LabelledSet;
  /** classification only */
  nClasses: number;
}
