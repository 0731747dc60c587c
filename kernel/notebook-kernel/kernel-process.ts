/**
 * A notebook kernel: one process per project, started by the conductor with an IPC channel
 * (as Jupyter keeps kernels apart from its server). Cells run through tslab's converter and
 * executor in this process, so state carries across cells, type errors come back as
 * diagnostics and top-level await works. SIGINT stops a running cell without losing what
 * earlier cells defined: a blocking loop through vm's breakOnSigint, a pending await through
 * the executor's interrupt, and training through the runtime's abort signal.
 */
import { performance } from "node:perf_hooks";
import { format, inspect } from "node:util";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { CellOutput, ExecutionStatus, MimeBundle, VariableInfo } from "../../contract";
import { MAX_STREAM_BYTES_PER_CELL } from "../../contract";
import { installKernelHost, type KernelHost } from "../runtime/kernel-host";
import { cellLineFor, evalLineOf } from "./error-lines";
import { KERNEL_ENV, type FromKernel, type KernelEvent, type ToKernel } from "./kernel-protocol";
import { killProcessTree } from "./process-tree";
import { workerScript } from "../data/worker-script";

// tslab stays a runtime dependency (its TypeScript compiler is large); these are its in-process parts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createConverter } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createExecutor } = require("tslab/dist/executor") as typeof import("tslab/dist/executor");

const started = performance.now();
/** how often the kernel checks that the conductor that started it is still its parent */
const ORPHAN_CHECK_MS = 500;
const projectId = process.env[KERNEL_ENV.projectId] ?? "";
const projectDir = process.env[KERNEL_ENV.projectDir] ?? process.cwd();
const send = (m: FromKernel) => process.send?.(m);

let current: { id: string; code: string; controller: AbortController; streamBytes: number; truncated: boolean; interrupted: boolean; errored: boolean } | null =
  null;
let executionCount = 0;
const queue: KernelEvent[] = [];
let flushScheduled = false;
const inflight = new Set<Promise<unknown>>();
const pendingState = new Map<string, (v: Awaited<ReturnType<KernelHost["state"]>>) => void>();

function flushEvents(): void {
  flushScheduled = false;
  if (queue.length) send({ type: "events", items: queue.splice(0) });
}

function output(o: CellOutput): void {
  if (current) send({ type: "output", id: current.id, output: o });
}

// ---- what the cell prints ----
function captureStream(name: "stdout" | "stderr"): void {
  const stream = process[name];
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (!current) return original(chunk as never, ...(rest as []));
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const room = MAX_STREAM_BYTES_PER_CELL - current.streamBytes;
    if (room > 0) {
      const part = Buffer.byteLength(text) <= room ? text : Buffer.from(text).subarray(0, room).toString("utf8");
      current.streamBytes += Buffer.byteLength(part);
      output({ output_type: "stream", name, text: part });
    }
    if (Buffer.byteLength(text) > Math.max(0, room)) {
      current.streamBytes += Buffer.byteLength(text) - Math.max(0, room);
      if (!current.truncated) {
        current.truncated = true;
        output({
          output_type: "stream",
          name: "stderr",
          text: `\n[output truncated: this cell printed more than ${MAX_STREAM_BYTES_PER_CELL / 1024 / 1024} MB; the rest is not shown]\n`,
        });
      }
    }
    const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof stream.write;
}
captureStream("stdout");
captureStream("stderr");

// ---- the runtime's view of this kernel ----
installKernelHost({
  projectId,
  projectDir,
  pacing: process.env[KERNEL_ENV.pacing] !== "0",
  emit(stage, name, payload) {
    queue.push({ stage, name, payload });
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushEvents);
    }
  },
  currentSignal: () => current?.controller.signal ?? new AbortController().signal,
  state() {
    const id = `state-${Math.random().toString(36).slice(2)}`;
    flushEvents(); // the conductor must see this cell's runs before it answers
    return new Promise((resolve) => {
      pendingState.set(id, resolve);
      send({ type: "state-request", id });
    });
  },
  display(bundle) {
    output({ output_type: "display_data", data: bundle, metadata: {} });
  },
  track(work) {
    inflight.add(work);
    void work.finally(() => inflight.delete(work)).catch(() => undefined);
    return work;
  },
});

// ---- tslab ----
const node = createConverter();
let browser: ReturnType<typeof createConverter> | null = null;
const converters = {
  node: {
    ...node,
    convert(prevDecl: string, src: string) {
      const r = node.convert(prevDecl, src);
      lastJs = r.output ?? "";
      return r;
    },
  },
  get browser() {
    return (browser ??= createConverter({ isBrowser: true }));
  },
  close: () => (node.close(), browser?.close()),
};
let lastJs = "";
const diagnostics: string[] = [];
const executor = createExecutor(projectDir, converters, {
  log(value: unknown) {
    output({ output_type: "execute_result", data: mimeBundleOf(value), metadata: {}, execution_count: executionCount });
  },
  error(first: unknown, ...rest: unknown[]) {
    if (first === "%s%d:%d - %s") {
      const [file, line, col, message] = rest as [string, number, number, string];
      diagnostics.push(`${file ? `${file} ` : ""}line ${line}, column ${col}: ${message}`);
      return;
    }
    if (first instanceof Error) return reportError(first);
    output({ output_type: "stream", name: "stderr", text: format(first, ...rest) + "\n" });
  },
});

function reportError(err: Error): void {
  if (!current) return;
  current.errored = true;
  if (/interrupted/i.test(err.message)) {
    current.interrupted = true;
    output({
      output_type: "error",
      ename: "KeyboardInterrupt",
      evalue: "The cell was interrupted; the kernel keeps what earlier cells defined.",
      traceback: [],
    });
    return;
  }
  const stack = err.stack ?? String(err);
  const jsLine = evalLineOf(stack);
  const cellLine = jsLine !== null ? cellLineFor(lastJs.split("\n")[jsLine - 1] ?? "", current.code) : null;
  const where = cellLine !== null ? `line ${cellLine} of the cell: ${current.code.split("\n")[cellLine - 1]!.trim()}` : null;
  const frames = stack.split("\n").filter((l) => /^\s+at /.test(l) && !/evalmachine|node:|sigintHandlersWrap|notebook-kernel|tslab[\\/]dist/.test(l));
  output({
    output_type: "error",
    ename: err.name || "Error",
    evalue: err.message,
    traceback: [`${err.name || "Error"}: ${err.message}`, ...(where ? [`    at ${where}`] : []), ...frames],
  });
}

function mimeBundleOf(value: unknown): MimeBundle {
  const v = value as { toMimeBundle?: () => MimeBundle; shape?: unknown; constructor?: { name?: string } } | null;
  if (v && typeof v.toMimeBundle === "function") return v.toMimeBundle();
  if (v && Array.isArray(v.shape) && /^(DataFrame|Series)$/.test(v.constructor?.name ?? "")) {
    return { "text/plain": `${String(value)}\n[${(v.shape as number[]).join(" × ")}]` };
  }
  return { "text/plain": inspect(value, { depth: 4, colors: false, maxArrayLength: 50, breakLength: 100 }) };
}

async function execute(id: string, code: string): Promise<void> {
  current = { id, code, controller: new AbortController(), streamBytes: 0, truncated: false, interrupted: false, errored: false };
  executionCount++;
  diagnostics.length = 0;
  let ok = false;
  try {
    ok = await executor.execute(code);
  } catch (err) {
    reportError(err as Error);
  }
  // an interrupted cell returns at once; training it started is stopping now: let it say so first
  if (current.interrupted && inflight.size) await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 10_000))]);
  if (diagnostics.length) {
    output({ output_type: "error", ename: "TypeScriptError", evalue: diagnostics.join("\n"), traceback: diagnostics.map((d) => `TypeScript: ${d}`) });
  }
  flushEvents();
  const status: ExecutionStatus = current.interrupted || current.controller.signal.aborted ? "interrupted" : ok && !current.errored ? "ok" : "error";
  send({ type: "done", id, status, execution_count: executionCount });
  current = null;
}

function interrupt(): void {
  executor.interrupt();
  if (current) {
    current.interrupted = true;
    current.controller.abort();
  }
}

function describe(name: string, value: unknown): VariableInfo {
  const v = value as { shape?: unknown; columns?: unknown; nRows?: number; columnNames?: string[]; constructor?: { name?: string } } | null;
  const short = (x: unknown) => inspect(x, { depth: 0, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60 }).slice(0, 120);
  if (v && Array.isArray(v.shape) && Array.isArray(v.columns)) {
    return {
      name,
      type: v.constructor?.name ?? "DataFrame",
      preview: `${v.constructor?.name ?? "DataFrame"} ${(v.shape as number[]).join(" × ")}`,
      shape: v.shape as number[],
      columns: (v.columns as string[]).slice(0, 200),
    };
  }
  if (v && typeof v.nRows === "number" && Array.isArray(v.columnNames)) {
    return {
      name,
      type: "Table",
      preview: `Table ${v.nRows} × ${v.columnNames.length}`,
      shape: [v.nRows, v.columnNames.length],
      columns: v.columnNames.slice(0, 200),
    };
  }
  if (Array.isArray(value)) return { name, type: `Array(${value.length})`, preview: short(value) };
  if (value === null) return { name, type: "null", preview: "null" };
  if (typeof value === "object" && Object.prototype.hasOwnProperty.call(value, "__esModule"))
    return { name, type: "module", preview: `module (${Object.keys(value as object).length} exports)` };
  if (typeof value === "function") return { name, type: "function", preview: `${(value as { name?: string }).name || name}()` };
  if (typeof value === "object") return { name, type: v?.constructor?.name ?? "object", preview: short(value) };
  return { name, type: typeof value, preview: short(value) };
}

// ---- the conductor's going ----
/** Kills this kernel with every process its cells started (it leads their process group). */
function endProcessGroup(): never {
  killProcessTree(process.pid);
  process.exit(0);
}

/** The watchdog thread (kernel-watchdog.ts): ends this kernel when the conductor is gone, even mid-loop. */
function watchForOrphaning(): void {
  const script = workerScript(path.join(__dirname, "kernel-watchdog.ts"), "kernel-watchdog.js", __filename);
  new Worker(script.file, { execArgv: script.execArgv, workerData: { parent: process.ppid, kernel: process.pid, everyMs: ORPHAN_CHECK_MS } }).unref();
}

// ---- the channel ----
process.on("SIGINT", interrupt); // without a handler SIGINT would end the process and its state
process.on("message", (raw) => {
  const m = raw as ToKernel;
  switch (m.type) {
    case "execute":
      void execute(m.id, m.code);
      break;
    case "interrupt":
      interrupt();
      break;
    case "complete":
      send({ type: "reply", id: m.id, result: executor.complete(m.code, m.cursor) });
      break;
    case "inspect": {
      const info = executor.inspect(m.code, m.cursor);
      const text = info
        ? [...(info.displayParts ?? []), ...(info.documentation?.length ? [{ text: "\n\n" }] : []), ...(info.documentation ?? [])].map((p) => p.text).join("")
        : "";
      send({ type: "reply", id: m.id, result: { text } });
      break;
    }
    case "variables":
      send({ type: "variables", id: m.id, variables: Object.keys(executor.locals).map((k) => describe(k, executor.locals[k])) });
      break;
    case "state":
      pendingState.get(m.id)?.(m.snapshot);
      pendingState.delete(m.id);
      break;
  }
});
// the conductor is gone: this kernel and what its cells started go too
process.on("disconnect", () => endProcessGroup());
watchForOrphaning();
send({ type: "ready", startup_ms: Math.round(performance.now() - started) });
