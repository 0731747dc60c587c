/** Picking rows out of a labelled set: the samples the learners score progress on, and folds. */
import type { LabelledSet } from "./learner";

/** Up to `max` row indices spread evenly over 0..n-1 (all of them when n ≤ max). */
export function evenlySpacedRows(n: number, max: number): Uint32Array {
  const m = Math.min(n, max);
  return Uint32Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
}

/** The targets of `rows`, in that order. */
export function selectTargets(y: Float64Array | Int32Array, rows: ArrayLike<number>): Float64Array | Int32Array {
  return y instanceof Int32Array ? Int32Array.from(rows, (r) => y[r]!) : Float64Array.from(rows, (r) => y[r]!);
}

/** The features and targets of `rows`, in that order. */
export function selectRows(set: LabelledSet, rows: ArrayLike<number>): LabelledSet {
  const { cols, data } = set.x;
  const out = new Float64Array(rows.length * cols);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i]! * cols, (rows[i]! + 1) * cols), i * cols);
  return { x: { data: out, rows: rows.length, cols }, y: selectTargets(set.y, rows) };
}

/** Two labelled sets as one, `a`'s rows first. */
export function concatRows(a: LabelledSet, b: LabelledSet): LabelledSet {
  const data = new Float64Array(a.x.data.length + b.x.data.length);
  data.set(a.x.data);
  data.set(b.x.data, a.x.data.length);
  const y = a.y instanceof Int32Array ? new Int32Array(a.y.length + b.y.length) : new Float64Array(a.y.length + b.y.length);
  y.set(a.y);
  y.set(b.y, a.y.length);
  return { x: { data, rows: a.x.rows + b.x.rows, cols: a.x.cols }, y };
}
