/**
 * One regression tree grown on binned features from gradients and hessians, leaf by leaf
 * (best gain first) as LightGBM and scikit-learn's HistGradientBoosting do. Histograms are
 * built for the smaller child only; the larger child's is the parent's minus it. Missing
 * values (bin 0) go to whichever side gains more; categorical features split on a set of
 * categories ordered by their gradient ratio.
 */
import { MISSING_BIN, type BinMapper, type BinnedMatrix } from "./feature-binning";

export interface TreeParams {
  maxLeafNodes: number;
  maxDepth: number;
  minSamplesLeaf: number;
  minHessianLeaf: number;
  l2: number;
  minGain: number;
  /** features this tree may split on (a column subsample), or null for all */
  features: Int32Array | null;
  /** split thresholds drawn at random (extra trees) instead of searched */
  randomThresholds: (() => number) | null;
}

/** A fitted tree: node arrays; a leaf has feature -1. */
export interface Tree {
  feature: Int32Array;
  /** numeric: bins ≤ threshold go left */
  threshold: Uint8Array;
  missingLeft: Uint8Array;
  /** categorical: 8 × 32-bit words per node, the categories (bins) that go left */
  catLeft: Uint32Array | null;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  /** total gain of the splits on each feature (for importance) */
  gain: Float64Array;
}

/**
 * Per bin, interleaved: [gradient sum, count-and-hessian sum]. The second slot adds
 * `scale + h` per row (scale a power of two at least twice any node's hessian sum), so one
 * add carries both the count (its multiple of scale) and the hessian (the remainder): two
 * updates per row and feature instead of three, in the loop that dominates fitting. With a
 * constant hessian of 1 (scale 0) the slot is the count, which is also the hessian.
 */
type Hist = Float64Array;

/** The count in a histogram's second slot. */
function countOf(hc: number, scale: number): number {
  // hc / scale = count + h / scale, h / scale in [-tiny, 0.5]: rounding after -0.25 is exact
  return scale === 0 ? hc : Math.round(hc / scale - 0.25);
}

function hessianOf(hc: number, count: number, scale: number): number {
  return scale === 0 ? hc : hc - count * scale;
}

interface Candidate {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: Hist;
  G: number;
  H: number;
  split: Split | null;
}

interface Split {
  gain: number;
  feature: number;
  threshold: number;
  missingLeft: boolean;
  catBits: Uint32Array | null;
  GL: number;
  HL: number;
}

/** Where one tree's rows ended: leaf node and its [start, end) in `rows`. */
export interface LeafRows {
  node: number;
  start: number;
  end: number;
}

/** Below this size the row-major slots stay in a core's cache whatever rows a node has. */
const ROW_MAJOR_CACHE_BYTES = 1 << 20;

export class TreeGrower {
  private readonly offsets: Int32Array;
  private readonly histSize: number;
  /** gradients and count-and-hessian terms in the order of `rows`, partitioned along with them */
  private readonly ordG: Float64Array;
  private readonly ordHC: Float64Array;
  /** column-major copy of the bins: partitioning reads one feature of scattered rows */
  private readonly columns: Uint8Array;
  private readonly scratch: Uint32Array;
  private readonly scratchG: Float64Array;
  private readonly scratchHC: Float64Array;
  private readonly goLeft = new Uint8Array(256);
  /** row-major, per row and feature: the histogram slot (feature offset + bin), saving a lookup per update */
  private readonly slots: Uint16Array | Uint32Array;
  private scale = 0;
  /** histograms of finished nodes, reused: a tree needs dozens and a fit thousands */
  private readonly pool: Hist[] = [];

  constructor(
    private readonly data: BinnedMatrix,
    private readonly mapper: BinMapper,
  ) {
    this.offsets = new Int32Array(data.cols + 1);
    for (let f = 0; f < data.cols; f++) this.offsets[f + 1] = this.offsets[f]! + mapper.nBins[f]!;
    this.histSize = this.offsets[data.cols]!;
    this.ordG = new Float64Array(data.rows);
    this.ordHC = new Float64Array(data.rows);
    this.columns = new Uint8Array(data.rows * data.cols);
    this.scratch = new Uint32Array(data.rows);
    this.scratchG = new Float64Array(data.rows);
    this.scratchHC = new Float64Array(data.rows);
    const { bins, rows, cols } = data;
    for (let i = 0; i < rows; i++) for (let f = 0; f < cols; f++) this.columns[f * rows + i] = bins[i * cols + f]!;
    this.slots = this.histSize <= 0xffff ? new Uint16Array(rows * cols) : new Uint32Array(rows * cols);
    for (let i = 0; i < rows * cols; i++) this.slots[i] = this.offsets[i % cols]! + bins[i]!;
  }

  /**
   * Grows a tree over `rows` (reordered in place so each leaf's rows are contiguous).
   * `constantHessian` skips hessian sums when every hessian is 1 (squared error).
   */
  grow(rows: Uint32Array, grad: Float64Array, hess: Float64Array, constantHessian: boolean, p: TreeParams): { tree: Tree; leaves: LeafRows[] } {
    const nodes = { feature: [] as number[], threshold: [] as number[], missingLeft: [] as number[], cat: [] as (Uint32Array | null)[], left: [] as number[], right: [] as number[], value: [] as number[] };
    const gainByFeature = new Float64Array(this.data.cols);
    const newNode = () => {
      nodes.feature.push(-1), nodes.threshold.push(0), nodes.missingLeft.push(0), nodes.cat.push(null), nodes.left.push(-1), nodes.right.push(-1), nodes.value.push(0);
      return nodes.feature.length - 1;
    };
    const features = p.features ?? Int32Array.from({ length: this.data.cols }, (_, f) => f);
    let G = 0;
    let H = 0;
    let maxH = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      G += grad[r]!;
      const h = constantHessian ? 1 : hess[r]!;
      H += h;
      if (h > maxH) maxH = h;
    }
    this.scale = constantHessian ? 0 : 2 ** Math.ceil(Math.log2(2 * maxH * rows.length + 1));
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      this.ordG[i] = grad[r]!;
      this.ordHC[i] = constantHessian ? 1 : this.scale + hess[r]!;
    }
    const rootHist = this.histogram(rows, 0, rows.length, features);
    const root: Candidate = { node: newNode(), start: 0, end: rows.length, depth: 0, hist: rootHist, G, H, split: null };
    root.split = this.bestSplit(root, features, p);
    const open: Candidate[] = [root];
    const leaves: Candidate[] = [];
    let nLeaves = 1;
    while (open.length) {
      // best-first: the open node whose split gains most
      let bi = 0;
      for (let i = 1; i < open.length; i++) if ((open[i]!.split?.gain ?? -1) > (open[bi]!.split?.gain ?? -1)) bi = i;
      const c = open.splice(bi, 1)[0]!;
      const s = c.split;
      if (!s || s.gain <= p.minGain || nLeaves >= p.maxLeafNodes) {
        leaves.push(c);
        this.pool.push(c.hist);
        continue;
      }
      const mid = this.partition(rows, c.start, c.end, s);
      const l: Candidate = { node: newNode(), start: c.start, end: mid, depth: c.depth + 1, hist: null as unknown as Hist, G: s.GL, H: s.HL, split: null };
      const r: Candidate = { node: newNode(), start: mid, end: c.end, depth: c.depth + 1, hist: null as unknown as Hist, G: c.G - s.GL, H: c.H - s.HL, split: null };
      nodes.feature[c.node] = s.feature;
      nodes.threshold[c.node] = s.threshold;
      nodes.missingLeft[c.node] = s.missingLeft ? 1 : 0;
      nodes.cat[c.node] = s.catBits;
      nodes.left[c.node] = l.node;
      nodes.right[c.node] = r.node;
      gainByFeature[s.feature]! += s.gain;
      nLeaves++;
      const small = l.end - l.start <= r.end - r.start ? l : r;
      const large = small === l ? r : l;
      small.hist = this.histogram(rows, small.start, small.end, features);
      large.hist = subtract(c.hist, small.hist);
      for (const child of [l, r]) {
        const splittable = child.depth < p.maxDepth && child.end - child.start >= 2 * p.minSamplesLeaf;
        child.split = splittable ? this.bestSplit(child, features, p) : null;
        open.push(child);
      }
    }
    for (const leaf of leaves) nodes.value[leaf.node] = -leaf.G / (leaf.H + p.l2);
    const hasCat = nodes.cat.some((c) => c !== null);
    const catLeft = hasCat ? new Uint32Array(nodes.feature.length * 8) : null;
    if (catLeft) nodes.cat.forEach((bits, i) => bits && catLeft.set(bits, i * 8));
    return {
      tree: {
        feature: Int32Array.from(nodes.feature),
        threshold: Uint8Array.from(nodes.threshold),
        missingLeft: Uint8Array.from(nodes.missingLeft),
        catLeft,
        left: Int32Array.from(nodes.left),
        right: Int32Array.from(nodes.right),
        value: Float64Array.from(nodes.value),
        gain: gainByFeature,
      },
      leaves: leaves.map((l) => ({ node: l.node, start: l.start, end: l.end })),
    };
  }

  private histogram(rows: Uint32Array, start: number, end: number, features: Int32Array): Hist {
    const hist: Hist = this.pool.pop()?.fill(0) ?? new Float64Array(this.histSize * 2);
    const n = end - start;
    const idx = rows.subarray(start, end);
    const og = this.ordG.subarray(start, end);
    const ohc = this.ordHC.subarray(start, end);
    const total = this.data.rows;
    if (n * 2 >= total || this.slots.byteLength <= ROW_MAJOR_CACHE_BYTES) {
      const cols = this.data.cols;
      const slots = this.slots;
      if (features.length === cols) {
        for (let i = 0; i < n; i++) {
          const row = idx[i]! * cols;
          const gi = og[i]!;
          const hi = ohc[i]!;
          for (let f = 0; f < cols; f++) {
            const b = slots[row + f]! << 1;
            hist[b]! += gi;
            hist[b + 1]! += hi;
          }
        }
      } else {
        const nf = features.length;
        for (let i = 0; i < n; i++) {
          const row = idx[i]! * cols;
          const gi = og[i]!;
          const hi = ohc[i]!;
          for (let k = 0; k < nf; k++) {
            const b = slots[row + features[k]!]! << 1;
            hist[b]! += gi;
            hist[b + 1]! += hi;
          }
        }
      }
      return hist;
    }
    const columns = this.columns;
    const offs = this.offsets;
    const n4 = n - (n & 3);
    for (let k = 0; k < features.length; k++) {
      const f = features[k]!;
      const col = columns.subarray(f * total, (f + 1) * total);
      const o = offs[f]! << 1;
      let i = 0;
      for (; i < n4; i += 4) {
        const b0 = o + (col[idx[i]!]! << 1);
        const b1 = o + (col[idx[i + 1]!]! << 1);
        const b2 = o + (col[idx[i + 2]!]! << 1);
        const b3 = o + (col[idx[i + 3]!]! << 1);
        hist[b0]! += og[i]!;
        hist[b0 + 1]! += ohc[i]!;
        hist[b1]! += og[i + 1]!;
        hist[b1 + 1]! += ohc[i + 1]!;
        hist[b2]! += og[i + 2]!;
        hist[b2 + 1]! += ohc[i + 2]!;
        hist[b3]! += og[i + 3]!;
        hist[b3 + 1]! += ohc[i + 3]!;
      }
      for (; i < n; i++) {
        const b = o + (col[idx[i]!]! << 1);
        hist[b]! += og[i]!;
        hist[b + 1]! += ohc[i]!;
      }
    }
    return hist;
  }

  private bestSplit(c: Candidate, features: Int32Array, p: TreeParams): Split | null {
    const { G, H } = c;
    const l2 = p.l2;
    const minLeaf = p.minSamplesLeaf;
    const minHess = p.minHessianLeaf;
    const parentScore = (G * G) / (H + l2);
    const hist = c.hist;
    const n = c.end - c.start;
    let best: Split | null = null;
    let bestGain = -Infinity;
    for (let k = 0; k < features.length; k++) {
      const f = features[k]!;
      const o = this.offsets[f]! * 2;
      const nb = this.mapper.nBins[f]!;
      const scale = this.scale;
      const gm = hist[o]!;
      const cm = countOf(hist[o + 1]!, scale);
      const hm = hessianOf(hist[o + 1]!, cm, scale);
      if (this.mapper.categorical[f]) {
        const s = this.categoricalSplit(hist, o, nb, f, G, H, n, parentScore, p, gm, hm, cm);
        if (s && s.gain > bestGain) (best = s), (bestGain = s.gain);
        continue;
      }
      const only = p.randomThresholds ? 1 + Math.floor(p.randomThresholds() * Math.max(1, nb - 2)) : -1;
      let GL = 0;
      let HL = 0;
      let CL = 0;
      let fGain = -Infinity;
      let fBin = -1;
      let fMissingLeft = false;
      let fGL = 0;
      let fHL = 0;
      for (let b = 1; b < nb - 1; b++) {
        const j = o + b * 2;
        const hc = hist[j + 1]!;
        if (hc < 0.5) continue; // an empty bin adds no new split point
        const cb = countOf(hc, scale);
        GL += hist[j]!;
        HL += hessianOf(hc, cb, scale);
        CL += cb;
        if (only >= 0 && b !== only) continue;
        // missing values to the right
        if (CL >= minLeaf && n - CL >= minLeaf && HL >= minHess && H - HL >= minHess) {
          const gain = (GL * GL) / (HL + l2) + ((G - GL) * (G - GL)) / (H - HL + l2) - parentScore;
          if (gain > fGain) (fGain = gain), (fBin = b), (fMissingLeft = false), (fGL = GL), (fHL = HL);
        }
        // or to the left
        if (cm > 0) {
          const gl = GL + gm;
          const hl = HL + hm;
          const cl = CL + cm;
          if (cl >= minLeaf && n - cl >= minLeaf && hl >= minHess && H - hl >= minHess) {
            const gain = (gl * gl) / (hl + l2) + ((G - gl) * (G - gl)) / (H - hl + l2) - parentScore;
            if (gain > fGain) (fGain = gain), (fBin = b), (fMissingLeft = true), (fGL = gl), (fHL = hl);
          }
        }
      }
      if (fBin >= 0 && fGain > bestGain) {
        bestGain = fGain;
        best = { gain: fGain, feature: f, threshold: fBin, missingLeft: fMissingLeft, catBits: null, GL: fGL, HL: fHL };
      }
    }
    return best;
  }

  private categoricalSplit(hist: Hist, o: number, nb: number, f: number, G: number, H: number, n: number, parentScore: number, p: TreeParams, gm: number, hm: number, cm: number): Split | null {
    const scale = this.scale;
    const cats: number[] = [];
    const g = new Float64Array(nb);
    const h = new Float64Array(nb);
    const c = new Float64Array(nb);
    for (let b = 1; b < nb; b++) {
      const hc = hist[o + b * 2 + 1]!;
      if (hc < 0.5) continue;
      c[b] = countOf(hc, scale);
      h[b] = hessianOf(hc, c[b]!, scale);
      g[b] = hist[o + b * 2]!;
      cats.push(b);
    }
    const ratio = (b: number) => g[b]! / (h[b]! + p.l2);
    cats.sort((a, b) => ratio(a) - ratio(b));
    let best: Split | null = null;
    let GL = 0;
    let HL = 0;
    let CL = 0;
    for (let i = 0; i < cats.length - 1; i++) {
      const b = cats[i]!;
      GL += g[b]!;
      HL += h[b]!;
      CL += c[b]!;
      for (const missingLeft of [false, true]) {
        const gl = GL + (missingLeft ? gm : 0);
        const hl = HL + (missingLeft ? hm : 0);
        const cl = CL + (missingLeft ? cm : 0);
        if (cl < p.minSamplesLeaf || n - cl < p.minSamplesLeaf || hl < p.minHessianLeaf || H - hl < p.minHessianLeaf) continue;
        const gain = (gl * gl) / (hl + p.l2) + ((G - gl) * (G - gl)) / (H - hl + p.l2) - parentScore;
        if (!best || gain > best.gain) {
          const bits = new Uint32Array(8);
          for (let j = 0; j <= i; j++) bits[cats[j]! >> 5]! |= 1 << (cats[j]! & 31);
          if (missingLeft) bits[0]! |= 1;
          best = { gain, feature: f, threshold: 0, missingLeft, catBits: bits, GL: gl, HL: hl };
        }
      }
    }
    return best;
  }

  /**
   * Moves the rows going left to the front of [start, end), keeping both sides in their
   * original (ascending) order; returns where the right ones begin. Ascending rows make the
   * histogram pass read each column forwards, which measured ~1.5-2x faster than the
   * scattered order an in-place swap leaves.
   */
  private partition(rows: Uint32Array, start: number, end: number, s: Split): number {
    const n = this.data.rows;
    const column = this.columns.subarray(s.feature * n, (s.feature + 1) * n);
    const right = this.scratch;
    const og = this.ordG;
    const ohc = this.ordHC;
    const rightG = this.scratchG;
    const rightHC = this.scratchHC;
    // which bins go left, as a table: the loop below then has no branch to mispredict
    const goLeft = this.goLeft;
    for (let b = 0; b < 256; b++) goLeft[b] = s.catBits ? ((s.catBits[b >> 5]! >>> (b & 31)) & 1) : b === MISSING_BIN ? Number(s.missingLeft) : Number(b <= s.threshold);
    let l = start;
    let r = 0;
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      const g = og[i]!;
      const hc = ohc[i]!;
      const left = goLeft[column[row]!]!;
      rows[l] = row;
      og[l] = g;
      ohc[l] = hc;
      right[r] = row;
      rightG[r] = g;
      rightHC[r] = hc;
      l += left;
      r += 1 - left;
    }
    rows.set(right.subarray(0, r), l);
    og.set(rightG.subarray(0, r), l);
    ohc.set(rightHC.subarray(0, r), l);
    return l;
  }
}

/** The larger child's histogram: the parent's minus the smaller child's (reusing the parent's memory). */
function subtract(parent: Hist, child: Hist): Hist {
  for (let i = 0; i < parent.length; i++) parent[i] = parent[i]! - child[i]!;
  return parent;
}

/** The leaf a binned row falls in (`cols`: the binned matrix's number of features). */
export function leafOf(tree: Tree, bins: Uint8Array, cols: number, row: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) {
    const f = tree.feature[node]!;
    const b = bins[row * cols + f]!;
    let left: boolean;
    if (tree.catLeft && tree.threshold[node] === 0 && isCatNode(tree, node)) left = (tree.catLeft[node * 8 + (b >> 5)]! & (1 << (b & 31))) !== 0;
    else left = b === MISSING_BIN ? tree.missingLeft[node] === 1 : b <= tree.threshold[node]!;
    node = left ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

function isCatNode(tree: Tree, node: number): boolean {
  for (let w = 0; w < 8; w++) if (tree.catLeft![node * 8 + w] !== 0) return true;
  return false;
}
