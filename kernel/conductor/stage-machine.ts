/**
 * The stage machine. It runs a project's stages in order, stops at every gate
 * (WAITING_CONFIRMATION) unless the project is in auto mode, reports a failed stage with
 * its reason and retries it on request without touching the stages before it. Every
 * decision it makes is an event, so a restarted conductor resumes from the logs.
 *
 * Whatever changes a project's stages runs as the project's one piece of work
 * (Project.runExclusive): a request that collides with running work is refused with 409
 * naming that work, never dropped.
 */
import {
  EV,
  GATE_ACTIONS,
  INTERRUPTED_MESSAGE,
  canResumeSearch,
  wasInterrupted,
  STAGE_IDS,
  STAGE_TITLES,
  type ConfirmRequest,
  type EventPayload,
  type NextAction,
  type StageId,
  type TaskType,
} from "../../contract";
import { InputError, isInputError } from "../errors/input-error";
import { ConflictError } from "../errors/request-errors";
import type { Logger } from "../logging/logger";
import { STAGES } from "../stages";
import type { NotebookWriter } from "./notebook-writer";
import type { StageRerun } from "./notebook-runner";
import type { Project } from "./project";
import { searchSoFar } from "./search-resume";

const PLAN_ACTIONS: NextAction[] = [
  { id: GATE_ACTIONS.approve, label: "Approve plan" },
  { id: GATE_ACTIONS.edit, label: "Approve an edited plan", description: "POST /confirm with plan_json" },
];

/** Until when the machine's work holds the project, for a refused request's message. */
const UNTIL_GATE = "wait for it to reach a gate or finish";

export class StageMachine implements StageRerun {
  /** set once the conductor began to close: work cut short by it is reported interrupted, never completed */
  private closing = false;

  constructor(
    private readonly notebook: NotebookWriter,
    private readonly logger: Logger,
  ) {}

  /** A project opened from its log: a stage cut off by a stop is reported, then the machine carries on. */
  resume(p: Project): void {
    this.recoverInterrupted(p);
    void this.drive(p);
  }

  /** Passes the gate the project waits at. */
  async confirm(p: Project, req: ConfirmRequest): Promise<void> {
    // a stage cell running from the notebook may change what this gate shows (and then resets it)
    p.refuseWhileBusy();
    const id = p.meta.id;
    const waiting = p.snapshot.waiting;
    if (!waiting || p.snapshot.stages[waiting.stage_id].status !== "waiting") {
      throw new ConflictError(
        `Project ${id} is not waiting for a confirmation (current stage ${p.snapshot.current_stage} is ${p.snapshot.stages[p.snapshot.current_stage].status}).`,
      );
    }
    const stage = waiting.stage_id;
    if (req.stage_id && req.stage_id !== stage) {
      throw new ConflictError(`Project ${id} waits at ${stage}, not ${req.stage_id}. Confirm ${stage} first.`);
    }
    const action = req.action ?? waiting.next_actions[0]!.id;
    const offered = waiting.next_actions.find((a) => a.id === action);
    if (!offered) {
      throw new InputError(
        `Action ${JSON.stringify(action)} is not offered at ${STAGE_TITLES[stage]}; choose one of: ${waiting.next_actions.map((a) => a.id).join(", ")}.`,
      );
    }
    if (
      action === GATE_ACTIONS.chooseTarget ||
      action === GATE_ACTIONS.setTask ||
      action === GATE_ACTIONS.editPrompt ||
      action === GATE_ACTIONS.chooseDataset
    ) {
      await this.changeRequest(p, offered, req);
      return;
    }
    if (action === GATE_ACTIONS.upload) {
      throw new ConflictError(`${STAGE_TITLES[stage]} needs a data file before it can continue: upload one (CSV, TSV, JSON, Parquet, Arrow or Excel).`);
    }
    const proposed = p.snapshot.plans[stage];
    if (proposed && !proposed.approved) {
      if (action === GATE_ACTIONS.edit && !req.plan_json) throw new InputError(`To edit the plan, send the edited plan as plan_json.`);
      const plan = req.plan_json ?? proposed.plan_json;
      await this.drive(p, { first: () => this.approvePlan(p, stage, plan, req.plan_json !== undefined) });
    } else {
      await this.drive(p, { first: async () => void this.complete(p, stage, "confirmed") });
    }
  }

  /**
   * A gate's choice that changes the request: another target or task runs the stages from
   * DATA_SOURCE again with the intent amended (the parse stands); a reworded prompt runs the
   * project again from PARSE_INTENT.
   */
  private changeRequest(p: Project, action: NextAction, req: ConfirmRequest): Promise<void> {
    const intent = p.snapshot.intent;
    const choose = (value: string | undefined, what: string): string => {
      if (!value) throw new InputError(`Say which ${what}: send it with the ${action.id} action.`);
      if (action.choices && !action.choices.some((c) => c.value === value)) {
        throw new InputError(`${JSON.stringify(value)} is not one of the ${what}s offered: ${action.choices.map((c) => c.value).join(", ")}.`);
      }
      return value;
    };
    if (action.id === GATE_ACTIONS.editPrompt) {
      if (!req.prompt) throw new InputError("Send the reworded request as prompt.");
      return this.parse(p, { prompt: req.prompt });
    }
    if (!intent) throw new ConflictError(`Project ${p.meta.id} has no parsed request to change yet.`);
    if (action.id === GATE_ACTIONS.chooseDataset) {
      const dataset = choose(req.dataset_id, "dataset");
      return this.drive(p, {
        first: async () => {
          p.saveMeta({ ...p.meta, dataset_source: dataset });
          this.rewind(p, "DATA_SOURCE", `dataset chosen: ${dataset}`);
        },
      });
    }
    const target = action.id === GATE_ACTIONS.chooseTarget ? choose(req.target, "target column") : intent.target;
    const task = action.id === GATE_ACTIONS.setTask ? (choose(req.task_type, "task") as TaskType) : intent.task_type;
    return this.drive(p, {
      first: async () => {
        p.saveMeta({ ...p.meta, target: target ?? p.meta.target, task_type: action.id === GATE_ACTIONS.setTask ? task : p.meta.task_type });
        this.rewind(p, "DATA_SOURCE", action.id === GATE_ACTIONS.chooseTarget ? `target changed to ${target}` : `task changed to ${task}`);
        p.bus.emit("PARSE_INTENT", EV.PROMPT_PARSED, { ...intent, target, task_type: task, constraints: { ...intent.constraints, task_source: "person" } });
      },
    });
  }

  /** Re-reads the intent (a new prompt and/or target) and runs the project again from PARSE_INTENT. */
  parse(p: Project, req: { prompt?: string; target?: string }): Promise<void> {
    return this.drive(p, {
      first: async () => {
        p.saveMeta({ ...p.meta, prompt: req.prompt ?? p.meta.prompt, target: req.target ?? p.meta.target });
        this.rewind(p, "PARSE_INTENT", "the request changed");
      },
    });
  }

  /** The project got a new data file: DATA_SOURCE (and what follows) runs again with it. */
  dataChanged(p: Project, keep: () => Promise<string>): Promise<void> {
    return this.drive(p, {
      first: async () => {
        const rel = await keep();
        if (p.snapshot.stages.DATA_SOURCE.status !== "pending") this.rewind(p, "DATA_SOURCE", `new data uploaded: ${rel.split("/").pop()}`);
      },
    });
  }

  /**
   * Runs the failed stage again; the stages before it keep what they did. With `resume`, a
   * search cut short by a stop carries on: its finished runs stay on the leaderboard and it
   * spends what was left of its budget.
   */
  retry(p: Project, options: { resume?: boolean } = {}): Promise<void> {
    p.refuseWhileBusy();
    const failed = STAGE_IDS.find((s) => p.snapshot.stages[s].status === "failed");
    if (!failed) throw new ConflictError(`Project ${p.meta.id} has no failed stage to retry.`);
    if (options.resume && !canResumeSearch(p.snapshot)) {
      throw new ConflictError(
        `Only a search that a stop cut short can be resumed; ${STAGE_TITLES[failed]} ${wasInterrupted(p.snapshot.stages[failed]) ? "was not a search" : "failed on its own"}. Retry it instead.`,
      );
    }
    return this.drive(p, {
      retryFailed: true,
      first: async () => {
        if (options.resume) p.resumeSearch = searchSoFar(p.bus.eventsSince(0));
      },
    });
  }

  /** Produces the export zip now, through the EXPORT stage, once the stages before it are done. */
  async exportNow(p: Project): Promise<EventPayload<"EXPORT_READY">> {
    p.refuseWhileBusy();
    const unfinished = STAGE_IDS.slice(0, STAGE_IDS.indexOf("EXPORT")).find((s) => !["completed", "stale"].includes(p.snapshot.stages[s].status));
    if (unfinished) {
      throw new ConflictError(
        `Project ${p.meta.id} cannot be exported yet: ${unfinished} is ${p.snapshot.stages[unfinished].status}. Take the pipeline through TRAIN first.`,
      );
    }
    // an export holds results that follow from each other: stale training is re-run first, a stale review here
    const stale = STAGE_IDS.slice(0, STAGE_IDS.indexOf("REVIEW_EDIT")).find((s) => p.snapshot.stages[s].status === "stale");
    if (stale) {
      throw new ConflictError(
        `Project ${p.meta.id} cannot be exported as it stands: ${STAGE_TITLES[stale]} is stale (an earlier cell changed). Re-run the stale stages first (POST /rerun-stale, or "Re-run stale stages" in the dashboard).`,
      );
    }
    await p.runExclusive("EXPORT", async () => {
      if (p.snapshot.stages.REVIEW_EDIT.status === "stale" && !(await this.rerunWithoutGate(p, "REVIEW_EDIT"))) return;
      await this.rerunWithoutGate(p, "EXPORT");
    });
    const ready = p.snapshot.export.ready;
    const failed = (["REVIEW_EDIT", "EXPORT"] as const).find((s) => p.snapshot.stages[s].status !== "completed");
    if (failed || !ready) throw new Error(`export failed: ${STAGE_TITLES[failed ?? "EXPORT"]}: ${p.snapshot.stages[failed ?? "EXPORT"].message}`);
    return ready;
  }

  /** Takes the project on from where it stands (after its stale stages were re-run from the notebook). */
  carryOn(p: Project): void {
    if (!p.busy && STAGE_IDS.some((s) => p.snapshot.stages[s].status === "pending")) void this.drive(p);
  }

  /** From now on, work cut short is reported interrupted. */
  beginClosing(): void {
    this.closing = true;
  }

  // ---- the machine ----

  /**
   * Claims the project (ConflictError while it runs something else), does `first` (a gate's
   * answer), then runs stages until a gate, a failure or the end. Resolves once `first` is done;
   * rejects with its error, and then runs nothing more.
   */
  private drive(p: Project, options: { retryFailed?: boolean; first?: () => Promise<void> } = {}): Promise<void> {
    let firstDone!: () => void;
    let firstFailed!: (err: unknown) => void;
    const answered = new Promise<void>((resolve, reject) => ((firstDone = resolve), (firstFailed = reject)));
    const loop = p.runExclusive(
      () => p.snapshot.current_stage,
      async () => {
        try {
          await options.first?.();
        } catch (err) {
          firstFailed(err);
          return;
        }
        firstDone();
        await this.driveLoop(p, options.retryFailed ?? false);
      },
      UNTIL_GATE,
    );
    loop.catch((err) => this.logger.error(`project ${p.meta.id}: conductor error: ${(err as Error).stack ?? String(err)}`));
    return answered;
  }

  private async driveLoop(p: Project, retryFailed: boolean): Promise<void> {
    for (;;) {
      const next = STAGE_IDS.find((s) => p.snapshot.stages[s].status !== "completed");
      if (!next) return;
      const status = p.snapshot.stages[next].status;
      if (status === "waiting") return;
      if (status === "failed") {
        if (!retryFailed) return; // a failed stage runs again only when retry() asks
        retryFailed = false;
      }
      if (!(await this.runStage(p, next))) return;
      // a turn of the event loop between stages: what the last one emitted goes out to the
      // streams now, not after the next stage's synchronous start
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Runs one stage to its gate. Returns true when the machine may go straight on. */
  private async runStage(p: Project, stage: StageId): Promise<boolean> {
    const mod = STAGES[stage];
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "running", message: STAGE_TITLES[stage] });
    if (mod.notebookBeforeRun) this.notebook.write(p, stage, true);
    let gate;
    try {
      gate = await mod.run(p.contextFor(stage));
    } catch (err) {
      p.resumeSearch = null;
      this.fail(p, stage, this.closing ? new Error(INTERRUPTED_MESSAGE) : err);
      return false;
    }
    p.resumeSearch = null;
    if (this.closing) {
      // a search cut short by the stop ends early but looks whole: it is not
      this.fail(p, stage, new Error(INTERRUPTED_MESSAGE));
      return false;
    }
    switch (gate.kind) {
      case "done":
        return this.complete(p, stage, "done");
      case "review":
        if (p.meta.auto) return this.complete(p, stage, gate.summary);
        this.wait(p, stage, gate.summary, [{ id: GATE_ACTIONS.continue, label: nextStageLabel(stage) }, ...(gate.more_actions?.() ?? [])]);
        return false;
      case "plan":
        p.bus.emit(stage, EV.PLAN_PROPOSED, { stage_id: stage, plan_json: gate.plan });
        if (p.meta.auto) {
          try {
            await this.approvePlan(p, stage, gate.plan, false);
          } catch {
            return false; // approvePlan has already reported the failure
          }
          return true;
        }
        this.wait(p, stage, gate.summary, PLAN_ACTIONS);
        return false;
      case "input":
        this.wait(p, stage, gate.summary, gate.next_actions);
        return false;
    }
  }

  private async approvePlan(p: Project, stage: StageId, plan: Record<string, unknown>, edited: boolean): Promise<void> {
    const mod = STAGES[stage];
    const ctx = p.contextFor(stage);
    if (edited) mod.checkPlan?.(ctx, plan); // an InputError here changes nothing
    p.bus.emit(stage, EV.PLAN_APPROVED, edited ? { stage_id: stage, plan_json: plan } : { stage_id: stage });
    if (p.snapshot.stages[stage].status !== "running") {
      p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "running", message: "applying the approved plan" });
    }
    try {
      await mod.approve?.(ctx, plan);
    } catch (err) {
      if (isInputError(err) && !p.meta.auto) {
        // back to the gate with the plan as it was sent, so the person can fix it
        p.bus.emit(stage, EV.PLAN_PROPOSED, { stage_id: stage, plan_json: plan });
        this.wait(p, stage, `The plan could not be applied: ${err.message}`, PLAN_ACTIONS);
      } else {
        this.fail(p, stage, err);
      }
      throw err;
    }
    this.complete(p, stage, "plan applied");
  }

  private wait(p: Project, stage: StageId, summary: string, nextActions: NextAction[]): void {
    // nothing after a gate can stand as completed: it will be redone from what the gate decides
    this.markLaterStale(p, stage, `waits for ${STAGE_TITLES[stage]}`);
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "waiting", message: summary });
    p.bus.emit(stage, EV.WAITING_CONFIRMATION, { stage_id: stage, summary, next_actions: nextActions });
  }

  private complete(p: Project, stage: StageId, message: string): true {
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "completed", message });
    this.notebook.write(p, stage);
    return true;
  }

  private fail(p: Project, stage: StageId, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!isInputError(err)) this.logger.error(`project ${p.meta.id} ${stage} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "failed", message });
  }

  /** Runs a stage whose inputs changed (REVIEW_EDIT, EXPORT after a notebook re-run) straight through, without its gate. */
  async rerunWithoutGate(p: Project, stage: StageId): Promise<boolean> {
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "running", message: "running again: its inputs changed" });
    if (STAGES[stage].notebookBeforeRun) this.notebook.write(p, stage, true);
    try {
      const gate = await STAGES[stage].run(p.contextFor(stage));
      if (gate.kind === "input" || gate.kind === "plan") throw new Error(`${stage} needs a decision; run its cells from the notebook instead`);
    } catch (err) {
      this.fail(p, stage, err);
      return false;
    }
    this.complete(p, stage, "ran again");
    return true;
  }

  /** Marks the completed stages after `stage` stale: their results no longer follow from it. */
  markLaterStale(p: Project, stage: StageId, reason: string): StageId[] {
    const after = STAGE_IDS.slice(STAGE_IDS.indexOf(stage) + 1);
    const later = after.filter((s) => p.snapshot.stages[s].status === "completed");
    for (const s of later) p.bus.emit(s, EV.STAGE_STATUS, { stage_id: s, status: "stale", message: reason });
    // a gate after it shows results that no longer hold: it runs again, and asks again, once the stale stages are re-run
    const waiting = after.find((s) => p.snapshot.stages[s].status === "waiting");
    if (waiting) p.bus.emit(waiting, EV.STAGE_STATUS, { stage_id: waiting, status: "pending", message: `to run again: ${reason}` });
    return waiting ? [...later, waiting] : later;
  }

  /** Marks `from` and every stage after it pending again, so the machine reruns them. */
  private rewind(p: Project, from: StageId, reason: string): void {
    const start = STAGE_IDS.indexOf(from);
    for (const s of STAGE_IDS.slice(start)) {
      if (p.snapshot.stages[s].status !== "pending") {
        p.bus.emit(s, EV.STAGE_STATUS, { stage_id: s, status: "pending", message: `reset: ${reason}` });
      }
    }
    p.work.forget(start <= STAGE_IDS.indexOf("DATA_SOURCE") ? "table" : "split");
  }

  /** A stage that was running when the process stopped did not finish: say so, and let it be retried. */
  private recoverInterrupted(p: Project): void {
    // a run cut off by the crash still needs its end, or its story in the log never closes
    for (const run of Object.values(p.snapshot.runs)) {
      if (run.status !== "running") continue;
      p.bus.emit("TRAIN", EV.TRAIN_RUN_FINISHED, {
        run_id: run.run_id,
        status: "failed",
        final_metrics: null,
        reason: "interrupted: the conductor stopped during this run",
      });
    }
    for (const s of STAGE_IDS) {
      if (p.snapshot.stages[s].status === "running") {
        p.bus.emit(s, EV.STAGE_STATUS, { stage_id: s, status: "failed", message: INTERRUPTED_MESSAGE });
      }
    }
  }
}

function nextStageLabel(stage: StageId): string {
  const next = STAGE_IDS[STAGE_IDS.indexOf(stage) + 1];
  return next ? `Continue to ${STAGE_TITLES[next].toLowerCase()}` : "Finish";
}
