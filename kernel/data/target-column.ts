/**
 * The target as a model sees it: numbers for regression, class indices for classification.
 * Rows where the target is missing are marked (NaN / -1) and left out of every split.
 */
import type { TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import type { Table } from "./table";

export type EncodedTarget =
  { task: "regression"; column: string; y: Float64Array } | { task: "classification"; column: string; y: Int32Array; classes: string[] };

export function encodeTarget(table: Table, target: string, task: TaskType): EncodedTarget {
  if (!table.has(target)) {
    throw new InputError(
      `The target column ${JSON.stringify(target)} is not in the data. Columns are: ${table.columnNames.join(", ")}. ` + `Choose one of them as the target.`,
    );
  }
  const col = table.column(target);
  if (task === "regression") {
    if (col.kind !== "numeric") {
      throw new InputError(
        `The target ${target} holds text values, so it cannot be predicted by regression. Ask to classify ${target} instead, or choose a numeric target.`,
      );
    }
    return { task, column: target, y: col.values };
  }
  if (task !== "classification") throw new InputError(`Task ${task} is not supported by the tabular pipeline yet.`);
  const labels: (string | null)[] = col.kind === "numeric" ? Array.from(col.values, (v) => (Number.isNaN(v) ? null : String(v))) : col.values;
  const classes = [...new Set(labels.filter((l): l is string => l !== null))].sort(naturalCompare);
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = new Int32Array(labels.length);
  labels.forEach((l, i) => (y[i] = l === null ? -1 : index.get(l)!));
  return { task, column: target, y, classes };
}

/** The rows whose target is present. */
export function labelledRows(target: EncodedTarget): number[] {
  const rows: number[] = [];
  if (target.task === "regression") target.y.forEach((v, i) => Number.isNaN(v) || rows.push(i));
  else target.y.forEach((v, i) => v < 0 || rows.push(i));
  return rows;
}

function naturalCompare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a.localeCompare(b);
}
