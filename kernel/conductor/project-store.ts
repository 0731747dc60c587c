/**
 * The workspace's projects: opened from their folders under `.automl/projects` (each resuming
 * from its event log), created, listed, given a data file. It holds the workspace lock, so one
 * live conductor writes a workspace's logs. It runs no stage: the stage machine does.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { classFolderRoot, copyImageFolder, extractImageZip } from "../data/image-folder";
import { DEFAULT_KEEP_MODELS, PROJECT_ID_PATTERN, type CreateProjectRequest, type ProjectStateResponse } from "../../contract";
import { copyDataFile } from "../data/data-file-copy";
import { loadTableOffThread } from "../data/table-load";
import { NotFoundError } from "../errors/request-errors";
import { InputError } from "../errors/input-error";
import type { Logger } from "../logging/logger";
import { Project } from "./project";
import { PROJECT_FILE, readProjectMeta, safeDataFileName, writeProjectMeta, type ProjectMeta } from "./project-meta";
import { WorkspaceLock } from "./workspace-lock";

export interface ProjectStoreOptions {
  workspace: string;
  logger: Logger;
  /** refuse events that break the contract (tests) instead of logging them */
  strictContract: boolean;
  /** what opened the workspace (`serve`, `run`), recorded in its lock for whoever finds it held */
  command?: string;
}

export class ProjectStore {
  private readonly projects = new Map<string, Project>();
  readonly projectsDir: string;

  private constructor(
    private readonly options: ProjectStoreOptions,
    private readonly lock: WorkspaceLock,
  ) {
    this.projectsDir = path.join(path.resolve(options.workspace), ".automl", "projects");
  }

  /**
   * Takes the workspace's lock (WorkspaceBusyError when another live conductor holds it: its
   * logs are that one's to write) and opens every project in it. A project that cannot be
   * opened is skipped, and said so.
   */
  static open(options: ProjectStoreOptions): ProjectStore {
    const lock = WorkspaceLock.acquire(path.join(path.resolve(options.workspace), ".automl"), options.command ?? "serve");
    if (lock.tookOverFrom)
      options.logger.warn(`took over the workspace lock of process ${lock.tookOverFrom.pid}, which is gone (started ${lock.tookOverFrom.started_at})`);
    const store = new ProjectStore(options, lock);
    fs.mkdirSync(store.projectsDir, { recursive: true });
    for (const id of fs.readdirSync(store.projectsDir)) {
      const dir = path.join(store.projectsDir, id);
      if (!PROJECT_ID_PATTERN.test(id) || !fs.existsSync(path.join(dir, PROJECT_FILE))) continue;
      try {
        store.projects.set(id, Project.open(readProjectMeta(dir), dir, store.busOptions()));
      } catch (err) {
        options.logger.error(`project ${id} could not be opened and is skipped: ${(err as Error).message}`);
      }
    }
    return store;
  }

  private busOptions() {
    return { strictContract: this.options.strictContract, logger: this.options.logger };
  }

  all(): Project[] {
    return [...this.projects.values()];
  }

  list(): ProjectStateResponse[] {
    return this.all().map((p) => this.state(p.meta.id));
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

  /**
   * A new project folder with its request (and a copy of its data file, checked readable
   * first: a file that cannot be a table leaves no project behind).
   */
  async create(req: CreateProjectRequest): Promise<Project> {
    if (req.data_path && req.source) {
      throw new InputError(`Give the data one way: a file (data_path, --data) or a dataset to fetch (source, --source), not both.`);
    }
    const id = newProjectId(req.prompt);
    const dir = path.join(this.projectsDir, id);
    let dataFile: string | null = null;
    const images = req.data_path ? await imageFolderOf(path.resolve(req.data_path)) : null;
    if (images) {
      // a labelled image folder (a subfolder of images per class), or a zip of one: its images copied, with their index
      try {
        dataFile = keepImages(dir, images, path.basename(path.resolve(req.data_path!)));
      } catch (error) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw error;
      } finally {
        images.cleanup();
      }
    } else if (req.data_path) {
      const source = path.resolve(req.data_path);
      await loadTableOffThread(source); // refuse an unreadable file before a project exists
      dataFile = `data/${safeDataFileName(path.basename(source))}`;
      try {
        await copyDataFile(source, path.join(dir, dataFile));
      } catch (error) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw error;
      }
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
      keep_models: req.keep_models ?? DEFAULT_KEEP_MODELS,
      task_type: null,
      dataset_source: req.source ?? null,
      created_at: new Date().toISOString(),
    };
    writeProjectMeta(dir, meta);
    const project = Project.open(meta, dir, this.busOptions());
    this.projects.set(id, project);
    this.options.logger.info(`project ${id} created: ${JSON.stringify(meta.prompt)}`);
    return project;
  }

  /**
   * Keeps the person's data file (already written to `tempFile`) as the project's: checked
   * readable first, so a bad file changes nothing. Returns its path inside the project.
   */
  async keepDataFile(p: Project, fileName: string, tempFile: string): Promise<string> {
    // an uploaded zip of a labelled image folder: its images, with their index
    const images = /\.zip$/i.test(fileName) ? await imageFolderOf(tempFile, fileName) : null;
    if (images) {
      try {
        const rel = keepImages(p.dir, images, fileName);
        p.saveMeta({ ...p.meta, data_file: rel });
        return rel;
      } finally {
        images.cleanup();
      }
    }
    const rel = `data/${safeDataFileName(fileName)}`;
    await loadTableOffThread(tempFile, path.basename(rel));
    await copyDataFile(tempFile, path.join(p.dir, rel));
    p.saveMeta({ ...p.meta, data_file: rel });
    return rel;
  }

  /** Records in the workspace lock where this conductor listens, so other clients can attach. */
  publishEndpoint(port: number, token: string): void {
    this.lock.publish(port, token);
  }

  /** Closes every project (waiting for the work each runs to stop) and releases the lock. */
  async close(): Promise<void> {
    try {
      await Promise.all(this.all().map((p) => p.close()));
      this.projects.clear();
    } finally {
      this.lock.release();
    }
  }
}

function newProjectId(prompt: string): string {
  const slug = prompt
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join("-")
    .slice(0, 40)
    .replace(/-$/, "");
  return `${slug || "project"}-${randomBytes(3).toString("hex")}`;
}

/** The labelled image folder a data path is (a folder, or a zip of one: extracted into a temporary folder), or null for a data file. */
async function imageFolderOf(source: string, shownAs = source): Promise<{ folder: string; notes: string[]; cleanup(): void } | null> {
  const stat = fs.statSync(source, { throwIfNoEntry: false });
  // a folder with images in class subfolders (or its train/ folder's; one class is refused with why, by copyImageFolder); any other folder is refused as data
  if (stat?.isDirectory()) {
    const root = classFolderRoot(source);
    return root ? { ...root, cleanup: () => undefined } : null;
  }
  if (!stat?.isFile() || !/\.zip$/i.test(shownAs)) return null;
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "automl-images-"));
  const cleanup = () => fs.rmSync(temp, { recursive: true, force: true });
  try {
    const found = await extractImageZip(source, shownAs, temp);
    if (found) return { ...found, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
  cleanup();
  return null;
}

/** Copies a labelled image folder into the project's data folder with its index; returns the index's path in the project. */
function keepImages(projectDir: string, found: { folder: string; notes: string[] }, shownName: string): string {
  // a folder's name as it is (a data file's name gets .csv added: not a folder's)
  const name =
    path
      .basename(shownName.replace(/\.zip$/i, ""))
      .replace(/[^\w.-]+/g, "_")
      .replace(/^\.+/, "")
      .slice(0, 80) || "images";
  const copied = copyImageFolder(found.folder, path.join(projectDir, "data", name), `data/${name}`, found.notes);
  return path.relative(projectDir, copied.index).split(path.sep).join("/");
}
