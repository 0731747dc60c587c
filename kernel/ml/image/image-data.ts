/**
 * An image task's data: a table with a column of image files (paths inside the project folder)
 * and a label. The profile decodes every image once (counting sizes, channels and the files
 * that cannot be read); preparing decodes each split's images again and resizes them to the
 * plan's one size and channel count (its image_pixels step), leaving out the unreadable ones
 * and saying so.
 */
import type { PreprocessStep } from "../../../contract";
import type { SplitData } from "../../data/prepared-data";
import { decodeImage, resizePixels, type Pixels } from "../../data/image-files";
import { levelTexts } from "../../data/text-levels";
import type { Table } from "../../data/table";
import { InputError } from "../../errors/input-error";
import { drain, drainYielding, type Steps } from "../../data/yielding-steps";
import type { ImageBatchSource } from "./epoch-loop";

export const IMAGE_STEP_OP = "image_pixels";
/** a network trained from scratch on a CPU reads images up to this side */
const MAX_SIDE = 64;
const MIN_SIDE = 8;

/** reads a project file's bytes (the runtime's: inside the project folder, a regular file), or throws why not */
export type ImageReader = (projectPath: string) => Uint8Array;

export interface ImageProfile {
  images: number;
  column: string;
  classes: Array<{ label: string; count: number }>;
  /** the sizes found, most common first */
  sizes: Array<{ width: number; height: number; count: number }>;
  channels: { grey: number; colour: number };
  unreadable: Array<{ file: string; reason: string }>;
  /** the size and channels a plan resizes to */
  proposed: { width: number; height: number; channels: 1 | 3 };
  warnings: string[];
}

export interface ImageSet extends ImageBatchSource {
  /** the table's rows, in order (unreadable ones left out) */
  rows: number[];
  files: string[];
}

export interface ImageData {
  kind: "image";
  target: string;
  imageColumn: string;
  classes: string[];
  size: { width: number; height: number; channels: 1 | 3 };
  train: ImageSet;
  val: ImageSet;
  test: ImageSet;
  seed: number;
  notes: string[];
}

export function isImageData(d: unknown): d is ImageData {
  return typeof d === "object" && d !== null && (d as { kind?: unknown }).kind === "image";
}

/** Each row's image file ("" where missing). */
export function imageFiles(table: Table, column: string): string[] {
  const c = table.column(column);
  if (c.kind !== "categorical") throw new InputError(`${column} holds ${c.kind} values, not image files: name the column of image paths.`);
  const levels = levelTexts(c.levels);
  return Array.from(c.codes, (k) => (k < 0 ? "" : levels[k]!));
}

/** Decodes every image once: the classes' counts, the sizes and channels, the files that cannot be read; the size to resize to. */
export function profileImages(table: Table, column: string, target: string, read: ImageReader): ImageProfile {
  return drain(profileSteps(table, column, target, read));
}

/** profileImages, giving the event loop a turn every few images and saying how far it is. */
export function profileImagesYielding(
  table: Table,
  column: string,
  target: string,
  read: ImageReader,
  onProgress: (fraction: number) => void,
): Promise<ImageProfile> {
  return drainYielding(profileSteps(table, column, target, read, onProgress));
}

function* profileSteps(table: Table, column: string, target: string, read: ImageReader, onProgress?: (fraction: number) => void): Steps<ImageProfile> {
  const files = imageFiles(table, column);
  const labelCol = table.column(target);
  const labels = labelCol.kind === "categorical" ? levelTexts(labelCol.levels) : null;
  const labelOf = (r: number): string | null => {
    if (labelCol.kind === "categorical") return labelCol.codes[r]! < 0 ? null : labels![labelCol.codes[r]!]!;
    const v = labelCol.values[r]!;
    return Number.isNaN(v) ? null : String(v);
  };
  const perClass = new Map<string, number>();
  const sizes = new Map<string, { width: number; height: number; count: number }>();
  const channels = { grey: 0, colour: 0 };
  const unreadable: ImageProfile["unreadable"] = [];
  let images = 0;
  for (let r = 0; r < files.length; r++) {
    if (r % 500 === 0) onProgress?.(r / files.length);
    yield;
    const label = labelOf(r);
    if (!files[r] || label === null) continue;
    let p: Pixels;
    try {
      p = decodeImage(read(files[r]!));
    } catch (err) {
      unreadable.push({ file: files[r]!, reason: (err as Error).message });
      continue;
    }
    images++;
    perClass.set(label, (perClass.get(label) ?? 0) + 1);
    const key = `${p.width}x${p.height}`;
    const s = sizes.get(key) ?? { width: p.width, height: p.height, count: 0 };
    s.count++;
    sizes.set(key, s);
    if (p.channels === 1) channels.grey++;
    else channels.colour++;
  }
  if (images === 0)
    throw new InputError(
      `None of the ${files.length.toLocaleString("en")} image files could be read${unreadable[0] ? ` (${unreadable[0].file}: ${unreadable[0].reason})` : ""}: give PNG or JPEG images.`,
    );
  const bySize = [...sizes.values()].sort((a, b) => b.count - a.count);
  const sides = bySize.flatMap((s) => new Array<number>(Math.min(s.count, 1000)).fill(Math.min(s.width, s.height))).sort((a, b) => a - b);
  const median = sides[Math.floor(sides.length / 2)]!;
  const side = Math.max(MIN_SIDE, Math.min(MAX_SIDE, median));
  const same = bySize.length === 1 && bySize[0]!.width === bySize[0]!.height && bySize[0]!.width <= MAX_SIDE;
  const proposed = same
    ? { width: bySize[0]!.width, height: bySize[0]!.height, channels: (channels.colour ? 3 : 1) as 1 | 3 }
    : { width: side, height: side, channels: (channels.colour ? 3 : 1) as 1 | 3 };
  const classes = [...perClass].map(([label, count]) => ({ label, count })).sort((a, b) => (a.label < b.label ? -1 : 1));
  const warnings: string[] = [];
  if (!same)
    warnings.push(
      `The images come in ${bySize.length} size(s) (${bySize
        .slice(0, 3)
        .map((s) => `${s.width} × ${s.height}: ${s.count}`)
        .join(
          ", ",
        )}${bySize.length > 3 ? ", …" : ""}): each is resized to ${proposed.width} × ${proposed.height}${proposed.width < median ? ` (a network trained here reads at most ${MAX_SIDE} × ${MAX_SIDE})` : ""}.`,
    );
  if (channels.grey && channels.colour)
    warnings.push(
      `${channels.grey.toLocaleString("en")} image(s) are grey and ${channels.colour.toLocaleString("en")} in colour: the grey ones are read as colour (their grey repeated).`,
    );
  if (unreadable.length)
    warnings.push(
      `${unreadable.length.toLocaleString("en")} file(s) could not be read as images and are left out: ${unreadable
        .slice(0, 3)
        .map((u) => `${u.file} (${u.reason})`)
        .join("; ")}${unreadable.length > 3 ? "; …" : ""}.`,
    );
  const single = classes.filter((c) => c.count === 1);
  if (single.length)
    warnings.push(
      `Class(es) ${single.map((c) => c.label).join(", ")} have one image only: it can be learnt from but not tested on; add images of them for a fair score.`,
    );
  const few = classes.filter((c) => c.count > 1 && c.count < 10);
  if (few.length) warnings.push(`Class(es) ${few.map((c) => `${c.label} (${c.count})`).join(", ")} have fewer than 10 images: their scores will be rough.`);
  onProgress?.(1);
  return { images, column, classes, sizes: bySize, channels, unreadable, proposed, warnings };
}

/** The rules' step: every image resized to the profile's size, in its channels. */
export function proposedImageStep(profile: ImageProfile): PreprocessStep {
  const { width, height, channels } = profile.proposed;
  return {
    id: "pixels",
    op: IMAGE_STEP_OP,
    columns: [profile.column],
    params: { width, height, channels },
    why:
      profile.sizes.length === 1 && profile.sizes[0]!.width === width && profile.sizes[0]!.height === height
        ? `the images are all ${width} × ${height}: read as they are, ${channels === 1 ? "grey" : "in colour"}, their pixels scaled to 0–1`
        : `the network reads one size: every image resized to ${width} × ${height} (each pixel the mean of the area it covers), ${channels === 1 ? "grey" : "in colour"}, pixels scaled to 0–1`,
  };
}

export function imageStepSettings(step: PreprocessStep): { width: number; height: number; channels: 1 | 3 } {
  const side = (name: string) => {
    const v = step.params[name];
    if (!Number.isInteger(v) || (v as number) < MIN_SIDE || (v as number) > 512)
      throw new InputError(`${step.id}: ${name} must be a whole number of pixels from ${MIN_SIDE} to 512 (it is ${JSON.stringify(v)}).`);
    return v as number;
  };
  const channels = step.params["channels"];
  if (channels !== 1 && channels !== 3) throw new InputError(`${step.id}: channels must be 1 (grey) or 3 (colour) (it is ${JSON.stringify(channels)}).`);
  return { width: side("width"), height: side("height"), channels };
}

/** Refuses steps an image task cannot apply: exactly one image_pixels step on the image column. */
export function checkImageSteps(steps: PreprocessStep[], table: Table, target: string): void {
  const others = steps.filter((s) => s.op !== IMAGE_STEP_OP);
  if (others.length)
    throw new InputError(
      `An image task takes one ${IMAGE_STEP_OP} step; ${others.map((s) => `${s.id} (${s.op})`).join(", ")} cannot apply to images. Remove it.`,
    );
  if (steps.length !== 1) throw new InputError(`An image task takes exactly one ${IMAGE_STEP_OP} step (the plan has ${steps.length}).`);
  const step = steps[0]!;
  const column = step.columns[0];
  if (step.columns.length !== 1 || !column || !table.has(column) || column === target)
    throw new InputError(`${step.id}: columns must name the one column of image files, one of ${table.columnNames.filter((c) => c !== target).join(", ")}.`);
  imageFiles(table, column);
  imageStepSettings(step);
}

export function prepareImages(steps: PreprocessStep[], table: Table, data: SplitData, read: ImageReader): ImageData {
  return drain(prepareSteps(steps, table, data, read));
}

/** prepareImages, giving the event loop a turn every few images. */
export function prepareImagesYielding(steps: PreprocessStep[], table: Table, data: SplitData, read: ImageReader): Promise<ImageData> {
  return drainYielding(prepareSteps(steps, table, data, read));
}

function* prepareSteps(steps: PreprocessStep[], table: Table, data: SplitData, read: ImageReader): Steps<ImageData> {
  const { target, split } = data;
  checkImageSteps(steps, table, target.column);
  const step = steps[0]!;
  const column = step.columns[0]!;
  const size = imageStepSettings(step);
  const files = imageFiles(table, column);
  const left: string[] = [];
  function* set(rows: number[]): Steps<ImageSet> {
    const per = size.width * size.height * size.channels;
    const pixels = new Uint8Array(rows.length * per);
    const kept: number[] = [];
    for (const r of rows) {
      yield;
      try {
        const p = resizePixels(decodeImage(read(files[r]!)), size.width, size.height, size.channels);
        pixels.set(p.data, kept.length * per);
        kept.push(r);
      } catch {
        left.push(files[r]!);
      }
    }
    return {
      n: kept.length,
      height: size.height,
      width: size.width,
      channels: size.channels,
      pixels: pixels.subarray(0, kept.length * per),
      labels: Int32Array.from(kept, (r) => target.y[r]!),
      rows: kept,
      files: kept.map((r) => files[r]!),
    };
  }
  const train = yield* set(split.train);
  const val = yield* set(split.val);
  const test = yield* set(split.test);
  if (train.n === 0) throw new InputError("No training image could be read: give PNG or JPEG images.");
  const notes = left.length
    ? [`${left.length.toLocaleString("en")} image file(s) could not be read and are left out (${left.slice(0, 3).join(", ")}${left.length > 3 ? ", …" : ""}).`]
    : [];
  return {
    kind: "image",
    target: target.column,
    imageColumn: column,
    classes: target.task === "classification" ? target.classes : [],
    size,
    train,
    val,
    test,
    seed: split.seed,
    notes,
  };
}
