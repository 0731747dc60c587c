/**
 * What a project was asked to do: `project.json` in its folder (its schema is in the contract).
 * Everything a project decided since is in its event log.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_FILE_EXTENSIONS, projectMetaSchema, type ProjectMeta } from "../../contract";

export type { ProjectMeta };

export const PROJECT_FILE = "project.json";
export const EVENTS_FILE = "events.jsonl";

export function readProjectMeta(dir: string): ProjectMeta {
  const file = path.join(dir, PROJECT_FILE);
  return projectMetaSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")));
}

export function writeProjectMeta(dir: string, meta: ProjectMeta): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, PROJECT_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(meta, null, 2) + "\n");
  fs.renameSync(`${file}.tmp`, file);
}

/** A plain file name for the project's data folder; a name without a data file's ending is given .csv. */
export function safeDataFileName(fileName: string): string {
  const base =
    path
      .basename(fileName)
      .replace(/[^\w.-]+/g, "_")
      .replace(/^\.+/, "") || "upload.csv";
  const named = DATA_FILE_EXTENSIONS.some((ext) => base.toLowerCase().endsWith(`.${ext}`)) ? base : `${base}.csv`;
  // file systems allow 255 bytes per name: a long name keeps its start and its extension
  const ext = path.extname(named);
  return named.length > MAX_NAME ? named.slice(0, MAX_NAME - ext.length) + ext : named;
}

const MAX_NAME = 100;
