/**
 * What a person looks at before trusting a dataset: types, missingness, per-column
 * statistics, the target's distribution, and warnings about things that will bite.
 */
import { redact } from "../logging/redaction";
import type { TaskType } from "../../contract";
import { DistinctCounter, sampledQuantiles } from "./sketches";
import { columnLength, isoOfEpoch, type Column, type ColumnKind, type Table } from "./table";
import { levelCount, levelText } from "./text-levels";

/** up to this many values, quartiles come from the sorted values; past it, from a seeded sample of them */
export const EXACT_QUANTILE_ROWS = 200_000;

export interface ColumnProfile {
  name: string;
  kind: ColumnKind;
  missing: number;
  missing_pct: number;
  unique: number;
  /** `unique` is a HyperLogLog estimate (a numeric column with too many distinct values to keep a set of) */
  unique_approx?: boolean;
  /** numeric columns */
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
  /** numeric columns: quartiles, exact up to EXACT_QUANTILE_ROWS values, else from a seeded sample (sketches.ts: within about 0.4% in rank) */
  p25?: number;
  median?: number;
  p75?: number;
  quantiles_approx?: boolean;
  /** a numeric column that counts the rows (0, 1, 2, … or 1, 2, 3, … in file order, none missing): an index, not a measurement */
  row_number?: boolean;
  /** date columns: the first and last time, ISO 8601 */
  first?: string;
  last?: string;
  /** date columns: whether values carry a time of day (not only days) */
  has_time?: boolean;
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

/**
 * One pass over each column. `onProgress`: called after each column with the share of the
 * table's cells profiled so far (0..1).
 */
export function profileTable(table: Table, target: string | null, task: TaskType, onProgress?: (fraction: number) => void): TableProfile {
  const columns = table.columns.map((c, j) => {
    const profile = profileColumn(c);
    onProgress?.((j + 1) / table.nCols);
    return profile;
  });
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
    if (c.missing_pct === 100) warnings.push(`${c.name} is entirely missing; it carries no information.`);
    else if (c.unique <= 1) warnings.push(`${c.name} has a single value; it carries no information.`);
    // a text task's texts are each their own, as texts are: not an identifier
    else if (c.kind === "categorical" && c.unique > 0.9 * (table.nRows - c.missing) && c.unique > 20 && task !== "text_classification")
      warnings.push(`${c.name} is almost unique per row (${c.unique} values): it looks like an identifier.`);
    else if (c.row_number)
      warnings.push(
        `${c.name} counts the rows (${c.min}, ${c.min! + 1}, ${c.min! + 2}, …): a row number, not a measurement; it would let a model learn the file's order (a sorted file leaks its sorting into the score), so the plan drops it.`,
      );
    if (c.missing_pct >= 40 && c.missing_pct < 100) warnings.push(`${c.name} is ${c.missing_pct.toFixed(0)}% missing.`);
  }
  let targetDist: TargetDistribution | null = null;
  if (target !== null && table.has(target)) {
    targetDist = describeTarget(table.column(target), task);
    if (targetDist.missing > 0) warnings.push(`The target ${target} is missing in ${targetDist.missing} rows; they cannot be used for training.`);
    if (targetDist.kind === "classes") {
      const smallest = targetDist.classes[targetDist.classes.length - 1];
      if (smallest && targetDist.classes.length > 1 && smallest.pct < 5)
        warnings.push(`Class ${shownLabels([smallest.label])} is rare (${smallest.pct.toFixed(1)}% of rows): watch F1, not only accuracy.`);
      // one warning for all of them, whatever their number (a row per value flooded a terminal with e-mail addresses)
      const single = targetDist.classes.filter((c) => c.count < 2).map((c) => c.label);
      if (single.length === 1) warnings.push(`Class ${shownLabels(single)} has a single row; it cannot be both trained on and tested.`);
      else if (single.length > 1)
        warnings.push(`${single.length.toLocaleString("en")} classes have a single row (${shownLabels(single)}); they cannot be both trained on and tested.`);
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
  const n = columnLength(c);
  if (c.kind === "categorical") {
    // exact: a count per dictionary code, in one pass
    const counts = new Float64Array(levelCount(c.levels));
    let missing = 0;
    for (const k of c.codes) k < 0 ? missing++ : counts[k]!++;
    let unique = 0;
    for (const x of counts) if (x > 0) unique++;
    const top = topCodes(counts, 10).map((k) => ({ value: levelText(c.levels, k), count: counts[k]! }));
    return { name: c.name, kind: c.kind, missing, missing_pct: pct(missing, n), unique, top };
  }
  let missing = 0;
  let count = 0;
  let mean = 0;
  let m2 = 0;
  let min = Infinity;
  let max = -Infinity;
  const distinct = new DistinctCounter();
  for (const v of c.values) {
    if (Number.isNaN(v)) {
      missing++;
      continue;
    }
    // Welford: a running mean and sum of squares, stable in one pass
    count++;
    const d = v - mean;
    mean += d / count;
    m2 += d * (v - mean);
    if (v < min) min = v;
    if (v > max) max = v;
    distinct.add(v);
  }
  const base: ColumnProfile = { name: c.name, kind: c.kind, missing, missing_pct: pct(missing, n), unique: distinct.count() };
  if (distinct.approximate) base.unique_approx = true;
  if (count === 0) return base;
  if (c.kind === "datetime") return { ...base, first: isoOfEpoch(min, c.dateOnly), last: isoOfEpoch(max, c.dateOnly), has_time: !c.dateOnly };
  const sampled = count > EXACT_QUANTILE_ROWS;
  const [p25, median, p75] = sampled ? sampledQuantiles(c.values, count, [0.25, 0.5, 0.75]) : exactQuartiles(c.values);
  return {
    ...base,
    ...(missing === 0 && n > 20 && countsRows(c.values) ? { row_number: true } : {}),
    mean: round(mean, 6),
    std: round(Math.sqrt(m2 / Math.max(1, count - 1)), 6),
    min,
    max,
    p25: round(p25!, 6),
    median: round(median!, 6),
    p75: round(p75!, 6),
    ...(sampled ? { quantiles_approx: true } : {}),
  };
}

/** Whether the values go up by one from row to row, from 0 or 1. */
function countsRows(values: Float64Array): boolean {
  if (values[0] !== 0 && values[0] !== 1) return false;
  for (let r = 1; r < values.length; r++) if (values[r] !== values[r - 1]! + 1) return false;
  return true;
}

function exactQuartiles(values: Float64Array): number[] {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort();
  // linear interpolation between ranks, as pandas' describe does
  return [0.25, 0.5, 0.75].map((q) => {
    const at = q * (sorted.length - 1);
    const lo = Math.floor(at);
    return sorted[lo]! + (at - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!);
  });
}

/** The `k` codes with the highest counts, most frequent first (ties by code: order of appearance); one pass, no sort of every level. */
function topCodes(counts: Float64Array, k: number): number[] {
  const top: number[] = [];
  for (let code = 0; code < counts.length; code++) {
    const c = counts[code]!;
    if (c === 0 || (top.length === k && c <= counts[top[k - 1]!]!)) continue;
    let at = top.length === k ? k - 1 : top.length;
    while (at > 0 && counts[top[at - 1]!]! < c) at--;
    top.splice(at, 0, code);
    if (top.length > k) top.pop();
  }
  return top;
}

function pct(part: number, n: number): number {
  return n ? round((100 * part) / n, 3) : 0;
}

function describeTarget(c: Column, task: TaskType): TargetDistribution {
  if (task === "classification" || c.kind !== "numeric") {
    const counts = new Map<string, number>();
    let missing = 0;
    const n = columnLength(c);
    if (c.kind === "categorical") {
      const byCode = new Float64Array(levelCount(c.levels));
      for (const k of c.codes) k < 0 ? missing++ : byCode[k]!++;
      byCode.forEach((x, k) => x > 0 && counts.set(levelText(c.levels, k), x));
    } else {
      for (const v of c.values) {
        if (Number.isNaN(v)) missing++;
        else {
          const label = c.kind === "datetime" ? isoOfEpoch(v, c.dateOnly) : String(v);
          counts.set(label, (counts.get(label) ?? 0) + 1);
        }
      }
    }
    const present = n - missing;
    return {
      column: c.name,
      kind: "classes",
      missing,
      classes: [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([label, count]) => ({ label, count, pct: round((100 * count) / Math.max(1, present), 3) })),
    };
  }
  let min = Infinity;
  let max = -Infinity;
  let present = 0;
  let mean = 0;
  let m2 = 0;
  for (const v of c.values) {
    if (Number.isNaN(v)) continue;
    present++;
    const d = v - mean;
    mean += d / present;
    m2 += d * (v - mean);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const nBins = Math.max(1, Math.min(30, Math.ceil(Math.sqrt(present))));
  const width = max > min ? (max - min) / nBins : 1;
  const bins = Array.from({ length: nBins }, (_, i) => ({ start: round(min + i * width, 6), end: round(min + (i + 1) * width, 6), count: 0 }));
  for (const v of c.values) if (!Number.isNaN(v)) bins[Math.min(nBins - 1, Math.floor((v - min) / width))]!.count++;
  const std = Math.sqrt(m2 / Math.max(1, present - 1));
  return { column: c.name, kind: "histogram", bins, missing: c.values.length - present, mean: round(mean, 6), std: round(std, 6) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Class labels as a warning names them: the first three, quoted; none when they hold personal
 * data or secrets (the warning goes to terminals, logs and the report).
 */
function shownLabels(labels: readonly string[]): string {
  const first = labels.slice(0, 3);
  if (first.some((l) => redact(l).text !== l))
    return labels.length === 1 ? "(a value holding personal data, not shown)" : "values holding personal data, not shown";
  return first.map((l) => JSON.stringify(l)).join(", ") + (labels.length > 3 ? ", …" : "");
}
