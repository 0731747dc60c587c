/** What predicts from a saved model, whatever its task: model-predictor.ts reads a table model's file into one, classifier-predictors.ts a text or image model's. */
import type { TaskType } from "../../contract";
import type { FittedPreprocessor } from "../data/feature-transform";
import type { Table } from "../data/table";
import type { ProblemKind } from "./prediction-report";

export interface Predictor {
  /** where it was read from, as the person named it */
  source: string;
  runId: string | null;
  modelId: string;
  task: TaskType;
  target: string;
  /** classification: the class of each probability column, in order */
  classes: string[] | null;
  /** the input schema (its `inputs`: the columns new data must have, as training had them); a table model's features too */
  preprocessor: FittedPreprocessor;
  /** the model's outputs for `rows` of a batch whose columns are conformed to the schema: a value per row, or k probabilities per row */
  score(batch: Table, rows: Uint32Array): Float64Array;
  /** finds rows the model cannot take, or takes with a caveat (an image that cannot be read, an empty text), before scoring */
  check?(batch: Table, found: (r: number, column: string, value: string, problem: ProblemKind) => void): void;
}
