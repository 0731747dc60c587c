/**
 * Worker threads that run RowShard operations for the tree grower. A split is a few hundred
 * microseconds of work, far too little for postMessage round trips, so the main thread and a
 * worker meet on a shared control block with Atomics (wait/notify: tens of microseconds);
 * messages carry only the shard's shared memory, once per fit.
 *
 * Workers are made once per process and leased to one grower at a time; a grower that finds
 * none free runs its shards itself. They are unref'd, so they never keep a process alive.
 */
import { availableParallelism } from "node:os";
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { FUNCTION_TEXT_PRELUDE, compileFunctionText } from "./function-text";
import { rowShard, type RowShard, type ShardMemory } from "./row-shard";

export const enum ShardOp {
  Init = 1,
  Begin = 2,
  Histogram = 3,
  PartitionHistogram = 4,
  /** a self-contained function run on a range of parts (rows, columns): see runInParts */
  Job = 5,
}

// control block: Int32 slots (slot 9: which side a partition histograms), then the Float64 scale
const SEQ = 0;
const DONE = 1;
const OP = 2;
const A0 = 3;
const A1 = 4;
const A2 = 5;
const A3 = 6;
const RESULT = 7;
const FAILED = 8;
const INT_SLOTS = 10;
/** how long finish() polls before sleeping: a few hundred microseconds */
const SPIN_LOADS = 200_000;

/** The loop each worker runs, given compileFunctionText and rowShard's source text. */
function workerLoop(compile: typeof compileFunctionText, shardSource: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workerData, receiveMessageOnPort: receive } = require("node:worker_threads") as typeof import("node:worker_threads");
  const control = new Int32Array(workerData.control as SharedArrayBuffer, 0, 10);
  const scale = new Float64Array(workerData.control as SharedArrayBuffer, 40, 1);
  const port = workerData.port as MessagePort;
  let shard: RowShard | null = null;
  const jobs = new Map<string, (args: unknown) => void>();
  let seen = 0;
  for (;;) {
    Atomics.wait(control, 0, seen);
    seen = Atomics.load(control, 0);
    const op = control[2]!;
    try {
      // a fresh copy of the operations per fit: see makeRowShard
      if (op === 1) shard = compile<(m: ShardMemory) => RowShard>(shardSource, `row shard copy ${seen}`)(receive(port)!.message as ShardMemory);
      else if (op === 2) shard!.begin(control[3]!, control[4] === 1, scale[0]!);
      else if (op === 3) shard!.histogram(control[3]!, control[4]!, control[5]!, shard!.m.hist.fill(0));
      else if (op === 4) {
        // A0..A1: the node's range, A2: features, A3: split feature, slot 9: 1 = histogram the left part
        const mid = shard!.partition(control[3]!, control[4]!, control[6]!);
        control[7] = mid;
        if (control[9] === 1) shard!.histogram(control[3]!, mid, control[5]!, shard!.m.hist.fill(0));
        else shard!.histogram(mid, control[4]!, control[5]!, shard!.m.hist.fill(0));
      } else if (op === 5) {
        const { source, args } = receive(port)!.message as { source: string; args: unknown };
        let job = jobs.get(source);
        if (!job) {
          job = compile<(args: unknown) => void>(source, "job");
          jobs.set(source, job);
        }
        job(args);
      }
      control[8] = 0;
    } catch (error) {
      control[8] = 1;
      port.postMessage(String((error as Error)?.stack ?? error));
    }
    Atomics.store(control, 1, seen);
    Atomics.notify(control, 1);
  }
}

// `__require`: what an ES module bundle (the export bundle's predict.mjs) turns the loop's
// require into; a worker started from text has only require itself
const WORKER_SOURCE = [
  FUNCTION_TEXT_PRELUDE,
  'var __require = typeof __require === "function" ? __require : require;',
  `(${workerLoop.toString()})(${compileFunctionText.toString()}, ${JSON.stringify(rowShard.toString())});`,
].join("\n");

class ShardWorker {
  readonly control = new SharedArrayBuffer(INT_SLOTS * 4 + 8);
  readonly ints = new Int32Array(this.control, 0, INT_SLOTS);
  readonly scale = new Float64Array(this.control, INT_SLOTS * 4, 1);
  private readonly port: MessagePort;
  /** held so the thread is not collected while idle in the pool */
  private readonly worker: Worker;
  private seq = 0;

  constructor() {
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { control: this.control, port: channel.port2 }, transferList: [channel.port2] });
    this.worker.unref();
    this.port.unref();
  }

  /** Starts an operation; `finish` waits for it. */
  start(op: ShardOp, args: number[], payload?: ShardMemory | { source: string; args: unknown }, scale = 0): void {
    if (payload) this.port.postMessage(payload);
    const c = this.ints;
    c[OP] = op;
    c[A0] = args[0] ?? 0;
    c[A1] = args[1] ?? 0;
    c[A2] = args[2] ?? 0;
    c[A3] = args[3] ?? 0;
    c[9] = args[4] ?? 0;
    this.scale[0] = scale;
    this.seq++;
    Atomics.store(c, SEQ, this.seq);
    Atomics.notify(c, SEQ);
  }

  /** Waits for the running operation; returns its result (a partition's midpoint). */
  finish(): number {
    const c = this.ints;
    // spin first: the worker usually finishes within microseconds of this thread, and waking
    // from Atomics.wait measured ~40 µs per round trip here against ~2 µs spinning
    for (let spin = 0; spin < SPIN_LOADS; spin++) if (Atomics.load(c, DONE) === this.seq) break;
    for (;;) {
      // wait on the value just compared, or a store between a second load and the wait is missed
      const done = Atomics.load(c, DONE);
      if (done === this.seq) break;
      Atomics.wait(c, DONE, done);
    }
    if (c[FAILED] === 1) throw new Error(`tree worker failed: ${String(receiveMessageOnPort(this.port)?.message ?? "no message")}`);
    return c[RESULT]!;
  }
}

/** The parts [from, to) a job runs over: rows, or columns. */
export interface PartRange {
  from: number;
  to: number;
}

/**
 * Runs `job` over parts [0, n), cut in contiguous ranges between this thread and the workers
 * (all here below `minPerThread` parts a thread). The job must be self-contained (the
 * workers compile its text) and write only to shared memory: every typed array it gets must
 * live in a SharedArrayBuffer.
 */
export function runInParts<A extends object>(workers: ShardWorker[], job: (a: A & PartRange) => void, args: A, n: number, minPerThread: number): void {
  const parts = Math.min(workers.length + 1, Math.floor(n / minPerThread));
  if (parts <= 1) return job({ ...args, from: 0, to: n });
  for (const [key, value] of Object.entries(args)) {
    if (ArrayBuffer.isView(value) && !(value.buffer instanceof SharedArrayBuffer))
      throw new Error(`runInParts: ${key} is not in shared memory, so the workers' writes to it would be lost`);
  }
  const cut = (t: number) => Math.floor((t * n) / parts);
  const source = job.toString();
  const used = workers.slice(0, parts - 1);
  used.forEach((w, i) => w.start(ShardOp.Job, [], { source, args: { ...args, from: cut(i + 1), to: cut(i + 2) } }));
  job({ ...args, from: 0, to: cut(1) });
  for (const w of used) w.finish();
}

const idle: ShardWorker[] = [];
let created = 0;

/** Up to `wanted` workers, fewer when the machine has fewer spare cores or others hold them. */
export function leaseShardWorkers(wanted: number): ShardWorker[] {
  const spare = Math.max(0, availableParallelism() - 1);
  const out: ShardWorker[] = [];
  while (out.length < wanted && idle.length) out.push(idle.pop()!);
  while (out.length < wanted && created < spare) {
    out.push(new ShardWorker());
    created++;
  }
  return out;
}

export function releaseShardWorkers(workers: ShardWorker[]): void {
  idle.push(...workers);
}

export type { ShardWorker };
