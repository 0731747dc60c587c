/** What every task that starts from a table shares: the profile cell, and the table rebuilt from the project's file. */
import type { ProjectSnapshot, TaskType } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import type { Table } from "../data/table";
import { loadTableBlocking } from "../data/table-load";
import { InputError } from "../errors/input-error";
import { ref, type CodeCell } from "./pipeline-step";

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
