/**
 * The worker thread behind TableThread (table-load.ts): reads one data file, sends its columns
 * back when asked to, and keeps the table to profile and preprocess it on request. Built as its
 * own bundle, dist/kernel/table-load-worker.js. Progress goes up as messages of its own: the
 * load's as { progress }, a piece of work's as { id, progress }.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
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
  notes: string[];
}

export type TableThreadRequest = { id: number } & (
  { op: "profile"; target: string | null; task: TaskType } | { op: "prepare"; steps: PreprocessStep[]; data: SplitData }
);

export type TableThreadAnswer = { id: number; result: unknown } | { id: number; error: string; input: boolean } | { id: number; progress: number };

/** The load's messages before it is done: how far it has read (0..1). */
export interface TableThreadLoadProgress {
  loadProgress: number;
}

function buffersOf(prepared: PreparedData): ArrayBuffer[] {
  const sets = [prepared.fit.train, prepared.fit.val, prepared.test];
  return sets.flatMap((s) => [s.x.data.buffer as ArrayBuffer, s.y.buffer as ArrayBuffer]);
}

/** A progress message at most every 1% (a million-row table reports often enough without flooding the port). */
function throttled(send: (fraction: number) => void): (fraction: number) => void {
  let last = -1;
  return (f) => {
    if (f - last < 0.01 && f < 1) return;
    last = f;
    send(f);
  };
}

function serve(table: Table): void {
  parentPort!.on("message", (m: TableThreadRequest) => {
    try {
      if (m.op === "profile") {
        const progress = throttled((f) => parentPort!.postMessage({ id: m.id, progress: f } satisfies TableThreadAnswer));
        parentPort!.postMessage({ id: m.id, result: profileTable(table, m.target, m.task, progress) } satisfies TableThreadAnswer);
      } else {
        const prepared = prepareData(m.steps, table, m.data);
        parentPort!.postMessage({ id: m.id, result: prepared } satisfies TableThreadAnswer, buffersOf(prepared));
      }
    } catch (error) {
      parentPort!.postMessage({ id: m.id, error: (error as Error).message, input: isInputError(error) } satisfies TableThreadAnswer);
    }
  });
}

/** loadTableBlocking's thread: one answer on its port, then the flag its caller sleeps on */
async function answerBlocking(file: string, shownAs: string, reply: MessagePort, flag: Int32Array): Promise<void> {
  try {
    const loaded = await loadTableFile(file, shownAs);
    reply.postMessage({ columns: loaded.table.columns, warnings: loaded.warnings, notes: loaded.notes } satisfies TableThreadLoaded);
  } catch (error) {
    reply.postMessage({ error: (error as Error).message, input: isInputError(error) });
  }
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

async function main(): Promise<void> {
  const { file, shownAs, sendTable, reply, flag } = workerData as { file: string; shownAs: string; sendTable: boolean; reply?: MessagePort; flag?: Int32Array };
  if (reply && flag) return answerBlocking(file, shownAs, reply, flag);
  let table: Table;
  try {
    const onProgress = throttled((f) => parentPort!.postMessage({ loadProgress: f } satisfies TableThreadLoadProgress));
    const loaded = await loadTableFile(file, shownAs, { onProgress });
    table = loaded.table;
    // copied (no transfer list): this thread keeps its own columns for the work asked of it later
    parentPort!.postMessage({
      columns: sendTable ? loaded.table.columns : undefined,
      warnings: loaded.warnings,
      notes: loaded.notes,
    } satisfies TableThreadLoaded);
  } catch (error) {
    parentPort!.postMessage({ error: (error as Error).message, input: isInputError(error) });
    return;
  }
  serve(table);
}

void main();
