/** What every task that starts from a table shares: the profile cell, and the table rebuilt from the project's file. */
import { approvedPlan, type PreprocessPlan, type ProjectSnapshot, type TaskType } from "../../contract";
import { splitForTask, type SplitData } from "../data/prepared-data";
import type { AssetStore } from "../assets/asset-store";
import type { Table } from "../data/table";
import { loadTableBlocking } from "../data/table-load";
import { InputError } from "../errors/input-error";
import { ref, type CodeCell, type Statement } from "./pipeline-step";

/** PROFILE_DATA's cell: reads `table` and `intent`, binds `profile`. */
export function profileCells(): CodeCell[] {
  return [
    {
      conductor: "runs",
      statements: [
        {
          kind: "call",
          method: "profile",
          args: [ref("table"), { target: ref("intent.target"), task: ref("intent.task") }],
          bind: "profile",
          show: "automl.table(profile.columns.map(({ name, kind, missing_pct, unique, mean, std, min, max }) => ({ name, kind, missing_pct, unique, mean, std, min, max })))",
        },
      ],
    },
  ];
}

/** The table DATASET_SELECTED named (projects from before it named one: the candidate's), loaded again. */
export function rebuildTable(snapshot: ProjectSnapshot, assets: AssetStore): Table {
  const file = snapshot.dataset_file ?? snapshot.dataset_candidates.find((d) => d.id === snapshot.dataset_id)?.meta["project_file"];
  if (typeof file !== "string") throw new Error("no dataset has been selected yet");
  // only the project's own regular file (the same rule as useDataset), never a link out of it
  const real = assets.regularFile(file);
  if (!real) throw new InputError(`The data file ${file} is not a regular file inside the project folder any more: put it back, or upload it again.`);
  return loadTableBlocking(real).table;
}

/** The settled intent (its target and task type) from the log, refused when the target is not settled or the task is not one of `types`. */
export function settledIntent<T extends TaskType>(snapshot: ProjectSnapshot, types: readonly T[]): { target: string; task: T } {
  const i = snapshot.intent;
  if (!i?.target) throw new Error("the target is not settled yet");
  if (!(types as readonly TaskType[]).includes(i.task_type)) throw new Error(`task ${i.task_type} is not ${types.join(" or ")}`);
  return { target: i.target, task: i.task_type as T };
}

/** A seeded train/validation/test split of the rows (stratified by class when classifying): the statement that makes it (binds `split`). */
export function rowSplitStatement(split: PreprocessPlan["split"]): Statement {
  return {
    kind: "call",
    method: "split",
    args: [ref("table"), { target: ref("intent.target"), task: ref("intent.task"), seed: split.seed, testSize: split.test_size, valSize: split.val_size }],
    bind: "split",
    reuse: true,
  };
}

/** The split made, in words ("split 600/200/200 texts"). */
export function rowSplitInWords(data: SplitData, unit: string): string {
  const { split } = data;
  return `split ${split.train.length}/${split.val.length}/${split.test.length} ${unit}${split.stratified ? ", stratified by class" : ""}.${split.notes.length ? ` ${split.notes.join(" ")}` : ""}`;
}

/** The row split as the approved plan made it, made again from the table. */
export function rebuildRowSplit(snapshot: ProjectSnapshot, table: Table, intent: { target: string; task: TaskType }): SplitData {
  const split = snapshot.plans.PREPROCESS?.plan?.split;
  if (!snapshot.split || !split) throw new Error("the data has not been split yet");
  return splitForTask(table, { ...intent, seed: split.seed, testSize: split.test_size, valSize: split.val_size });
}

/** The approved preprocessing plan's steps. */
export function approvedSteps(snapshot: ProjectSnapshot): PreprocessPlan["steps"] {
  const plan = approvedPlan(snapshot, "PREPROCESS");
  if (!plan) throw new Error("the preprocessing plan has not been approved yet");
  return plan.steps;
}
