/**
 * Images as pixels: PNG (pngjs) and JPEG (jpeg-js) decoded in Node with maintained pure-JS
 * decoders (no native build, so they install wherever the product does), a PNG written for the
 * sample grids, and resizing to the one size a network takes. Pixels are 8-bit, row-major,
 * channels last (1 = grey, 3 = RGB); alpha is composited onto white, as a viewer shows it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { Table } from "./table";
import { eachLevelText } from "./text-levels";

export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg"] as const;
/** an image past this many pixels is refused before decoding (a 12-megapixel photo is 4,000 × 3,000) */
const MAX_PIXELS = 40_000_000;

export function isImageFile(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

/** The format the decoder reads that `bytes` are in, by their signature (not a file's name), or null. */
export function imageFormatOf(b: Uint8Array): "png" | "jpeg" | null {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  return null;
}

/** Decodes a PNG or JPEG by its bytes (not its name: a .jpg that is a PNG is read as one); throws with what is wrong. */
export function decodeImage(bytes: Uint8Array): Pixels {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = imageFormatOf(b);
  if (format === "png") {
    const width = b.length >= 24 ? b.readUInt32BE(16) : 0;
    const height = b.length >= 24 ? b.readUInt32BE(20) : 0;
    if (width * height > MAX_PIXELS) throw new Error(`${width} × ${height} pixels is larger than ${MAX_PIXELS / 1e6} megapixels`);
    const png = PNG.sync.read(b);
    return fromRgba(png.width, png.height, png.data);
  }
  if (format === "jpeg") {
    const img = jpeg.decode(b, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 512 });
    return fromRgba(img.width, img.height, img.data);
  }
  throw new Error("not a PNG or JPEG image (its first bytes are neither's signature)");
}

export function readImageFile(file: string): Pixels {
  return decodeImage(fs.readFileSync(file));
}

/** RGBA to grey when every pixel is (R = G = B), else RGB; alpha composited onto white. */
function fromRgba(width: number, height: number, rgba: Uint8Array): Pixels {
  const n = width * height;
  let grey = true;
  let opaque = true;
  for (let i = 0; i < n && (grey || opaque); i++) {
    const r = rgba[i * 4]!;
    if (r !== rgba[i * 4 + 1] || r !== rgba[i * 4 + 2]) grey = false;
    if (rgba[i * 4 + 3] !== 255) opaque = false;
  }
  const channels = grey ? 1 : 3;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const a = opaque ? 1 : rgba[i * 4 + 3]! / 255;
    for (let c = 0; c < channels; c++) data[i * channels + c] = Math.round(rgba[i * 4 + c]! * a + 255 * (1 - a));
  }
  return { width, height, channels, data };
}

/** A PNG of the pixels (grey or RGB). */
export function encodePng(p: Pixels): Buffer {
  const png = new PNG({ width: p.width, height: p.height });
  for (let i = 0; i < p.width * p.height; i++) {
    for (let c = 0; c < 3; c++) png.data[i * 4 + c] = p.data[i * p.channels + (p.channels === 1 ? 0 : c)]!;
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png, p.channels === 1 ? { colorType: 0 } : { colorType: 2 });
}

/**
 * The pixels at `width` × `height` with `channels` channels: each output pixel the mean of the
 * input pixels its area covers (no aliasing when shrinking), bilinear when enlarging; grey to
 * RGB repeats the grey, RGB to grey takes the luma (ITU-R BT.601).
 */
export function resizePixels(p: Pixels, width: number, height: number, channels: 1 | 3): Pixels {
  const src = p.channels === channels ? p : convertChannels(p, channels);
  if (src.width === width && src.height === height) return src;
  const out = new Uint8Array(width * height * channels);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        out[(y * width + x) * channels + c] = Math.round(
          sx >= 1 && sy >= 1 ? areaMean(src, x * sx, y * sy, sx, sy, c) : bilinear(src, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, c),
        );
      }
    }
  }
  return { width, height, channels, data: out };
}

function convertChannels(p: Pixels, channels: 1 | 3): Pixels {
  const n = p.width * p.height;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 3) data.fill(p.data[i]!, i * 3, i * 3 + 3);
    else data[i] = Math.round(0.299 * p.data[i * 3]! + 0.587 * p.data[i * 3 + 1]! + 0.114 * p.data[i * 3 + 2]!);
  }
  return { width: p.width, height: p.height, channels, data };
}

function areaMean(p: Pixels, x0: number, y0: number, w: number, h: number, c: number): number {
  let sum = 0;
  let weight = 0;
  for (let y = Math.floor(y0); y < Math.min(p.height, Math.ceil(y0 + h)); y++) {
    const wy = Math.min(y + 1, y0 + h) - Math.max(y, y0);
    for (let x = Math.floor(x0); x < Math.min(p.width, Math.ceil(x0 + w)); x++) {
      const wx = Math.min(x + 1, x0 + w) - Math.max(x, x0);
      sum += p.data[(y * p.width + x) * p.channels + c]! * wx * wy;
      weight += wx * wy;
    }
  }
  return weight > 0 ? sum / weight : 0;
}

function bilinear(p: Pixels, fx: number, fy: number, c: number): number {
  const x0 = Math.max(0, Math.min(p.width - 1, Math.floor(fx)));
  const y0 = Math.max(0, Math.min(p.height - 1, Math.floor(fy)));
  const x1 = Math.min(p.width - 1, x0 + 1);
  const y1 = Math.min(p.height - 1, y0 + 1);
  const ax = Math.max(0, Math.min(1, fx - x0));
  const ay = Math.max(0, Math.min(1, fy - y0));
  const at = (x: number, y: number) => p.data[(y * p.width + x) * p.channels + c]!;
  return (at(x0, y0) * (1 - ax) + at(x1, y0) * ax) * (1 - ay) + (at(x0, y1) * (1 - ax) + at(x1, y1) * ax) * ay;
}

/** The column of image file paths in an image index (nine in ten of its first values end in .png, .jpg or .jpeg), or null. */
export function imageColumnOf(table: Table): string | null {
  for (const c of table.columns) {
    if (c.kind !== "categorical") continue;
    // the first values only: a column of e-mails is tens of megabytes of text
    const values: string[] = [];
    for (const t of eachLevelText(c.levels)) if (values.push(t) >= 200) break;
    if (values.length > 0 && values.filter((v) => isImageFile(v)).length >= 0.9 * values.length) return c.name;
  }
  return null;
}
