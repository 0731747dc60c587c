/**
 * The target as a model sees it: numbers for regression, class indices for classification.
 * Rows where the target is missing are marked (NaN / -1) and left out of every split.
 */
import type { TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import { isoOfEpoch, type Table } from "./table";
import { levelTexts } from "./text-levels";

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
  // texts and images are classified by their label as a table's rows are
  if (task !== "classification" && task !== "text_classification" && task !== "image_classification")
    throw new InputError(`Task ${task} is not supported by the tabular pipeline yet.`);
  // each row's label as a code into the column's distinct labels (a text column has them already)
  let codes: Int32Array;
  let labels: string[];
  if (col.kind === "categorical") ({ codes, levels: labels } = { codes: col.codes, levels: levelTexts(col.levels) });
  else {
    const index = new Map<number, number>();
    labels = [];
    codes = new Int32Array(col.values.length);
    col.values.forEach((v, r) => {
      if (Number.isNaN(v)) return void (codes[r] = -1);
      let k = index.get(v);
      if (k === undefined) (index.set(v, (k = labels.length)), labels.push(col.kind === "datetime" ? isoOfEpoch(v, col.dateOnly) : String(v)));
      codes[r] = k;
    });
  }
  const present = new Uint8Array(labels.length);
  for (const k of codes) if (k >= 0) present[k] = 1;
  const classes = labels.filter((_, k) => present[k]).sort(naturalCompare);
  const index = new Map(classes.map((c, i) => [c, i]));
  const classOfCode = Int32Array.from(labels, (l) => index.get(l) ?? -1);
  const y = codes.map((k) => (k < 0 ? -1 : classOfCode[k]!));
  return { task: "classification", column: target, y, classes };
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
