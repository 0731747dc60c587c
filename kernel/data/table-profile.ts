/**
 * What a person looks at before trusting a dataset: types, missingness, per-column
 * statistics, the target's distribution, and warnings about things that will bite.
 */
import type { TaskType } from "../../contract";
import type { Column, ColumnKind, Table } from "./table";

export interface ColumnProfile {
  name: string;
  kind: ColumnKind;
  missing: number;
  missing_pct: number;
  unique: number;
  /** numeric columns */
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
  /** text columns: the most frequent values */
  top?: Array<{ value: string; count: number }>;
}

export type TargetDistribution =
  | {
      column: string;
      kind: "histogram";
      bins: Array<{ start: number; end: number; count: number }>;
      missing: number;
      mean: number;
      std: number;
    }
  | { column: string; kind: "classes"; classes: Array<{ label: string; count: number; pct: number }>; missing: number };

export interface TableProfile {
  n_rows: number;
  n_cols: number;
  missing_pct: number;
  types_breakdown: Record<string, number>;
  warnings: string[];
  columns: ColumnProfile[];
  target: TargetDistribution | null;
}

export function profileTable(table: Table, target: string | null, task: TaskType): TableProfile {
  const columns = table.columns.map(profileColumn);
  const cells = table.nRows * table.nCols;
  const missingCells = columns.reduce((s, c) => s + c.missing, 0);
  const types_breakdown: Record<string, number> = {};
  for (const c of columns) types_breakdown[c.kind] = (types_breakdown[c.kind] ?? 0) + 1;

  const warnings: string[] = [];
  if (table.nRows < 50) warnings.push(`Only ${table.nRows} rows: any model's test score will be noisy.`);
  const features = table.nCols - (target ? 1 : 0);
  if (features > table.nRows) {
    warnings.push(
      `More columns (${features.toLocaleString("en")} features) than rows (${table.nRows.toLocaleString("en")}): any model can fit these rows exactly, so trust only the test score; ` +
        `ridge solves its smaller dual system here, and fewer, chosen columns (or more rows) will do better than all of them.`,
    );
  }
  for (const c of table.columns) {
    if (c.kind === "numeric" && c.infinite) warnings.push(`${c.name} has ${c.infinite} infinite value(s); they are treated as missing.`);
  }
  for (const c of columns) {
    if (c.name === target) continue;
    if (c.unique <= 1) warnings.push(`${c.name} has a single value; it carries no information.`);
    else if (c.kind === "categorical" && c.unique > 0.9 * (table.nRows - c.missing) && c.unique > 20)
      warnings.push(`${c.name} is almost unique per row (${c.unique} values): it looks like an identifier.`);
    if (c.missing_pct >= 40) warnings.push(`${c.name} is ${c.missing_pct.toFixed(0)}% missing.`);
  }
  let targetDist: TargetDistribution | null = null;
  if (target !== null && table.has(target)) {
    targetDist = describeTarget(table.column(target), task);
    if (targetDist.missing > 0) warnings.push(`The target ${target} is missing in ${targetDist.missing} rows; they cannot be used for training.`);
    if (targetDist.kind === "classes") {
      const smallest = targetDist.classes[targetDist.classes.length - 1];
      if (smallest && targetDist.classes.length > 1 && smallest.pct < 5)
        warnings.push(`Class ${JSON.stringify(smallest.label)} is rare (${smallest.pct.toFixed(1)}% of rows): watch F1, not only accuracy.`);
      for (const c of targetDist.classes)
        if (c.count < 2) warnings.push(`Class ${JSON.stringify(c.label)} has a single row; it cannot be both trained on and tested.`);
    }
  }
  return {
    n_rows: table.nRows,
    n_cols: table.nCols,
    missing_pct: cells === 0 ? 0 : round((100 * missingCells) / cells, 3),
    types_breakdown,
    warnings,
    columns,
    target: targetDist,
  };
}

export function profileColumn(c: Column): ColumnProfile {
  const n = c.values.length;
  if (c.kind === "numeric") {
    let missing = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    const distinct = new Set<number>();
    for (const v of c.values) {
      if (Number.isNaN(v)) {
        missing++;
        continue;
      }
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (distinct.size <= 100_000) distinct.add(v);
    }
    const present = n - missing;
    const mean = present ? sum / present : NaN;
    let ss = 0;
    for (const v of c.values) if (!Number.isNaN(v)) ss += (v - mean) ** 2;
    const base = { name: c.name, kind: c.kind, missing, missing_pct: n ? round((100 * missing) / n, 3) : 0, unique: distinct.size };
    return present === 0 ? base : { ...base, mean: round(mean, 6), std: round(Math.sqrt(ss / Math.max(1, present - 1)), 6), min, max };
  }
  const counts = countValues(c.values);
  const missing = c.values.filter((v) => v === null).length;
  return {
    name: c.name,
    kind: c.kind,
    missing,
    missing_pct: n ? round((100 * missing) / n, 3) : 0,
    unique: counts.size,
    top: [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 10)
      .map(([value, count]) => ({ value, count })),
  };
}

function describeTarget(c: Column, task: TaskType): TargetDistribution {
  if (task === "classification" || c.kind !== "numeric") {
    const labels = c.kind === "numeric" ? [...c.values].map((v) => (Number.isNaN(v) ? null : String(v))) : c.values;
    const counts = countValues(labels);
    const present = labels.length - labels.filter((v) => v === null).length;
    return {
      column: c.name,
      kind: "classes",
      missing: labels.length - present,
      classes: [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([label, count]) => ({ label, count, pct: round((100 * count) / Math.max(1, present), 3) })),
    };
  }
  const present = [...c.values].filter((v) => !Number.isNaN(v));
  let min = Infinity;
  let max = -Infinity;
  for (const v of present) ((min = Math.min(min, v)), (max = Math.max(max, v)));
  const nBins = Math.max(1, Math.min(30, Math.ceil(Math.sqrt(present.length))));
  const width = max > min ? (max - min) / nBins : 1;
  const bins = Array.from({ length: nBins }, (_, i) => ({ start: round(min + i * width, 6), end: round(min + (i + 1) * width, 6), count: 0 }));
  for (const v of present) bins[Math.min(nBins - 1, Math.floor((v - min) / width))]!.count++;
  const mean = present.reduce((s, v) => s + v, 0) / Math.max(1, present.length);
  const std = Math.sqrt(present.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, present.length - 1));
  return { column: c.name, kind: "histogram", bins, missing: c.values.length - present.length, mean: round(mean, 6), std: round(std, 6) };
}

function countValues(values: readonly (string | null)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
