/**
 * Features as small integers, as histogram gradient boosting wants them: each numeric feature
 * is cut at (up to) 254 quantiles of the training values, so a value becomes its bin 1..254;
 * bin 0 holds missing values (NaN), which the trees route on their own. Categorical features
 * keep one bin per category code (up to 254 categories). Stored column by column in one
 * Uint8Array, so a histogram pass over one feature reads contiguous memory.
 */
import type { Matrix } from "../matrix";

export const MISSING_BIN = 0;
export const MAX_BINS = 255;

export interface BinMapper {
  /** per feature: the upper edges of bins 1..k-1 (a value v goes to the first bin whose edge ≥ v) */
  edges: Float64Array[];
  /** per feature: how many bins it uses, the missing bin included */
  nBins: Uint16Array;
  categorical: boolean[];
}

export interface BinnedMatrix {
  rows: number;
  cols: number;
  /** row-major: feature f of row i is bins[i * cols + f] */
  bins: Uint8Array;
}

/** Learns the bin edges from (a sample of) the training rows. */
export function fitBins(x: Matrix, categorical: boolean[] = [], maxBins = MAX_BINS, sampleSize = 200_000): BinMapper {
  const { rows, cols, data } = x;
  const step = rows > sampleSize ? rows / sampleSize : 1;
  const take = Math.min(rows, sampleSize);
  const edges: Float64Array[] = [];
  const nBins = new Uint16Array(cols);
  const column = new Float64Array(take);
  for (let f = 0; f < cols; f++) {
    let n = 0;
    for (let s = 0; s < take; s++) {
      const v = data[Math.floor(s * step) * cols + f]!;
      if (!Number.isNaN(v)) column[n++] = v;
    }
    const values = sortValues(column.subarray(0, n));
    // the distinct values, as long as they are few enough to matter
    const distinct: number[] = [];
    for (let i = 0; i < n && distinct.length <= maxBins; i++) if (i === 0 || values[i] !== values[i - 1]) distinct.push(values[i]!);
    let e: number[];
    if (categorical[f]) {
      e = distinct.slice(0, maxBins - 1); // category codes, each its own bin
    } else if (distinct.length <= maxBins - 1) {
      e = distinct.map((v, i) => (i + 1 < distinct.length ? (v + distinct[i + 1]!) / 2 : Infinity));
    } else {
      // quantile edges, midway between neighbouring values
      e = [];
      const k = maxBins - 1;
      for (let q = 1; q < k; q++) {
        const pos = (q / k) * (n - 1);
        const lo = values[Math.floor(pos)]!;
        const hi = values[Math.min(n - 1, Math.floor(pos) + 1)]!;
        const edge = lo === hi ? lo : (lo + hi) / 2;
        if (e.length === 0 || edge > e[e.length - 1]!) e.push(edge);
      }
      e.push(Infinity);
    }
    edges.push(Float64Array.from(e));
    nBins[f] = e.length + 1;
  }
  return { edges, nBins, categorical: Array.from({ length: cols }, (_, f) => Boolean(categorical[f])) };
}

export function applyBins(mapper: BinMapper, x: Matrix): BinnedMatrix {
  const { rows, cols, data } = x;
  const bins = new Uint8Array(rows * cols);
  const grids = mapper.edges.map((e, f) => (mapper.categorical[f] ? null : edgeGrid(e)));
  // row by row: a column at a time would stride through the whole table once per feature
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < cols; f++) {
      const at = i * cols + f;
      const v = data[at]!;
      const e = mapper.edges[f]!;
      if (Number.isNaN(v)) bins[at] = MISSING_BIN;
      else if (mapper.categorical[f]) bins[at] = categoryBin(e, v);
      else bins[at] = firstEdgeAtLeast(e, grids[f] ?? null, v) + 1;
    }
  }
  return { rows, cols, bins };
}

/** A category's bin; an unseen category falls in the missing bin. */
function categoryBin(codes: Float64Array, v: number): number {
  for (let k = 0; k < codes.length; k++) if (codes[k] === v) return k + 1;
  return MISSING_BIN;
}

/**
 * Where to look for a value's edge: a uniform grid over the finite edges, each cell the
 * index of the first edge at or above the cell's start. A value's edge lies between its
 * cell's and the next cell's, so the binary search has one or two edges left to look at,
 * not 254 (measured ~4x faster on 144k rows).
 */
interface EdgeGrid {
  lo: number;
  hi: number;
  cellsPerUnit: number;
  start: Int32Array;
}

const GRID_CELLS = 1024;

function edgeGrid(e: Float64Array): EdgeGrid | null {
  const finite = e.length - 1; // the last edge is Infinity
  const lo = e[0]!;
  const hi = e[finite - 1]!;
  if (finite < 16 || !(hi > lo) || !Number.isFinite(hi - lo)) return null;
  const cellsPerUnit = GRID_CELLS / (hi - lo);
  const start = new Int32Array(GRID_CELLS + 2);
  let k = 0;
  for (let c = 0; c <= GRID_CELLS; c++) {
    const from = lo + c / cellsPerUnit;
    while (k < finite && e[k]! < from) k++;
    start[c] = k;
  }
  start[GRID_CELLS + 1] = finite;
  return { lo, hi, cellsPerUnit, start };
}

/** The index of the first edge ≥ v (v not NaN). */
function firstEdgeAtLeast(e: Float64Array, grid: EdgeGrid | null, v: number): number {
  let lo = 0;
  let hi = e.length - 1;
  if (grid) {
    if (v <= grid.lo) return 0;
    if (v > grid.hi) return hi;
    // the cell computed may be one off at a cell boundary: search the cells either side too
    const c = Math.floor((v - grid.lo) * grid.cellsPerUnit);
    lo = grid.start[Math.max(0, c - 1)]!;
    hi = grid.start[Math.min(GRID_CELLS + 1, c + 2)]!;
  }
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (e[mid]! >= v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Sorts a column's values ascending (no NaN). Big columns by radix on their bits, four
 * passes of 16: ~7 ms for 144k values against ~15 for the built-in sort.
 */
function sortValues(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < 20_000) return a.sort();
  // doubles as unsigned 64-bit keys in the same order: negatives with every bit flipped,
  // the others with the sign bit set
  const words = new Uint32Array(a.buffer, a.byteOffset, n * 2);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!;
    const l = words[2 * i]!;
    const negative = h >>> 31 === 1;
    hi[i] = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    lo[i] = negative ? ~l >>> 0 : l;
  }
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(word[i]! >>> shift) & 0xffff]!++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const p = count[(word[i]! >>> shift) & 0xffff]!++;
      lo2[p] = lo[i]!;
      hi2[p] = hi[i]!;
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    const l = lo[i]!;
    const negative = h >>> 31 === 0;
    words[2 * i + 1] = negative ? ~h >>> 0 : h & 0x7fffffff;
    words[2 * i] = negative ? ~l >>> 0 : l;
  }
  return a;
}

/** The bin edges as JSON (Infinity as a string) and back. */
export function serialiseMapper(m: BinMapper) {
  return { edges: m.edges.map((e) => Array.from(e, (v) => (v === Infinity ? "Infinity" : v))), nBins: Array.from(m.nBins), categorical: m.categorical };
}

export function reviveMapper(s: ReturnType<typeof serialiseMapper>): BinMapper {
  return { edges: s.edges.map((e) => Float64Array.from(e, (v) => (v === "Infinity" ? Infinity : Number(v)))), nBins: Uint16Array.from(s.nBins), categorical: s.categorical };
}
