/**
 * The conductor: one workspace's projects (ProjectStore), the stage machine that takes them
 * through their stages (StageMachine), the notebook writer it fills the notebook with
 * (NotebookWriter) and the runner that re-runs stages from the notebook (NotebookRunner).
 * This facade is what the server and the CLI call; it only wires the parts together.
 */
import * as path from "node:path";
import type {
  ConfirmRequest,
  CreateProjectRequest,
  EventPayload,
  ParseRequest,
  PredictFileRequest,
  PredictFileResponse,
  PredictRequest,
  PredictResponse,
  ProjectStateResponse,
} from "../../contract";
import type { Logger } from "../logging/logger";
import type { KernelLimits } from "../notebook-kernel/kernel-session";
import { NotebookRunner } from "./notebook-runner";
import { NotebookWriter } from "./notebook-writer";
import type { Project } from "./project";
import { ProjectPredictions } from "./project-predictions";
import { ProjectStore, type ProjectStoreOptions } from "./project-store";
import { StageMachine } from "./stage-machine";

export interface ConductorOptions extends ProjectStoreOptions {
  /** what notebook kernels may use (default: DEFAULT_KERNEL_LIMITS) */
  kernelLimits?: KernelLimits;
}

export class Conductor {
  readonly projectsDir: string;
  /** cells run in each project's kernel */
  readonly notebook: NotebookRunner;
  private readonly machine: StageMachine;
  private readonly predictions = new ProjectPredictions();

  private constructor(
    private readonly store: ProjectStore,
    logger: Logger,
    kernelLimits: KernelLimits | undefined,
  ) {
    this.projectsDir = store.projectsDir;
    this.machine = new StageMachine(new NotebookWriter(path.dirname(store.projectsDir)), logger);
    this.notebook = new NotebookRunner(this.machine, logger, kernelLimits);
  }

  /** Opens the workspace (see ProjectStore.open); each project resumes where its log left it. */
  static open(options: ConductorOptions): Conductor {
    const c = new Conductor(ProjectStore.open(options), options.logger, options.kernelLimits);
    for (const p of c.store.all()) c.machine.resume(p);
    return c;
  }

  list(): ProjectStateResponse[] {
    return this.store.list();
  }

  get(id: string): Project {
    return this.store.get(id);
  }

  state(id: string): ProjectStateResponse {
    return this.store.state(id);
  }

  /** A new project, which starts on its stages at once. */
  async createProject(req: CreateProjectRequest): Promise<Project> {
    const project = await this.store.create(req);
    this.machine.resume(project);
    return project;
  }

  /** Passes the gate the project waits at (resolves once the answer is applied). */
  confirm(id: string, req: ConfirmRequest): Promise<void> {
    return this.machine.confirm(this.get(id), req);
  }

  /** Re-reads the intent (a new prompt and/or target) and runs the project again from PARSE_INTENT. */
  parse(id: string, req: ParseRequest): Promise<void> {
    return this.machine.parse(this.get(id), req);
  }

  /** Takes the person's data file (already written to `tempFile`); DATA_SOURCE runs again with it. */
  upload(id: string, fileName: string, tempFile: string): Promise<void> {
    const p = this.get(id);
    return this.machine.dataChanged(p, () => this.store.keepDataFile(p, fileName, tempFile));
  }

  /** Runs the failed stage again (with `resume`, carries on a search a stop cut short). */
  retry(id: string, options: { resume?: boolean } = {}): Promise<void> {
    return this.machine.retry(this.get(id), options);
  }

  /** Produces the export zip now, through the EXPORT stage. */
  exportNow(id: string): Promise<EventPayload<"EXPORT_READY">> {
    return this.machine.exportNow(this.get(id));
  }

  /** The best model's predictions for rows given as records (see ProjectPredictions). */
  predict(id: string, req: PredictRequest): PredictResponse {
    return this.predictions.predict(this.get(id), req);
  }

  /** The best model's predictions for a data file, written beside it (see ProjectPredictions). */
  predictFile(id: string, req: PredictFileRequest): Promise<PredictFileResponse> {
    return this.predictions.predictFile(this.get(id), req);
  }

  /** Resolves when the project stops at a gate, fails, or finishes. */
  idle(id: string): Promise<void> {
    return this.get(id).idle();
  }

  /** Records in the workspace lock where this conductor listens, so other clients can attach. */
  publishEndpoint(port: number, token: string): void {
    this.store.publishEndpoint(port, token);
  }

  /** Whether any project is running something (a conductor that serves others stays up until none is). */
  anyBusy(): boolean {
    return this.store.all().some((p) => p.busy);
  }

  async close(): Promise<void> {
    this.machine.beginClosing();
    try {
      await this.notebook.closeAll();
    } finally {
      await this.store.close();
    }
  }
}
