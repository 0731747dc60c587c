/**
 * One thread's share of a tree's rows: it keeps them in node order (each node a contiguous
 * range), with their gradients alongside, partitions a node's range on a split and builds a
 * node's gradient histogram. The trees are grown data-parallel: every thread owns a shard,
 * the main thread sums the shards' histograms and chooses the splits.
 *
 * Self-contained on purpose (no imports, no module-level helpers): the operations are closures
 * over one shard's memory, compiled from this function's source text (see function-text.ts),
 * by the worker threads and by the main thread alike, so both execute the same code, bundled
 * or not.
 */
import { compileFunctionText } from "./function-text";

/** Everything a shard reads and writes, all in shared memory so any thread can run any shard. */
export interface ShardMemory {
  /** column-major bins: feature f of row i is columns[f * totalRows + i] */
  columns: Uint8Array;
  /** row-major histogram slots (feature offset + bin), as the row-major pass wants them */
  slots: Uint16Array | Uint32Array;
  totalRows: number;
  cols: number;
  /** offset of each feature's bins in a histogram */
  offsets: Int32Array;
  /** gradients and hessians of all rows, written by the main thread before each tree */
  grad: Float64Array;
  hess: Float64Array;
  /** the features a tree may split on: features[0..nFeatures) */
  features: Int32Array;
  /** per bin of the split feature: 1 if its rows go left */
  goLeft: Uint8Array;
  /** this shard's rows (global row ids), gradients and count-and-hessian terms, in node order */
  rows: Uint32Array;
  ordG: Float64Array;
  ordHC: Float64Array;
  scratch: Uint32Array;
  scratchG: Float64Array;
  scratchHC: Float64Array;
  /** where this shard writes a histogram: 2 doubles per slot */
  hist: Float64Array;
}

/** The operations on one shard, closures over its memory. */
export interface RowShard {
  readonly m: ShardMemory;
  /** Takes rows[0..count) as this tree's rows and lines up their gradients. */
  begin(count: number, constantHessian: boolean, scale: number): void;
  /** Adds the histogram of rows [start, end) over features[0..nFeatures) into `out`. */
  histogram(start: number, end: number, nFeatures: number, out: Float64Array): void;
  /** Moves the rows of [start, end) that go left (per goLeft) to the front; returns where the right ones begin. */
  partition(start: number, end: number, feature: number): number;
}

export function rowShard(m: ShardMemory): RowShard {
  // every array a closure constant: V8 then compiles the loops against these very arrays
  const { columns, slots, totalRows, cols, offsets, grad, hess, features, goLeft, rows, ordG, ordHC, scratch, scratchG, scratchHC } = m;
  /** below this size the row-major slots stay in a core's cache whatever rows a node has */
  const rowMajorCacheBytes = 1 << 20;

  function begin(count: number, constantHessian: boolean, scale: number): void {
    for (let i = 0; i < count; i++) {
      const r = rows[i]!;
      ordG[i] = grad[r]!;
      ordHC[i] = constantHessian ? 1 : scale + hess[r]!;
    }
  }

  /**
   * Two layouts, whichever reads memory better (measured per row and feature, 180k rows):
   * row-major slots streamed forwards when the range is dense in the table or the slots fit
   * in a core's cache: 2.5-3 ns; otherwise feature by feature over the one-byte columns, a
   * column staying in cache while the range's rows are read from it, unrolled by four:
   * 4.2 ns, against 5.3 for row-major.
   */
  function histogram(start: number, end: number, nFeatures: number, out: Float64Array): void {
    if ((end - start) * 2 >= totalRows || slots.byteLength <= rowMajorCacheBytes) {
      if (nFeatures === cols) {
        for (let i = start; i < end; i++) {
          const row = rows[i]! * cols;
          const gi = ordG[i]!;
          const hi = ordHC[i]!;
          for (let f = 0; f < cols; f++) {
            const b = slots[row + f]! << 1;
            out[b]! += gi;
            out[b + 1]! += hi;
          }
        }
      } else {
        for (let i = start; i < end; i++) {
          const row = rows[i]! * cols;
          const gi = ordG[i]!;
          const hi = ordHC[i]!;
          for (let k = 0; k < nFeatures; k++) {
            const b = slots[row + features[k]!]! << 1;
            out[b]! += gi;
            out[b + 1]! += hi;
          }
        }
      }
      return;
    }
    const end4 = end - ((end - start) & 3);
    for (let k = 0; k < nFeatures; k++) {
      const f = features[k]!;
      // a view of the column: indexing it by a row id needs no addition that could leave int32
      const col = columns.subarray(f * totalRows, (f + 1) * totalRows);
      const o = offsets[f]! << 1;
      let i = start;
      for (; i < end4; i += 4) {
        const b0 = o + (col[rows[i]!]! << 1);
        const b1 = o + (col[rows[i + 1]!]! << 1);
        const b2 = o + (col[rows[i + 2]!]! << 1);
        const b3 = o + (col[rows[i + 3]!]! << 1);
        out[b0]! += ordG[i]!;
        out[b0 + 1]! += ordHC[i]!;
        out[b1]! += ordG[i + 1]!;
        out[b1 + 1]! += ordHC[i + 1]!;
        out[b2]! += ordG[i + 2]!;
        out[b2 + 1]! += ordHC[i + 2]!;
        out[b3]! += ordG[i + 3]!;
        out[b3 + 1]! += ordHC[i + 3]!;
      }
      for (; i < end; i++) {
        const b = o + (col[rows[i]!]! << 1);
        out[b]! += ordG[i]!;
        out[b + 1]! += ordHC[i]!;
      }
    }
  }

  /**
   * Both sides keep their ascending order, which keeps the histogram pass reading forwards
   * (an in-place swap leaves them scattered: measured 1.5-2x slower passes). Branch-free: a
   * node's rows go either way unpredictably.
   */
  function partition(start: number, end: number, feature: number): number {
    const col = columns.subarray(feature * totalRows, (feature + 1) * totalRows);
    let l = start;
    let r = 0;
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      const g = ordG[i]!;
      const hc = ordHC[i]!;
      const left = goLeft[col[row]!]!;
      rows[l] = row;
      ordG[l] = g;
      ordHC[l] = hc;
      scratch[r] = row;
      scratchG[r] = g;
      scratchHC[r] = hc;
      l += left;
      r += 1 - left;
    }
    rows.set(scratch.subarray(0, r), l);
    ordG.set(scratchG.subarray(0, r), l);
    ordHC.set(scratchHC.subarray(0, r), l);
    return l;
  }

  return { m, begin, histogram, partition };
}

let copies = 0;

/**
 * A shard's operations. V8 specialises a closure's loops to the arrays it captures only while
 * its function has made a single closure: once a second shard is made from the same
 * function, every one of them runs generic code, measured 2.5-3x slower in the partition (3.5
 * against 10 ns per row on 72k rows). So each shard of a big table gets its own copy; small
 * tables, whose fits end before a fresh copy is optimised, share the one compiled already.
 */
export function makeRowShard(m: ShardMemory, fresh: boolean): RowShard {
  return fresh ? compileFunctionText<typeof rowShard>(rowShard.toString(), `row shard copy ${++copies}`)(m) : rowShard(m);
}
