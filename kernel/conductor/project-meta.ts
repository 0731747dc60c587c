/**
 * What a project was asked to do: `project.json` in its folder. Everything a project
 * decided since is in its event log.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";

export const projectMetaSchema = z.object({
  id: z.string(),
  prompt: z.string(),
  /** a target named by the person; null lets the parser and the data decide */
  target: z.string().nullable(),
  /** the person's data file, copied into the project (relative to its folder) */
  data_file: z.string().nullable(),
  auto: z.boolean(),
  pacing: z.boolean(),
  seed: z.number().int(),
  created_at: z.string(),
});
export type ProjectMeta = z.infer<typeof projectMetaSchema>;

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
