/**
 * Images whose classes are in a table rather than in folders (a Kaggle download's images/ with
 * labels.csv: id, label): the table's column naming the image files (by file name, with or
 * without its extension, or a path ending in one; a number names a numbered file however it is
 * padded) is found, and the images it names are copied
 * into the project with an index that puts each image's path in the project beside the table's
 * other columns. Rows naming no image are left out and said.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors/input-error";
import { classFolderName, COPY_NOTES_FILE, MAX_FOLDER_IMAGES } from "./image-folder";
import { isImageFile } from "./image-files";
import { csvCell, IMAGE_INDEX_FILE } from "./packaged-corpora";
import { splitOf } from "./split-names";
import { loadTableFile } from "./table-loader";

/** a column names the images when at least this share of its rows name one */
const MATCHED_SHARE = 0.9;

/**
 * Every image file under `root` (not through links), by its name and by its name without the
 * extension (a name found twice keeps its first), and the tables (CSV, TSV) beside them, a
 * training one first.
 */
function filesUnder(root: string): { images: Map<string, string>; tables: string[] } {
  const images = new Map<string, string>();
  const tables: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith(".") && e.name !== "__MACOSX") walk(full);
      else if (e.isFile() && /\.(csv|tsv)$/i.test(e.name)) tables.push(full);
      else if (e.isFile() && isImageFile(e.name)) {
        const lower = e.name.toLowerCase();
        if (!images.has(lower)) images.set(lower, full);
        const stem = lower.slice(0, lower.length - path.extname(lower).length);
        if (!images.has(stem)) images.set(stem, full);
        // a table's number names a numbered file however it is padded (id 7, or 0007 read as the number 7, for 0007.png)
        if (/^\d+$/.test(stem) && !images.has(`#${Number(stem)}`)) images.set(`#${Number(stem)}`, full);
      }
    }
  };
  walk(root);
  const train = (f: string) => Number(splitOf(path.relative(root, f)) === "train");
  return { images, tables: tables.sort((a, b) => train(b) - train(a) || a.localeCompare(b)) };
}

/** The image a cell names: its file name (after any folders), with or without the extension. */
function imageOf(cell: unknown, images: Map<string, string>): string | undefined {
  if (cell === null || cell === undefined) return undefined;
  if (typeof cell === "number") return Number.isInteger(cell) ? images.get(`#${cell}`) : undefined;
  const name = String(cell).trim().split(/[\\/]/).pop()!.toLowerCase();
  return name ? images.get(name) : undefined;
}

/**
 * The images under `root` that a table beside them names, copied into `dest` (the project
 * folder's `projectPath`) with an index of the image's path and the table's other columns; null
 * when no table has a column naming the images.
 */
export async function indexImagesByTable(root: string, dest: string, projectPath: string): Promise<{ index: string; images: number; notes: string[] } | null> {
  const { images, tables } = filesUnder(root);
  if (images.size === 0) return null;
  for (const file of tables) {
    let records: Array<Record<string, unknown>>;
    let columns: string[];
    try {
      const { table } = await loadTableFile(file, path.basename(file));
      records = table.records();
      columns = table.columnNames;
    } catch {
      continue; // not a table the loader reads: the next one
    }
    const named = columns.find((c) => {
      const hits = records.filter((r) => imageOf(r[c], images) !== undefined).length;
      return records.length > 0 && hits >= MATCHED_SHARE * records.length;
    });
    if (!named) continue;
    if (records.length > MAX_FOLDER_IMAGES)
      throw new InputError(
        `${path.basename(file)} names ${records.length.toLocaleString("en")} images, more than the ${MAX_FOLDER_IMAGES.toLocaleString("en")} a project takes: give a sample of them.`,
      );
    const others = columns.filter((c) => c !== named);
    const staging = `${dest}.partial`;
    fs.rmSync(staging, { recursive: true, force: true });
    const folder = classFolderName(0, "images");
    fs.mkdirSync(path.join(staging, folder), { recursive: true });
    const lines = [[named, ...others].map(csvCell).join(",")];
    let missing = 0;
    try {
      records.forEach((r, i) => {
        const source = imageOf(r[named], images);
        if (!source) {
          missing++;
          return;
        }
        const name = `${String(i).padStart(6, "0")}${path.extname(source).toLowerCase()}`;
        fs.copyFileSync(source, path.join(staging, folder, name));
        lines.push(
          [`${projectPath}/${folder}/${name}`, ...others.map((c) => (r[c] === null || r[c] === undefined ? "" : String(r[c])))].map(csvCell).join(","),
        );
      });
      const notes = [
        `the images named in ${path.basename(file)}'s column ${named} (${(lines.length - 1).toLocaleString("en")} of its ${records.length.toLocaleString("en")} rows), with its other columns (${others.join(", ") || "none"})`,
      ];
      if (missing) notes.push(`${missing.toLocaleString("en")} row(s) of ${path.basename(file)} name no image in the download: left out`);
      fs.writeFileSync(path.join(staging, IMAGE_INDEX_FILE), lines.join("\n") + "\n");
      fs.writeFileSync(path.join(staging, COPY_NOTES_FILE), JSON.stringify(notes));
      fs.rmSync(dest, { recursive: true, force: true });
      fs.renameSync(staging, dest);
      return { index: path.join(dest, IMAGE_INDEX_FILE), images: lines.length - 1, notes };
    } catch (err) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw err;
    }
  }
  return null;
}
