/**
 * Worker threads that grow forest trees: a tree is tens of milliseconds of work, so plain
 * messages suffice (one per tree). The fit's data goes over once per fit in shared memory.
 * Workers are made once per process and leased to one fit at a time (a fit that finds none
 * free grows every tree itself); they are unref'd between fits so they never keep a
 * process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ForestTreeBuilder, type ForestData, type ForestTree, type ForestTreeParams } from "./forest-tree-builder";
import { FUNCTION_TEXT_PRELUDE } from "./function-text";

/** The loop each worker runs, given the builder class rebuilt from its source text. */
function workerLoop(Builder: typeof ForestTreeBuilder): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parentPort } = require("node:worker_threads") as typeof import("node:worker_threads");
  let builder: InstanceType<typeof Builder> | null = null;
  parentPort!.on("message", (msg: { data?: ForestData; params: ForestTreeParams }) => {
    try {
      if (msg.data) builder = new Builder(msg.data);
      const tree = builder!.build(msg.params);
      parentPort!.postMessage({ tree });
    } catch (error) {
      parentPort!.postMessage({ error: String((error as Error)?.stack ?? error) });
    }
  });
}

const WORKER_SOURCE = [FUNCTION_TEXT_PRELUDE, `(${workerLoop.toString()})(${ForestTreeBuilder.toString()});`].join("\n");

const idle: Worker[] = [];
let created = 0;

function leaseWorkers(wanted: number): Worker[] {
  const spare = Math.max(0, availableParallelism() - 1);
  const out: Worker[] = [];
  while (out.length < wanted && idle.length) out.push(idle.pop()!);
  while (out.length < wanted && created < spare) {
    out.push(new Worker(WORKER_SOURCE, { eval: true }));
    created++;
  }
  for (const w of out) w.ref();
  return out;
}

function releaseWorkers(workers: Worker[], healthy: boolean): void {
  if (!healthy) {
    // one may still be growing a tree whose result would reach the next fit: end them
    for (const w of workers) void w.terminate();
    created -= workers.length;
    return;
  }
  for (const w of workers) {
    w.removeAllListeners("message");
    w.unref();
  }
  idle.push(...workers);
}

/**
 * Grows trees 0..count-1 (params from `paramsFor`) with this thread and the leased workers,
 * handing each finished tree to `onTree` in the order trees finish. Between trees grown here
 * it yields to the event loop, so progress can be reported and a cancel can land.
 */
export async function growForest(
  data: ForestData,
  count: number,
  paramsFor: (index: number) => ForestTreeParams,
  onTree: (index: number, tree: ForestTree) => Promise<void> | void,
  threads: number,
  signal?: AbortSignal,
): Promise<void> {
  const workers = threads > 1 && count > 1 ? leaseWorkers(threads - 1) : [];
  const local = new ForestTreeBuilder(data);
  let next = 0;
  let healthy = false;
  try {
    const onWorker = (w: Worker, first: boolean): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const take = (): boolean => {
          if (next >= count || signal?.aborted) return false;
          const index = next++;
          w.once("message", (msg: { tree?: ForestTree; error?: string }) => {
            if (msg.error || !msg.tree) return reject(new Error(`forest worker failed: ${msg.error ?? "no tree"}`));
            Promise.resolve(onTree(index, msg.tree)).then(() => (take() ? undefined : resolve()), reject);
          });
          w.postMessage(first ? { data, params: paramsFor(index) } : { params: paramsFor(index) });
          first = false;
          return true;
        };
        if (!take()) resolve();
      });
    const here = (async () => {
      while (next < count && !signal?.aborted) {
        const index = next++;
        await onTree(index, local.build(paramsFor(index)));
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all([here, ...workers.map((w) => onWorker(w, true))]);
    healthy = true;
  } finally {
    releaseWorkers(workers, healthy);
  }
}
