/**
 * Where a worker thread's script is: its bundle in dist/kernel (next to the conductor's bundle,
 * or one folder over from the notebook runtime's in dist/runtime), or its TypeScript source
 * under tsx when the code runs from source (the tests).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker, type WorkerOptions } from "node:worker_threads";

export interface WorkerScript {
  file: string;
  execArgv: string[];
}

/**
 * `sourceFile`: the worker's source, absolute (from the caller's __dirname); `bundle`: its
 * bundle's file name in dist/kernel (scripts/bundles.mjs builds it).
 */
export function workerScript(sourceFile: string, bundle: string, callerFile: string): WorkerScript {
  if (callerFile.endsWith(".ts")) return { file: sourceFile, execArgv: ["--require", require.resolve("tsx/cjs")] };
  const dir = path.dirname(callerFile);
  for (const file of [path.join(dir, bundle), path.join(dir, "..", "kernel", bundle)]) {
    if (fs.existsSync(file)) return { file, execArgv: [] };
  }
  throw new Error(`The worker script ${bundle} is missing next to ${dir}: rebuild with \`npm run build\`.`);
}

/** The nice value of background threads: training, loading and zipping yield the cores to the server's thread. */
const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority (Linux: a thread's id is a valid target of
 * setpriority, found through /proc/thread-self; threads it starts inherit it). Elsewhere
 * (macOS, Windows) it does nothing. Runs first in a background worker, as source text.
 */
function lowerThisThread(nice: number): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (Number.isInteger(tid)) require("node:os").setPriority(tid, nice);
  } catch {
    /* not Linux: the thread keeps the process's priority */
  }
}

/**
 * A worker thread for background work (training, loading a file, zipping): its script (see
 * workerScript) runs at a lower priority, set before the script is even loaded, so on a
 * machine where training keeps every core busy the server's thread gets the CPU at once when
 * a request or an event needs it.
 */
export function backgroundWorker(sourceFile: string, bundle: string, callerFile: string, options: WorkerOptions = {}): Worker {
  const script = workerScript(sourceFile, bundle, callerFile);
  const boot = `(${lowerThisThread.toString()})(${BACKGROUND_NICE});\nrequire(${JSON.stringify(script.file)});`;
  return new Worker(boot, { ...options, eval: true, execArgv: script.execArgv });
}
