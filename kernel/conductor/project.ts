/**
 * One project in memory: its folder, its bus, the state folded from its events, and the
 * working results its stages hand to each other.
 */
import * as path from "node:path";
import { applyEvent, snapshotFromEvents, type ProjectSnapshot, type StageId } from "../../contract";
import { AgentModel, tokensSpent } from "../agents/agent-model";
import { llmSettingsFromEnv } from "../agents/llm-types";
import { AssetStore } from "../assets/asset-store";
import { appendAudit, readAudit } from "../assets/audit-log";
import { stageSink } from "../events/event-sink";
import { ProjectEventBus, type EventBusOptions } from "../events/project-event-bus";
import { InputError } from "../errors/input-error";
import { ConflictError } from "../errors/request-errors";
import { taskFor, whatWeBuild } from "../tasks";
import type { Logger } from "../logging/logger";
import { PipelineRuntime } from "../runtime/pipeline-runtime";
import type { SearchSoFar, StageContext } from "../stages/stage";
import { EVENTS_FILE, writeProjectMeta, type ProjectMeta } from "./project-meta";
import { WorkingSet } from "../stages/working-set";

export class Project {
  readonly snapshot: ProjectSnapshot;
  readonly assets: AssetStore;
  readonly work: WorkingSet;
  readonly runtime: PipelineRuntime;
  /** the language model as the project's agents ask it (or their rules, when there is none) */
  readonly agents: AgentModel;
  /** set by a resume of an interrupted search, for TRAIN's next run only */
  resumeSearch: SearchSoFar | null = null;
  private abort = new AbortController();

  private constructor(
    public meta: ProjectMeta,
    readonly dir: string,
    readonly bus: ProjectEventBus,
    private readonly logger: Logger,
  ) {
    this.snapshot = snapshotFromEvents(meta.id, bus.eventsSince(0));
    bus.subscribe((e) => applyEvent(this.snapshot, e));
    this.assets = new AssetStore(meta.id, dir);
    this.agents = new AgentModel(llmSettingsFromEnv(), {
      audit: (records) => appendAudit(this.assets, records),
      spentTokens: tokensSpent(readAudit(this.assets)),
    });
    this.work = new WorkingSet(this.snapshot, this.assets, () => taskFor(this.snapshot.intent?.task_type));
    this.runtime = new PipelineRuntime({
      sinkFor: (stage) => stageSink(bus, stage),
      assets: this.assets,
      pacing: meta.pacing,
      signal: this.abort.signal,
      state: async () => this.snapshot,
    });
  }

  static open(meta: ProjectMeta, dir: string, options: EventBusOptions): Project {
    const bus = ProjectEventBus.open(meta.id, path.join(dir, EVENTS_FILE), options);
    return new Project(meta, dir, bus, options.logger);
  }

  /**
   * The one piece of work the project runs now (the stage machine's loop, a stage cell from
   * the notebook, an export), if any: the only owner of "busy". Everything that changes the
   * project's stages runs through runExclusive, so two of them never interleave.
   */
  private current: { what: () => string; until: string; done: Promise<void> } | null = null;

  get busy(): boolean {
    return this.current !== null;
  }

  /** What runs now, in words ("TRAIN", "the Train and evaluate cell from the notebook"), or null. */
  get running(): string | null {
    return this.current?.what() ?? null;
  }

  /**
   * Runs `work` as the project's one piece of work. While another runs it is refused at once
   * (ConflictError, a 409, naming what runs), never queued or dropped: the caller says so.
   * `what` names the work for that message; `until` says when to try again.
   */
  runExclusive<T>(what: string | (() => string), work: () => Promise<T>, until = "wait for it to finish"): Promise<T> {
    this.refuseWhileBusy();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    this.current = { what: typeof what === "string" ? () => what : what, until, done };
    const run = async (): Promise<T> => {
      try {
        return await work();
      } finally {
        this.current = null;
        release();
      }
    };
    return run();
  }

  /** ConflictError (409) naming what runs, when something does. */
  refuseWhileBusy(): void {
    if (this.current) throw new ConflictError(`Project ${this.meta.id} is running ${this.current.what()}; ${this.current.until}.`);
  }

  /** Resolves once nothing runs (work that starts meanwhile is waited for too). */
  async idle(): Promise<void> {
    while (this.current) await this.current.done;
  }

  saveMeta(meta: ProjectMeta): void {
    writeProjectMeta(this.dir, meta);
    this.meta = meta;
  }

  contextFor(stage: StageId): StageContext {
    return {
      meta: this.meta,
      snapshot: this.snapshot,
      events: stageSink(this.bus, stage),
      runtime: this.runtime,
      assets: this.assets,
      agents: this.agents,
      work: this.work,
      logger: this.logger,
      signal: this.abort.signal,
      resume: stage === "TRAIN" ? this.resumeSearch : null,
      task: () => {
        const type = this.snapshot.intent?.task_type;
        const task = taskFor(type);
        if (!task) throw new InputError(`No task here trains ${type ?? "an unparsed request"}: this version builds ${whatWeBuild()}.`);
        return task;
      },
    };
  }

  /** Stops whatever runs (training checks the signal between steps) and closes the log. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.idle();
    await this.runtime.close();
    this.bus.close();
  }
}
