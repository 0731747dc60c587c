/**
 * One project in memory: its folder, its bus, the state folded from its events, and the
 * working results its stages hand to each other.
 */
import * as path from "node:path";
import { applyEvent, snapshotFromEvents, type ProjectSnapshot, type StageId } from "../../contract";
import { AssetStore } from "../assets/asset-store";
import { stageSink } from "../events/event-sink";
import { ProjectEventBus, type EventBusOptions } from "../events/project-event-bus";
import type { Logger } from "../logging/logger";
import { PipelineRuntime } from "../runtime/pipeline-runtime";
import type { SearchSoFar, StageContext } from "../stages/stage";
import { EVENTS_FILE, writeProjectMeta, type ProjectMeta } from "./project-meta";
import { WorkingSet } from "./working-set";

export class Project {
  readonly snapshot: ProjectSnapshot;
  readonly assets: AssetStore;
  readonly work: WorkingSet;
  readonly runtime: PipelineRuntime;
  /** set while the conductor drives this project's stages */
  activity: Promise<void> | null = null;
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
    this.work = new WorkingSet(this.snapshot, this.assets);
    this.runtime = new PipelineRuntime({
      sinkFor: (stage) => stageSink(bus, stage),
      assets: this.assets,
      pacing: meta.pacing,
      signal: this.abort.signal,
      standing: async () => ({ leaderboard: this.snapshot.leaderboard, best: this.snapshot.best }),
    });
  }

  static open(meta: ProjectMeta, dir: string, options: EventBusOptions): Project {
    const bus = ProjectEventBus.open(meta.id, path.join(dir, EVENTS_FILE), options);
    return new Project(meta, dir, bus, options.logger);
  }

  /** set while a stage's notebook cell runs (with the earlier cells it needs): what runs, for a 409 */
  notebookRun: string | null = null;

  get busy(): boolean {
    return this.activity !== null || this.notebookRun !== null;
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
      work: this.work,
      logger: this.logger,
      signal: this.abort.signal,
      resume: stage === "TRAIN" ? this.resumeSearch : null,
    };
  }

  /** Stops whatever runs (training checks the signal between steps) and closes the log. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.activity?.catch(() => undefined);
    this.bus.close();
  }
}
