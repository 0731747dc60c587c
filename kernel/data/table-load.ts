/**
 * Loading a data file off the caller's event loop: a CSV of a hundred megabytes takes seconds
 * to parse, which the conductor's server would spend not answering. The load runs in a worker
 * thread whose heap is capped (MAX_LOAD_HEAP_MB), so a file that needs more memory than that
 * is refused with the numbers instead of ending the process.
 */
import * as path from "node:path";
import { InputError } from "../errors/input-error";
import { Table, type Column } from "./table";
import { MAX_LOAD_HEAP_MB, checkDataFile, megabytes, type LoadedTable } from "./table-loader";
import { backgroundWorker } from "./worker-script";

/** `shownAs`: the name messages use, when the file read is not the one the person gave (an upload's temp file) */
export async function loadTableOffThread(filePath: string, shownAs = filePath): Promise<LoadedTable> {
  const stat = checkDataFile(filePath, shownAs); // the quick refusals, before a thread starts
  const worker = backgroundWorker(path.join(__dirname, "table-load-worker.ts"), "table-load-worker.js", __filename, {
    workerData: { file: filePath, shownAs },
    resourceLimits: { maxOldGenerationSizeMb: MAX_LOAD_HEAP_MB },
  });
  try {
    const answer = await new Promise<{ columns: Column[]; warnings: string[] } | { error: string; input: boolean }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the loading thread exited (code ${code}) before it answered`)));
    });
    if ("error" in answer) throw answer.input ? new InputError(answer.error) : new Error(answer.error);
    return { table: new Table(answer.columns), warnings: answer.warnings };
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY") {
      throw new InputError(
        `${path.basename(shownAs)} (${megabytes(stat.size)}) needs more than ${MAX_LOAD_HEAP_MB} MB of memory to load. Give a sample of the rows, or fewer columns.`,
      );
    }
    throw error;
  } finally {
    void worker.terminate();
  }
}
