/**
 * The notebook as the pipeline's execution path. A cell that belongs to a stage re-runs that
 * stage through the project's kernel (STAGE_STATUS running → completed, with the live events
 * its runtime calls emit); an edited stage cell, or a re-run TRAIN cell, makes the stages
 * after it stale, and `rerunStale` brings them up to date in order. A kernel that has not yet
 * run the cells a stage cell builds on runs them first, and says so.
 */
import {
  EV,
  STAGE_IDS,
  STAGE_TITLES,
  type CellOutput,
  type ExecuteRequest,
  type ExecutionMessage,
  type StageId,
} from "../../contract";
import type { Logger } from "../logging/logger";
import { KernelSession, type ExecutionResult } from "../notebook-kernel/kernel-session";
import { NOTEBOOK_FILE, readNotebook, stageCode } from "../notebook/pipeline-notebook";
import { STAGES } from "../stages";
import type { Conductor } from "./conductor";
import type { Project } from "./project";
import { ConflictError } from "../errors/request-errors";

type Done = Extract<ExecutionMessage, { type: "done" }>;

const RERUNNABLE = new Set(["completed", "stale", "failed"]);

export class NotebookRunner {
  private readonly sessions = new Map<string, KernelSession>();

  constructor(
    private readonly conductor: Conductor,
    private readonly logger: Logger,
  ) {}

  session(p: Project): KernelSession {
    let s = this.sessions.get(p.meta.id);
    if (!s) this.sessions.set(p.meta.id, (s = new KernelSession(p, this.logger)));
    return s;
  }

  async execute(p: Project, req: ExecuteRequest, onOutput: (o: CellOutput) => void): Promise<Done> {
    const stage = req.stage_id;
    if (stage && p.notebookRun) throw new ConflictError(`Project ${p.meta.id} is running ${p.notebookRun} from the notebook; wait for it to finish.`);
    if (stage && p.busy) throw new ConflictError(`The pipeline is running ${p.snapshot.current_stage}; run stage cells when it reaches a gate or finishes.`);
    const session = this.session(p);
    if (!stage) return this.run(p, session, req.code, stage, onOutput);
    // busy from the first earlier cell it needs to the end of its own: a gate after it is not answered meanwhile
    p.notebookRun = `the ${STAGE_TITLES[stage]} cell`;
    try {
      const ready = await this.warmUp(p, session, stage, onOutput);
      if (!ready) return { type: "done", status: "error", execution_count: session.status().execution_count, stale_stages: [], duration_ms: 0 };
      return await this.run(p, session, req.code, stage, onOutput);
    } finally {
      p.notebookRun = null;
    }
  }

  /** One cell, with its stage's status around it when it re-runs a stage. */
  private async run(p: Project, session: KernelSession, code: string, stage: StageId | undefined, onOutput: (o: CellOutput) => void, warmUp = false): Promise<Done> {
    const rerun = stage !== undefined && RERUNNABLE.has(p.snapshot.stages[stage].status);
    if (rerun) p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "running", message: "running from the notebook" });
    const finish = session.execute(code, onOutput);
    if (rerun) p.activity = finish.then(() => undefined); // the conductor waits for it like for a stage
    let result: ExecutionResult;
    try {
      result = await finish;
    } finally {
      if (rerun) p.activity = null;
    }
    let stale: StageId[] = [];
    if (stage) {
      if (result.status === "ok") session.stagesRun.add(stage);
      if (rerun) {
        // the notebook is not rewritten here: the cell that ran is the person's version
        const message = result.status === "ok" ? "ran from the notebook" : `the notebook cell ${result.status === "interrupted" ? "was interrupted" : "failed"}; see its output`;
        p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: result.status === "ok" ? "completed" : "failed", message });
      }
      if (rerun && !warmUp && result.status === "ok" && (stage === "TRAIN" || this.isEdited(p, stage, code))) {
        stale = this.conductor.markLaterStale(p, stage, `${stage} was re-run from the notebook`);
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

  /** Brings stale stages up to date in order: code stages through the kernel, the rest in the conductor. */
  async rerunStale(p: Project, onOutput: (o: CellOutput) => void = () => undefined): Promise<{ reran: StageId[]; failed: StageId | null }> {
    const reran: StageId[] = [];
    for (const stage of STAGE_IDS) {
      if (p.snapshot.stages[stage].status !== "stale") continue;
      const notebook = readNotebook(p.assets.absolute(NOTEBOOK_FILE));
      const code = notebook ? stageCode(notebook, stage) : [];
      let ok = true;
      if (code.length === 0) ok = await this.conductor.rerunWithoutGate(p, stage);
      else {
        for (const c of code) {
          const done = await this.execute(p, { code: c, stage_id: stage }, onOutput);
          ok = done.status === "ok";
          if (!ok) break;
        }
      }
      if (!ok) return { reran, failed: stage };
      reran.push(stage);
    }
    // a gate the re-run stages had reset (pending) runs again and waits with the new results
    this.conductor.carryOn(p);
    return { reran, failed: null };
  }

  /** A fresh kernel; with `replay`, every code cell of the notebook runs again in order. */
  async restart(p: Project, replay: boolean, onOutput: (o: CellOutput) => void = () => undefined): Promise<{ replayed: number; failed_at: number | null }> {
    const session = this.session(p);
    await session.restart();
    if (!replay) return { replayed: 0, failed_at: null };
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
  }

  /** Whether a stage cell differs from what the stage itself generated. */
  private isEdited(p: Project, stage: StageId, code: string): boolean {
    const generated = STAGES[stage].cells(p.contextFor(stage)).filter((c) => c.kind === "code").map((c) => c.source.trim());
    return !generated.includes(code.trim());
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.stop()));
    this.sessions.clear();
  }
}
