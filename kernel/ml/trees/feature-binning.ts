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
    const values = column.subarray(0, n).sort();
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
  for (let f = 0; f < cols; f++) {
    const e = mapper.edges[f]!;
    const cat = mapper.categorical[f];
    for (let i = 0; i < rows; i++) {
      const at = i * cols + f;
      const v = data[at]!;
      if (Number.isNaN(v)) {
        bins[at] = MISSING_BIN;
        continue;
      }
      if (cat) {
        // an unseen category falls in the missing bin
        let b = MISSING_BIN;
        for (let k = 0; k < e.length; k++) if (e[k] === v) (b = k + 1);
        bins[at] = b;
        continue;
      }
      // binary search: the first edge ≥ v
      let lo = 0;
      let hi = e.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (e[mid]! >= v) hi = mid;
        else lo = mid + 1;
      }
      bins[at] = lo + 1;
    }
  }
  return { rows, cols, bins };
}

/** The bin edges as JSON (Infinity as a string) and back. */
export function serialiseMapper(m: BinMapper) {
  return { edges: m.edges.map((e) => Array.from(e, (v) => (v === Infinity ? "Infinity" : v))), nBins: Array.from(m.nBins), categorical: m.categorical };
}

export function reviveMapper(s: ReturnType<typeof serialiseMapper>): BinMapper {
  return { edges: s.edges.map((e) => Float64Array.from(e, (v) => (v === "Infinity" ? Infinity : Number(v)))), nBins: Uint16Array.from(s.nBins), categorical: s.categorical };
}
