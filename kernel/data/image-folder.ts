/**
 * A person's labelled image folder (a subfolder of images per class, as Keras's
 * image_dataset_from_directory and torchvision's ImageFolder read one) copied into a project,
 * with its index (images.csv). Only PNG and JPEG files are taken, never through a link; a class
 * folder with no image is left out and said.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors/input-error";
import { isImageFile } from "./image-files";
import { csvCell, IMAGE_COLUMN, IMAGE_INDEX_FILE, LABEL_COLUMN } from "./packaged-corpora";
import { checkedZipEntries, extractZipEntry, zipEntries } from "./safe-unzip";

/** beside the index: what copying left out (an empty class folder, files that are not images), said when the data is loaded */
export const COPY_NOTES_FILE = "copy-notes.json";

/** What copying the folder left out, as written beside its index (none for other data). */
export function copyNotesBeside(indexFile: string): string[] {
  const file = path.join(path.dirname(indexFile), COPY_NOTES_FILE);
  try {
    const notes = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    return Array.isArray(notes) ? notes.filter((n): n is string => typeof n === "string") : [];
  } catch {
    return [];
  }
}

/** at most this many images are taken from a folder */
export const MAX_FOLDER_IMAGES = 200_000;

export interface FolderClasses {
  classes: Array<{ label: string; files: string[] }>;
  /** class folders without an image */
  empty: string[];
  /** files that are not PNG or JPEG, or not regular files */
  skipped: number;
}

/** The class folders of `dir` and their image files (sorted), or null when no subfolder holds an image (a data finder wants two classes or more: `isLabelledImageFolder`). */
export function labelledImageFolder(dir: string): FolderClasses | null {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const classes: FolderClasses["classes"] = [];
  const empty: string[] = [];
  let skipped = 0;
  for (const e of entries.filter((x) => x.isDirectory() && !x.name.startsWith(".")).sort((a, b) => a.name.localeCompare(b.name))) {
    let files: fs.Dirent[];
    try {
      files = fs.readdirSync(path.join(dir, e.name), { withFileTypes: true });
    } catch {
      continue;
    }
    const images = files.filter((f) => f.isFile() && isImageFile(f.name)).map((f) => f.name);
    skipped += files.filter((f) => !f.isDirectory()).length - images.length;
    if (images.length) classes.push({ label: e.name, files: images.sort() });
    else empty.push(e.name);
  }
  return classes.length >= 1 ? { classes, empty, skipped } : null;
}

/** A folder a data finder offers as images by class: two class folders with images or more. */
export function isLabelledImageFolder(dir: string): boolean {
  return (labelledImageFolder(dir)?.classes.length ?? 0) >= 2;
}

/**
 * Where the class folders of `dir` are: `dir` itself, or, in a download laid out as
 * train/ and test/ (Kaggle's, a zip's), its training folder; a folder that holds only one
 * folder is looked into. With what was not read, for the notes. Null when none holds classes.
 */
export function classFolderRoot(dir: string): { folder: string; notes: string[] } | null {
  const notes: string[] = [];
  let at = dir;
  for (let depth = 0; depth < 4 && !isLabelledImageFolder(at); depth++) {
    let subs: string[];
    try {
      subs = fs
        .readdirSync(at, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "__MACOSX")
        .map((e) => e.name);
    } catch {
      return null;
    }
    const train = subs.find((s) => /^train(ing)?([ _-]?(set|data|images?))?$/i.test(s));
    if (train) {
      const others = subs.filter((s) => s !== train);
      if (others.length)
        notes.push(`the class folders were read from ${train}/; ${others.map((o) => `${o}/`).join(", ")} not read (the split is made from ${train}/)`);
      at = path.join(at, train);
    } else if (subs.length === 1) at = path.join(at, subs[0]!);
    else break;
  }
  return labelledImageFolder(at) ? { folder: at, notes } : null;
}

/** Copies the folder's images into `dest` (the project folder's `projectPath`) with their index; returns the index and what was left out (after `notes`, what finding the folder said). */
export function copyImageFolder(
  source: string,
  dest: string,
  projectPath: string,
  notes: string[] = [],
): { index: string; images: number; classes: number; notes: string[] } {
  const found = labelledImageFolder(source);
  if (!found) throw new InputError(`${source} is not a labelled image folder: it needs a subfolder per class (cat/, dog/ …) holding PNG or JPEG images.`);
  if (found.classes.length < 2)
    throw new InputError(
      `${source} has images of one class only (${found.classes[0]!.label})${found.empty.length ? `; ${found.empty.join(", ")} ${found.empty.length > 1 ? "have" : "has"} none` : ""}: a classifier needs images of at least two classes.`,
    );
  const total = found.classes.reduce((n, c) => n + c.files.length, 0);
  if (total > MAX_FOLDER_IMAGES)
    throw new InputError(
      `${source} holds ${total.toLocaleString("en")} images, more than the ${MAX_FOLDER_IMAGES.toLocaleString("en")} a project takes: give a sample of them.`,
    );
  const staging = `${dest}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  const lines = [`${IMAGE_COLUMN},${LABEL_COLUMN}`];
  try {
    found.classes.forEach((c, i) => {
      const folder = classFolderName(i, c.label);
      fs.mkdirSync(path.join(staging, folder), { recursive: true });
      for (const f of c.files) {
        const safe = f.replace(/[^\p{L}\p{N}._-]+/gu, "-");
        fs.copyFileSync(path.join(source, c.label, f), path.join(staging, folder, safe));
        lines.push(`${csvCell(`${projectPath}/${folder}/${safe}`)},${csvCell(c.label)}`);
      }
    });
    fs.writeFileSync(path.join(staging, IMAGE_INDEX_FILE), lines.join("\n") + "\n");
    fs.writeFileSync(path.join(staging, COPY_NOTES_FILE), JSON.stringify([...notes, ...notesOf(found, total)]));
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(staging, dest);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return { index: path.join(dest, IMAGE_INDEX_FILE), images: total, classes: found.classes.length, notes: [...notes, ...notesOf(found, total)] };
}

/** The folder of the `i`th class in a project: a label may not be a safe file name everywhere, so it is numbered and its label kept in the index. */
export function classFolderName(i: number, label: string): string {
  return `${String(i).padStart(3, "0")}-${label.replace(/[^\p{L}\p{N}._-]+/gu, "-").slice(0, 60)}`;
}

function notesOf(found: FolderClasses, total: number): string[] {
  const notes = [
    `copied ${total.toLocaleString("en")} images of ${found.classes.length} classes (${found.classes.map((c) => `${c.label}: ${c.files.length}`).join(", ")})`,
  ];
  if (found.empty.length) notes.push(`class folder(s) ${found.empty.join(", ")} hold no PNG or JPEG image: left out`);
  if (found.skipped) notes.push(`${found.skipped.toLocaleString("en")} file(s) that are not PNG or JPEG images were skipped`);
  return notes;
}

/**
 * A zip of a labelled image folder (an upload, or --data pets.zip): its image entries extracted
 * (checked first: no entry leaves the folder, nothing expands past the limit) into `into`, and
 * the folder whose subfolders are the classes (classFolderRoot: the zip's one top folder, its
 * train/ folder). Null when the zip is not mostly images in folders (a zipped table, read as one).
 */
export async function extractImageZip(zip: string, shownAs: string, into: string): Promise<{ folder: string; notes: string[] } | null> {
  const entries = checkedZipEntries(zip, shownAs).filter((e) => !path.posix.basename(e.name).startsWith(".") && !e.name.startsWith("__MACOSX/"));
  const images = entries.filter((e) => isImageFile(e.name) && e.name.includes("/"));
  if (images.length === 0 || images.length < 0.9 * entries.length) return null;
  // every entry (checked above), and the folders the zip lists: an empty class folder and a stray file are said as for a folder
  for (const e of entries) await extractZipEntry(zip, e, path.join(into, ...e.name.split("/")), shownAs);
  for (const d of zipEntries(zip, shownAs).filter((e) => e.name.endsWith("/") && !e.name.startsWith("__MACOSX/")))
    fs.mkdirSync(path.join(into, ...d.name.split("/").filter(Boolean)), { recursive: true });
  return classFolderRoot(into) ?? { folder: into, notes: [] };
}
