/**
 * Fits an approved preprocessing plan on the training rows (feature-transform.ts applies it to
 * any rows). The fitted state is plain JSON, so a saved model carries exactly the
 * transformation it was trained with.
 */
import { PREPROCESS_OPS, type PreprocessStep } from "../../contract";
import { InputError } from "../errors/input-error";
import { datePart, transformRows, type FeatureSpec, type FittedPreprocessor, type InputColumn } from "./feature-transform";
import { MISSING_LEVEL, OTHER_LEVEL, datetimePartName, partsOf } from "./preprocess-plan";
import { isoOfEpoch, type CategoricalColumn, type Column, type Table } from "./table";
import { findLevel, levelCount, levelText } from "./text-levels";
import { encodeTarget } from "./target-column";

/** levels kept per text column in the input schema: enough to tell a new category from a known one in any column a one-hot encoding keeps */
export const MAX_INPUT_LEVELS = 1000;

const STEP_OPS = new Set<PreprocessStep["op"]>(PREPROCESS_OPS);

export function fitPreprocessor(steps: PreprocessStep[], table: Table, trainRows: ArrayLike<number> & Iterable<number>, target: string): FittedPreprocessor {
  checkPlan(steps, table, target);
  const byOp = (op: PreprocessStep["op"]) => steps.filter((s) => s.op === op);
  const dropped = new Set(byOp("drop_column").flatMap((s) => s.columns));
  const dateCols = new Map(byOp("parse_datetime").flatMap((s) => s.columns.map((c) => [c, partsOf(s)] as const)));
  const indicators = new Set(byOp("add_missing_indicator").flatMap((s) => s.columns));
  const encoded = new Map(byOp("encode_categorical").flatMap((s) => s.columns.map((c) => [c, s] as const)));
  const scaled = new Set(byOp("scale").flatMap((s) => s.columns));
  const imputeOf = new Map(byOp("impute").flatMap((s) => s.columns.map((c) => [c, s] as const)));

  const features: FeatureSpec[] = [];
  for (const col of table.columns) {
    if (col.name === target || dropped.has(col.name)) continue;
    if (col.kind === "numeric") {
      const values = Float64Array.from(trainRows, (r) => col.values[r]!);
      const fill = numericFill(col.name, imputeOf.get(col.name), values);
      features.push({ kind: "numeric", name: col.name, source: col.name, fill, ...scaling(col.name, scaled, values, fill) });
      if (indicators.has(col.name)) features.push({ kind: "missing_indicator", name: `${col.name}_missing`, source: col.name });
    } else if (col.kind === "datetime" && dateCols.has(col.name)) {
      for (const part of dateCols.get(col.name)!) {
        const name = datetimePartName(col.name, part);
        const values = Float64Array.from(trainRows, (r) => datePart(col.values[r]!, part));
        const fill = numericFill(name, imputeOf.get(name) ?? imputeOf.get(col.name), values);
        features.push({ kind: "datetime_part", name, source: col.name, part, fill, ...scaling(name, scaled, values, fill) });
      }
      if (indicators.has(col.name)) features.push({ kind: "missing_indicator", name: `${col.name}_missing`, source: col.name });
    } else {
      const enc = encoded.get(col.name);
      if (!enc) {
        const what = col.kind === "datetime" ? "holds dates and the plan neither parses" : "holds text and the plan neither encodes";
        const step = col.kind === "datetime" ? "parse_datetime" : "encode_categorical";
        throw new InputError(`Column ${col.name} ${what} nor drops it. Add it to the ${step} step or to a drop_column step.`);
      }
      const imp = imputeOf.get(col.name);
      const fill = imp ? String(imp.params["fill_value"] ?? MISSING_LEVEL) : null;
      const maxLevels = Number(enc.params["max_levels"] ?? 20);
      const { counts, distinct } = col.kind === "categorical" ? levelCounts(col, trainRows, fill, maxLevels) : textCounts(col, trainRows, fill);
      const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const known = ranked.slice(0, maxLevels).map(([l]) => l);
      for (const level of known) features.push({ kind: "one_hot", name: `${col.name}=${level}`, source: col.name, level, fill, known });
      if (distinct > maxLevels) {
        const other = String(enc.params["other_label"] ?? OTHER_LEVEL);
        features.push({ kind: "one_hot", name: `${col.name}=${other}`, source: col.name, level: null, fill, known });
      }
    }
  }
  if (features.length === 0) {
    // say what the plan dropped and why: the person then knows which column to keep or what data to add
    const reasons = byOp("drop_column").flatMap((s) => {
      const why = (s.params["reasons"] ?? {}) as Record<string, unknown>;
      return s.columns.filter((c) => c !== target).map((c) => (typeof why[c] === "string" ? `${c} (${why[c]})` : c));
    });
    throw new InputError(
      `The plan leaves no feature columns to learn from${reasons.length ? `: it drops ${reasons.join(", ")}` : ""}. ` +
        "Keep at least one column besides the target (take it out of the drop step if it carries meaning), or use data with columns that describe each row.",
    );
  }
  const screen = byOp("select_features")[0];
  const screened = screen ? screenFeatures({ target, steps, features }, table, trainRows, Number(screen.params["keep"] ?? features.length)) : features;
  const sources = [...new Set(screened.map((f) => f.source))];
  return { target, steps, features: screened, inputs: sources.map((name) => inputColumn(table.column(name), trainRows)) };
}

/**
 * The `keep` features most related to the target on the training rows, in their order: by
 * absolute correlation for a numeric target, by the F statistic (between-class over within-
 * class variance) for classes. Each is scored alone (univariate), as a wide table's screening
 * must be cheap: p × n, not p² × n.
 */
function screenFeatures(prep: FittedPreprocessor, table: Table, trainRows: ArrayLike<number> & Iterable<number>, keep: number): FeatureSpec[] {
  if (keep >= prep.features.length) return prep.features;
  const x = transformRows(prep, table, trainRows);
  const target = table.column(prep.target);
  const n = x.rows;
  const scores = new Float64Array(x.cols);
  if (target.kind === "numeric") {
    const y = Float64Array.from(trainRows, (r) => target.values[r]!);
    const present = y.filter((v) => !Number.isNaN(v));
    const my = present.reduce((a, v) => a + v, 0) / Math.max(1, present.length);
    for (let j = 0; j < x.cols; j++) {
      let mx = 0;
      let k = 0;
      for (let i = 0; i < n; i++) if (!Number.isNaN(y[i]!)) ((mx += x.data[i * x.cols + j]!), k++);
      mx /= Math.max(1, k);
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(y[i]!)) continue;
        const dx = x.data[i * x.cols + j]! - mx;
        const dy = y[i]! - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
      }
      scores[j] = sxx > 0 && syy > 0 ? Math.abs(sxy) / Math.sqrt(sxx * syy) : 0;
    }
  } else {
    // classes: each training row's class index, as the target is encoded for the learners (-1 where missing)
    const { y } = encodeTarget(table, prep.target, "classification");
    const labels = Int32Array.from(trainRows, (r) => y[r]!);
    const classes = Math.max(0, ...labels) + 1;
    for (let j = 0; j < x.cols; j++) {
      const sum = new Float64Array(classes);
      const count = new Float64Array(classes);
      let total = 0;
      let k = 0;
      for (let i = 0; i < n; i++) {
        const c = labels[i]!;
        if (c < 0) continue;
        const v = x.data[i * x.cols + j]!;
        sum[c]! += v;
        count[c]!++;
        total += v;
        k++;
      }
      const mean = total / Math.max(1, k);
      let between = 0;
      for (let c = 0; c < classes; c++) if (count[c]! > 0) between += count[c]! * (sum[c]! / count[c]! - mean) ** 2;
      let within = 0;
      for (let i = 0; i < n; i++) {
        const c = labels[i]!;
        if (c >= 0) within += (x.data[i * x.cols + j]! - sum[c]! / count[c]!) ** 2;
      }
      scores[j] = within > 0 ? between / Math.max(1, classes - 1) / (within / Math.max(1, k - classes)) : between > 0 ? Number.MAX_VALUE : 0;
    }
  }
  const ranked = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const kept = new Set(ranked.slice(0, keep));
  return prep.features.filter((_, j) => kept.has(j));
}

function inputColumn(col: Column, trainRows: Iterable<number>): InputColumn {
  let missing = false;
  if (col.kind === "categorical") {
    const counts = new Float64Array(levelCount(col.levels));
    for (const r of trainRows) {
      const k = col.codes[r]!;
      if (k < 0) missing = true;
      else counts[k]!++;
    }
    const present = Array.from(counts.keys()).filter((k) => counts[k]! > 0);
    const kept = present.sort((a, b) => counts[b]! - counts[a]! || a - b).slice(0, MAX_INPUT_LEVELS);
    return { name: col.name, kind: col.kind, missing, levels: kept.map((k) => levelText(col.levels, k)), levels_total: present.length };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const r of trainRows) {
    const v = col.values[r]!;
    if (Number.isNaN(v)) missing = true;
    else if (v < min) min = v;
    if (v > max) max = v;
  }
  return { name: col.name, kind: col.kind, missing, ...(min <= max ? { min, max } : {}) };
}

/**
 * A text column's counts in the training rows by text (missing ones under the fill), for the
 * texts that can be among the `top` most frequent (ties included), and how many texts there are
 * in all. Counted by code and named after: a column of a million distinct IDs makes a few dozen
 * strings here, not a million.
 */
function levelCounts(col: CategoricalColumn, trainRows: Iterable<number>, fill: string | null, top: number): { counts: Map<string, number>; distinct: number } {
  const byCode = new Float64Array(levelCount(col.levels) + 1);
  for (const r of trainRows) byCode[col.codes[r]! + 1]!++;
  let distinct = 0;
  for (let k = 1; k < byCode.length; k++) if (byCode[k]! > 0) distinct++;
  // the top-th largest count of a level: a text below it cannot be among the top (the fill's count only adds to one)
  const present = byCode.subarray(1).filter((x) => x > 0);
  const floor = present.length > top ? present.sort().reverse()[top - 1]! : 0;
  const fillCode = fill === null ? -1 : findLevel(col.levels, fill);
  const counts = new Map<string, number>();
  if (fill !== null && byCode[0]! > 0) {
    counts.set(fill, byCode[0]!);
    if (fillCode < 0 || byCode[fillCode + 1] === 0) distinct++; // a text of its own unless a level present is spelled as it
  }
  for (let k = 0; k < byCode.length - 1; k++) {
    const x = byCode[k + 1]!;
    if (x > 0 && (x >= floor || k === fillCode)) {
      const level = levelText(col.levels, k);
      counts.set(level, (counts.get(level) ?? 0) + x);
    }
  }
  return { counts, distinct };
}

/** A date column's counts in the training rows by its ISO text (missing ones under the fill). */
function textCounts(col: Column & { kind: "datetime" }, trainRows: Iterable<number>, fill: string | null): { counts: Map<string, number>; distinct: number } {
  const counts = new Map<string, number>();
  for (const r of trainRows) {
    const v = Number.isNaN(col.values[r]!) ? fill : isoOfEpoch(col.values[r]!, col.dateOnly);
    if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { counts, distinct: counts.size };
}

/**
 * A text column's one-hot feature, decided per code: 1 for the feature's level (or, for the
 * "other" feature, any level outside the known ones), the fill's answer for a missing value.
 */
function numericFill(name: string, step: PreprocessStep | undefined, trainValues: Float64Array): number | null {
  if (!step) return null;
  const present = trainValues.filter((v) => !Number.isNaN(v)).sort();
  if (present.length === 0) throw new InputError(`Column ${name} has no values in the training rows to impute from. Drop it.`);
  const strategy = String(step.params["strategy"] ?? "median");
  if (strategy === "mean") return present.reduce((s, v) => s + v, 0) / present.length;
  if (strategy === "constant") return Number(step.params["fill_value"] ?? 0);
  if (strategy !== "median") throw new InputError(`Impute strategy ${JSON.stringify(strategy)} is unknown; use median, mean or constant.`);
  const mid = present.length >> 1;
  return present.length % 2 ? present[mid]! : (present[mid - 1]! + present[mid]!) / 2;
}

/** The training rows' mean and standard deviation, missing values filled as they will be. */
function scaling(name: string, scaled: Set<string>, values: Float64Array, fill: number | null): { center: number; scale: number } {
  if (!scaled.has(name)) return { center: 0, scale: 1 };
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (const raw of values) {
    const v = Number.isNaN(raw) ? (fill ?? NaN) : raw;
    if (Number.isNaN(v)) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  const std = Math.sqrt(m2 / Math.max(1, n));
  return { center: mean, scale: std > 1e-12 ? std : 1 };
}

export function checkPlan(steps: PreprocessStep[], table: Table, target: string): void {
  const derived = new Set<string>();
  for (const s of steps) if (s.op === "parse_datetime") for (const c of s.columns) for (const p of partsOf(s)) derived.add(datetimePartName(c, p));
  for (const s of steps) {
    if (!STEP_OPS.has(s.op)) throw new InputError(`Plan step ${s.id} has unknown op ${JSON.stringify(s.op)}.`);
    if (s.op === "text_tfidf" || s.op === "image_pixels")
      throw new InputError(`Plan step ${s.id} (${s.op}) applies to ${s.op === "text_tfidf" ? "text" : "image"} tasks only: remove it from a table's plan.`);
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
