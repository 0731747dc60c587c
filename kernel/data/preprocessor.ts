/**
 * Fits an approved preprocessing plan on the training rows and turns any rows of the table
 * into a feature matrix. The fitted state is plain JSON, so a saved model carries exactly
 * the transformation it was trained with.
 */
import type { PreprocessStep } from "../../contract";
import { InputError } from "../errors/input-error";
import type { Matrix } from "./matrix";
import { DATETIME_PARTS, MISSING_LEVEL, OTHER_LEVEL, datetimePartName } from "./preprocess-plan";
import type { Table } from "./table";

/** One output column of the feature matrix and how to compute it from a row. */
export type FeatureSpec =
  | { kind: "numeric"; name: string; source: string; fill: number | null; center: number; scale: number }
  | { kind: "datetime_part"; name: string; source: string; part: (typeof DATETIME_PARTS)[number]; fill: number | null; center: number; scale: number }
  | { kind: "missing_indicator"; name: string; source: string }
  /** `level: null` is the bucket for levels outside `known` (rare in training, or unseen) */
  | { kind: "one_hot"; name: string; source: string; level: string | null; fill: string | null; known: string[] };

export interface FittedPreprocessor {
  target: string;
  steps: PreprocessStep[];
  features: FeatureSpec[];
}

const STEP_OPS = new Set<PreprocessStep["op"]>([
  "drop_rows_missing_target",
  "drop_column",
  "parse_datetime",
  "impute",
  "encode_categorical",
  "scale",
  "add_missing_indicator",
]);

export function fitPreprocessor(steps: PreprocessStep[], table: Table, trainRows: number[], target: string): FittedPreprocessor {
  checkPlan(steps, table, target);
  const byOp = (op: PreprocessStep["op"]) => steps.filter((s) => s.op === op);
  const dropped = new Set(byOp("drop_column").flatMap((s) => s.columns));
  const dateCols = new Set(byOp("parse_datetime").flatMap((s) => s.columns));
  const indicators = new Set(byOp("add_missing_indicator").flatMap((s) => s.columns));
  const encoded = new Map(byOp("encode_categorical").flatMap((s) => s.columns.map((c) => [c, s] as const)));
  const scaled = new Set(byOp("scale").flatMap((s) => s.columns));
  const imputeOf = new Map(byOp("impute").flatMap((s) => s.columns.map((c) => [c, s] as const)));

  const features: FeatureSpec[] = [];
  for (const col of table.columns) {
    if (col.name === target || dropped.has(col.name)) continue;
    if (col.kind === "numeric") {
      const values = trainRows.map((r) => col.values[r]!);
      const fill = numericFill(col.name, imputeOf.get(col.name), values);
      const filled = values.map((v) => (Number.isNaN(v) ? (fill ?? NaN) : v));
      features.push({ kind: "numeric", name: col.name, source: col.name, fill, ...scaling(col.name, scaled, filled) });
      if (indicators.has(col.name)) features.push({ kind: "missing_indicator", name: `${col.name}_missing`, source: col.name });
    } else if (col.kind === "datetime" && dateCols.has(col.name)) {
      for (const part of DATETIME_PARTS) {
        const name = datetimePartName(col.name, part);
        const values = trainRows.map((r) => datePart(col.values[r] ?? null, part));
        const fill = numericFill(name, imputeOf.get(name) ?? imputeOf.get(col.name), values);
        const filled = values.map((v) => (Number.isNaN(v) ? (fill ?? NaN) : v));
        features.push({ kind: "datetime_part", name, source: col.name, part, fill, ...scaling(name, scaled, filled) });
      }
      if (indicators.has(col.name)) features.push({ kind: "missing_indicator", name: `${col.name}_missing`, source: col.name });
    } else {
      const enc = encoded.get(col.name);
      if (!enc) {
        throw new InputError(
          `Column ${col.name} holds text and the plan neither encodes nor drops it. Add it to the encode_categorical step or to a drop_column step.`,
        );
      }
      const imp = imputeOf.get(col.name);
      const fill = imp ? String(imp.params["fill_value"] ?? MISSING_LEVEL) : null;
      const maxLevels = Number(enc.params["max_levels"] ?? 20);
      const counts = new Map<string, number>();
      for (const r of trainRows) {
        const v = col.values[r] ?? fill;
        if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const known = ranked.slice(0, maxLevels).map(([l]) => l);
      for (const level of known) features.push({ kind: "one_hot", name: `${col.name}=${level}`, source: col.name, level, fill, known });
      if (ranked.length > maxLevels) {
        const other = String(enc.params["other_label"] ?? OTHER_LEVEL);
        features.push({ kind: "one_hot", name: `${col.name}=${other}`, source: col.name, level: null, fill, known });
      }
    }
  }
  if (features.length === 0) {
    throw new InputError("The plan leaves no feature columns to learn from. Keep at least one column besides the target.");
  }
  return { target, steps, features };
}

export function transformRows(prep: FittedPreprocessor, table: Table, rows: readonly number[]): Matrix {
  const cols = prep.features.length;
  const data = new Float64Array(rows.length * cols);
  prep.features.forEach((f, j) => {
    const col = table.column(f.source);
    const known = f.kind === "one_hot" ? new Set(f.known) : null;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      let v: number;
      switch (f.kind) {
        case "numeric": {
          const x = col.values[r] as number;
          v = ((Number.isNaN(x) ? (f.fill ?? NaN) : x) - f.center) / f.scale;
          break;
        }
        case "datetime_part": {
          const x = datePart((col.values[r] as string | null) ?? null, f.part);
          v = ((Number.isNaN(x) ? (f.fill ?? NaN) : x) - f.center) / f.scale;
          break;
        }
        case "missing_indicator":
          v = table.isMissing(r, f.source) ? 1 : 0;
          break;
        case "one_hot": {
          const raw = (col.values[r] as string | null) ?? f.fill;
          if (raw === null) v = 0;
          else if (f.level === null) v = known!.has(raw) ? 0 : 1;
          else v = raw === f.level ? 1 : 0;
          break;
        }
      }
      if (Number.isNaN(v)) {
        throw new InputError(`Column ${f.source} has a missing value in row ${r + 1} and the plan does not impute it. Add ${f.source} to an impute step.`);
      }
      data[i * cols + j] = v;
    }
  });
  return { data, rows: rows.length, cols };
}

function numericFill(name: string, step: PreprocessStep | undefined, trainValues: number[]): number | null {
  if (!step) return null;
  const present = trainValues.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (present.length === 0) throw new InputError(`Column ${name} has no values in the training rows to impute from. Drop it.`);
  const strategy = String(step.params["strategy"] ?? "median");
  if (strategy === "mean") return present.reduce((s, v) => s + v, 0) / present.length;
  if (strategy === "constant") return Number(step.params["fill_value"] ?? 0);
  if (strategy !== "median") throw new InputError(`Impute strategy ${JSON.stringify(strategy)} is unknown; use median, mean or constant.`);
  const mid = present.length >> 1;
  return present.length % 2 ? present[mid]! : (present[mid - 1]! + present[mid]!) / 2;
}

function scaling(name: string, scaled: Set<string>, values: number[]): { center: number; scale: number } {
  if (!scaled.has(name)) return { center: 0, scale: 1 };
  const present = values.filter((v) => !Number.isNaN(v));
  const mean = present.reduce((s, v) => s + v, 0) / Math.max(1, present.length);
  const variance = present.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, present.length);
  const std = Math.sqrt(variance);
  return { center: mean, scale: std > 1e-12 ? std : 1 };
}

function datePart(value: string | null, part: (typeof DATETIME_PARTS)[number]): number {
  if (value === null) return NaN;
  const d = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime())) return NaN;
  switch (part) {
    case "year":
      return d.getUTCFullYear();
    case "month":
      return d.getUTCMonth() + 1;
    case "day":
      return d.getUTCDate();
    case "dayofweek":
      return d.getUTCDay();
  }
}

/** An edited plan is checked before anything is fitted, so a typo costs nothing. */
export function checkPlan(steps: PreprocessStep[], table: Table, target: string): void {
  const derived = new Set<string>();
  for (const s of steps) if (s.op === "parse_datetime") for (const c of s.columns) for (const p of DATETIME_PARTS) derived.add(datetimePartName(c, p));
  for (const s of steps) {
    if (!STEP_OPS.has(s.op)) throw new InputError(`Plan step ${s.id} has unknown op ${JSON.stringify(s.op)}.`);
    for (const c of s.columns) {
      if (!table.has(c) && !derived.has(c)) {
        throw new InputError(`Plan step ${s.id} names column ${JSON.stringify(c)}, which is not in the data. Columns are: ${table.columnNames.join(", ")}.`);
      }
      if (c === target && s.op !== "drop_rows_missing_target") {
        throw new InputError(`Plan step ${s.id} uses the target ${target} as a feature column; remove it from that step.`);
      }
    }
  }
}
