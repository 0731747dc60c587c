/**
 * One regression tree grown on binned features from gradients and hessians, leaf by leaf
 * (best gain first) as LightGBM and scikit-learn's HistGradientBoosting do. Histograms are
 * built for the smaller child only; the larger child's is the parent's minus it. Missing
 * values (bin 0) go to whichever side gains more; categorical features split on a set of
 * categories ordered by their gradient ratio.
 */
import { availableParallelism } from "node:os";
import { MISSING_BIN, type BinMapper, type BinnedMatrix } from "./feature-binning";
import { makeRowShard, type RowShard, type ShardMemory } from "./row-shard";
import { sharedBytes } from "./shared-memory";
import { ShardOp, leaseShardWorkers, releaseShardWorkers, type ShardWorker } from "./shard-workers";

export interface TreeParams {
  maxLeafNodes: number;
  maxDepth: number;
  minSamplesLeaf: number;
  minHessianLeaf: number;
  l2: number;
  minGain: number;
  /** features this tree may split on (a column subsample), or null for all */
  features: Int32Array | null;
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
  /** per shard t: its rows of this node are [ranges[2t], ranges[2t+1]) */
  ranges: Int32Array;
  n: number;
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
  /** rows going left */
  CL: number;
}

/** Where one tree's rows ended: a leaf node and its rows (a part per row shard). */
export interface LeafRows {
  node: number;
  parts: Uint32Array[];
}

/** Splits smaller than this (rows × features) run on the main thread: a worker round trip costs more. */
const PARALLEL_MIN_WORK = 50_000;

export interface GrowerOptions {
  /** workers the caller leased (and gives back after dispose), instead of leasing them here */
  workers?: ShardWorker[];
}

/** Tables big enough for worker threads to pay, and for fresh copies of the shard operations. */
function bigTable(rows: number, cols: number): boolean {
  return rows * cols >= 4 * PARALLEL_MIN_WORK;
}

/** The threads worth growing a table's trees with (the main one included): all cores when it is big enough to pay. */
export function growerThreads(rows: number, cols: number, requested = 0): number {
  return requested > 0 ? requested : bigTable(rows, cols) ? availableParallelism() : 1;
}

export class TreeGrower {
  private readonly offsets: Int32Array;
  private readonly histSize: number;
  private readonly shards: RowShard[];
  private readonly workers: ShardWorker[];
  private readonly ownsWorkers: boolean;
  private readonly shared: Pick<ShardMemory, "grad" | "hess" | "features" | "goLeft">;
  private scale = 0;
  /** histograms of finished nodes, reused: a tree needs dozens and a fit thousands */
  private readonly pool: Hist[] = [];

  constructor(
    private readonly data: BinnedMatrix,
    private readonly mapper: BinMapper,
    options: GrowerOptions = {},
  ) {
    const { bins, rows, cols } = data;
    this.offsets = new Int32Array(sharedBytes(4 * (cols + 1)));
    for (let f = 0; f < cols; f++) this.offsets[f + 1] = this.offsets[f]! + mapper.nBins[f]!;
    this.histSize = this.offsets[cols]!;
    const columns = new Uint8Array(sharedBytes(rows * cols));
    for (let i = 0; i < rows; i++) for (let f = 0; f < cols; f++) columns[f * rows + i] = bins[i * cols + f]!;
    const wide = this.histSize > 0xffff;
    const slots = wide ? new Uint32Array(sharedBytes(rows * cols * 4)) : new Uint16Array(sharedBytes(rows * cols * 2));
    for (let i = 0; i < rows * cols; i++) slots[i] = this.offsets[i % cols]! + bins[i]!;
    this.shared = {
      grad: new Float64Array(sharedBytes(rows * 8)),
      hess: new Float64Array(sharedBytes(rows * 8)),
      features: new Int32Array(sharedBytes(cols * 4)),
      goLeft: new Uint8Array(sharedBytes(256)),
    };
    this.ownsWorkers = !options.workers;
    const threads = growerThreads(rows, cols);
    this.workers = options.workers ? [...options.workers] : threads > 1 ? leaseShardWorkers(threads - 1) : [];
    const nShards = this.workers.length + 1;
    const perShard = Math.ceil(rows / nShards) + 1;
    this.shards = Array.from({ length: nShards }, () => {
      const f64 = () => new Float64Array(sharedBytes(perShard * 8));
      return makeRowShard(
        {
          columns,
          slots,
          totalRows: rows,
          cols,
          offsets: this.offsets,
          ...this.shared,
          rows: new Uint32Array(sharedBytes(perShard * 4)),
          ordG: f64(),
          ordHC: f64(),
          scratch: new Uint32Array(sharedBytes(perShard * 4)),
          scratchG: f64(),
          scratchHC: f64(),
          hist: new Float64Array(sharedBytes(this.histSize * 16)),
        },
        bigTable(rows, cols),
      );
    });
    this.workers.forEach((w, i) => w.start(ShardOp.Init, [], this.shards[i + 1]!.m));
    for (const w of this.workers) w.finish();
  }

  /**
   * The gradient and hessian arrays the trees read, in shared memory: a caller that writes
   * its gradients here (on the workers too: runInParts) saves a copy per tree.
   */
  gradientBuffers(): { grad: Float64Array; hess: Float64Array } {
    return { grad: this.shared.grad, hess: this.shared.hess };
  }

  /** Gives the worker threads it leased back; the grower is unusable afterwards. */
  dispose(): void {
    if (this.ownsWorkers) releaseShardWorkers(this.workers);
    this.workers.splice(0);
  }

  /**
   * Grows a tree over `rows` (ascending row ids, a subsample or all).
   * `constantHessian` skips hessian sums when every hessian is 1 (squared error).
   */
  grow(rows: Uint32Array, grad: Float64Array, hess: Float64Array, constantHessian: boolean, p: TreeParams): { tree: Tree; leaves: LeafRows[] } {
    const nodes = {
      feature: [] as number[],
      threshold: [] as number[],
      missingLeft: [] as number[],
      cat: [] as (Uint32Array | null)[],
      left: [] as number[],
      right: [] as number[],
      value: [] as number[],
    };
    const gainByFeature = new Float64Array(this.data.cols);
    const newNode = () => {
      (nodes.feature.push(-1),
        nodes.threshold.push(0),
        nodes.missingLeft.push(0),
        nodes.cat.push(null),
        nodes.left.push(-1),
        nodes.right.push(-1),
        nodes.value.push(0));
      return nodes.feature.length - 1;
    };
    const features = p.features ?? Int32Array.from({ length: this.data.cols }, (_, f) => f);
    this.shared.features.set(features);
    if (grad !== this.shared.grad) this.shared.grad.set(grad);
    if (!constantHessian && hess !== this.shared.hess) this.shared.hess.set(hess);
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
    // each shard takes a contiguous, ascending slice of the rows
    const nShards = this.shards.length;
    const rootRanges = new Int32Array(2 * nShards);
    this.shards.forEach((shard, t) => {
      const a = Math.floor((t * rows.length) / nShards);
      const b = Math.floor(((t + 1) * rows.length) / nShards);
      shard.m.rows.set(rows.subarray(a, b));
      rootRanges[2 * t + 1] = b - a;
    });
    const parallel = rows.length * features.length >= PARALLEL_MIN_WORK;
    this.onShards(
      parallel,
      (t) => [ShardOp.Begin, [rootRanges[2 * t + 1]!, constantHessian ? 1 : 0]],
      (shard, t) => shard.begin(rootRanges[2 * t + 1]!, constantHessian, this.scale),
    );
    const rootHist = this.newHist();
    const rootOnWorkers = this.onShards(
      parallel,
      (t) => [ShardOp.Histogram, [0, rootRanges[2 * t + 1]!, features.length]],
      (shard, t) => shard.histogram(0, rootRanges[2 * t + 1]!, features.length, rootHist),
    );
    if (rootOnWorkers) this.mergeShardHistograms(rootHist);
    const root: Candidate = { node: newNode(), ranges: rootRanges, n: rows.length, depth: 0, hist: rootHist, G, H, split: null };
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
      nodes.feature[c.node] = s.feature;
      nodes.threshold[c.node] = s.threshold;
      nodes.missingLeft[c.node] = s.missingLeft ? 1 : 0;
      nodes.cat[c.node] = s.catBits;
      gainByFeature[s.feature]! += s.gain;
      nLeaves++;
      const { left, right } = this.splitNode(c, s, features.length);
      left.node = newNode();
      right.node = newNode();
      nodes.left[c.node] = left.node;
      nodes.right[c.node] = right.node;
      for (const child of [left, right]) {
        const splittable = child.depth < p.maxDepth && child.n >= 2 * p.minSamplesLeaf;
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
      leaves: leaves.map((l) => ({ node: l.node, parts: this.shards.map((shard, t) => shard.m.rows.subarray(l.ranges[2 * t]!, l.ranges[2 * t + 1]!)) })),
    };
  }

  /**
   * Partitions a node's rows on its split in every shard and builds the smaller child's
   * histogram there (summed over shards); the larger child's is the parent's minus it.
   */
  private splitNode(c: Candidate, s: Split, nFeatures: number): { left: Candidate; right: Candidate } {
    const goLeft = this.shared.goLeft;
    for (let b = 0; b < 256; b++)
      goLeft[b] = s.catBits ? (s.catBits[b >> 5]! >>> (b & 31)) & 1 : b === MISSING_BIN ? Number(s.missingLeft) : Number(b <= s.threshold);
    const leftSmaller = s.CL <= c.n - s.CL;
    const smallHist = this.newHist();
    const r = c.ranges;
    const mids = new Int32Array(this.shards.length);
    const parallel = (leftSmaller ? s.CL : c.n - s.CL) * nFeatures >= PARALLEL_MIN_WORK;
    const onWorkers = this.onShards(
      parallel,
      (t) => [ShardOp.PartitionHistogram, [r[2 * t]!, r[2 * t + 1]!, nFeatures, s.feature, leftSmaller ? 1 : 0]],
      (shard, t) => {
        const mid = shard.partition(r[2 * t]!, r[2 * t + 1]!, s.feature);
        mids[t] = mid;
        if (leftSmaller) shard.histogram(r[2 * t]!, mid, nFeatures, smallHist);
        else shard.histogram(mid, r[2 * t + 1]!, nFeatures, smallHist);
      },
      (t, mid) => (mids[t] = mid),
    );
    if (onWorkers) this.mergeShardHistograms(smallHist);
    const leftRanges = new Int32Array(r.length);
    const rightRanges = new Int32Array(r.length);
    for (let t = 0; t < this.shards.length; t++) {
      leftRanges[2 * t] = r[2 * t]!;
      leftRanges[2 * t + 1] = mids[t]!;
      rightRanges[2 * t] = mids[t]!;
      rightRanges[2 * t + 1] = r[2 * t + 1]!;
    }
    const largeHist = subtract(c.hist, smallHist);
    const left: Candidate = {
      node: -1,
      ranges: leftRanges,
      n: s.CL,
      depth: c.depth + 1,
      hist: leftSmaller ? smallHist : largeHist,
      G: s.GL,
      H: s.HL,
      split: null,
    };
    const right: Candidate = {
      node: -1,
      ranges: rightRanges,
      n: c.n - s.CL,
      depth: c.depth + 1,
      hist: leftSmaller ? largeHist : smallHist,
      G: c.G - s.GL,
      H: c.H - s.HL,
      split: null,
    };
    return { left, right };
  }

  /**
   * Runs an operation on every shard: shard 0 on this thread, the others on their workers
   * at the same time (or all here when `parallel` is false, or no workers were free).
   * Local runs add into the caller's histogram; workers write their own, to be merged: says
   * whether workers ran.
   */
  private onShards(
    parallel: boolean,
    message: (t: number) => [ShardOp, number[]],
    local: (shard: RowShard, t: number) => void,
    result?: (t: number, value: number) => void,
  ): boolean {
    if (!parallel || this.workers.length === 0) {
      this.shards.forEach((shard, t) => local(shard, t));
      return false;
    }
    this.workers.forEach((w, i) => {
      const [op, args] = message(i + 1);
      w.start(op, args, undefined, this.scale);
    });
    local(this.shards[0]!, 0);
    this.workers.forEach((w, i) => {
      const value = w.finish();
      result?.(i + 1, value);
    });
    return true;
  }

  /** Adds shards 1..n's histograms into shard 0's (`into`). */
  private mergeShardHistograms(into: Hist): void {
    for (let t = 1; t < this.shards.length; t++) {
      const h = this.shards[t]!.m.hist;
      for (let i = 0; i < into.length; i++) into[i]! += h[i]!;
    }
  }

  private newHist(): Hist {
    return this.pool.pop()?.fill(0) ?? new Float64Array(this.histSize * 2);
  }

  private bestSplit(c: Candidate, features: Int32Array, p: TreeParams): Split | null {
    const { G, H } = c;
    const l2 = p.l2;
    const minLeaf = p.minSamplesLeaf;
    const minHess = p.minHessianLeaf;
    const parentScore = (G * G) / (H + l2);
    const hist = c.hist;
    const n = c.n;
    let best: Split | null = null;
    let bestGain = -Infinity;
    for (let k = 0; k < features.length; k++) {
      const f = features[k]!;
      const o = this.offsets[f]! * 2;
      const nb = this.mapper.nBins[f]!;
      const scale = this.scale;
      const gm = hist[o]!;
      if (this.mapper.categorical[f]) {
        const cm = countOf(hist[o + 1]!, scale);
        const hm = hessianOf(hist[o + 1]!, cm, scale);
        const s = this.categoricalSplit(hist, o, nb, f, G, H, n, parentScore, p, gm, hm, cm);
        if (s && s.gain > bestGain) ((best = s), (bestGain = s.gain));
        continue;
      }
      // the left side's count and hessian stay packed in one running sum, as in the histogram
      // slot: the count bounds compare against it directly, and it is unpacked only where a
      // split is scored. Empty bins are scanned too: their score ties the bin before, and a
      // tie keeps the first.
      const unit = scale === 0 ? 1 : scale;
      const inv = 1 / unit;
      const hcm = hist[o + 1]!;
      const leftMin = (minLeaf - 0.5) * unit; // packed sum ≥ this ⟺ count ≥ minLeaf
      const rightMax = (n - minLeaf + 0.5) * unit; // packed sum < this ⟺ n - count ≥ minLeaf
      let GL = 0;
      let HCL = 0;
      // compared without the parent's score, which every candidate shares
      let fScore = -Infinity;
      let fBin = -1;
      let fMissingLeft = false;
      let fGL = 0;
      let fHL = 0;
      let fCL = 0;
      for (let b = 1; b < nb - 1; b++) {
        const j = o + b * 2;
        GL += hist[j]!;
        HCL += hist[j + 1]!;
        if (HCL + hcm < leftMin) continue; // too few on the left either way, yet
        if (HCL >= rightMax) break; // and from here on too few on the right
        // missing values to the right
        if (HCL >= leftMin) {
          const CL = scale === 0 ? HCL : Math.round(HCL * inv - 0.25);
          const HL = HCL - CL * scale;
          if (HL >= minHess && H - HL >= minHess) {
            const score = (GL * GL) / (HL + l2) + ((G - GL) * (G - GL)) / (H - HL + l2);
            if (score > fScore) ((fScore = score), (fBin = b), (fMissingLeft = false), (fGL = GL), (fHL = HL), (fCL = CL));
          }
        }
        // or to the left
        if (hcm > 0) {
          const hcl = HCL + hcm;
          if (hcl < rightMax) {
            const cl = scale === 0 ? hcl : Math.round(hcl * inv - 0.25);
            const hl = hcl - cl * scale;
            const gl = GL + gm;
            if (hl >= minHess && H - hl >= minHess) {
              const score = (gl * gl) / (hl + l2) + ((G - gl) * (G - gl)) / (H - hl + l2);
              if (score > fScore) ((fScore = score), (fBin = b), (fMissingLeft = true), (fGL = gl), (fHL = hl), (fCL = cl));
            }
          }
        }
      }
      const fGain = fScore - parentScore;
      if (fBin >= 0 && fGain > bestGain) {
        bestGain = fGain;
        best = { gain: fGain, feature: f, threshold: fBin, missingLeft: fMissingLeft, catBits: null, GL: fGL, HL: fHL, CL: fCL };
      }
    }
    return best;
  }

  private categoricalSplit(
    hist: Hist,
    o: number,
    nb: number,
    f: number,
    G: number,
    H: number,
    n: number,
    parentScore: number,
    p: TreeParams,
    gm: number,
    hm: number,
    cm: number,
  ): Split | null {
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
          best = { gain, feature: f, threshold: 0, missingLeft, catBits: bits, GL: gl, HL: hl, CL: cl };
        }
      }
    }
    return best;
  }
}

/** The larger child's histogram: the parent's minus the smaller child's (reusing the parent's memory). */
function subtract(parent: Hist, child: Hist): Hist {
  for (let i = 0; i < parent.length; i++) parent[i] = parent[i]! - child[i]!;
  return parent;
}

/**
 * Adds the tree's leaf value for every binned row to out[row * k + c]. Trees without
 * categorical splits walk a tight loop (the validation rows are walked after every round).
 */
export function addTreeValues(tree: Tree, x: BinnedMatrix, out: Float64Array, k: number, c: number): void {
  const { bins, cols, rows } = x;
  const { value } = tree;
  if (tree.catLeft) {
    for (let i = 0; i < rows; i++) out[i * k + c]! += value[leafOf(tree, bins, cols, i)]!;
    return;
  }
  const { feature, threshold, missingLeft, left, right } = tree;
  for (let i = 0; i < rows; i++) {
    const at = i * cols;
    let node = 0;
    let f = feature[0]!;
    while (f >= 0) {
      const b = bins[at + f]!;
      const goLeft = b === MISSING_BIN ? missingLeft[node] === 1 : b <= threshold[node]!;
      node = goLeft ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    out[i * k + c]! += value[node]!;
  }
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
