/**
 * Loading a data file, and the heavy work on its table, off the caller's event loop: a CSV of a
 * hundred megabytes takes seconds to parse, and profiling or preprocessing a few hundred
 * thousand rows takes seconds more, which the conductor's server would spend not answering.
 * The load runs in a worker thread whose heap is capped (MAX_LOAD_HEAP_MB), so a file that
 * needs more memory than that is refused with the numbers instead of ending the process.
 *
 * With `keepThread`, the thread keeps its own copy of the table after sending one back, and
 * profileOnThread / prepareOnThread run there. A thread idle for TABLE_THREAD_IDLE_MS ends (its copy of the table is memory the conductor keeps for nothing; a
 * project may wait at a gate for hours); the next piece of work starts a new one, which reads
 * the file again in the background. A table no thread knows (one a notebook built, or one
 * rebuilt after a restart) is worked on where it is.
 */
import * as path from "node:path";
import { MessageChannel, receiveMessageOnPort, type Worker } from "node:worker_threads";
import type { PreprocessStep, TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import { prepareData, type PreparedData, type SplitData } from "./prepared-data";
import { Table } from "./table";
import { MAX_LOAD_HEAP_MB, checkDataFile, megabytes, type LoadedTable } from "./table-loader";
import { profileTable, type TableProfile } from "./table-profile";
import type { TableThreadAnswer, TableThreadLoaded, TableThreadLoadProgress, TableThreadRequest } from "./table-load-worker";
import { backgroundWorker } from "./worker-script";

/** how long a table's thread waits for more work before it ends and frees its copy */
export const TABLE_THREAD_IDLE_MS = 60_000;

type Work = { op: "profile"; target: string | null; task: TaskType } | { op: "prepare"; steps: PreprocessStep[]; data: SplitData };
type ResultOf<W extends Work> = W extends { op: "profile" } ? TableProfile : PreparedData;

function outOfMemory(shownAs: string, size: number): InputError {
  return new InputError(
    `${path.basename(shownAs)} (${megabytes(size)}) needs more than ${MAX_LOAD_HEAP_MB} MB of memory to load. Give a sample of the rows, or fewer columns.`,
  );
}

/** The thread that holds a copy of one loaded table and does the work asked of it, one piece at a time. */
class TableThread {
  private worker: Worker | null = null;
  private ready: Promise<TableThreadLoaded> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(r: unknown): void; reject(e: Error): void; progress?(f: number): void }>();

  constructor(
    private readonly file: string,
    private readonly shownAs: string,
    private readonly size: number,
    /** the first load's progress (0..1) */
    private readonly onLoadProgress?: (fraction: number) => void,
  ) {}

  /** Starts the thread; `sendTable`: it also sends its table back (the first load). */
  start(sendTable: boolean): Promise<TableThreadLoaded> {
    const worker = backgroundWorker(path.join(__dirname, "table-load-worker.ts"), "table-load-worker.js", __filename, {
      workerData: { file: this.file, shownAs: this.shownAs, sendTable },
      resourceLimits: { maxOldGenerationSizeMb: MAX_LOAD_HEAP_MB },
    });
    this.worker = worker;
    this.ready = new Promise<TableThreadLoaded>((resolve, reject) => {
      let loaded = false;
      worker.on("message", (m: TableThreadLoaded | TableThreadLoadProgress | { error: string; input: boolean } | TableThreadAnswer) => {
        if (loaded) return this.answer(m as TableThreadAnswer);
        if ("loadProgress" in m) return this.onLoadProgress?.(m.loadProgress);
        loaded = true;
        if ("error" in m) reject(m.input ? new InputError(m.error) : new Error(m.error));
        else {
          if (this.waiting.size === 0) worker.unref();
          resolve(m as TableThreadLoaded);
        }
      });
      worker.once("error", (error) => reject((error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY" ? outOfMemory(this.shownAs, this.size) : error));
      worker.once("exit", (code) => {
        reject(new Error(`the table's thread exited (code ${code}) before it had loaded ${path.basename(this.shownAs)}`));
        // a thread that end() let go exits later, maybe after a new one started: only the current one's death concerns this
        if (this.worker === worker) this.ended(`the table's thread ended (code ${code}) before it answered`);
      });
    });
    this.ready.catch(() => void this.end());
    this.touch();
    return this.ready;
  }

  async run<W extends Work>(work: W, onProgress?: (fraction: number) => void): Promise<ResultOf<W>> {
    if (!this.worker) void this.start(false).catch(() => undefined); // its failure reaches this caller through ready
    const worker = this.worker!;
    await this.ready;
    if (this.worker !== worker) throw new Error("the table's thread ended before it was given the work");
    const id = this.nextId++;
    this.touch();
    worker.ref(); // work for it: the process waits for the answer
    return new Promise<ResultOf<W>>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject, progress: onProgress });
      worker.postMessage({ id, ...work } satisfies TableThreadRequest);
    });
  }

  private answer(a: TableThreadAnswer): void {
    const waiter = this.waiting.get(a.id);
    if (!waiter) return;
    if ("progress" in a) return waiter.progress?.(a.progress);
    this.waiting.delete(a.id);
    this.touch();
    // an idle thread keeps its table for the next piece of work, not the process alive (a CLI run
    // lingered for up to a minute after its summary, until the idle end)
    if (this.waiting.size === 0) this.worker?.unref();
    if ("error" in a) waiter.reject(a.input ? new InputError(a.error) : new Error(a.error));
    else waiter.resolve(a.result);
  }

  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.waiting.size === 0) void this.end();
    }, TABLE_THREAD_IDLE_MS);
    this.idleTimer.unref();
  }

  /** Forgets the thread, answering what waits on it with `why`. */
  private ended(why: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(why));
    this.waiting.clear();
    this.worker = null;
    this.ready = null;
  }

  async end(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    this.ended("the table's thread was ended before it answered");
    if (worker) await worker.terminate();
  }
}

const threadOf = new WeakMap<Table, TableThread>();
/** a table that is collected ends its thread */
const endWhenCollected = new FinalizationRegistry<TableThread>((thread) => void thread.end());

/**
 * Loads a data file in a thread. `shownAs`: the name messages use, when the file read is not the
 * one the person gave (an upload's temp file). `keepThread`: the thread stays with a copy of the
 * table for profileOnThread and prepareOnThread.
 */
export async function loadTableOffThread(
  filePath: string,
  shownAs = filePath,
  options: { keepThread?: boolean; onProgress?: (fraction: number) => void } = {},
): Promise<LoadedTable> {
  const stat = checkDataFile(filePath, shownAs); // the quick refusals, before a thread starts
  const thread = new TableThread(filePath, shownAs, stat.size, options.onProgress);
  try {
    const loaded = await thread.start(true);
    const table = new Table(loaded.columns!);
    if (options.keepThread) {
      threadOf.set(table, thread);
      endWhenCollected.register(table, thread);
    } else void thread.end();
    return { table, warnings: loaded.warnings, notes: loaded.notes };
  } catch (error) {
    void thread.end();
    throw error;
  }
}

/** profileTable, in the table's thread when it has one. */
export async function profileOnThread(table: Table, target: string | null, task: TaskType, onProgress?: (fraction: number) => void): Promise<TableProfile> {
  const thread = threadOf.get(table);
  return thread ? thread.run({ op: "profile", target, task }, onProgress) : profileTable(table, target, task, onProgress);
}

/** prepareData, in the table's thread when it has one (the feature matrices come back moved, not copied). */
export async function prepareOnThread(steps: PreprocessStep[], table: Table, data: SplitData): Promise<PreparedData> {
  const thread = threadOf.get(table);
  return thread ? thread.run({ op: "prepare", steps, data }) : prepareData(steps, table, data);
}

/** Ends a table's thread now, freeing its copy; later work on the table starts a new thread, which reads the file again. */
export async function endTableThread(table: Table): Promise<void> {
  await threadOf.get(table)?.end();
}

/** how long loadTableBlocking waits for its thread */
const BLOCKING_LOAD_TIMEOUT_MS = 15 * 60_000;

/**
 * Loads a data file while the caller waits, for the synchronous places that rebuild a table
 * after a restart: the load (asynchronous, as Parquet's reader is) runs in a thread and this
 * thread sleeps on a shared flag until it answers.
 */
export function loadTableBlocking(filePath: string, shownAs = filePath): LoadedTable {
  checkDataFile(filePath, shownAs);
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = backgroundWorker(path.join(__dirname, "table-load-worker.ts"), "table-load-worker.js", __filename, {
    workerData: { file: filePath, shownAs, sendTable: true, reply: port2, flag },
    transferList: [port2],
  });
  try {
    if (Atomics.wait(flag, 0, 0, BLOCKING_LOAD_TIMEOUT_MS) === "timed-out") {
      throw new Error(`loading ${path.basename(shownAs)} took more than ${BLOCKING_LOAD_TIMEOUT_MS / 60_000} minutes`);
    }
    const answer = receiveMessageOnPort(port1)?.message as TableThreadLoaded | { error: string; input: boolean } | undefined;
    if (!answer) throw new Error(`the thread loading ${path.basename(shownAs)} ended without an answer`);
    if ("error" in answer) throw answer.input ? new InputError(answer.error) : new Error(answer.error);
    return { table: new Table(answer.columns!), warnings: answer.warnings, notes: answer.notes };
  } finally {
    port1.close();
    void worker.terminate();
  }
}
