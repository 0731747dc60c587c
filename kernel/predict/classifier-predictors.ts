/**
 * Predictors of the text and image models' files (their documents: runtime/text-training.ts
 * and image-training.ts): the same Predictor as a table model's, so `automl predict`, the
 * conductor's endpoint and the bundle's predict.mjs read them through one path. A text model
 * reads one column of texts (its vectorizer makes the features); an image model reads one
 * column of image files (decoded, resized to its size, and run through its network in plain
 * JavaScript); both answer a class and each class's probability.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { decodeImage, resizePixels, type Pixels } from "../data/image-files";
import type { Table } from "../data/table";
import { levelText } from "../data/text-levels";
import { InputError } from "../errors/input-error";
import type { ImageModelState } from "../ml/image/image-learners";
import { networkInput } from "../ml/image/transfer-model";
import { textScores, type TextModelState } from "../ml/text/text-classifiers";
import { vectorize, type TextVectorizer } from "../ml/text/text-vectorizer";
import { cnnProbabilities } from "./cnn-forward";
import { transferProbabilities } from "./network-forward";
import type { Predictor } from "./predictor";

interface ClassifierDocument {
  run_id?: unknown;
  task?: unknown;
  target?: unknown;
  text?: {
    model_id: string;
    column: string;
    classes: string[];
    vectorizer: { settings: TextVectorizer["settings"]; words: string[]; bucket_feature: Int32Array; idf: Float32Array };
    model: TextModelState;
  };
  image?: {
    model_id: string;
    column: string;
    classes: string[];
    size: { width: number; height: number; channels: 1 | 3 };
    model: ImageModelState;
  };
}

/** The predictor of a text or image model's document; null for other documents. */
export function classifierPredictor(decoded: unknown, shownAs: string): Predictor | null {
  const doc = decoded as ClassifierDocument;
  const runId = typeof doc.run_id === "string" ? doc.run_id : null;
  if (doc.task === "text_classification" && doc.text) return textPredictor(doc.text, String(doc.target), runId, shownAs);
  if (doc.task === "image_classification" && doc.image) return imagePredictor(doc.image, String(doc.target), runId, shownAs);
  if (doc.task === "text_classification" || doc.task === "image_classification")
    throw new InputError(
      `${shownAs} is a ${String(doc.task).replace(/_/g, " ")} model without its ${doc.task === "text_classification" ? "vectorizer" : "network"}: train the project again.`,
    );
  return null;
}

function textAt(batch: Table, column: string, r: number): string {
  const c = batch.column(column);
  return c.kind === "categorical" && c.codes[r]! >= 0 ? levelText(c.levels, c.codes[r]!) : "";
}

function textPredictor(t: NonNullable<ClassifierDocument["text"]>, target: string, runId: string | null, shownAs: string): Predictor {
  const vectorizer: TextVectorizer = {
    settings: t.vectorizer.settings,
    words: t.vectorizer.words,
    bucketFeature: t.vectorizer.bucket_feature,
    idf: t.vectorizer.idf,
  };
  const k = t.classes.length;
  return {
    source: shownAs,
    runId,
    modelId: t.model_id,
    task: "text_classification",
    target,
    classes: t.classes,
    preprocessor: { target, steps: [], features: [], inputs: [{ name: t.column, kind: "categorical", missing: true }] },
    score: (batch, rows) =>
      textScores(
        t.model,
        vectorize(
          vectorizer,
          Array.from(rows, (r) => textAt(batch, t.column, r)),
        ),
        k,
      ),
    check: (batch, found) => {
      for (let r = 0; r < batch.nRows; r++) if (textAt(batch, t.column, r).trim() === "") found(r, t.column, "", "empty_text");
    },
  };
}

function imagePredictor(m: NonNullable<ClassifierDocument["image"]>, target: string, runId: string | null, shownAs: string): Predictor {
  const k = m.classes.length;
  // a batch's images, decoded once by check() and scored after (the batch is the Table object both are given)
  let decoded = new WeakMap<Table, Map<number, Pixels>>();
  const pathAt = (batch: Table, r: number) => textAt(batch, m.column, r);
  const model = m.model;
  // the image at the model's size: the small CNN reads it as it is, a transfer model at its network's size and input range
  const probabilities =
    model.kind === "small_cnn"
      ? (pixels: Uint8Array) => cnnProbabilities(model.cnn, pixels)
      : model.kind === "pretrained_transfer"
        ? (pixels: Uint8Array) => transferProbabilities(model.transfer, networkInput(pixels, m.size, model.transfer.input, model.transfer.input_range))
        : unknownModel(shownAs, (model as { kind?: unknown }).kind);
  return {
    source: shownAs,
    runId,
    modelId: m.model_id,
    task: "image_classification",
    target,
    classes: m.classes,
    preprocessor: { target, steps: [], features: [], inputs: [{ name: m.column, kind: "categorical", missing: false }] },
    check: (batch, found) => {
      const images = new Map<number, Pixels>();
      for (let r = 0; r < batch.nRows; r++) {
        const file = pathAt(batch, r);
        let bytes: Buffer;
        try {
          bytes = readImageBytes(file);
        } catch (err) {
          // not there, or not a file: said as such; a file too big to read is an unreadable image
          found(r, m.column, file, (err as Error).message.startsWith("larger than") ? "unreadable_image" : "missing_image");
          continue;
        }
        try {
          images.set(r, resizePixels(decodeImage(bytes), m.size.width, m.size.height, m.size.channels));
        } catch {
          found(r, m.column, file, "unreadable_image");
        }
      }
      decoded = new WeakMap([[batch, images]]);
    },
    score: (batch, rows) => {
      const images = decoded.get(batch);
      const out = new Float64Array(rows.length * k);
      rows.forEach((r, i) => {
        const pixels = images?.get(r) ?? resizePixels(decodeImage(readImageBytes(pathAt(batch, r))), m.size.width, m.size.height, m.size.channels);
        out.set(probabilities(pixels.data), i * k);
      });
      return out;
    },
  };
}

function unknownModel(shownAs: string, kind: unknown): never {
  throw new InputError(
    `${shownAs} holds an image model of kind ${JSON.stringify(kind)}, which this version does not run: predict with the version that trained it, or train the project again.`,
  );
}

/** an image file past this is not read (a path in the data is the person's to give: a device or a huge file is refused, not read) */
const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/** A named image file's bytes: a regular file of at most MAX_IMAGE_BYTES, else an error (the row is refused). */
function readImageBytes(file: string): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error("not a regular file");
    if (stat.size > MAX_IMAGE_BYTES) throw new Error(`larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** An image model's input for a folder of images or image files: an index CSV listing them (absolute paths) in its one column, written to `dir`. */
export function imageIndexFor(sources: string[], column: string, dir: string): { index: string; files: number } {
  const files: string[] = [];
  for (const s of sources) {
    const stat = fs.statSync(s, { throwIfNoEntry: false });
    if (!stat) throw new InputError(`${s} does not exist: give image files, or a folder of them.`);
    if (stat.isDirectory()) {
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const full = path.join(d, e.name);
          if (e.isDirectory()) walk(full);
          else if (e.isFile() && /\.(png|jpe?g)$/i.test(e.name)) files.push(path.resolve(full));
        }
      };
      walk(s);
    } else files.push(path.resolve(s));
  }
  if (files.length === 0) throw new InputError(`No PNG or JPEG image was found in ${sources.join(", ")}.`);
  const index = path.join(dir, "images.csv");
  const quote = (t: string) => (/[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
  fs.writeFileSync(index, `${quote(column)}\n${files.map(quote).join("\n")}\n`);
  return { index, files: files.length };
}

/** The column of image files an image predictor reads, or null for other predictors. */
export function imageColumnOfPredictor(p: Predictor): string | null {
  return p.task === "image_classification" ? (p.preprocessor.inputs?.[0]?.name ?? null) : null;
}
