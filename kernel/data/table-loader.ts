/**
 * Reads a data file into a typed, columnar Table (table.ts), whatever its shape: delimited text
 * (CSV, TSV, semicolons; any common encoding), JSON records or NDJSON, Parquet, Apache Arrow
 * IPC, Excel .xlsx, or any of the text ones gzip- or zip-compressed. Text is parsed as a stream
 * into per-column builders (column-builder.ts): the file is never held whole, nor its rows as
 * objects. What was detected (encoding, delimiter, header, compression) and every guess is said
 * in the warnings, for the profile. Every way a file can be unusable ends in an InputError that
 * names the file, the line and what to do.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as zlib from "node:zlib";
import { unzipSync } from "fflate";
import { openIfRegular } from "../files/regular-file";
import { InputError } from "../errors/input-error";
import { ColumnBuilder, plainNumber } from "./column-builder";
import { DelimitedParser, type ParsedRecord } from "./delimited-parser";
import { readArrowFile, readParquetFile, type ColumnSink } from "./columnar-files";
import { isXlsx, readXlsx } from "./xlsx-reader";
import { Table, columnLength, type Column } from "./table";
import { encodingOfHead, notUtf8Note, sniffDelimiter, type TextEncoding } from "./text-format";

export interface LoadedTable {
  table: Table;
  /** what was told about the file that the person should check (a guessed encoding, a day/month order, no header) */
  warnings: string[];
  /** what the file was found to be (its format, compression, delimiter, a byte-order mark's encoding): said, nothing to check */
  notes: string[];
}

export interface LoadOptions {
  /** called now and then with the share of the file read so far (0..1) */
  onProgress?: (fraction: number) => void;
  /** the memory the table may take; past it (estimated early from the file's size) the file is refused with the numbers */
  memoryBudgetBytes?: number;
  /** columns read as text whatever their values look like (delimited text and JSON; typed formats keep their types): what a model took as categories */
  textColumns?: ReadonlySet<string>;
}

/**
 * A file read in batches of rows (what prediction reads: a file of any length in the memory of
 * one batch). Delimited text, plain or gzip-compressed, is streamed; the other shapes are read
 * whole and handed out in slices.
 */
export interface BatchOptions {
  /** as LoadOptions.textColumns */
  textColumns?: ReadonlySet<string>;
  /** the columns built (others are only named in BatchRead.columnNames): what a model reads */
  columns?: ReadonlySet<string>;
  /** rows per batch; 65,536 unless told */
  batchRows?: number;
  onProgress?: (fraction: number) => void;
  /** the file turned out not to be UTF-8 after batches were handed out: it is read again from the start as Windows-1252, so drop what they gave */
  onRestart?: () => void;
}

export interface BatchRead {
  rows: number;
  /** every column of the file, in order */
  columnNames: string[];
  warnings: string[];
  notes: string[];
}

/** One batch: its rows as a table (the built columns only) and the file row its first row is (0 = the first data row). */
export type BatchSink = (batch: Table, firstRow: number) => void;

export const DEFAULT_BATCH_ROWS = 65_536;

/**
 * The biggest file accepted at all, as an upload or a copy into a project: a bigger one is
 * refused before a byte is read. What is actually loaded is bounded by memory (tableMemoryBudget):
 * a file under this cap whose table would not fit is refused with both numbers.
 */
export const MAX_TABLE_FILE_BYTES = 16 * 1024 ** 3;

const NO_COLUMNS: ReadonlySet<string> = new Set();
/** the JS heap a loading worker thread may use (the columns themselves live outside it); past it the load is refused, not the process ended */
export const MAX_LOAD_HEAP_MB = 2048;
/** a JSON array is parsed whole (its text must fit one string): past this, NDJSON or CSV is asked for */
const MAX_JSON_ARRAY_BYTES = 256 * 1024 ** 2;
/** a zip's data file is expanded in memory */
const MAX_ZIP_ENTRY_BYTES = 2 * 1024 ** 3;
/** one record longer than this is not a table's row (a file with no line ends, a quote never closed in a huge file) */
const MAX_RECORD_CHARS = 16 * 1024 ** 2;
const CHUNK_BYTES = 1024 * 1024;

/** The memory a loaded table may take: 40% of the machine's (the trainer needs the rest: features, bins, models). */
export function tableMemoryBudget(): number {
  return Math.floor(os.totalmem() * 0.4);
}

/**
 * Opens a data file the person gave, refusing with a message what is not a regular file of at
 * most MAX_TABLE_FILE_BYTES; the caller reads through the descriptor (see regular-file.ts for
 * why the check and the open are one step) and closes it.
 */
export function openDataFile(filePath: string, shownAs = filePath): { fd: number; stat: fs.Stats } {
  const opened = openIfRegular(filePath);
  if ("refused" in opened) {
    switch (opened.refused) {
      case "missing":
        throw new InputError(`Data file ${shownAs} does not exist. Check the path.`);
      case "loop":
        throw new InputError(`Data file ${shownAs} is a chain of links that loops back on itself. Give the path of the file itself.`);
      case "unreadable":
        throw new InputError(`Data file ${shownAs} cannot be read with this user's permissions. Make it readable, or copy it somewhere readable.`);
      case "folder":
        throw new InputError(
          `${shownAs} is a folder, not a data file. Give the path of a CSV, TSV, JSON, Parquet, Arrow or Excel file in it (or, for images, a folder with a subfolder of PNG or JPEG images per class).`,
        );
      case "special":
        throw new InputError(`${shownAs} is not a regular file (a FIFO, a socket or a device): give the path of a data file.`);
    }
  }
  if (opened.stat.size > MAX_TABLE_FILE_BYTES) {
    fs.closeSync(opened.fd);
    throw new InputError(
      `${path.basename(shownAs)} is ${gigabytes(opened.stat.size)}; this version accepts data files of up to ${gigabytes(MAX_TABLE_FILE_BYTES)}. Give a sample of the rows, or fewer columns.`,
    );
  }
  return opened;
}

/** The quick refusals of openDataFile, before a thread is started to read the file. */
export function checkDataFile(filePath: string, shownAs = filePath): fs.Stats {
  const { fd, stat } = openDataFile(filePath, shownAs);
  fs.closeSync(fd);
  return stat;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

function gigabytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : megabytes(bytes);
}

/** Bytes to read, again from the start whenever asked (a second read of a column, a change of encoding). */
interface ByteSource {
  /** the bytes the whole read produces, or an estimate; for progress and the memory check */
  size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/** The file through the descriptor openDataFile checked (never opened again by its path: it could be a FIFO by now), by position, so it can be read again. */
function fileSource(fd: number, size: number): ByteSource {
  return {
    size,
    async *chunks() {
      let position = 0;
      for (;;) {
        const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
        const got = fs.readSync(fd, buffer, 0, CHUNK_BYTES, position);
        if (got === 0) return;
        position += got;
        yield buffer.subarray(0, got);
      }
    },
  };
}

function readWhole(fd: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const got = fs.readSync(fd, out, at, size - at, at);
    if (got === 0) break;
    at += got;
  }
  return out.subarray(0, at);
}

function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    async *chunks() {
      for (let i = 0; i < bytes.length; i += CHUNK_BYTES) yield bytes.subarray(i, Math.min(bytes.length, i + CHUNK_BYTES));
    },
  };
}

/** A gzip file expanded as it is read; its size is the one its trailer declares (modulo 4 GB), else the compressed size. */
function gunzipSource(file: ByteSource, fd: number, name: string): ByteSource {
  const trailer = Buffer.alloc(4);
  fs.readSync(fd, trailer, 0, 4, Math.max(0, file.size - 4));
  return {
    size: Math.max(file.size, trailer.readUInt32LE(0)),
    async *chunks() {
      // chunks as big as a file's (zlib's default is 16 KB: a thousand pieces a megabyte)
      const gunzip = Readable.from(file.chunks()).pipe(zlib.createGunzip({ chunkSize: CHUNK_BYTES }));
      try {
        for await (const chunk of gunzip) yield chunk as Buffer;
      } catch (err) {
        throw new InputError(`${name} is not a readable gzip file (${(err as Error).message}). Compress it again, or give the file itself.`);
      }
    },
  };
}

function headOf(fd: number, n = 8): Buffer {
  const b = Buffer.alloc(n);
  const got = fs.readSync(fd, b, 0, n, 0);
  return b.subarray(0, got);
}

const startsWith = (b: Uint8Array, magic: number[]) => magic.every((m, i) => b[i] === m);
const GZIP_MAGIC = [0x1f, 0x8b];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1
const ARROW_FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // ARROW1
const ARROW_STREAM_MAGIC = [0xff, 0xff, 0xff, 0xff];

/** `shownAs`: the name messages use (an upload is read from a temp file, but its person knows it by their name) */
export async function loadTableFile(filePath: string, shownAs = filePath, options: LoadOptions = {}): Promise<LoadedTable> {
  const { fd, stat } = openDataFile(filePath, shownAs);
  try {
    return await loadOpened(fd, stat.size, shownAs, options);
  } finally {
    fs.closeSync(fd);
  }
}

async function loadOpened(fd: number, size: number, shownAs: string, options: LoadOptions): Promise<LoadedTable> {
  const read = await readOpened(fd, size, shownAs, options, null);
  const table = new Table(read.columns!);
  if (table.nRows === 0) throw new InputError(`${read.name} has a header but no data rows. Add at least one row of data.`);
  return { table, warnings: read.warnings, notes: read.notes };
}

/**
 * The file's columns, whatever its shape; with `batch`, delimited text is handed to it as it
 * is read instead (columns: null).
 */
async function readOpened(
  fd: number,
  size: number,
  shownAs: string,
  options: LoadOptions,
  batch: DelimitedBatch | null,
): Promise<{ name: string; columns: Column[] | null; warnings: string[]; notes: string[] }> {
  const name = path.basename(shownAs);
  if (size === 0) throw new InputError(`${name} is empty. Give a CSV with a header line and at least one row of data.`);
  const budget = options.memoryBudgetBytes ?? null;
  const progress = options.onProgress ?? (() => undefined);
  const head = headOf(fd);
  const lower = name.toLowerCase();
  const warnings: string[] = [];
  const notes: string[] = [];
  const text: TextRead = { name, budget, progress, warnings, notes, textColumns: options.textColumns ?? NO_COLUMNS, batch };
  let columns: Column[] | null;
  if (startsWith(head, PARQUET_MAGIC)) {
    columns = await readParquetFile(fd, size, name, sinkFor(warnings, budget, name), progress);
    notes.push(`${name} is a Parquet file.`);
  } else if (startsWith(head, ARROW_FILE_MAGIC) || (startsWith(head, ARROW_STREAM_MAGIC) && /\.(arrow|feather|arrows|ipc)$/.test(lower))) {
    columns = readArrowFile(readWhole(fd, size), name, sinkFor(warnings, budget, name));
    notes.push(`${name} is an Apache Arrow IPC file.`);
  } else if (startsWith(head, ZIP_MAGIC)) {
    const bytes = readWhole(fd, size);
    if (isXlsx(bytes)) {
      const sheet = readXlsx(bytes, name, sinkFor(warnings, budget, name));
      columns = sheet.columns;
      notes.push(sheet.note);
    } else {
      const entry = dataFileInZip(bytes, name);
      notes.push(`${name} is a zip archive; read ${entry.name} from it (${megabytes(entry.bytes.length)}).`);
      columns = await readText(bufferSource(entry.bytes), entry.name.toLowerCase(), text);
    }
  } else if (startsWith(head, GZIP_MAGIC)) {
    const source = gunzipSource(fileSource(fd, size), fd, name);
    notes.push(`${name} is gzip-compressed; read what it holds as it expanded.`);
    columns = await readText(source, lower.replace(/\.gz$/, ""), text);
  } else {
    columns = await readText(fileSource(fd, size), lower, text);
  }
  progress(1);
  if (columns?.length === 0) throw new InputError(`${name} has no columns. Give a table with a header line and at least one row of data.`);
  return { name, columns, warnings, notes };
}

/**
 * Reads a file in batches of rows (see BatchOptions): each batch goes to `onBatch` as a table
 * of the wanted columns, in file order, before the next is read.
 */
export async function readTableInBatches(filePath: string, shownAs: string, options: BatchOptions, onBatch: BatchSink): Promise<BatchRead> {
  const batchRows = Math.max(1, options.batchRows ?? DEFAULT_BATCH_ROWS);
  const wanted = options.columns ?? null;
  const batch: DelimitedBatch = { rows: batchRows, columns: wanted, onBatch, onRestart: options.onRestart ?? (() => undefined), names: [], total: 0 };
  const { fd, stat } = openDataFile(filePath, shownAs);
  let read: Awaited<ReturnType<typeof readOpened>>;
  try {
    read = await readOpened(fd, stat.size, shownAs, { textColumns: options.textColumns, onProgress: options.onProgress }, batch);
  } finally {
    fs.closeSync(fd);
  }
  if (read.columns) {
    // a shape read whole: handed out in slices of the wanted columns
    const table = new Table(read.columns.filter((c) => !wanted || wanted.has(c.name)));
    const rows = read.columns[0] ? columnLength(read.columns[0]) : 0;
    if (rows === 0) throw new InputError(`${read.name} has a header but no data rows. Add at least one row of data.`);
    for (let from = 0; from < rows; from += batchRows) onBatch(sliceRows(table, from, Math.min(rows, from + batchRows)), from);
    return { rows, columnNames: read.columns.map((c) => c.name), warnings: read.warnings, notes: read.notes };
  }
  if (batch.total === 0) throw new InputError(`${read.name} has a header but no data rows. Add at least one row of data.`);
  // a batch's reading of a column (a decimal comma, a date order) is said once, not once a batch
  return { rows: batch.total, columnNames: batch.names, warnings: [...new Set(read.warnings)], notes: read.notes };
}

/** Rows from..to of a table, as views of its arrays. */
function sliceRows(table: Table, from: number, to: number): Table {
  return new Table(
    table.columns.map((c): Column => (c.kind === "categorical" ? { ...c, codes: c.codes.subarray(from, to) } : { ...c, values: c.values.subarray(from, to) })),
  );
}

/** Where a columnar format (Parquet, Arrow, a spreadsheet) puts its values: a builder per column, the memory check on the way. */
function sinkFor(warnings: string[], budget: number | null, name: string): ColumnSink {
  return {
    warnings,
    builder: (rows) => new ColumnBuilder(rows),
    checkMemory: (rows, cols) => refuseIfTooBig(name, rows, cols, budget, null),
  };
}

/** Refuses a table whose arrays alone (8 bytes a cell) would pass the budget (null: tableMemoryBudget()), before it is read. */
function refuseIfTooBig(name: string, rows: number, cols: number, budget: number | null, fileSize: number | null): void {
  const need = rows * cols * 8;
  const allowed = budget ?? tableMemoryBudget();
  if (need <= allowed) return;
  const size = fileSize === null ? "" : ` is ${gigabytes(fileSize)}:`;
  const why = budget === null ? ` (40% of its ${gigabytes(os.totalmem())})` : "";
  throw new InputError(
    `${name}${size} about ${Math.round(rows).toLocaleString("en")} rows × ${cols} columns, which take about ${gigabytes(need)} in memory as a table; ` +
      `this machine allows ${gigabytes(allowed)} for one${why}. Give a sample of the rows, or fewer columns.`,
  );
}

class NotUtf8 extends Error {
  constructor(readonly note: string) {
    super("not UTF-8");
  }
}

/**
 * Decodes a source's bytes to text chunks: by its byte-order mark, UTF-16's zero bytes, else
 * UTF-8, which a byte that UTF-8 never uses turns into NotUtf8 (the caller reads again as
 * Windows-1252).
 */
async function* decodedChunks(source: ByteSource, encoding: TextEncoding, skip: number, name: string): AsyncIterable<{ text: string; bytes: number }> {
  const decoder = new TextDecoder(encoding, { fatal: encoding === "utf-8" });
  let first = true;
  let lines = 0;
  for await (let chunk of source.chunks()) {
    if (first && skip > 0) chunk = chunk.subarray(skip);
    first = false;
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new NotUtf8(notUtf8Note(name, chunk, lines));
    }
    if (encoding === "utf-8") for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines++;
    yield { text, bytes: chunk.length };
  }
  try {
    const rest = decoder.decode();
    if (rest) yield { text: rest, bytes: 0 };
  } catch {
    throw new NotUtf8(`${name} is not valid UTF-8 (it ends inside a character), so it was read as Windows-1252 / Latin-1. Save it as UTF-8 and load it again.`);
  }
}

/** Where a text file's reading goes: its name in messages, the memory it may take, its progress, warnings and notes; in batches when `batch` is set. */
interface TextRead {
  name: string;
  budget: number | null;
  progress: (f: number) => void;
  warnings: string[];
  notes: string[];
  /** see LoadOptions.textColumns */
  textColumns: ReadonlySet<string>;
  batch: DelimitedBatch | null;
}

/** A delimited text read in batches (readTableInBatches): what it wants, where batches go, and what it found. */
interface DelimitedBatch {
  rows: number;
  columns: ReadonlySet<string> | null;
  onBatch: BatchSink;
  onRestart: () => void;
  /** filled in: the header's names, and the data rows read */
  names: string[];
  total: number;
}

/**
 * Delimited text or JSON, in whatever encoding the bytes tell. `inner`: the data file's name,
 * lowercase (inside a zip, or without .gz). Null when delimited text went out in batches.
 */
async function readText(source: ByteSource, inner: string, text: TextRead): Promise<Column[] | null> {
  const { name, warnings } = text;
  let head: Uint8Array = new Uint8Array(0);
  for await (const chunk of source.chunks()) {
    head = chunk.subarray(0, 64 * 1024);
    break;
  }
  const told = encodingOfHead(head, name);
  if (!told)
    throw new InputError(
      `${name} is not a text file (it contains zero bytes that no text encoding explains). Give a CSV, TSV, JSON, Parquet, Arrow or Excel file.`,
    );
  if (told.note) text.notes.push(told.note);
  const ext = path.extname(inner);
  const read = async (encoding: TextEncoding): Promise<Column[] | null> =>
    ext === ".json" || ext === ".ndjson" || ext === ".jsonl"
      ? readJson(decodedChunks(source, encoding, told.skip, name), source.size, name, ext !== ".json", text.budget, text.progress, warnings, text.textColumns)
      : text.batch
        ? (await readDelimitedBatches({ ...text, source, encoding, skip: told.skip, hinted: ext === ".tsv" || ext === ".tab" ? "\t" : null }, text.batch), null)
        : readDelimited({ ...text, source, encoding, skip: told.skip, hinted: ext === ".tsv" || ext === ".tab" ? "\t" : null });
  try {
    return await read(told.encoding);
  } catch (err) {
    if (!(err instanceof NotUtf8)) throw err;
    warnings.push(err.note);
    if (text.batch?.total) {
      text.batch.total = 0;
      text.batch.onRestart();
    }
    return read("windows-1252");
  }
}

/** One read of a delimited text: its bytes and how they decode, with where its progress and notes go. */
interface DelimitedRead extends TextRead {
  source: ByteSource;
  encoding: TextEncoding;
  /** the byte-order mark's length */
  skip: number;
  /** the delimiter the file's name suggests (a .tsv: tabs) */
  hinted: string | null;
}

/**
 * A delimited text handed out in batches, in one read. A model's text columns are kept as text
 * from the first value; the others are typed per batch by the same rules as a whole file, a
 * column of numbers meeting text keeping its numbers as their text (so the batch says which
 * rows hold what), never read again.
 */
async function readDelimitedBatches(read: DelimitedRead, batch: DelimitedBatch): Promise<void> {
  let built: Array<{ j: number; name: string; text: boolean; builder: ColumnBuilder }> = [];
  const builderFor = (text: boolean) => new ColumnBuilder(batch.rows, false, text, text);
  let inBatch = 0;
  const flush = () => {
    if (inBatch === 0) return;
    const table = new Table(built.map((b) => b.builder.finish(b.name, delimiter, read.warnings)));
    const first = batch.total;
    batch.total += inBatch;
    inBatch = 0;
    for (const b of built) b.builder = builderFor(b.text);
    batch.onBatch(table, first);
  };
  let delimiter = ",";
  await parseDelimited(
    { ...read, budget: Number.MAX_SAFE_INTEGER },
    {
      onDelimiter: (d) => (delimiter = d),
      onHeader: (header) => {
        batch.names = uniqueNames(header, read.warnings);
        built = batch.names.flatMap((name, j) =>
          !batch.columns || batch.columns.has(name) ? [{ j, name, text: read.textColumns.has(name), builder: builderFor(read.textColumns.has(name)) }] : [],
        );
        // a file whose first line is all numbers has no names: the model's columns are reported missing
        return false;
      },
      onRecord: (record) => {
        for (const b of built) b.builder.addField(record, b.j);
        if (++inBatch === batch.rows) flush();
      },
      onRowsEstimate: () => undefined,
    },
  );
  flush();
}

async function readDelimited(read: DelimitedRead): Promise<Column[]> {
  const { name, warnings } = read;
  let builders: ColumnBuilder[] | null = null;
  let names: string[] = [];
  let delimiter = ",";
  const readWarnings: string[] = [];
  const first = await parseDelimited(
    { ...read, warnings: readWarnings },
    {
      onDelimiter: (d) => (delimiter = d),
      onHeader: (header, expectRows) => {
        const headerless = header.length > 0 && header.every((h) => !Number.isNaN(plainNumber(h.trim())));
        names = headerless ? header.map((_, j) => `column_${j + 1}`) : uniqueNames(header, readWarnings);
        builders = names.map((n) => (read.textColumns.has(n) ? new ColumnBuilder(expectRows, true, true, true) : new ColumnBuilder(expectRows, true)));
        if (headerless) {
          readWarnings.push(`${name} has no header line (its first line is all numbers): its columns are called column_1 … column_${names.length}.`);
          header.forEach((h, j) => builders![j]!.addText(h));
        }
        return headerless;
      },
      onRecord: (record) => {
        const b = builders!;
        for (let j = 0; j < b.length; j++) b[j]!.addField(record, j);
      },
      onRowsEstimate: (rows) =>
        builders?.forEach((b) => {
          b.readIsoFromHere();
          b.reserve(rows);
        }),
    },
  );
  if (!builders || first.rows === 0) throw new InputError(`${name} has a header but no data rows. Add at least one row of data.`);
  const built: ColumnBuilder[] = builders;
  // columns that turned to text after numbers: read again, those columns only, as text
  const again = built.flatMap((b, j) => (b.needsText ? [j] : []));
  if (again.length > 0) {
    const textBuilders = new Map(again.map((j) => [j, new ColumnBuilder(first.rows, true, true)]));
    await parseDelimited(
      { ...read, progress: () => undefined, warnings: [], notes: [] },
      {
        onDelimiter: () => undefined,
        onHeader: (header) => {
          if (first.headerless) for (const [j, b] of textBuilders) b.addText(header[j]!);
          return first.headerless;
        },
        onRecord: (record) => {
          for (const [j, b] of textBuilders) b.addText(record.text(j));
        },
        onRowsEstimate: () => undefined,
        delimiter,
      },
    );
    for (const [j, b] of textBuilders) built[j] = b;
  }
  warnings.push(...readWarnings);
  return built.map((b, j) => b.finish(names[j]!, delimiter, warnings));
}

interface DelimitedHandlers {
  onDelimiter(d: string): void;
  /** the first record; returns whether it is data (a file without a header line) */
  onHeader(fields: string[], expectRows: number): boolean;
  onRecord(record: ParsedRecord): void;
  /** the rows the whole file likely holds, told from its first chunk */
  onRowsEstimate(rows: number): void;
  /** the second read: the delimiter already told */
  delimiter?: string;
}

async function parseDelimited(
  { source, encoding, skip, name, hinted, budget, progress, notes }: DelimitedRead,
  handlers: DelimitedHandlers,
): Promise<{ rows: number; headerless: boolean }> {
  let parser: DelimitedParser | null = null;
  let nCols = -1;
  let rows = 0;
  let bytesRead = 0;
  let headerless = false;
  let checked = false;
  for await (const { text, bytes } of decodedChunks(source, encoding, skip, name)) {
    bytesRead += bytes;
    if (!parser) {
      let delimiter = handlers.delimiter;
      if (delimiter === undefined) {
        const guess = sniffDelimiter(text, name, hinted);
        if (guess.note) notes.push(guess.note);
        delimiter = guess.delimiter;
        handlers.onDelimiter(delimiter);
      }
      parser = new DelimitedParser(delimiter, name, MAX_RECORD_CHARS, (record) => {
        const { count, line } = record;
        if (nCols < 0) {
          nCols = count;
          const header = Array.from({ length: count }, (_, j) => record.text(j));
          // a first guess at the rows from the header line's length, to size the columns once
          const lineBytes = Math.max(
            8,
            header.reduce((s, f) => s + f.length + 1, 0),
          );
          headerless = handlers.onHeader(header, Math.min(1 << 24, Math.ceil(source.size / lineBytes)));
          if (headerless) rows++;
          return;
        }
        if (count !== nCols) {
          throw new InputError(
            `${name} is malformed at line ${line}: that row has a different number of fields than the header (${count}, the header has ${nCols}). ` +
              `Look for a stray delimiter or an unquoted comma in a value, fix the row, and load the file again.`,
          );
        }
        handlers.onRecord(record);
        rows++;
      });
    }
    parser.push(text);
    // a turn for the event loop between chunks (the chunks are read synchronously): a file read in the
    // conductor's own thread (a prediction) must not keep its requests and streams waiting for the whole file
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!checked && rows > 0 && nCols > 0) {
      // the table's size from the share of the file one chunk held: refused now, not after minutes of reading
      checked = true;
      const expected = (rows * source.size) / Math.max(1, bytesRead);
      refuseIfTooBig(name, expected, nCols, budget, source.size);
      handlers.onRowsEstimate(Math.ceil(expected * 1.005) + 16);
    }
    progress(Math.min(0.99, bytesRead / Math.max(1, source.size)));
  }
  if (!parser) throw new InputError(`${name} is empty. Give a CSV with a header line and at least one row of data.`);
  parser.end();
  if (nCols < 0) throw new InputError(`${name} has no header line. Add a first line with the column names.`);
  return { rows, headerless };
}

/** JSON: an array of records parsed whole (up to MAX_JSON_ARRAY_BYTES), or NDJSON streamed line by line. */
async function readJson(
  chunks: AsyncIterable<{ text: string; bytes: number }>,
  size: number,
  name: string,
  lines: boolean,
  budget: number | null,
  progress: (f: number) => void,
  warnings: string[],
  textColumns: ReadonlySet<string>,
): Promise<Column[]> {
  const records = new RecordColumns(name, textColumns);
  let bytesRead = 0;
  let carry = "";
  let lineNo = 0;
  let whole = "";
  let array: boolean | null = lines ? false : null;
  const takeLine = (line: string) => {
    lineNo++;
    const t = line.trim();
    if (t === "") return;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch (err) {
      throw new InputError(
        `${name} line ${lineNo} is not a JSON record (${(err as Error).message}). Each line of an NDJSON file holds one record like {"a": 1}.`,
      );
    }
    records.add(value);
  };
  for await (const { text, bytes } of chunks) {
    bytesRead += bytes;
    if (array === null) array = text.trimStart().startsWith("[");
    if (array) {
      if (size > MAX_JSON_ARRAY_BYTES) {
        throw new InputError(
          `${name} is a JSON array of ${megabytes(size)}; arrays of up to ${megabytes(MAX_JSON_ARRAY_BYTES)} are read. Give it as NDJSON (one record per line) or CSV, which are read as a stream.`,
        );
      }
      whole += text;
      continue;
    }
    const all = carry + text;
    let start = 0;
    for (let nl = all.indexOf("\n"); nl >= 0; nl = all.indexOf("\n", start)) {
      takeLine(all.slice(start, nl));
      start = nl + 1;
    }
    carry = all.slice(start);
    if (carry.length > MAX_RECORD_CHARS)
      throw new InputError(`${name} line ${lineNo + 1} is longer than ${megabytes(MAX_RECORD_CHARS)}: it is not a record of a table.`);
    progress(Math.min(0.99, bytesRead / Math.max(1, size)));
    if (lineNo > 1000 && records.rows > 0) refuseIfTooBig(name, (records.rows * size) / bytesRead, records.width, budget, size);
  }
  if (array) {
    let value: unknown;
    try {
      value = JSON.parse(whole);
    } catch (err) {
      throw new InputError(`${name} is not valid JSON (${(err as Error).message}). Give a JSON array of records, one record per line (NDJSON), or a CSV.`);
    }
    if (!Array.isArray(value)) throw new InputError(`${name} must be a JSON array of flat records like [{"a": 1, "b": "x"}, …], or one record per line.`);
    for (const r of value) records.add(r);
  } else {
    takeLine(carry);
    // a .json holding one object is a document, not a table of one row
    if (!lines && records.rows < 2) {
      throw new InputError(`${name} must be a JSON array of flat records like [{"a": 1, "b": "x"}, …], or one record per line (NDJSON).`);
    }
  }
  if (records.rows === 0) throw new InputError(`${name} holds no records. Give at least one row of data.`);
  return records.finish(warnings);
}

/** Records (JSON objects) into columns: a column per key, in order of first appearance; a key a record lacks is missing there. */
/**
 * A table of JSON records (what a request body holds), typed as a JSON file's are; `textColumns`
 * as LoadOptions.textColumns. `shownAs` names the records in messages.
 */
export function tableFromRecords(records: readonly unknown[], shownAs: string, textColumns: ReadonlySet<string> = NO_COLUMNS): LoadedTable {
  const columns = new RecordColumns(shownAs, textColumns);
  for (const r of records) columns.add(r);
  const warnings: string[] = [];
  return { table: new Table(columns.finish(warnings)), warnings, notes: [] };
}

class RecordColumns {
  private readonly builders = new Map<string, ColumnBuilder>();
  rows = 0;

  constructor(
    private readonly name: string,
    private readonly textColumns: ReadonlySet<string> = NO_COLUMNS,
  ) {}

  get width(): number {
    return this.builders.size;
  }

  add(r: unknown): void {
    if (r === null || typeof r !== "object" || Array.isArray(r)) {
      throw new InputError(`${this.name} must hold flat records like {"a": 1, "b": "x"}: a JSON array of them, or one per line (NDJSON).`);
    }
    const record = r as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (this.builders.has(key)) continue;
      const b = this.textColumns.has(key) ? new ColumnBuilder(1024, false, true, true) : new ColumnBuilder();
      for (let i = 0; i < this.rows; i++) b.addMissing();
      this.builders.set(key, b);
    }
    for (const [key, b] of this.builders) b.addValue(Object.hasOwn(record, key) ? record[key] : null);
    this.rows++;
  }

  finish(warnings: string[]): Column[] {
    return [...this.builders].map(([key, b]) => b.finish(key, null, warnings));
  }
}

const DATA_EXTENSIONS = [".csv", ".tsv", ".tab", ".txt", ".json", ".ndjson", ".jsonl"];

/**
 * The one data file in a zip: its sizes are checked from the archive's directory before
 * anything is expanded, folders and links inside are never followed (only the entry's bytes
 * are read, in memory), and several data files are refused with their names.
 */
function dataFileInZip(bytes: Buffer, name: string): { name: string; bytes: Buffer } {
  const candidates: { name: string; size: number }[] = [];
  let out: Record<string, Uint8Array>;
  try {
    out = unzipSync(bytes, {
      filter: (f) => {
        const base = path.posix.basename(f.name);
        if (f.name.endsWith("/") || base.startsWith(".") || f.name.startsWith("__MACOSX/")) return false;
        if (!DATA_EXTENSIONS.includes(path.extname(base).toLowerCase())) return false;
        candidates.push({ name: f.name, size: f.originalSize });
        return false;
      },
    });
  } catch (err) {
    throw new InputError(`${name} is not a readable zip archive (${(err as Error).message}). Zip it again, or give the CSV itself.`);
  }
  if (candidates.length === 0) throw new InputError(`${name} holds no CSV, TSV or JSON file. Put the data file in the archive, or give it directly.`);
  if (candidates.length > 1) {
    throw new InputError(
      `${name} holds ${candidates.length} data files (${candidates.map((c) => c.name).join(", ")}); this version reads one. Give the one to use directly, or a zip with only it.`,
    );
  }
  const only = candidates[0]!;
  if (only.size > MAX_ZIP_ENTRY_BYTES) {
    throw new InputError(
      `${only.name} in ${name} is ${gigabytes(only.size)}, past the ${gigabytes(MAX_ZIP_ENTRY_BYTES)} this version expands from a zip. Unzip it and give the file itself (it is then read as a stream).`,
    );
  }
  try {
    out = unzipSync(bytes, { filter: (f) => f.name === only.name });
  } catch (err) {
    throw new InputError(
      `${only.name} in ${name} cannot be expanded (${(err as Error).message}). Zip it again with ordinary compression, or give the file itself.`,
    );
  }
  const data = out[only.name];
  // fflate expands into the size the archive declares: anything else is a damaged or lying archive
  if (!data || data.length !== only.size) {
    throw new InputError(
      `${only.name} in ${name} does not expand to the ${megabytes(only.size)} the archive declares: it is damaged. Zip it again, or give the file itself.`,
    );
  }
  return { name: path.posix.basename(only.name), bytes: Buffer.from(data.buffer, data.byteOffset, data.length) };
}

function uniqueNames(header: string[], warnings: string[]): string[] {
  const used = new Map<string, number>();
  return header.map((raw, j) => {
    let base = raw.trim();
    if (base === "") {
      base = `column_${j + 1}`;
      warnings.push(`Column ${j + 1} has no name; called it ${base}.`);
    }
    const count = used.get(base) ?? 0;
    used.set(base, count + 1);
    if (count === 0) return base;
    const renamed = `${base}.${count}`;
    warnings.push(`Column name ${JSON.stringify(base)} appears more than once; the copy at position ${j + 1} is called ${renamed}.`);
    return renamed;
  });
}
