/**
 * Boosted trees as code, for prediction: each tree becomes a function of nested `if`s on a
 * row's bins, its thresholds and child links written in as constants. The loop over node arrays
 * (histogram-tree.ts addTreeValues) loads a node's feature, threshold and child before every
 * comparison; the compiled tree loads only the row's bin. Measured on 1,000,000 rows × 20 with
 * 100 trees of 31 leaves: 1.7 s against 3.5 s, the same sums to the last bit (trees are added
 * in the same order). The functions are made from the model's integer arrays only (features,
 * thresholds, node numbers); leaf values are read from an array, never written into code.
 *
 * A tree with category splits, or deeper than MAX_DEPTH, or a model of more than MAX_NODES
 * nodes is not compiled (the caller keeps the loop).
 */
import type { Tree } from "./histogram-tree";

const MAX_NODES = 400_000;
const MAX_DEPTH = 64;
/**
 * Consecutive trees share a function up to about this many nodes (a row runs through them in
 * order, adding each leaf as it comes). A process predicts with fresh code, and how soon V8
 * optimises it decides much of a file's time. Measured on 1,000,000 rows in 65,536-row batches,
 * 100 trees of 31 leaves, a fresh process: a tree to a function 3.9 s; about 5 (300 nodes)
 * 3.0 s; 25 (1,500 nodes) 8.2 s, as V8 never optimises functions that big.
 */
const NODES_PER_FUNCTION = 300;

export interface CompiledTrees {
  /** the trees' code, a few trees to a function `function (b, cols, from, to, o, V)` */
  sources: string[];
  /** all trees' node values end to end (each source reads its own offset) */
  values: Float64Array;
  /** names this model's functions in each thread's cache (see predictCompiledTrees) */
  key: string;
}

let compiledModels = 0;

/**
 * The trees (tree t adds to output t % k) as function sources, or null when one cannot be
 * compiled; predictCompiledTrees runs them.
 * `values` is given the memory to live in (shared, for worker threads).
 */
export function compileTrees(trees: readonly Tree[], k: number, memory: (bytes: number) => ArrayBufferLike): CompiledTrees | null {
  let nodes = 0;
  for (const t of trees) {
    if (t.catLeft) return null;
    nodes += t.feature.length;
  }
  if (nodes > MAX_NODES) return null;
  const values = new Float64Array(memory(nodes * 8), 0, nodes);
  const sources: string[] = [];
  let body: string[] = [];
  let inBody = 0;
  let offset = 0;
  for (let ti = 0; ti < trees.length; ti++) {
    const code = treeCode(trees[ti]!, k, ti % k, offset);
    if (code === null) return null;
    values.set(trees[ti]!.value, offset);
    offset += trees[ti]!.feature.length;
    body.push(code);
    inBody += trees[ti]!.feature.length;
    if (inBody >= NODES_PER_FUNCTION || ti === trees.length - 1) {
      sources.push(`function (b, cols, from, to, o, V) {\nfor (let i = from, at = from * cols; i < to; i++, at += cols) {\n${body.join("\n")}\n}\n}`);
      body = [];
      inBody = 0;
    }
  }
  return { sources, values, key: `trees-${++compiledModels}` };
}

/**
 * One tree's code inside a row loop (`b`: the bins, `at`: the row's first, `o`: the outputs,
 * `V`: the node values). A missing value is bin 0 (feature-binning.ts MISSING_BIN): a node that
 * sends it left tests `bin <= threshold` (0 passes); one that sends it right tests
 * `(bin - 1) >>> 0 < threshold` (0 wraps to 2^32 - 1 and fails), one comparison either way.
 */
function treeCode(t: Tree, k: number, c: number, offset: number): string | null {
  const n = t.feature.length;
  const parts: string[] = [];
  const visit = (node: number, depth: number): boolean => {
    if (!Number.isInteger(node) || node < 0 || node >= n || depth > MAX_DEPTH) return false;
    const f = t.feature[node]!;
    if (f < 0) {
      parts.push(`o[i * ${k} + ${c}] += V[${offset + node}];`);
      return true;
    }
    const threshold = t.threshold[node]!;
    parts.push(t.missingLeft[node] === 1 ? `if (b[at + ${f}] <= ${threshold}) {` : `if (((b[at + ${f}] - 1) >>> 0) < ${threshold}) {`);
    if (!visit(t.left[node]!, depth + 1)) return false;
    parts.push("} else {");
    if (!visit(t.right[node]!, depth + 1)) return false;
    parts.push("}");
    return true;
  };
  return visit(0, 0) ? parts.join("\n") : null;
}

/** What predictCompiledTrees gets: the model's functions by key (their sources the first time a thread sees it), and a range of rows. */
export interface CompiledTreesJob {
  key: string;
  sources: string[];
  values: Float64Array;
  bins: Uint8Array;
  cols: number;
  out: Float64Array;
}

/**
 * Rows [from, to) through every tree, in order. Self-contained (tree worker threads run its
 * text, see shard-workers.ts runInParts): each thread compiles a model's sources once and
 * keeps the functions of the last few models.
 */
export function predictCompiledTrees(a: CompiledTreesJob & { from: number; to: number }): void {
  const cache: Map<string, Array<(...args: unknown[]) => void>> = ((globalThis as Record<string, unknown>)["__automlCompiledTrees"] ??= new Map()) as never;
  let fns = cache.get(a.key);
  if (!fns) {
    fns = a.sources.map((s) => new Function(`return (${s});`)() as (...args: unknown[]) => void);
    cache.set(a.key, fns);
    if (cache.size > 4) cache.delete(cache.keys().next().value!);
  }
  for (let t = 0; t < fns.length; t++) fns[t]!(a.bins, a.cols, a.from, a.to, a.out, a.values);
}
