/**
 * The worker thread behind TableThread (table-load.ts): reads one data file, sends its columns
 * back when asked to, and keeps the table to profile and preprocess it on request. Built as its
 * own bundle, dist/kernel/table-load-worker.js.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { PreprocessStep, TaskType } from "../../contract";
import { isInputError } from "../errors/input-error";
import { prepareData, type PreparedData, type SplitData } from "./prepared-data";
import type { Column, Table } from "./table";
import { loadTableFile } from "./table-loader";
import { profileTable } from "./table-profile";

export interface TableThreadLoaded {
  /** only when the thread was asked to send its table */
  columns?: readonly Column[];
  warnings: string[];
}

export type TableThreadRequest = { id: number } & (
  { op: "profile"; target: string | null; task: TaskType } | { op: "prepare"; steps: PreprocessStep[]; data: SplitData }
);

export type TableThreadAnswer = { id: number; result: unknown } | { id: number; error: string; input: boolean };

function buffersOf(prepared: PreparedData): ArrayBuffer[] {
  const sets = [prepared.fit.train, prepared.fit.val, prepared.test];
  return sets.flatMap((s) => [s.x.data.buffer as ArrayBuffer, s.y.buffer as ArrayBuffer]);
}

function serve(table: Table): void {
  parentPort!.on("message", (m: TableThreadRequest) => {
    try {
      if (m.op === "profile") {
        parentPort!.postMessage({ id: m.id, result: profileTable(table, m.target, m.task) } satisfies TableThreadAnswer);
      } else {
        const prepared = prepareData(m.steps, table, m.data);
        parentPort!.postMessage({ id: m.id, result: prepared } satisfies TableThreadAnswer, buffersOf(prepared));
      }
    } catch (error) {
      parentPort!.postMessage({ id: m.id, error: (error as Error).message, input: isInputError(error) } satisfies TableThreadAnswer);
    }
  });
}

let table: Table | null = null;
try {
  const { file, shownAs, sendTable } = workerData as { file: string; shownAs: string; sendTable: boolean };
  const loaded = loadTableFile(file, shownAs);
  table = loaded.table;
  // copied (no transfer list): this thread keeps its own columns for the work asked of it later
  parentPort!.postMessage({ columns: sendTable ? loaded.table.columns : undefined, warnings: loaded.warnings } satisfies TableThreadLoaded);
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message, input: isInputError(error) });
}
if (table) serve(table);
