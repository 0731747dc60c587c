/**
 * The notebook as the pipeline's execution path. A cell that belongs to a stage re-runs that
 * stage through the project's kernel (STAGE_STATUS running → completed, with the live events
 * its runtime calls emit); an edited stage cell, or a TRAIN cell that trained, makes the
 * stages after it stale, and `rerunStale` brings them up to date in order. A kernel that has not yet
 * run the cells a stage cell builds on runs them first, and says so.
 */
import { EV, STAGE_IDS, STAGE_TITLES, type CellOutput, type ExecuteRequest, type ExecutionMessage, type StageId } from "../../contract";
import type { Logger } from "../logging/logger";
import { ConflictError } from "../errors/request-errors";
import { DEFAULT_KERNEL_LIMITS, KernelSession, type KernelLimits } from "../notebook-kernel/kernel-session";
import { NOTEBOOK_FILE, readNotebook, stageCode } from "../notebook/pipeline-notebook";
import { STAGES } from "../stages";
import { renderCell } from "../tasks/pipeline-step";
import type { Project } from "./project";

type Done = Extract<ExecutionMessage, { type: "done" }>;

const RERUNNABLE = new Set(["completed", "stale", "failed"]);

/** What the runner needs of the stage machine: no more, so neither imports the other's module. */
export interface StageRerun {
  /** marks the completed stages after `stage` stale (and a gate after it pending); returns them */
  markLaterStale(p: Project, stage: StageId, reason: string): StageId[];
  /** runs a stage without a code cell (REVIEW_EDIT, EXPORT) again, straight through */
  rerunWithoutGate(p: Project, stage: StageId): Promise<boolean>;
  /** lets the machine take the project on (a gate the re-run reset runs again) */
  carryOn(p: Project): void;
}

export class NotebookRunner {
  private readonly sessions = new Map<string, KernelSession>();
  private readonly reaper: NodeJS.Timeout;

  constructor(
    private readonly machine: StageRerun,
    private readonly logger: Logger,
    private readonly limits: KernelLimits = DEFAULT_KERNEL_LIMITS,
  ) {
    // kernels left with nothing to do are stopped: each holds a process and its memory
    this.reaper = setInterval(() => void this.reapIdle(), Math.min(30_000, Math.max(1000, limits.idleMs / 4)));
    this.reaper.unref();
  }

  session(p: Project): KernelSession {
    let s = this.sessions.get(p.meta.id);
    if (!s) this.sessions.set(p.meta.id, (s = new KernelSession(p, this.logger, this.limits, (starting) => this.makeRoom(starting))));
    return s;
  }

  /** Stops the kernels idle for longer than the limit. */
  private async reapIdle(): Promise<void> {
    const now = performance.now();
    for (const [id, s] of this.sessions) {
      if (!s.idle || now - s.lastUsed < this.limits.idleMs) continue;
      const minutes = Math.round(this.limits.idleMs / 60_000);
      this.logger.info(`kernel for ${id} stopped after ${minutes} min with nothing to do (automl.kernel.idleMinutes)`);
      await s.stop("The kernel was stopped: it had nothing to do.", `stopped after ${minutes} min with nothing to do (setting automl.kernel.idleMinutes)`);
    }
  }

  /**
   * Before a kernel starts: when the cap is reached, the kernel idle longest is stopped to make
   * room; when every one is busy, starting is refused (409) with what to do.
   */
  private async makeRoom(starting: KernelSession): Promise<void> {
    const alive = [...this.sessions.entries()].filter(([, s]) => s !== starting && s.alive);
    if (alive.length < this.limits.maxAlive) return;
    const idle = alive.filter(([, s]) => s.idle).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    if (!idle.length) {
      throw new ConflictError(
        `${alive.length} notebook ${alive.length === 1 ? "kernel is" : "kernels are"} busy, the most allowed at once (setting automl.kernel.maxAlive): wait for one of their cells to finish, or raise the setting.`,
      );
    }
    const [id, oldest] = idle[0]!;
    this.logger.info(`kernel for ${id} stopped to make room for another (automl.kernel.maxAlive = ${this.limits.maxAlive})`);
    await oldest.stop(
      "The kernel was stopped to make room for another.",
      `stopped to make room for another project's kernel (setting automl.kernel.maxAlive = ${this.limits.maxAlive})`,
    );
  }

  /**
   * Runs a cell. A stage cell re-runs its stage, as the project's one piece of work: refused
   * (409 naming what runs) while the pipeline or another stage cell runs; it first runs the
   * earlier stages' cells this kernel has not run. Other cells just run.
   */
  async execute(p: Project, req: ExecuteRequest, onOutput: (o: CellOutput) => void): Promise<Done> {
    const stage = req.stage_id;
    if (!stage) return this.run(p, this.session(p), req.code, undefined, onOutput);
    return p.runExclusive(cellLabel(stage), () => this.runStageCell(p, stage, req.code, onOutput));
  }

  /** A stage cell with the earlier cells it needs (the caller holds the project). */
  private async runStageCell(p: Project, stage: StageId, code: string, onOutput: (o: CellOutput) => void): Promise<Done> {
    const session = this.session(p);
    const ready = await this.warmUp(p, session, stage, onOutput);
    if (!ready) return { type: "done", status: "error", execution_count: session.status().execution_count, stale_stages: [], duration_ms: 0 };
    return this.run(p, session, code, stage, onOutput);
  }

  /** One cell, with its stage's status around it when it re-runs a stage. */
  private async run(
    p: Project,
    session: KernelSession,
    code: string,
    stage: StageId | undefined,
    onOutput: (o: CellOutput) => void,
    warmUp = false,
  ): Promise<Done> {
    const rerun = stage !== undefined && RERUNNABLE.has(p.snapshot.stages[stage].status);
    if (rerun) p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "running", message: "running from the notebook" });
    const since = p.bus.lastSeq;
    const result = await session.execute(code, onOutput);
    // only a stage it re-ran successfully can have been changed by an edited cell
    const edited = rerun && result.status === "ok" && this.isEdited(p, stage, code);
    // a TRAIN cell that trained (not the search cell left at searchAgain = false) changes what follows; the kernel sends a cell's events before its end
    const trained = stage === "TRAIN" && p.bus.eventsSince(since).some((e) => e.event.name === EV.TRAIN_RUN_STARTED);
    let stale: StageId[] = [];
    if (stage) {
      if (result.status === "ok") session.stagesRun.add(stage);
      if (rerun) {
        // the notebook is not rewritten here: the cell that ran is the person's version
        const message =
          result.status === "ok"
            ? "ran from the notebook"
            : `the notebook cell ${result.status === "interrupted" ? "was interrupted" : "failed"}; see its output`;
        // what the stage proposes from its results (REVIEW_EDIT's suggested edits) follows its cell, as it follows its run
        if (result.status === "ok") await this.propose(p, stage);
        const status = result.status === "ok" ? "completed" : "failed";
        p.bus.emit(
          stage,
          EV.STAGE_STATUS,
          status === "completed" && edited ? { stage_id: stage, status, message, edited_cell: true } : { stage_id: stage, status, message },
        );
      }
      if (rerun && !warmUp && result.status === "ok" && (trained || edited)) {
        stale = this.machine.markLaterStale(p, stage, `${stage} was re-run from the notebook`);
      }
    }
    return { type: "done", status: result.status, execution_count: result.execution_count, stale_stages: stale, duration_ms: result.duration_ms };
  }

  /** Runs, in this kernel, the cells of earlier stages it has not run, so a stage cell finds what it builds on. */
  private async warmUp(p: Project, session: KernelSession, stage: StageId, onOutput: (o: CellOutput) => void): Promise<boolean> {
    const before = STAGE_IDS.slice(0, STAGE_IDS.indexOf(stage)).filter((s) => RERUNNABLE.has(p.snapshot.stages[s].status) && !session.stagesRun.has(s));
    if (before.length === 0) return true;
    const notebook = readNotebook(p.assets.absolute(NOTEBOOK_FILE));
    const todo = before.filter((s) => notebook && stageCode(notebook, s).length > 0);
    if (todo.length === 0) return true;
    onOutput({ output_type: "stream", name: "stdout", text: `[this kernel had not run the cells of ${todo.join(", ")}; running them first]\n` });
    for (const s of todo) {
      for (const code of stageCode(notebook!, s)) {
        const errors: CellOutput[] = [];
        const done = await this.run(p, session, code, s, (o) => o.output_type === "error" && errors.push(o), true);
        if (done.status !== "ok") {
          for (const e of errors) onOutput(e);
          onOutput({ output_type: "stream", name: "stderr", text: `[a ${s} cell failed while preparing the kernel; fix it and run again]\n` });
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Brings stale stages up to date in order, as the project's one piece of work: code stages
   * through the kernel, the rest in the machine. Then the machine carries on (a gate the
   * re-run reset runs again and waits with the new results).
   */
  async rerunStale(p: Project, onOutput: (o: CellOutput) => void = () => undefined): Promise<{ reran: StageId[]; failed: StageId | null }> {
    let current: StageId | null = null;
    const outcome = await p.runExclusive(
      () => (current ? `${cellLabel(current)} (re-running the stale stages)` : "the stale stages from the notebook"),
      async () => {
        const reran: StageId[] = [];
        for (const stage of STAGE_IDS) {
          if (p.snapshot.stages[stage].status !== "stale") continue;
          current = stage;
          const notebook = readNotebook(p.assets.absolute(NOTEBOOK_FILE));
          const code = notebook ? stageCode(notebook, stage) : [];
          let ok = true;
          if (code.length === 0) ok = await this.machine.rerunWithoutGate(p, stage);
          else {
            for (const c of code) {
              const done = await this.runStageCell(p, stage, c, onOutput);
              ok = done.status === "ok";
              if (!ok) break;
            }
          }
          if (!ok) return { reran, failed: stage };
          reran.push(stage);
        }
        return { reran, failed: null };
      },
    );
    if (!outcome.failed) this.machine.carryOn(p);
    return outcome;
  }

  /** A fresh kernel; with `replay`, every code cell of the notebook runs again in order (as the project's one piece of work). */
  async restart(p: Project, replay: boolean, onOutput: (o: CellOutput) => void = () => undefined): Promise<{ replayed: number; failed_at: number | null }> {
    if (replay) p.refuseWhileBusy();
    const session = this.session(p);
    await session.restart();
    if (!replay) return { replayed: 0, failed_at: null };
    return p.runExclusive("the notebook's cells (replayed after a kernel restart)", async () => {
      const notebook = readNotebook(p.assets.absolute(NOTEBOOK_FILE));
      const cells = (notebook?.cells ?? []).filter((c) => c.cell_type === "code");
      let i = 0;
      for (const cell of cells) {
        const tag = cell.metadata?.automl?.stage_id as StageId | undefined;
        const code = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
        const done = await this.run(p, session, code, tag, onOutput);
        if (done.status !== "ok") return { replayed: i, failed_at: i };
        i++;
      }
      return { replayed: i, failed_at: null };
    });
  }

  private async propose(p: Project, stage: StageId): Promise<void> {
    try {
      await STAGES[stage].propose?.(p.contextFor(stage));
    } catch (err) {
      p.bus.emit(stage, EV.LOG_LINE, {
        run_id: null,
        level: "warn",
        text: `${STAGE_TITLES[stage]}: no proposals after the notebook's run: ${(err as Error).message}`,
      });
    }
  }

  /** Whether a stage cell differs from what the stage itself generated. */
  private isEdited(p: Project, stage: StageId, code: string): boolean {
    const generated = STAGES[stage].code(p.contextFor(stage)).map((c) => renderCell(c).trim());
    return !generated.includes(code.trim());
  }

  async closeAll(): Promise<void> {
    clearInterval(this.reaper);
    await Promise.all([...this.sessions.values()].map((s) => s.stop("The conductor stopped while this cell ran.")));
    this.sessions.clear();
  }
}

function cellLabel(stage: StageId): string {
  return `the ${STAGE_TITLES[stage]} cell from the notebook`;
}
