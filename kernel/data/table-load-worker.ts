/**
 * The worker thread behind loadTableOffThread (table-load.ts): reads one data file and sends
 * its columns back (numeric columns' arrays moved, not copied). Built as its own bundle,
 * dist/kernel/table-load-worker.js.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isInputError } from "../errors/input-error";
import { loadTableFile } from "./table-loader";

try {
  const { file, shownAs } = workerData as { file: string; shownAs: string };
  const { table, warnings } = loadTableFile(file, shownAs);
  const moved = table.columns.flatMap((c) => (c.kind === "numeric" ? [c.values.buffer as ArrayBuffer] : []));
  parentPort!.postMessage({ columns: table.columns, warnings }, moved);
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message, input: isInputError(error) });
}
