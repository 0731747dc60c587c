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

/** Per bin, interleaved: [gradient sum, hessian sum, count], so one bin's update touches one cache line. */
type Hist = Float64Array;

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

export class TreeGrower {
  private readonly offsets: Int32Array;
  private readonly histSize: number;
  private ordG: Float64Array;
  private ordH: Float64Array;
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
    this.ordH = new Float64Array(data.rows);
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
    const rootHist = this.histogram(rows, 0, rows.length, grad, hess, constantHessian, features);
    let G = 0;
    let H = 0;
    for (let i = 0; i < rows.length; i++) (G += grad[rows[i]!]!), (H += constantHessian ? 1 : hess[rows[i]!]!);
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
      small.hist = this.histogram(rows, small.start, small.end, grad, hess, constantHessian, features);
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

  private histogram(rows: Uint32Array, start: number, end: number, grad: Float64Array, hess: Float64Array, constantHessian: boolean, features: Int32Array): Hist {
    const hist: Hist = this.pool.pop()?.fill(0) ?? new Float64Array(this.histSize * 3);
    const n = end - start;
    const idx = rows.subarray(start, end);
    // gradients in node order, so each feature's pass reads them sequentially
    const og = this.ordG;
    const oh = this.ordH;
    for (let i = 0; i < n; i++) {
      const r = idx[i]!;
      og[i] = grad[r]!;
      oh[i] = constantHessian ? 1 : hess[r]!;
    }
    const { bins, cols } = this.data;
    const nf = features.length;
    const allFeatures = nf === cols;
    const offs = this.offsets;
    for (let i = 0; i < n; i++) {
      const row = idx[i]! * cols;
      const gi = og[i]!;
      const hi = oh[i]!;
      if (allFeatures) {
        for (let f = 0; f < cols; f++) {
          const b = (offs[f]! + bins[row + f]!) * 3;
          hist[b]! += gi;
          hist[b + 1]! += hi;
          hist[b + 2]! += 1;
        }
      } else {
        for (let k = 0; k < nf; k++) {
          const f = features[k]!;
          const b = (offs[f]! + bins[row + f]!) * 3;
          hist[b]! += gi;
          hist[b + 1]! += hi;
          hist[b + 2]! += 1;
        }
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
      const o = this.offsets[f]! * 3;
      const nb = this.mapper.nBins[f]!;
      const gm = hist[o]!;
      const hm = hist[o + 1]!;
      const cm = hist[o + 2]!;
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
        const j = o + b * 3;
        const cb = hist[j + 2]!;
        if (cb === 0) continue; // an empty bin adds no new split point
        GL += hist[j]!;
        HL += hist[j + 1]!;
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
    const cats: number[] = [];
    for (let b = 1; b < nb; b++) if (hist[o + b * 3 + 2]! > 0) cats.push(b);
    const ratio = (b: number) => hist[o + b * 3]! / (hist[o + b * 3 + 1]! + p.l2);
    cats.sort((a, b) => ratio(a) - ratio(b));
    let best: Split | null = null;
    let GL = 0;
    let HL = 0;
    let CL = 0;
    for (let i = 0; i < cats.length - 1; i++) {
      const b = cats[i]!;
      GL += hist[o + b * 3]!;
      HL += hist[o + b * 3 + 1]!;
      CL += hist[o + b * 3 + 2]!;
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

  /** Moves the rows going left to the front of [start, end); returns where the right ones begin. */
  private partition(rows: Uint32Array, start: number, end: number, s: Split): number {
    const { bins, cols } = this.data;
    const f = s.feature;
    let i = start;
    let j = end - 1;
    const goesLeft = (r: number) => {
      const b = bins[r * cols + f]!;
      if (s.catBits) return (s.catBits[b >> 5]! & (1 << (b & 31))) !== 0;
      if (b === MISSING_BIN) return s.missingLeft;
      return b <= s.threshold;
    };
    while (i <= j) {
      if (goesLeft(rows[i]!)) i++;
      else {
        const t = rows[i]!;
        rows[i] = rows[j]!;
        rows[j] = t;
        j--;
      }
    }
    return i;
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
