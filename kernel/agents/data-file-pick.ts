/**
 * Which file of a dataset to read, when a source holds several (a Hub repository, a Kaggle
 * zip): one the table loader reads, the training split over the others, the handiest format,
 * then the biggest; with the reason, which the stage says. Images are recognised so the
 * person is told the dataset is one of pictures, not that it has no data.
 */
import * as path from "node:path";
import { splitOf } from "../data/split-names";
import { InputError } from "../errors/input-error";

export interface SourceFile {
  path: string;
  size: number;
}

export interface DataFilePick {
  file: SourceFile;
  reason: string;
}

/** the formats the loader reads, best first (columnar and typed before text) */
const FORMAT_ORDER = [".parquet", ".arrow", ".feather", ".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".xlsx", ".csv.gz", ".tsv.gz", ".jsonl.gz", ".txt"];
const IMAGE = /\.(png|jpe?g|gif|bmp|webp|tiff?)$/i;
/** files that describe a dataset rather than hold it */
const NOT_DATA =
  /(^|\/)(readme|license|licence|citation|changelog|dataset_infos?|dataset_dict|state|\.gitattributes)[^/]*$|(^|\/)\.|\.(py|md|ipynb|yaml|yml|toml|lock)$/i;

function formatOf(p: string): string | null {
  const lower = p.toLowerCase();
  return FORMAT_ORDER.find((ext) => lower.endsWith(ext)) ?? null;
}

/**
 * The data file to read of `files`, with why; null when none is one the loader reads. `what`
 * names the files in the reason ("the Hub's Parquet conversion").
 */
export function pickDataFile(files: readonly SourceFile[], what: string): DataFilePick | null {
  const data = files.filter((f) => formatOf(f.path) !== null && !NOT_DATA.test(f.path) && f.size > 0);
  if (!data.length) return null;
  const rank = (f: SourceFile) => {
    const split = splitOf(f.path);
    return [split === "train" ? 0 : split === null ? 1 : 2, FORMAT_ORDER.indexOf(formatOf(f.path)!), -f.size] as const;
  };
  const sorted = [...data].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2] || a.path.localeCompare(b.path);
  });
  const best = sorted[0]!;
  const split = splitOf(best.path);
  const others = data.length - 1;
  const why = [
    split === "train" ? "the training split" : split === null ? "its data file" : `the ${split} split (there is no training split)`,
    formatOf(best.path) === ".parquet" ? "in Parquet" : `as ${formatOf(best.path)!.slice(1).toUpperCase()}`,
    others
      ? `; ${others} other data file${others > 1 ? "s" : ""} not read (${sorted
          .slice(1, 4)
          .map((f) => path.posix.basename(f.path))
          .join(", ")}${others > 3 ? ", …" : ""})`
      : "",
  ];
  return { file: best, reason: `read ${best.path} from ${what}: ${why[0]} ${why[1]}${why[2]}` };
}

/** A download that is mostly image files (a folder per class, zipped). */
export function isImageArchive(files: readonly SourceFile[]): boolean {
  return imageFileCount(files) > 0;
}

/**
 * Why a dataset with none of the loader's files cannot be used: image files that cannot be read
 * as classes (`imagesWhy` says why), or what it holds instead.
 */
export function noDataFileError(id: string, files: readonly SourceFile[], imagesWhy = "they are not in a folder per class"): InputError {
  const images = imageFileCount(files);
  return new InputError(
    images
      ? `${id} is an image dataset of ${images.toLocaleString("en")} separate image files, and ${imagesWhy}: give the images as a folder with a subfolder per class (--data FOLDER, or a zip of it), or choose another dataset.`
      : `${id} holds no data file this version reads (CSV, TSV, Parquet, JSON Lines, JSON, Arrow, Excel): it has ${fileList(files)}. Choose another candidate, or give a file with --data.`,
  );
}

/** How many of `files` are images, when the dataset is mostly pictures (folders of images); 0 otherwise. */
function imageFileCount(files: readonly SourceFile[]): number {
  const images = files.filter((f) => IMAGE.test(f.path)).length;
  return images > 0 && images >= files.length / 2 ? images : 0;
}

/** A one-line list of a dataset's files, for a message that says what it holds instead. */
function fileList(files: readonly SourceFile[], max = 6): string {
  const names = files.slice(0, max).map((f) => f.path);
  return files.length ? `${names.join(", ")}${files.length > max ? ` and ${files.length - max} more` : ""}` : "no files at all";
}
