/**
 * The conductor's side of one project's kernel process: starts it, runs cells one at a time,
 * forwards the events the cells' runtime calls emit to the project's bus, and survives the
 * kernel: an interrupt stops only the running cell, a restart gives a fresh process, and a
 * kernel that dies is reported on the cell it was running and replaced on the next run.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { totalmem } from "node:os";
import * as path from "node:path";
import type { CellOutput, CursorRequest, EventName, EventPayload, ExecutionStatus, KernelStatus, ProjectSnapshot, StageId, VariableInfo } from "../../contract";
import { ConflictError } from "../errors/request-errors";
import type { Logger } from "../logging/logger";
import { KERNEL_ENV, type FromKernel, type ToKernel } from "./kernel-protocol";
import { ensureNotebookModules, packageRoot } from "./notebook-modules";
import { killProcessTree, signalGroup } from "./process-tree";

export interface ExecutionResult {
  status: ExecutionStatus;
  execution_count: number;
  duration_ms: number;
}

interface Running {
  id: string;
  onOutput: (o: CellOutput) => void;
  resolve: (r: ExecutionResult) => void;
  started: number;
}

const START_TIMEOUT_MS = 60_000;
/** how much of a kernel's stderr is kept to tell why it died */
const STDERR_TAIL = 4096;

/** What a kernel may use (settings: automl.kernel.*, or the conductor's environment). */
export interface KernelLimits {
  /** a kernel with nothing to do for this long is stopped (its state is gone; the next cell starts a fresh one) */
  idleMs: number;
  /** kernels alive at once; starting one more stops the one idle longest, or is refused when all are busy */
  maxAlive: number;
  /** the kernel's JavaScript heap, in MB: past it the kernel dies with "kernel_died: out of memory" */
  memoryMb: number;
}

export const DEFAULT_KERNEL_LIMITS: KernelLimits = { idleMs: 30 * 60_000, maxAlive: 4, memoryMb: 4096 };

/** The limits from the conductor's environment (the extension sets them from its settings), or an error naming the bad one. */
export function kernelLimitsFrom(env: NodeJS.ProcessEnv): KernelLimits {
  // every bad value is named at once, with the VS Code setting it comes from there
  const problems: string[] = [];
  const read = (name: string, setting: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (/^\d+$/.test(raw) && value >= min && value <= max) return value;
    problems.push(`${name} (in VS Code, the setting ${setting}) must be a whole number from ${min} to ${max}, not ${JSON.stringify(env[name])}`);
    return fallback;
  };
  const limits = {
    idleMs: read("AUTOML_KERNEL_IDLE_MINUTES", "automl.kernel.idleMinutes", DEFAULT_KERNEL_LIMITS.idleMs / 60_000, 1, 7 * 24 * 60) * 60_000,
    maxAlive: read("AUTOML_KERNEL_MAX_ALIVE", "automl.kernel.maxAlive", DEFAULT_KERNEL_LIMITS.maxAlive, 1, 64),
    // at most the machine's memory: a bigger heap limit is no limit
    memoryMb: read("AUTOML_KERNEL_MEMORY_MB", "automl.kernel.memoryMb", DEFAULT_KERNEL_LIMITS.memoryMb, 512, Math.floor(totalmem() / 1024 / 1024)),
  };
  if (problems.length) throw new Error(problems.join("; "));
  return limits;
}

/** What a kernel needs of the project it serves (the conductor's Project is one). */
export interface KernelProject {
  readonly meta: { readonly id: string; readonly pacing: boolean };
  readonly dir: string;
  readonly snapshot: ProjectSnapshot;
  readonly bus: { emit<N extends EventName>(stage: StageId, name: N, payload: EventPayload<N>): unknown };
}

export class KernelSession {
  private child: ChildProcess | null = null;
  private starting: Promise<void> | null = null;
  private running: Running | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private replies = new Map<string, { answer: (m: FromKernel) => void; fail: (err: Error) => void }>();
  private executionCount = 0;
  private restarts = 0;
  private stderrTail = "";
  /** why the last kernel was stopped by the conductor (idle, the cap), for the status */
  private stoppedBecause: string | null = null;
  /** stages whose cells have run in this kernel process */
  readonly stagesRun = new Set<StageId>();
  startupMs: number | null = null;
  /** performance.now() of the last request this kernel served */
  lastUsed = performance.now();

  constructor(
    private readonly project: KernelProject,
    private readonly logger: Logger,
    private readonly limits: KernelLimits = DEFAULT_KERNEL_LIMITS,
    /** runs before a kernel process starts (the runner makes room under its cap, or refuses) */
    private readonly beforeStart: (session: KernelSession) => Promise<void> = async () => undefined,
  ) {}

  status(): KernelStatus {
    const state = this.starting ? "starting" : !this.child ? (this.restarts || this.executionCount ? "dead" : "not_started") : this.running ? "busy" : "idle";
    return {
      state,
      execution_count: this.executionCount,
      pid: this.child?.pid ?? null,
      restarts: this.restarts,
      ...(!this.child && this.stoppedBecause ? { stopped_because: this.stoppedBecause } : {}),
    };
  }

  /** A kernel process is running. */
  get alive(): boolean {
    return this.child !== null || this.starting !== null;
  }

  /** Alive with nothing to do: no cell running or queued, no request waiting. */
  get idle(): boolean {
    return this.child !== null && !this.starting && !this.running && this.replies.size === 0 && this.queued === 0;
  }

  private queued = 0;

  /** Starts the kernel process if it is not running. */
  start(): Promise<void> {
    if (this.child) return Promise.resolve();
    this.starting ??= this.beforeStart(this)
      .then(() => this.spawn())
      .finally(() => (this.starting = null));
    return this.starting;
  }

  private async spawn(): Promise<void> {
    const root = packageRoot();
    ensureNotebookModules(path.dirname(path.dirname(this.project.dir)), root);
    const t0 = performance.now();
    this.stderrTail = "";
    this.stoppedBecause = null;
    const child = fork(path.join(root, "dist", "kernel", "notebook-kernel.js"), [], {
      cwd: this.project.dir,
      env: {
        ...process.env,
        [KERNEL_ENV.projectId]: this.project.meta.id,
        [KERNEL_ENV.projectDir]: this.project.dir,
        [KERNEL_ENV.pacing]: this.project.meta.pacing ? "1" : "0",
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      // its own process group: a restart or a stop ends the processes its cells started with it
      detached: true,
      execArgv: [
        // type checking allocates a fresh program per cell; a larger young generation halves the GC it costs
        "--max-semi-space-size=64",
        `--max-old-space-size=${this.limits.memoryMb}`,
      ],
    });
    child.stdout?.on("data", (d) => this.logger.debug(`kernel ${this.project.meta.id}: ${String(d).trimEnd()}`));
    child.stderr?.on("data", (d) => {
      this.stderrTail = (this.stderrTail + String(d)).slice(-STDERR_TAIL);
      this.logger.warn(`kernel ${this.project.meta.id} stderr: ${String(d).trimEnd()}`);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the kernel did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.once("error", (err) => (clearTimeout(timer), reject(err)));
      child.once("exit", (code, signal) => (clearTimeout(timer), reject(new Error(`the kernel exited while starting (${signal ?? `code ${code}`})`))));
      child.on("message", (m: FromKernel) => {
        if (m.type === "ready") {
          clearTimeout(timer);
          this.startupMs = Math.round(performance.now() - t0);
          resolve();
        }
      });
    });
    child.removeAllListeners("exit");
    child.on("message", (m: FromKernel) => this.onMessage(m));
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    this.child = child;
    this.stagesRun.clear();
    this.logger.info(`kernel for ${this.project.meta.id} started (pid ${child.pid}, ${this.startupMs} ms)`);
  }

  /** Runs one cell; cells queue behind each other as in Jupyter. */
  execute(code: string, onOutput: (o: CellOutput) => void): Promise<ExecutionResult> {
    this.queued++;
    const run = this.chain.then(() => this.executeNow(code, onOutput)).finally(() => this.queued--);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async executeNow(code: string, onOutput: (o: CellOutput) => void): Promise<ExecutionResult> {
    this.lastUsed = performance.now();
    await this.start();
    const id = randomBytes(6).toString("hex");
    return new Promise<ExecutionResult>((resolve) => {
      this.running = { id, onOutput, resolve, started: performance.now() };
      this.send({ type: "execute", id, code });
    });
  }

  /**
   * Stops the running cell: SIGINT to the kernel's process group ends a blocking loop and the
   * processes the cell started (one that detached itself on purpose keeps running until the
   * kernel restarts); the message ends awaits and training.
   */
  interrupt(): boolean {
    if (!this.child?.pid || !this.running) return false;
    this.send({ type: "interrupt" });
    signalGroup(this.child.pid, "SIGINT");
    return true;
  }

  async restart(): Promise<void> {
    await this.stop("The kernel was restarted while this cell ran.");
    this.restarts++;
    this.executionCount = 0;
    await this.start();
  }

  /**
   * Ends the kernel and every process its cells started (detached ones too). The running cell
   * and every waiting request are answered, with `why`.
   */
  async stop(why = "The kernel was stopped while this cell ran.", because: string | null = null): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    this.stoppedBecause = because;
    const exited = new Promise((r) => child.once("exit", r));
    if (child.pid) killProcessTree(child.pid);
    else child.kill("SIGKILL");
    await exited;
    this.finishRunning("kernel_died", why);
    this.failReplies(why.replace("while this cell ran", "before it answered"));
  }

  complete(req: CursorRequest): Promise<unknown> {
    // completion never starts a kernel: without one, there is nothing defined to complete
    if (!this.child) return Promise.resolve({ candidates: [], start: req.cursor, end: req.cursor });
    return this.request((id) => ({ type: "complete", id, code: req.code, cursor: req.cursor }));
  }

  inspect(req: CursorRequest): Promise<unknown> {
    if (!this.child) return Promise.resolve({ text: "" });
    return this.request((id) => ({ type: "inspect", id, code: req.code, cursor: req.cursor }));
  }

  async variables(): Promise<VariableInfo[]> {
    if (!this.child) return [];
    const m = (await this.request((id) => ({ type: "variables", id }), true)) as FromKernel;
    return m.type === "variables" ? m.variables : [];
  }

  /** complete, inspect and variables are answered between cells' awaits, even while a cell runs (only by a running kernel) */
  private async request(make: (id: string) => ToKernel, raw = false): Promise<unknown> {
    this.lastUsed = performance.now();
    const id = randomBytes(6).toString("hex");
    return new Promise((resolve, reject) => {
      this.replies.set(id, { answer: (m) => resolve(raw ? m : m.type === "reply" ? m.result : undefined), fail: reject });
      this.send(make(id));
    });
  }

  /** Every waiting request gets an error (409: ask again), never silence. */
  private failReplies(message: string): void {
    const waiting = [...this.replies.values()];
    this.replies.clear();
    for (const r of waiting) r.fail(new ConflictError(message));
  }

  private send(m: ToKernel): void {
    this.child?.send(m);
  }

  private onMessage(m: FromKernel): void {
    switch (m.type) {
      case "output":
        if (this.running?.id === m.id) this.running.onOutput(m.output);
        break;
      case "done":
        if (this.running?.id === m.id) {
          this.executionCount = m.execution_count;
          const r = this.running;
          this.running = null;
          r.resolve({ status: m.status, execution_count: m.execution_count, duration_ms: Math.round(performance.now() - r.started) });
        }
        break;
      case "events":
        for (const e of m.items) {
          try {
            this.project.bus.emit(e.stage, e.name, e.payload as never);
          } catch (err) {
            this.logger.error(`kernel ${this.project.meta.id}: event ${e.name} refused: ${(err as Error).message}`);
            this.running?.onOutput({ output_type: "stream", name: "stderr", text: `event ${e.name} refused by the contract: ${(err as Error).message}\n` });
          }
        }
        break;
      case "state-request":
        this.send({ type: "state", id: m.id, snapshot: this.project.snapshot });
        break;
      case "reply":
      case "variables":
        this.replies.get(m.id)?.answer(m);
        this.replies.delete(m.id);
        break;
      case "ready":
        break;
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return; // a stop() we asked for
    this.child = null;
    // the rest of the group (processes its cells started) goes with it
    if (child.pid) killProcessTree(child.pid);
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const outOfMemory = /heap out of memory|Reached heap limit/i.test(this.stderrTail);
    const what = outOfMemory
      ? `kernel_died: out of memory: the kernel passed its limit of ${this.limits.memoryMb} MB (the setting automl.kernel.memoryMb) while this cell ran`
      : `The kernel died (${how}) while this cell ran`;
    this.logger.error(`kernel for ${this.project.meta.id} died (${outOfMemory ? "out of memory" : how}); the next cell starts a fresh one`);
    this.finishRunning("kernel_died", `${what}. Its state is gone; the next cell starts a fresh kernel (re-run the cells above first).`);
    this.failReplies(
      `${outOfMemory ? "The kernel ran out of memory" : `The kernel died (${how})`} before it answered; ask again once a cell has started a fresh kernel.`,
    );
  }

  private finishRunning(status: ExecutionStatus, message: string): void {
    const r = this.running;
    if (!r) return;
    this.running = null;
    r.onOutput({ output_type: "error", ename: "KernelDied", evalue: message, traceback: [message] });
    r.resolve({ status, execution_count: this.executionCount, duration_ms: Math.round(performance.now() - r.started) });
  }
}
