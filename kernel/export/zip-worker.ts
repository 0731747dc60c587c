/**
 * The worker thread behind zipOffThread (project-export.ts): compresses one zip. Built as its
 * own bundle, dist/kernel/zip-worker.js.
 */
import { zipSync, type Zippable } from "fflate";
import { parentPort, workerData } from "node:worker_threads";

try {
  const zipped = zipSync(workerData as Zippable, { level: 6 });
  parentPort!.postMessage({ zipped }, [zipped.buffer as ArrayBuffer]);
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message });
}
