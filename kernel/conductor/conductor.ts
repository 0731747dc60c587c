/**
 * The stage machine. It runs a project's stages in order, stops at every gate
 * (WAITING_CONFIRMATION) unless the project is in auto mode, reports a failed stage with
 * its reason and retries it on request without touching the stages before it. Every
 * decision it makes is an event, so a restarted conductor resumes from the logs.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  EV,
  GATE_ACTIONS,
  INTERRUPTED_MESSAGE,
  PROJECT_ID_PATTERN,
  canResumeSearch,
  wasInterrupted,
  STAGE_IDS,
  STAGE_TITLES,
  type ConfirmRequest,
  type CreateProjectRequest,
  type EventPayload,
  type NextAction,
  type ParseRequest,
  type ProjectStateResponse,
  type StageId,
  type TaskType,
} from "../../contract";
import { InputError, isInputError } from "../errors/input-error";
import { ConflictError, NotFoundError } from "../errors/request-errors";
import { loadTableFile } from "../data/table-loader";
import type { Logger } from "../logging/logger";
import { NOTEBOOK_FILE, readNotebook, renderNotebook } from "../notebook/pipeline-notebook";
import { STAGES } from "../stages";
import { ensureNotebookModules } from "../notebook-kernel/notebook-modules";
import { NotebookRunner } from "./notebook-runner";
import { Project } from "./project";
import { searchSoFar } from "./search-resume";
import { WorkspaceLock } from "./workspace-lock";
import { PROJECT_FILE, readProjectMeta, safeDataFileName, writeProjectMeta, type ProjectMeta } from "./project-meta";

export interface ConductorOptions {
  workspace: string;
  logger: Logger;
  /** refuse events that break the contract (tests) instead of logging them */
  strictContract: boolean;
  /** what opened the workspace (`serve`, `run`), recorded in its lock for whoever finds it held */
  command?: string;
}

const PLAN_ACTIONS: NextAction[] = [
  { id: GATE_ACTIONS.approve, label: "Approve plan" },
  { id: GATE_ACTIONS.edit, label: "Approve an edited plan", description: "POST /confirm with plan_json" },
];

export class Conductor {
  private readonly projects = new Map<string, Project>();
  readonly projectsDir: string;
  /** cells run in each project's kernel */
  readonly notebook: NotebookRunner;

  private constructor(
    private readonly options: ConductorOptions,
    private readonly lock: WorkspaceLock,
  ) {
    this.projectsDir = path.join(path.resolve(options.workspace), ".automl", "projects");
    this.notebook = new NotebookRunner(this, options.logger);
  }

  /**
   * Opens the workspace: takes its lock (WorkspaceBusyError when another live conductor holds
   * it: its logs are that one's to write), then loads every project from its log, each resuming
   * where it was.
   */
  static open(options: ConductorOptions): Conductor {
    const lock = WorkspaceLock.acquire(path.join(path.resolve(options.workspace), ".automl"), options.command ?? "serve");
    if (lock.tookOverFrom) options.logger.warn(`took over the workspace lock of process ${lock.tookOverFrom.pid}, which is gone (started ${lock.tookOverFrom.started_at})`);
    const c = new Conductor(options, lock);
    fs.mkdirSync(c.projectsDir, { recursive: true });
    for (const id of fs.readdirSync(c.projectsDir)) {
      const dir = path.join(c.projectsDir, id);
      if (!PROJECT_ID_PATTERN.test(id) || !fs.existsSync(path.join(dir, PROJECT_FILE))) continue;
      try {
        const project = Project.open(readProjectMeta(dir), dir, c.busOptions());
        c.projects.set(id, project);
        c.recoverInterrupted(project);
        c.drive(project);
      } catch (err) {
        options.logger.error(`project ${id} could not be opened and is skipped: ${(err as Error).message}`);
      }
    }
    return c;
  }

  private busOptions() {
    return { strictContract: this.options.strictContract, logger: this.options.logger };
  }

  list(): ProjectStateResponse[] {
    return [...this.projects.values()].map((p) => this.state(p.meta.id));
  }

  get(id: string): Project {
    const p = PROJECT_ID_PATTERN.test(id) ? this.projects.get(id) : undefined;
    if (!p) throw new NotFoundError(`No project ${JSON.stringify(id)} in this workspace. GET /api/projects lists the projects there are.`);
    return p;
  }

  state(id: string): ProjectStateResponse {
    const p = this.get(id);
    return { meta: p.meta, busy: p.busy, snapshot: p.snapshot };
  }

  createProject(req: CreateProjectRequest): Project {
    const id = newProjectId(req.prompt);
    const dir = path.join(this.projectsDir, id);
    let dataFile: string | null = null;
    if (req.data_path) {
      const source = path.resolve(req.data_path);
      loadTableFile(source); // refuse an unreadable file before a project exists
      dataFile = `data/${path.basename(source)}`;
      fs.mkdirSync(path.join(dir, "data"), { recursive: true });
      fs.copyFileSync(source, path.join(dir, dataFile));
    }
    const meta: ProjectMeta = {
      id,
      prompt: req.prompt.trim(),
      target: req.target ?? null,
      data_file: dataFile,
      auto: req.auto ?? false,
      pacing: req.pacing ?? true,
      seed: req.seed ?? 42,
      time_budget_s: req.time_budget_s ?? null,
      task_type: null,
      created_at: new Date().toISOString(),
    };
    writeProjectMeta(dir, meta);
    const project = Project.open(meta, dir, this.busOptions());
    this.projects.set(id, project);
    this.options.logger.info(`project ${id} created: ${JSON.stringify(meta.prompt)}`);
    this.drive(project);
    return project;
  }

  /** Passes the gate the project waits at. */
  async confirm(id: string, req: ConfirmRequest): Promise<void> {
    const p = this.get(id);
    const waiting = p.snapshot.waiting;
    if (!waiting || p.snapshot.stages[waiting.stage_id].status !== "waiting") {
      throw new ConflictError(`Project ${id} is not waiting for a confirmation (current stage ${p.snapshot.current_stage} is ${p.snapshot.stages[p.snapshot.current_stage].status}).`);
    }
    // a stage cell running from the notebook may change what this gate shows (and then resets it)
    if (p.notebookRun) throw new ConflictError(`Project ${id} is running ${p.notebookRun} from the notebook; answer the gate when it is done.`);
    const stage = waiting.stage_id;
    if (req.stage_id && req.stage_id !== stage) {
      throw new ConflictError(`Project ${id} waits at ${stage}, not ${req.stage_id}. Confirm ${stage} first.`);
    }
    const action = req.action ?? waiting.next_actions[0]!.id;
    const offered = waiting.next_actions.find((a) => a.id === action);
    if (!offered) {
      throw new InputError(`Action ${JSON.stringify(action)} is not offered at ${STAGE_TITLES[stage]}; choose one of: ${waiting.next_actions.map((a) => a.id).join(", ")}.`);
    }
    if (action === GATE_ACTIONS.chooseTarget || action === GATE_ACTIONS.setTask || action === GATE_ACTIONS.editPrompt) {
      this.changeRequest(p, offered, req);
      return;
    }
    if (action === GATE_ACTIONS.upload) {
      throw new ConflictError(`${STAGE_TITLES[stage]} needs a data file before it can continue: upload a CSV, TSV or JSON file.`);
    }
    const proposed = p.snapshot.plans[stage];
    if (proposed && !proposed.approved) {
      if (action === GATE_ACTIONS.edit && !req.plan_json) throw new InputError(`To edit the plan, send the edited plan as plan_json.`);
      await this.approvePlan(p, stage, req.plan_json ?? proposed.plan_json, req.plan_json !== undefined);
    } else {
      this.complete(p, stage, "confirmed");
    }
    this.drive(p);
  }

  /**
   * A gate's choice that changes the request: another target or task runs the stages from
   * DATA_SOURCE again with the intent amended (the parse stands); a reworded prompt runs the
   * project again from PARSE_INTENT.
   */
  private changeRequest(p: Project, action: NextAction, req: ConfirmRequest): void {
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
      this.parse(p.meta.id, { prompt: req.prompt });
      return;
    }
    if (!intent) throw new ConflictError(`Project ${p.meta.id} has no parsed request to change yet.`);
    const target = action.id === GATE_ACTIONS.chooseTarget ? choose(req.target, "target column") : intent.target;
    const task = action.id === GATE_ACTIONS.setTask ? (choose(req.task_type, "task") as TaskType) : intent.task_type;
    p.saveMeta({ ...p.meta, target: target ?? p.meta.target, task_type: action.id === GATE_ACTIONS.setTask ? task : p.meta.task_type });
    this.rewind(p, "DATA_SOURCE", action.id === GATE_ACTIONS.chooseTarget ? `target changed to ${target}` : `task changed to ${task}`);
    p.bus.emit("PARSE_INTENT", EV.PROMPT_PARSED, { ...intent, target, task_type: task, constraints: { ...intent.constraints, task_source: "person" } });
    this.drive(p);
  }

  /** Re-reads the intent (a new prompt and/or target) and runs the project again from PARSE_INTENT. */
  parse(id: string, req: ParseRequest): void {
    const p = this.get(id);
    this.refuseWhileBusy(p);
    p.saveMeta({ ...p.meta, prompt: req.prompt ?? p.meta.prompt, target: req.target ?? p.meta.target });
    this.rewind(p, "PARSE_INTENT", "the request changed");
    this.drive(p);
  }

  /** Takes the person's data file (already written to `tempFile`, with the same extension as `fileName`). */
  upload(id: string, fileName: string, tempFile: string): void {
    const p = this.get(id);
    this.refuseWhileBusy(p);
    loadTableFile(tempFile); // refuse an unreadable file before anything changes
    const rel = `data/${safeDataFileName(fileName)}`;
    fs.mkdirSync(path.join(p.dir, "data"), { recursive: true });
    fs.copyFileSync(tempFile, path.join(p.dir, rel));
    p.saveMeta({ ...p.meta, data_file: rel });
    if (p.snapshot.stages.DATA_SOURCE.status !== "pending") this.rewind(p, "DATA_SOURCE", `new data uploaded: ${path.basename(rel)}`);
    this.drive(p);
  }

  /**
   * Runs the failed stage again; the stages before it keep what they did. With `resume`, a
   * search cut short by a stop carries on: its finished runs stay on the leaderboard and it
   * spends what was left of its budget.
   */
  retry(id: string, options: { resume?: boolean } = {}): void {
    const p = this.get(id);
    this.refuseWhileBusy(p);
    const failed = STAGE_IDS.find((s) => p.snapshot.stages[s].status === "failed");
    if (!failed) throw new ConflictError(`Project ${id} has no failed stage to retry.`);
    if (options.resume) {
      if (!canResumeSearch(p.snapshot)) {
        throw new ConflictError(`Only a search that a stop cut short can be resumed; ${STAGE_TITLES[failed]} ${wasInterrupted(p.snapshot.stages[failed]) ? "was not a search" : "failed on its own"}. Retry it instead.`);
      }
      p.resumeSearch = searchSoFar(p.bus.eventsSince(0));
    }
    this.drive(p, true);
  }

  /** Produces the export zip now, through the EXPORT stage, once the stages before it are done. */
  async exportNow(id: string): Promise<EventPayload<"EXPORT_READY">> {
    const p = this.get(id);
    this.refuseWhileBusy(p);
    const unfinished = STAGE_IDS.slice(0, STAGE_IDS.indexOf("EXPORT")).find((s) => !["completed", "stale"].includes(p.snapshot.stages[s].status));
    if (unfinished) {
      throw new ConflictError(`Project ${id} cannot be exported yet: ${unfinished} is ${p.snapshot.stages[unfinished].status}. Take the pipeline through TRAIN first.`);
    }
    p.activity = this.rerunWithoutGate(p, "EXPORT").then(() => undefined);
    try {
      await p.activity;
    } finally {
      p.activity = null;
    }
    const ready = p.snapshot.export.ready;
    if (p.snapshot.stages.EXPORT.status !== "completed" || !ready) throw new Error(`export failed: ${p.snapshot.stages.EXPORT.message}`);
    return ready;
  }

  /** Resolves when the project stops at a gate, fails, or finishes. */
  async idle(id: string): Promise<void> {
    const p = this.get(id);
    while (p.activity) await p.activity;
  }

  /** Records in the workspace lock where this conductor listens, so other clients can attach. */
  publishEndpoint(port: number, token: string): void {
    this.lock.publish(port, token);
  }

  /** Whether any project is running a stage (a conductor that serves others stays up until none is). */
  anyBusy(): boolean {
    return [...this.projects.values()].some((p) => p.busy);
  }

  /** set once close() began: work cut short by it is reported interrupted, never completed */
  private closing = false;

  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.notebook.closeAll();
      await Promise.all([...this.projects.values()].map((p) => p.close()));
      this.projects.clear();
    } finally {
      this.lock.release();
    }
  }

  // ---- the machine ----

  private drive(p: Project, retryFailed = false): void {
    if (p.activity) return;
    p.activity = this.driveLoop(p, retryFailed)
      .catch((err) => this.options.logger.error(`project ${p.meta.id}: conductor error: ${(err as Error).stack ?? String(err)}`))
      .finally(() => {
        p.activity = null;
      });
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
    }
  }

  /** Runs one stage to its gate. Returns true when the machine may go straight on. */
  private async runStage(p: Project, stage: StageId): Promise<boolean> {
    const mod = STAGES[stage];
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "running", message: STAGE_TITLES[stage] });
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
    this.writeNotebook(p, stage);
    return true;
  }

  private fail(p: Project, stage: StageId, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!isInputError(err)) this.options.logger.error(`project ${p.meta.id} ${stage} failed: ${(err as Error)?.stack ?? message}`);
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "failed", message });
  }

  /**
   * Writes the cells of `after` (just completed) into the notebook, and those of any completed
   * stage the file lacks; cells the person edited elsewhere stay. A broken file is left alone.
   */
  writeNotebook(p: Project, after: StageId): void {
    const sections = STAGE_IDS.filter((s) => p.snapshot.stages[s].status === "completed").map((s) => ({
      stage: s,
      cells: STAGES[s].cells(p.contextFor(s)),
    }));
    let existing;
    try {
      existing = readNotebook(p.assets.absolute(NOTEBOOK_FILE));
    } catch (err) {
      p.bus.emit(after, EV.LOG_LINE, { run_id: null, level: "error", text: (err as Error).message });
      return;
    }
    this.ensureNotebookModules(p, after);
    const written = p.assets.write(NOTEBOOK_FILE, renderNotebook(existing, sections, new Set([after]), p.meta.id));
    p.bus.emit(after, EV.FILE_TREE_UPDATE, { files: [{ path: written.relPath, type: "file", size: written.size, sha: written.sha256 }] });
  }

  private modulesReady = false;
  /** What the notebook imports must resolve from its folder, in our kernel and in plain Jupyter alike. */
  private ensureNotebookModules(p: Project, stage: StageId): void {
    if (this.modulesReady) return;
    try {
      ensureNotebookModules(path.dirname(this.projectsDir));
      this.modulesReady = true;
    } catch (err) {
      p.bus.emit(stage, EV.LOG_LINE, { run_id: null, level: "warn", text: `the notebook's imports are not set up: ${(err as Error).message}` });
    }
  }

  /** Runs a stage whose inputs changed (REVIEW_EDIT, EXPORT after a notebook re-run) straight through, without its gate. */
  async rerunWithoutGate(p: Project, stage: StageId): Promise<boolean> {
    p.bus.emit(stage, EV.STAGE_STATUS, { stage_id: stage, status: "running", message: "running again: its inputs changed" });
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

  /** Takes the project on from where it stands (after its stale stages were re-run from the notebook). */
  carryOn(p: Project): void {
    if (!p.busy && STAGE_IDS.some((s) => p.snapshot.stages[s].status === "pending")) this.drive(p);
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

  private refuseWhileBusy(p: Project): void {
    if (p.notebookRun) throw new ConflictError(`Project ${p.meta.id} is running ${p.notebookRun} from the notebook; wait for it to finish.`);
    if (p.busy) {
      throw new ConflictError(`Project ${p.meta.id} is running ${p.snapshot.current_stage}; wait for it to reach a gate or finish.`);
    }
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

function newProjectId(prompt: string): string {
  const slug = prompt
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return `${slug || "project"}-${randomBytes(3).toString("hex")}`;
}
