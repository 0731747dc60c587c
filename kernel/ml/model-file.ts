/**
 * The model file: a saved model with what describes its data, in the safetensors layout
 * (https://github.com/huggingface/safetensors), so its arrays are stored as bytes rather than
 * as JSON numbers. A forest of a few hundred thousand rows was a JSON text past V8's longest
 * string ("Invalid string length"), and at 50k rows already most of a 630 MB project folder.
 *
 *   bytes 0–7    N, an unsigned 64-bit little-endian integer: the header's length
 *   bytes 8–8+N  the header, UTF-8 JSON, padded with spaces to a multiple of 8:
 *                  "__metadata__": { "format": "automl-model", "format_version": "1",
 *                                    "document": <the document as JSON text> }
 *                  "<name>": { "dtype": "F64" | "F32" | "I32" | "U32" | "I16" | "U16" | "I8" | "U8",
 *                              "shape": [length], "data_offsets": [begin, end] }
 *   the rest     the arrays' bytes, little-endian, one after another (offsets count from here)
 *
 * The document is any JSON value in which each typed array stands as {"$tensor": "<name>"}
 * (with "as": "<dtype>" when an integer array is stored in a narrower type than it is read as).
 * Any safetensors reader lists the arrays; this module gives back the document with them in place.
 */
import * as fs from "node:fs";

export const MODEL_FILE_FORMAT = "automl-model";
export const MODEL_FILE_VERSION = 1;
/** models/<run id><MODEL_FILE_EXTENSION> */
export const MODEL_FILE_EXTENSION = ".model";
/** the project folder of the runs' model files */
export const MODEL_FILE_FOLDER = "models";

/** Where a run's model is saved in its project, relative to the project's folder. */
export function modelFileOf(runId: string): string {
  return `${MODEL_FILE_FOLDER}/${runId}${MODEL_FILE_EXTENSION}`;
}

/** a header past this is not one this module wrote (the document holds no arrays, only their names) */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

type NumericArray = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

const DTYPES = {
  F64: Float64Array,
  F32: Float32Array,
  I32: Int32Array,
  U32: Uint32Array,
  I16: Int16Array,
  U16: Uint16Array,
  I8: Int8Array,
  U8: Uint8Array,
} as const;
type DType = keyof typeof DTYPES;

interface TensorEntry {
  dtype: DType;
  shape: [number];
  data_offsets: [number, number];
}

function dtypeOf(a: ArrayBufferView): DType {
  for (const [name, ctor] of Object.entries(DTYPES)) if (a instanceof ctor) return name as DType;
  throw new Error(`an array of type ${a.constructor.name} cannot be stored in a model file`);
}

/**
 * An integer array in the narrowest integer type that holds its values (a tree's feature
 * indices fit in a byte, its child indices mostly in 16 bits): a third of a forest's bytes.
 */
function narrowest(a: NumericArray): NumericArray {
  if (!(a instanceof Int32Array || a instanceof Uint32Array || a instanceof Int16Array || a instanceof Uint16Array) || a.length === 0) return a;
  let min = a[0]!;
  let max = a[0]!;
  for (let i = 1; i < a.length; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  const fits: [number, number, (n: number) => NumericArray][] = [
    [0, 255, (n) => new Uint8Array(n)],
    [-128, 127, (n) => new Int8Array(n)],
    [0, 65535, (n) => new Uint16Array(n)],
    [-32768, 32767, (n) => new Int16Array(n)],
  ];
  for (const [lo, hi, make] of fits) {
    if (min < lo || max > hi) continue;
    const out = make(a.length);
    if (out.BYTES_PER_ELEMENT >= a.BYTES_PER_ELEMENT) return a;
    out.set(a);
    return out;
  }
  return a;
}

/** Why a model file cannot be read: says which file and what to do. */
export class ModelFileError extends Error {
  override name = "ModelFileError";
}

/** The model file's bytes for `document` (typed arrays anywhere in it are stored as arrays). */
export function encodeModelFile(document: unknown): Buffer {
  const tensors: Record<string, TensorEntry> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  const text = JSON.stringify(document, (_key, value: unknown) => {
    // every typed array is stored as bytes (one of a type the format lacks is refused, never written as an object of indices)
    if (!ArrayBuffer.isView(value)) return value;
    const name = `t${parts.length}`;
    const stored = narrowest(value as NumericArray);
    const dtype = dtypeOf(stored);
    const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    // the file is little-endian; so is every machine Node runs on that this product supports
    tensors[name] = { dtype, shape: [stored.length], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
    // an integer array stored narrower says the type it comes back as
    return stored === value ? { $tensor: name } : { $tensor: name, as: dtypeOf(value) };
  });
  const header = { __metadata__: { format: MODEL_FILE_FORMAT, format_version: String(MODEL_FILE_VERSION), document: text }, ...tensors };
  let headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  if (headerBytes.length > MAX_HEADER_BYTES)
    throw new Error(
      `the model's description is ${headerBytes.length} bytes, past the ${MAX_HEADER_BYTES} a model file holds: keep its big arrays as typed arrays`,
    );
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded > headerBytes.length) headerBytes = Buffer.concat([headerBytes, Buffer.alloc(padded - headerBytes.length, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([length, headerBytes, ...parts]);
}

interface Header {
  document: string;
  tensors: Map<string, TensorEntry>;
  dataStart: number;
}

function parseHeader(head: Uint8Array, totalBytes: number, shownAs: string): Header {
  const bad = (what: string) => new ModelFileError(`${shownAs} is not a model file this version can read: ${what}.`);
  if (totalBytes < 8 || head.length < 8) throw bad("it is shorter than a model file's first 8 bytes");
  const n = Number(Buffer.from(head.buffer, head.byteOffset, 8).readBigUInt64LE());
  if (n > MAX_HEADER_BYTES || 8 + n > totalBytes) throw bad(`its header length (${n} bytes) does not fit the file (${totalBytes} bytes)`);
  if (head.length < 8 + n) throw bad("its header is cut short");
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(head.buffer, head.byteOffset + 8, n).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw bad("its header is not JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) throw bad("its header is not a JSON object");
  const meta = header["__metadata__"] as Record<string, unknown> | undefined;
  if (!meta || meta["format"] !== MODEL_FILE_FORMAT) throw bad(`its metadata does not say format "${MODEL_FILE_FORMAT}"`);
  const version = Number(meta["format_version"]);
  if (!Number.isInteger(version) || version < 1) throw bad(`its format version ${JSON.stringify(meta["format_version"])} is not a version number`);
  if (version > MODEL_FILE_VERSION) {
    throw new ModelFileError(
      `${shownAs} is a model file of format version ${version}; this version of AutoML reads version ${MODEL_FILE_VERSION}. Update the extension (or the automl package) to read it.`,
    );
  }
  if (typeof meta["document"] !== "string") throw bad("its metadata has no document");
  const dataBytes = totalBytes - 8 - n;
  const tensors = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (raw === null || typeof raw !== "object") throw bad(`array ${name} has no description`);
    const e = raw as Partial<TensorEntry>;
    const ctor = typeof e.dtype === "string" && Object.hasOwn(DTYPES, e.dtype) ? DTYPES[e.dtype as DType] : undefined;
    const [begin, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    const length = Array.isArray(e.shape) && e.shape.length === 1 ? e.shape[0] : NaN;
    if (!ctor) throw bad(`array ${name} has the unknown type ${JSON.stringify(e.dtype)}`);
    if (
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      !Number.isSafeInteger(length) ||
      begin! < 0 ||
      end! < begin! ||
      end! > dataBytes ||
      length! < 0
    ) {
      throw bad(`array ${name} lies outside the file`);
    }
    if (end! - begin! !== length! * ctor.BYTES_PER_ELEMENT) throw bad(`array ${name}'s size does not match its shape`);
    tensors.set(name, e as TensorEntry);
  }
  return { document: meta["document"], tensors, dataStart: 8 + n };
}

function revive(document: string, tensors: Map<string, TensorEntry>, data: Uint8Array, shownAs: string): unknown {
  return JSON.parse(document, (_key, value: unknown) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const { $tensor: ref, as, ...rest } = value as { $tensor?: unknown; as?: unknown };
    if (typeof ref !== "string" || Object.keys(rest).length > 0) return value;
    const e = tensors.get(ref);
    if (!e) throw new ModelFileError(`${shownAs} is damaged: its document names an array ${ref} that the file does not hold.`);
    const ctor = DTYPES[e.dtype];
    // a copy: the file's bytes need not sit at an offset the array type can view
    const stored = new ctor(e.shape[0]);
    new Uint8Array(stored.buffer).set(data.subarray(e.data_offsets[0], e.data_offsets[1]));
    if (as === undefined) return stored;
    const wide = typeof as === "string" && Object.hasOwn(DTYPES, as) ? DTYPES[as as DType] : undefined;
    if (!wide) throw new ModelFileError(`${shownAs} is damaged: array ${ref} is to be read as the unknown type ${JSON.stringify(as)}.`);
    return wide.from(stored as ArrayLike<number> as never);
  });
}

/** The document of a model file's bytes, its arrays in place. */
export function decodeModelFile(bytes: Uint8Array, shownAs = "the model file"): unknown {
  const header = parseHeader(bytes, bytes.length, shownAs);
  try {
    return revive(header.document, header.tensors, bytes.subarray(header.dataStart), shownAs);
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    throw new ModelFileError(`${shownAs} is damaged: its document cannot be read (${(err as Error).message}).`);
  }
}

/**
 * The document of an open model file without its arrays (each stays {"$tensor": name}): what
 * describes a model (its metrics, its data) read from the header alone, however big the model.
 * The caller opened the file (project files are opened through the AssetStore) and closes it.
 */
export function readModelFileSummary(file: { fd: number; size: number }, shownAs: string): unknown {
  const first = Buffer.alloc(Math.min(file.size, 8));
  fs.readSync(file.fd, first, 0, first.length, 0);
  const n = first.length === 8 ? Number(first.readBigUInt64LE()) : 0;
  const head = Buffer.alloc(Math.min(file.size, 8 + Math.min(n, MAX_HEADER_BYTES)));
  fs.readSync(file.fd, head, 0, head.length, 0);
  const { document } = parseHeader(head, file.size, shownAs);
  try {
    return JSON.parse(document);
  } catch (err) {
    throw new ModelFileError(`${shownAs} is damaged: its document is not JSON (${(err as Error).message}).`);
  }
}
