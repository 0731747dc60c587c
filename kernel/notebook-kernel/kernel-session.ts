/**
 * The conductor's side of one project's kernel process: starts it, runs cells one at a time,
 * forwards the events the cells' runtime calls emit to the project's bus, and survives the
 * kernel: an interrupt stops only the running cell, a restart gives a fresh process, and a
 * kernel that dies is reported on the cell it was running and replaced on the next run.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import type { CellOutput, CursorRequest, EventName, EventPayload, ExecutionStatus, KernelStatus, ProjectSnapshot, StageId, VariableInfo } from "../../contract";
import type { Logger } from "../logging/logger";
import { KERNEL_ENV, type FromKernel, type ToKernel } from "./kernel-protocol";
import { ensureNotebookModules, packageRoot } from "./notebook-modules";

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
  private replies = new Map<string, (m: FromKernel) => void>();
  private executionCount = 0;
  private restarts = 0;
  /** stages whose cells have run in this kernel process */
  readonly stagesRun = new Set<StageId>();
  startupMs: number | null = null;

  constructor(
    private readonly project: KernelProject,
    private readonly logger: Logger,
  ) {}

  status(): KernelStatus {
    const state = this.starting ? "starting" : !this.child ? (this.restarts || this.executionCount ? "dead" : "not_started") : this.running ? "busy" : "idle";
    return { state, execution_count: this.executionCount, pid: this.child?.pid ?? null, restarts: this.restarts };
  }

  /** Starts the kernel process if it is not running. */
  start(): Promise<void> {
    if (this.child) return Promise.resolve();
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private async spawn(): Promise<void> {
    const root = packageRoot();
    ensureNotebookModules(path.dirname(path.dirname(this.project.dir)), root);
    const t0 = performance.now();
    const child = fork(path.join(root, "dist", "kernel", "notebook-kernel.js"), [], {
      cwd: this.project.dir,
      env: {
        ...process.env,
        [KERNEL_ENV.projectId]: this.project.meta.id,
        [KERNEL_ENV.projectDir]: this.project.dir,
        [KERNEL_ENV.pacing]: this.project.meta.pacing ? "1" : "0",
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      // type checking allocates a fresh program per cell; a larger young generation halves the GC it costs
      execArgv: ["--max-semi-space-size=64"],
    });
    child.stdout?.on("data", (d) => this.logger.debug(`kernel ${this.project.meta.id}: ${String(d).trimEnd()}`));
    child.stderr?.on("data", (d) => this.logger.warn(`kernel ${this.project.meta.id} stderr: ${String(d).trimEnd()}`));
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
    const run = this.chain.then(() => this.executeNow(code, onOutput));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async executeNow(code: string, onOutput: (o: CellOutput) => void): Promise<ExecutionResult> {
    await this.start();
    const id = randomBytes(6).toString("hex");
    return new Promise<ExecutionResult>((resolve) => {
      this.running = { id, onOutput, resolve, started: performance.now() };
      this.send({ type: "execute", id, code });
    });
  }

  /** Stops the running cell: SIGINT ends a blocking loop, the message ends awaits and training. */
  interrupt(): boolean {
    if (!this.child || !this.running) return false;
    this.send({ type: "interrupt" });
    this.child.kill("SIGINT");
    return true;
  }

  async restart(): Promise<void> {
    await this.stop();
    this.restarts++;
    this.executionCount = 0;
    await this.start();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    this.finishRunning("kernel_died", "The kernel was restarted while this cell ran.");
  }

  complete(req: CursorRequest): Promise<unknown> {
    return this.request((id) => ({ type: "complete", id, code: req.code, cursor: req.cursor }));
  }

  inspect(req: CursorRequest): Promise<unknown> {
    return this.request((id) => ({ type: "inspect", id, code: req.code, cursor: req.cursor }));
  }

  async variables(): Promise<VariableInfo[]> {
    if (!this.child) return [];
    const m = (await this.request((id) => ({ type: "variables", id }), true)) as FromKernel;
    return m.type === "variables" ? m.variables : [];
  }

  /** complete, inspect and variables are answered between cells' awaits, even while a cell runs */
  private async request(make: (id: string) => ToKernel, raw = false): Promise<unknown> {
    await this.start();
    const id = randomBytes(6).toString("hex");
    return new Promise((resolve) => {
      this.replies.set(id, (m) => resolve(raw ? m : m.type === "reply" ? m.result : undefined));
      this.send(make(id));
    });
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
        this.replies.get(m.id)?.(m);
        this.replies.delete(m.id);
        break;
      case "ready":
        break;
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return; // a stop() we asked for
    this.child = null;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    this.logger.error(`kernel for ${this.project.meta.id} died (${how}); the next cell starts a fresh one`);
    this.finishRunning(
      "kernel_died",
      `The kernel died (${how}) while this cell ran. Its state is gone; the next cell starts a fresh kernel (re-run the cells above first).`,
    );
    for (const resolve of this.replies.values()) resolve({ type: "reply", id: "", result: null });
    this.replies.clear();
  }

  private finishRunning(status: ExecutionStatus, message: string): void {
    const r = this.running;
    if (!r) return;
    this.running = null;
    r.onOutput({ output_type: "error", ename: "KernelDied", evalue: message, traceback: [message] });
    r.resolve({ status, execution_count: this.executionCount, duration_ms: Math.round(performance.now() - r.started) });
  }
}
