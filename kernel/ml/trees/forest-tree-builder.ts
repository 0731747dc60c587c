/**
 * Grows one fully grown tree of a random forest (or extra-trees) on binned features, depth
 * first. Each node draws its own features (max_features), builds a histogram of just those
 * over its rows (no subtraction: the sibling samples other features) and splits on the
 * largest drop in squared error of its targets, which for one-hot class targets is the drop
 * in Gini impurity, as scikit-learn's forests do. Only the bins a node actually has are
 * scanned and cleared, so the thousands of small nodes near the leaves cost little.
 *
 * Missing values sit in bin 0, below every other bin: a threshold sends them left.
 *
 * Self-contained on purpose (no imports, no module-level helpers): worker threads run this
 * class from its own source text (see forest-workers.ts).
 */

/** What every tree of a fit reads, in shared memory. */
export interface ForestData {
  /** column-major bins: feature f of row i is columns[f * rows + i] */
  columns: Uint8Array;
  rows: number;
  cols: number;
  /** rows × k targets: the value (regression, k = 1), the class-1 indicator (two classes, k = 1), or one-hot classes */
  targets: Float64Array;
  k: number;
  /** per feature f, 256 entries from f * 256: the upper edge of each bin (the value where it ends; NaN where unused) */
  binEdges: Float64Array;
}

export interface ForestTreeParams {
  seed: number;
  /** features drawn per node */
  maxFeatures: number;
  maxDepth: number;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  bootstrap: boolean;
  /** extra-trees: one random cut per drawn feature instead of the best one */
  randomCuts: boolean;
}

/** A fitted forest tree: node arrays (a leaf has feature -1), k values per node. */
export interface ForestTree {
  feature: Int32Array;
  threshold: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  /** per feature: the total drop in squared error of its splits (for importance) */
  gain: Float64Array;
}

export class ForestTreeBuilder {
  constructor(readonly d: ForestData) {}

  build(p: ForestTreeParams): ForestTree {
    const d = this.d;
    const { rows: n, cols, k, columns, targets, binEdges } = d;
    // mulberry32, as kernel/data/seeded-random.ts
    let state = p.seed >>> 0;
    const random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    // the tree's rows: a bootstrap sample (repeats allowed) or every row, ascending
    let rows: Uint32Array;
    if (p.bootstrap) {
      const counts = new Uint32Array(n);
      for (let i = 0; i < n; i++) counts[Math.floor(random() * n)]!++;
      rows = new Uint32Array(n);
      let m = 0;
      for (let r = 0; r < n; r++) for (let c = counts[r]!; c > 0; c--) rows[m++] = r;
    } else {
      rows = new Uint32Array(n);
      for (let i = 0; i < n; i++) rows[i] = i;
    }
    const scratch = new Uint32Array(n);
    // per bin: k target sums, then the count
    const stride = k + 1;
    const hist = new Float64Array(256 * stride);
    const touched = new Int32Array(256);
    const order = new Int32Array(cols);
    for (let f = 0; f < cols; f++) order[f] = f;
    const sums = new Float64Array(k);
    const leftSums = new Float64Array(k);

    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const gain = new Float64Array(cols);
    const newNode = () => {
      (feature.push(-1), threshold.push(0), left.push(-1), right.push(-1));
      for (let c = 0; c < k; c++) value.push(0);
      return feature.length - 1;
    };

    // depth first, with an explicit stack of [node, start, end, depth]
    const stack: number[] = [newNode(), 0, n, 0];
    while (stack.length) {
      const depth = stack.pop()!;
      const end = stack.pop()!;
      const start = stack.pop()!;
      const node = stack.pop()!;
      const size = end - start;
      sums.fill(0);
      let squares = 0;
      for (let i = start; i < end; i++) {
        const o = rows[i]! * k;
        for (let c = 0; c < k; c++) {
          const v = targets[o + c]!;
          sums[c]! += v;
          squares += v * v;
        }
      }
      let parentScore = 0;
      for (let c = 0; c < k; c++) {
        value[node * k + c] = sums[c]! / size;
        parentScore += (sums[c]! * sums[c]!) / size;
      }
      const impurity = squares - parentScore;
      if (size < p.minSamplesSplit || size < 2 * p.minSamplesLeaf || depth >= p.maxDepth || impurity <= 1e-12 * Math.max(1, squares)) continue;

      let bestScore = -Infinity;
      let bestFeature = -1;
      let bestBin = -1;
      // draw features until maxFeatures of them could split (as scikit-learn does), or none are left
      let drawn = 0;
      let usable = 0;
      while (usable < p.maxFeatures && drawn < cols) {
        const j = drawn + Math.floor(random() * (cols - drawn));
        const f = order[j]!;
        order[j] = order[drawn]!;
        order[drawn] = f;
        drawn++;
        const column = columns.subarray(f * n, (f + 1) * n);
        if (p.randomCuts) {
          // extra-trees: one random cut in the node's range of values, so no histogram: a pass
          // for the range, a pass for the left side's count and target sums
          let lo = 256; // the lowest and highest bin with values (bin 0, missing, always goes left)
          let hi = 0;
          let missing = 0;
          for (let i = start; i < end; i++) {
            const b = column[rows[i]!]!;
            if (b === 0) missing = 1;
            else {
              if (b < lo) lo = b;
              if (b > hi) hi = b;
            }
          }
          if (missing + (hi > 0 ? 1 : 0) + (lo < hi ? 1 : 0) < 2) continue; // one value: no cut
          usable++;
          // a cut drawn uniformly over the node's range of values, as scikit-learn's extra-trees
          // draw it, then mapped to the bin it falls in (so wide bins are cut more often); bins
          // stand for their midpoints, the open-ended last one for its lower edge
          const e0 = f * 256; // this feature's bin edges: binEdges[e0 + bin]
          let cutAt = 0; // only missing values and one bin: missing against the rest
          if (lo < hi) {
            const loUpper = binEdges[e0 + lo]!;
            const loLower = lo > 1 ? binEdges[e0 + lo - 1]! : loUpper;
            const hiLower = binEdges[e0 + hi - 1]!;
            const hiUpper = Number.isFinite(binEdges[e0 + hi]!) ? binEdges[e0 + hi]! : hiLower;
            const from = (loLower + loUpper) / 2;
            const u = from + random() * ((hiLower + hiUpper) / 2 - from);
            // the first bin in [lo, hi - 1] whose upper edge is ≥ u, else hi - 1
            let a = lo;
            let z = hi - 1;
            while (a < z) {
              const mid = (a + z) >> 1;
              if (binEdges[e0 + mid]! >= u) z = mid;
              else a = mid + 1;
            }
            cutAt = a;
          }
          leftSums.fill(0);
          let nl = 0;
          if (k === 1) {
            let sl = 0;
            for (let i = start; i < end; i++) {
              const r = rows[i]!;
              const goes = column[r]! <= cutAt ? 1 : 0;
              nl += goes;
              sl += goes * targets[r]!;
            }
            leftSums[0] = sl;
          } else {
            for (let i = start; i < end; i++) {
              const r = rows[i]!;
              if (column[r]! > cutAt) continue;
              nl++;
              for (let c = 0; c < k; c++) leftSums[c]! += targets[r * k + c]!;
            }
          }
          const nr = size - nl;
          if (nl >= p.minSamplesLeaf && nr >= p.minSamplesLeaf) {
            let score = 0;
            for (let c = 0; c < k; c++) {
              const sl = leftSums[c]!;
              const sr = sums[c]! - sl;
              score += (sl * sl) / nl + (sr * sr) / nr;
            }
            if (score > bestScore) ((bestScore = score), (bestFeature = f), (bestBin = cutAt));
          }
          continue;
        }
        let nTouched = 0;
        if (k === 1) {
          // one output (regression, two classes): the common case, without the inner loop
          for (let i = start; i < end; i++) {
            const r = rows[i]!;
            const b = column[r]!;
            const o = b << 1;
            const count = hist[o + 1]!;
            if (count === 0) touched[nTouched++] = b;
            hist[o + 1] = count + 1;
            hist[o]! += targets[r]!;
          }
        } else {
          for (let i = start; i < end; i++) {
            const r = rows[i]!;
            const b = column[r]!;
            const o = b * stride;
            if (hist[o + k] === 0) touched[nTouched++] = b;
            hist[o + k]!++;
            for (let c = 0; c < k; c++) hist[o + c]! += targets[r * k + c]!;
          }
        }
        if (nTouched > 1) {
          usable++;
          // the node's bins in order: insertion sort when few (a typed-array sort call costs
          // more than a small node's whole histogram), else a walk over the bin range
          if (nTouched <= 16) {
            for (let a = 1; a < nTouched; a++) {
              const v = touched[a]!;
              let z = a - 1;
              for (; z >= 0 && touched[z]! > v; z--) touched[z + 1] = touched[z]!;
              touched[z + 1] = v;
            }
          } else {
            let lo = 255;
            let hi = 0;
            for (let t = 0; t < nTouched; t++) ((lo = Math.min(lo, touched[t]!)), (hi = Math.max(hi, touched[t]!)));
            let m = 0;
            for (let b = lo; b <= hi; b++) if (hist[b * stride + k]! > 0) touched[m++] = b;
          }
          const bins = touched;
          leftSums.fill(0);
          let nl = 0;
          for (let t = 0; t < nTouched - 1; t++) {
            const b = bins[t]!;
            const o = b * stride;
            nl += hist[o + k]!;
            for (let c = 0; c < k; c++) leftSums[c]! += hist[o + c]!;
            const nr = size - nl;
            if (nl < p.minSamplesLeaf || nr < p.minSamplesLeaf) continue;
            let score = 0;
            for (let c = 0; c < k; c++) {
              const sl = leftSums[c]!;
              const sr = sums[c]! - sl;
              score += (sl * sl) / nl + (sr * sr) / nr;
            }
            if (score > bestScore) {
              bestScore = score;
              bestFeature = f;
              bestBin = b;
            }
          }
        }
        for (let t = 0; t < nTouched; t++) for (let o = touched[t]! * stride, e = o + stride; o < e; o++) hist[o] = 0;
      }
      if (bestFeature < 0 || bestScore - parentScore <= 1e-12 * Math.max(1, squares)) continue;
      // stable partition on the chosen cut
      const column = columns.subarray(bestFeature * n, (bestFeature + 1) * n);
      let l = start;
      let r = 0;
      for (let i = start; i < end; i++) {
        const row = rows[i]!;
        const g = column[row]! <= bestBin ? 1 : 0;
        rows[l] = row;
        scratch[r] = row;
        l += g;
        r += 1 - g;
      }
      rows.set(scratch.subarray(0, r), l);
      feature[node] = bestFeature;
      threshold[node] = bestBin;
      gain[bestFeature]! += bestScore - parentScore;
      const ln = newNode();
      const rn = newNode();
      left[node] = ln;
      right[node] = rn;
      stack.push(rn, l, end, depth + 1, ln, start, l, depth + 1);
    }
    return {
      feature: Int32Array.from(feature),
      threshold: Uint8Array.from(threshold),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value: Float64Array.from(value),
      gain,
    };
  }
}
