/**
 * Image datasets stored as Parquet, as the Hugging Face `datasets` library writes them (and the
 * Hub's Parquet conversion holds them): an image column that is a record of the file's bytes
 * and its original path (struct<bytes: binary, path: string>) beside a label, often a ClassLabel
 * (integers whose names are in the file's "huggingface" metadata). Written into a project as
 * the labelled folders every other image source gives: a folder per class and the index
 * (images.csv), read one row group at a time so a file of photos is never held whole.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { fileRanges } from "./columnar-files";
import { compressors } from "hyparquet-compressors";
import { InputError } from "../errors/input-error";
import { classFolderName, COPY_NOTES_FILE, MAX_FOLDER_IMAGES } from "./image-folder";
import { imageFormatOf } from "./image-files";
import { csvCell, IMAGE_INDEX_FILE } from "./packaged-corpora";

/** The columns of an image dataset in Parquet: which holds the images, which the labels, and the labels' names when they are class numbers. */
export interface ParquetImageColumns {
  image: string;
  label: string;
  /** a ClassLabel's names by number, from the file's own metadata */
  labelNames: string[] | null;
  /** other ClassLabel columns, not used (CIFAR-100's coarse_label beside fine_label) */
  otherLabels: string[];
}

/** a column that names the class, when no ClassLabel says which */
const LABEL_NAMES = ["label", "labels", "class", "category", "target", "y"];

/**
 * The image and label columns of a Parquet file, or null when it holds no image column (a
 * table: read as one). Throws with what to do when it has images but nothing to label them by.
 */
export async function parquetImageColumns(file: string, shownAs: string): Promise<ParquetImageColumns | null> {
  const fd = fs.openSync(file, "r");
  try {
    return imageColumnsOf(await readMetadata(fileRanges(fd, fs.fstatSync(fd).size), shownAs), shownAs);
  } finally {
    fs.closeSync(fd);
  }
}

async function readMetadata(file: AsyncBuffer, shownAs: string): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(file);
  } catch (err) {
    throw new InputError(`${shownAs} is not a readable Parquet file (${(err as Error).message}): download it again, or choose another dataset.`);
  }
}

function imageColumnsOf(metadata: FileMetaData, shownAs: string): ParquetImageColumns | null {
  // the top-level columns, each with its fields when it is a record
  const top = parquetSchema(metadata).children;
  const features = huggingFaceFeatures(metadata);
  // an image is a record with the file's bytes (the datasets library's Image feature), or said to be one by the metadata
  const images = top.filter(
    (c) =>
      features[c.element.name]?.["_type"] === "Image" ||
      (c.children.some((k) => k.element.name === "bytes" && k.element.type === "BYTE_ARRAY") && c.children.length <= 2),
  );
  if (!images.length) return null;
  const image = images[0]!.element.name;
  const scalars = top.filter((c) => !c.children.length);
  const classLabels = scalars.filter((c) => features[c.element.name]?.["_type"] === "ClassLabel").map((c) => c.element.name);
  const named = scalars.find((c) => LABEL_NAMES.includes(c.element.name.toLowerCase()))?.element.name;
  const label = classLabels[0] ?? named;
  if (!label) {
    throw new InputError(
      `${shownAs} holds images (column ${image}) but no column of their classes (${scalars.length ? `its other columns: ${scalars.map((c) => c.element.name).join(", ")}` : "it has no other column"}): choose a labelled image dataset, or give a folder with a subfolder per class.`,
    );
  }
  const names = features[label]?.["names"];
  return {
    image,
    label,
    labelNames: Array.isArray(names) && names.every((n) => typeof n === "string") ? (names as string[]) : null,
    otherLabels: classLabels.filter((c) => c !== label),
  };
}

/** The datasets library's features, kept in the file's "huggingface" metadata ({info: {features: {name: {_type, names…}}}}). */
function huggingFaceFeatures(metadata: FileMetaData): Record<string, Record<string, unknown> | undefined> {
  const raw = metadata.key_value_metadata?.find((kv) => kv.key === "huggingface")?.value;
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as { info?: { features?: unknown } };
    const features = parsed.info?.features;
    return features && typeof features === "object" ? (features as Record<string, Record<string, unknown>>) : {};
  } catch {
    return {};
  }
}

/** The format of an image's bytes by their signature: the ones the decoder reads, or the name of another. */
function formatOf(bytes: Uint8Array): { ext: ".png" | ".jpg" } | { other: string } {
  const b = bytes;
  const read = imageFormatOf(b);
  if (read) return { ext: read === "png" ? ".png" : ".jpg" };
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return { other: "WebP" };
  if (b.length >= 6 && ascii(0, 3) === "GIF") return { other: "GIF" };
  if (b.length >= 2 && ascii(0, 2) === "BM") return { other: "BMP" };
  if (b.length >= 4 && (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*")) return { other: "TIFF" };
  return { other: "unknown" };
}

export interface WrittenImages {
  index: string;
  images: number;
  classes: number;
  notes: string[];
}

/**
 * Writes the images of `files` (Parquet shards of one dataset, the same columns in each) as a
 * folder per class under `dest` (the project folder's `projectPath`) with the index, whose
 * columns keep the dataset's names. Images in a format the decoder does not read (WebP, GIF…),
 * rows without bytes or without a label are left out and said; the folder is written whole or
 * not at all. `labelNamesFallback` gives a ClassLabel's names when the files' metadata does not
 * (the dataset card's).
 */
export async function writeParquetImages(
  files: Array<{ file: string; shownAs: string }>,
  columns: ParquetImageColumns,
  dest: string,
  projectPath: string,
  options: { labelNamesFallback?: string[] | null; onProgress?: (fraction: number) => void } = {},
): Promise<WrittenImages> {
  const names = columns.labelNames ?? options.labelNamesFallback ?? null;
  const staging = `${dest}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const lines = [`${csvCell(columns.image)},${csvCell(columns.label)}`];
  const folders = new Map<string, string>();
  const perClass = new Map<string, number>();
  const otherFormats = new Map<string, number>();
  let withoutBytes = 0;
  let withoutLabel = 0;
  let numbered = false;
  const unnamed = new Map<string, number>();
  let seen = 0;
  try {
    for (const [f, { file, shownAs }] of files.entries()) {
      const fd = fs.openSync(file, "r");
      try {
        const buffer = fileRanges(fd, fs.fstatSync(fd).size);
        const metadata = await readMetadata(buffer, shownAs);
        let rowStart = 0;
        for (const group of metadata.row_groups) {
          const rowEnd = rowStart + Number(group.num_rows);
          let rows: Array<Record<string, unknown>>;
          try {
            rows = (await parquetReadObjects({
              file: buffer,
              metadata,
              compressors,
              columns: [columns.image, columns.label],
              rowStart,
              rowEnd,
              utf8: false,
            })) as Array<Record<string, unknown>>;
          } catch (err) {
            throw new InputError(`${shownAs} could not be read as Parquet (${(err as Error).message}): download it again, or choose another dataset.`);
          }
          for (const row of rows) {
            if (++seen > MAX_FOLDER_IMAGES)
              throw new InputError(
                `${files.map((x) => x.shownAs).join(", ")} hold more than the ${MAX_FOLDER_IMAGES.toLocaleString("en")} images a project takes: give a sample of them as a folder.`,
              );
            const cell = row[columns.label];
            numbered ||= typeof cell === "bigint" || typeof cell === "number";
            // a class number past the ClassLabel's names is none of its classes
            if (names && (typeof cell === "bigint" || typeof cell === "number") && Number(cell) >= names.length) {
              unnamed.set(String(cell), (unnamed.get(String(cell)) ?? 0) + 1);
              continue;
            }
            const label = labelOf(cell, names);
            const bytes = bytesOf(row[columns.image]);
            if (label === null) {
              withoutLabel++;
              continue;
            }
            if (!bytes) {
              withoutBytes++;
              continue;
            }
            const format = formatOf(bytes);
            if ("other" in format) {
              otherFormats.set(format.other, (otherFormats.get(format.other) ?? 0) + 1);
              continue;
            }
            let folder = folders.get(label);
            if (folder === undefined) {
              folder = classFolderName(folders.size, label);
              folders.set(label, folder);
              fs.mkdirSync(path.join(staging, folder));
            }
            const count = (perClass.get(label) ?? 0) + 1;
            perClass.set(label, count);
            const name = `${folder}/${String(count).padStart(6, "0")}${format.ext}`;
            fs.writeFileSync(path.join(staging, name), bytes);
            lines.push(`${csvCell(`${projectPath}/${name}`)},${csvCell(label)}`);
          }
          rowStart = rowEnd;
          options.onProgress?.((f + rowStart / Math.max(1, Number(metadata.num_rows))) / files.length);
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    const images = lines.length - 1;
    if (images === 0)
      throw new InputError(
        `${files[0]!.shownAs} has no image this version reads${otherFormats.size ? ` (its images are ${[...otherFormats.keys()].map((f) => (f === "unknown" ? "in no image format" : f)).join(", ")}: PNG and JPEG are read)` : ""}: choose another dataset, or give a folder of PNG or JPEG images.`,
      );
    const notes = [
      `wrote ${images.toLocaleString("en")} images of ${perClass.size} classes from column ${columns.image}, labelled by ${columns.label}${names && !columns.labelNames ? " (class names from the dataset card)" : ""} (${[...perClass].map(([c, n]) => `${c}: ${n.toLocaleString("en")}`).join(", ")})`,
    ];
    for (const [format, n] of otherFormats)
      notes.push(
        format === "unknown"
          ? `${n.toLocaleString("en")} image(s) whose bytes are no image format (damaged, or not an image) left out`
          : `${n.toLocaleString("en")} image(s) in ${format} left out: PNG and JPEG are read (convert them to use them)`,
      );
    if (withoutBytes) notes.push(`${withoutBytes.toLocaleString("en")} row(s) without the image's bytes (a path to a file outside the dataset) left out`);
    if (withoutLabel) notes.push(`${withoutLabel.toLocaleString("en")} row(s) without a ${columns.label} left out`);
    if (unnamed.size)
      notes.push(
        `${[...unnamed.values()].reduce((a, b) => a + b, 0).toLocaleString("en")} row(s) labelled ${[...unnamed.keys()].slice(0, 5).join(", ")}, which ${columns.label}'s ${names!.length} class names do not reach, left out`,
      );
    if (!names && numbered) notes.push(`the classes are numbers: neither the files nor the dataset card name the classes of ${columns.label}`);
    if (columns.otherLabels.length)
      notes.push(
        `classes taken from ${columns.label}; ${columns.otherLabels.join(", ")} also label the images and ${columns.otherLabels.length > 1 ? "are" : "is"} not used`,
      );
    fs.writeFileSync(path.join(staging, IMAGE_INDEX_FILE), lines.join("\n") + "\n");
    fs.writeFileSync(path.join(staging, COPY_NOTES_FILE), JSON.stringify(notes));
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(staging, dest);
    return { index: path.join(dest, IMAGE_INDEX_FILE), images, classes: perClass.size, notes };
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

/** The bytes of an image cell: the datasets library's {bytes, path} record, or bytes as they are. */
function bytesOf(cell: unknown): Uint8Array | null {
  const value = cell && typeof cell === "object" && !(cell instanceof Uint8Array) ? (cell as { bytes?: unknown }).bytes : cell;
  return value instanceof Uint8Array && value.length > 0 ? value : null;
}

/** A label cell as the class's name: a ClassLabel's number by its names, text as it is; null when missing (-1 is a ClassLabel's "no label"). */
function labelOf(cell: unknown, names: string[] | null): string | null {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === "bigint" || typeof cell === "number") {
    const n = Number(cell);
    if (n < 0) return null;
    return names?.[n] ?? String(n);
  }
  if (cell instanceof Uint8Array) return new TextDecoder().decode(cell).trim() || null;
  const text = String(cell).trim();
  return text || null;
}
