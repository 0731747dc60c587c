/**
 * Where a worker thread's script is: its bundle in dist/kernel (next to the conductor's bundle,
 * or one folder over from the notebook runtime's in dist/runtime), or its TypeScript source
 * under tsx when the code runs from source (the tests).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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
 * setpriority, found through /proc/thread-self; threads it starts inherit it). On a machine
 * where training keeps every core busy, the server's thread then gets the CPU at once when a
 * request or an event needs it. Elsewhere (macOS, Windows) it does nothing, and says so.
 */
export function runInBackground(): boolean {
  try {
    const tid = Number(fs.readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid)) return false;
    os.setPriority(tid, BACKGROUND_NICE);
    return true;
  } catch {
    return false;
  }
}
