/**
 * From a table to what a learner eats: the encoded target, the seeded split, and the three
 * feature matrices under a fitted plan. Pure functions: the runtime adds events and assets,
 * and the conductor's working set calls them to rebuild state after a restart.
 */
import type { PreprocessStep, TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import type { FitInput, LabelledSet } from "./labelled-set";
import { transformRows, type FittedPreprocessor } from "./feature-transform";
import { fitPreprocessor } from "./preprocessor";
import { splitRows, type RowSplit, type SplitOptions } from "./row-split";
import type { Table } from "./table";
import { encodeTarget, type EncodedTarget } from "./target-column";

export interface SplitData {
  target: EncodedTarget;
  split: RowSplit;
}

export interface PreparedData {
  task: "regression" | "classification";
  target: string;
  classes: string[];
  prep: FittedPreprocessor;
  featureNames: string[];
  fit: FitInput;
  test: LabelledSet;
  split: RowSplit;
}

export function splitForTask(table: Table, options: { target: string; task: TaskType } & SplitOptions): SplitData {
  const target = encodeTarget(table, options.target, options.task);
  if (target.task === "classification" && target.classes.length < 2) {
    throw new InputError(
      `The target ${options.target} has a single class (${target.classes[0] ?? "none"}); there is nothing to classify. Choose another target.`,
    );
  }
  if (target.task === "regression") {
    let min = Infinity;
    let max = -Infinity;
    for (const v of target.y) if (!Number.isNaN(v)) ((min = Math.min(min, v)), (max = Math.max(max, v)));
    if (min === max) throw new InputError(`The target ${options.target} is constant (${min}); there is nothing to predict. Choose another target.`);
  }
  return { target, split: splitRows(target, options) };
}

export function prepareData(steps: PreprocessStep[], table: Table, data: SplitData): PreparedData {
  const { target, split } = data;
  const prep = fitPreprocessor(steps, table, split.train, target.column);
  const set = (rows: number[]): LabelledSet => ({
    x: transformRows(prep, table, rows),
    y: target.task === "regression" ? Float64Array.from(rows, (r) => target.y[r]!) : Int32Array.from(rows, (r) => target.y[r]!),
  });
  const classes = target.task === "classification" ? target.classes : [];
  return {
    task: target.task,
    target: target.column,
    classes,
    prep,
    featureNames: prep.features.map((f) => f.name),
    fit: { task: target.task, train: set(split.train), val: set(split.val), nClasses: classes.length },
    test: set(split.test),
    split,
  };
}
