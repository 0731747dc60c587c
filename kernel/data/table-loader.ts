/**
 * Reads a CSV (or a JSON array of records) into a typed Table. Every way a file can be
 * unusable ends in an InputError that names the file, the line and what to do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { parse as parseCsv } from "csv-parse/sync";
import { unzipSync } from "fflate";
import { openIfRegular } from "../files/regular-file";
import { InputError } from "../errors/input-error";
import { readDateColumn, readEpochColumn } from "./date-reading";
import { Table, type Column } from "./table";
import { decodeText, isDecimalCommaNumber, parseDecimalComma, sniffDelimiter } from "./text-format";

/** The spellings of "missing" that pandas' read_csv recognises, which people's files use. */
const MISSING_TOKENS = new Set([
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "None",
  "n/a",
  "nan",
  "null",
  "?",
]);
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
/** how pandas, numpy and spreadsheets write infinity: read as a number, kept as missing */
const INFINITY = /^[-+]?(inf|infinity)$/i;

export interface LoadedTable {
  table: Table;
  /** things worth telling the person that did not stop the load */
  warnings: string[];
}

/**
 * The biggest data file loaded: reading a CSV takes about nine times its size in memory (a
 * 101 MB CSV of 600,000 rows peaked at 870 MB), so this keeps a load under MAX_LOAD_HEAP_MB.
 * Bigger files are refused with both numbers rather than taking the conductor down.
 */
export const MAX_TABLE_FILE_BYTES = 200 * 1024 * 1024;
/** the heap a loading worker thread may use; past it the load is refused, not the process ended */
export const MAX_LOAD_HEAP_MB = 2048;

/**
 * Refuses what cannot be a data file before a byte is read: a missing path, a folder, a FIFO
 * or a device (reading one blocks forever or never ends), or a file past the size budget.
 */
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
        throw new InputError(`${shownAs} is a folder, not a data file. Give the path of a CSV, TSV or JSON file in it.`);
      case "special":
        throw new InputError(`${shownAs} is not a regular file (a FIFO, a socket or a device): give the path of a CSV, TSV or JSON file.`);
    }
  }
  if (opened.stat.size > MAX_TABLE_FILE_BYTES) {
    fs.closeSync(opened.fd);
    throw new InputError(
      // one decimal: a file just past the cap would read as "200 MB" against "up to 200 MB"
      `${path.basename(shownAs)} is ${(opened.stat.size / 1024 / 1024).toFixed(1)} MB; this version loads data files of up to ${megabytes(MAX_TABLE_FILE_BYTES)} (reading one takes about nine times its size in memory). Give a sample of the rows, or fewer columns.`,
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

/** `shownAs`: the name messages use (an upload is read from a temp file, but its person knows it by their name) */
export function loadTableFile(filePath: string, shownAs = filePath): LoadedTable {
  const name = path.basename(shownAs);
  const { fd } = openDataFile(filePath, shownAs);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const notes: string[] = [];
  let inner = path.basename(shownAs).toLowerCase();
  if (isGzip(bytes)) {
    bytes = gunzipCapped(bytes, name);
    inner = inner.replace(/\.gz$/, "");
    notes.push(`${name} is gzip-compressed; read what it holds (${megabytes(bytes.length)}).`);
  } else if (isZip(bytes)) {
    const entry = dataFileInZip(bytes, name);
    bytes = entry.bytes;
    inner = entry.name.toLowerCase();
    notes.push(`${name} is a zip archive; read ${entry.name} from it (${megabytes(bytes.length)}).`);
  }
  if (bytes.length === 0) {
    throw new InputError(`${name} is empty. Give a CSV with a header line and at least one row of data.`);
  }
  const decoded = decodeText(bytes, name);
  if (!decoded) throw new InputError(`${name} is not a text file (it contains zero bytes that no text encoding explains). Give a CSV, TSV or JSON file.`);
  if (decoded.note) notes.push(decoded.note);
  const text = decoded.text;
  const ext = path.extname(inner);
  let loaded: LoadedTable;
  if (ext === ".json" || ext === ".ndjson" || ext === ".jsonl") loaded = fromRecords(parseJsonRecords(text, name, ext !== ".json"), name);
  else {
    const guess = sniffDelimiter(text, name, ext === ".tsv" || ext === ".tab" ? "\t" : null);
    if (guess.note) notes.push(guess.note);
    loaded = fromRows(parseDelimited(text, name, guess.delimiter), name, guess.delimiter);
  }
  return { table: loaded.table, warnings: [...notes, ...loaded.warnings] };
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function isGzip(b: Uint8Array): boolean {
  return b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
}

function isZip(b: Uint8Array): boolean {
  return ZIP_MAGIC.every((m, i) => b[i] === m);
}

/** Decompresses within the size budget: a small file that expands past it is refused with both sizes, not read. */
function gunzipCapped(bytes: Buffer, name: string): Buffer {
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: MAX_TABLE_FILE_BYTES });
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new InputError(
        `${name} (${megabytes(bytes.length)} compressed) expands to more than ${megabytes(MAX_TABLE_FILE_BYTES)}, past what this version loads. Give a sample of the rows, or fewer columns.`,
      );
    }
    throw new InputError(`${name} is not a readable gzip file (${(err as Error).message}). Compress it again, or give the CSV itself.`);
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
  if (only.size > MAX_TABLE_FILE_BYTES) {
    throw new InputError(
      `${only.name} in ${name} is ${megabytes(only.size)}, past the ${megabytes(MAX_TABLE_FILE_BYTES)} this version loads. Give a sample of the rows, or fewer columns.`,
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

function parseDelimited(text: string, name: string, delimiter: string): string[][] {
  try {
    return parseCsv(text, { bom: true, delimiter, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    const where = e.lines !== undefined ? ` at line ${e.lines}` : "";
    switch (e.code) {
      case "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH":
      case "CSV_RECORD_INCONSISTENT_COLUMNS":
        throw new InputError(
          `${name} is malformed${where}: that row has a different number of fields than the header. ` +
            `Look for a stray delimiter or an unquoted comma in a value, fix the row, and load the file again.`,
        );
      case "CSV_QUOTE_NOT_CLOSED":
        throw new InputError(
          `${name} is malformed: a quoted field that starts at line ${unclosedQuoteLine(text)} is never closed (the file ends inside it). Close the quote and load the file again.`,
        );
      case "CSV_INVALID_CLOSING_QUOTE":
      case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE":
        throw new InputError(
          `${name} is malformed${where}: text follows a closing quote. Double the quote inside a quoted value ("") and load the file again.`,
        );
      default:
        throw new InputError(`${name} could not be read as CSV${where}: ${e.message ?? String(err)}`);
    }
  }
}

/** The line where the quoted field that never closes begins (csv-parse reports where it gave up: the end). */
function unclosedQuoteLine(text: string): number {
  let line = 1;
  let inQuotes = false;
  let openedAt = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      inQuotes = !inQuotes;
      if (inQuotes) openedAt = line;
    } else if (ch === 0x0a) line++;
  }
  return openedAt;
}

function parseJsonRecords(text: string, name: string, lines: boolean): Record<string, unknown>[] {
  const array = !lines && text.trimStart().startsWith("[");
  const records = array ? parseJsonArray(text, name) : parseJsonLines(text, name);
  // a .json holding one object is a document, not a table of one row
  if (!lines && !array && records.length < 2) {
    throw new InputError(`${name} must be a JSON array of flat records like [{"a": 1, "b": "x"}, …], or one record per line (NDJSON).`);
  }
  if (records.some((r) => r === null || typeof r !== "object" || Array.isArray(r))) {
    throw new InputError(`${name} must hold flat records like {"a": 1, "b": "x"}: a JSON array of them, or one per line (NDJSON).`);
  }
  return records as Record<string, unknown>[];
}

function parseJsonArray(text: string, name: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${name} is not valid JSON (${(err as Error).message}). Give a JSON array of records, one record per line (NDJSON), or a CSV.`);
  }
  if (!Array.isArray(value)) throw new InputError(`${name} must be a JSON array of flat records like [{"a": 1, "b": "x"}, …], or one record per line.`);
  return value;
}

/** NDJSON (JSON Lines): one record per line; blank lines are skipped. */
function parseJsonLines(text: string, name: string): unknown[] {
  const out: unknown[] = [];
  let lineNo = 0;
  for (const line of text.split("\n")) {
    lineNo++;
    const t = line.trim();
    if (t === "") continue;
    try {
      out.push(JSON.parse(t));
    } catch (err) {
      throw new InputError(
        `${name} line ${lineNo} is not a JSON record (${(err as Error).message}). Each line of an NDJSON file holds one record like {"a": 1}.`,
      );
    }
  }
  return out;
}

function fromRecords(records: Record<string, unknown>[], name: string): LoadedTable {
  if (records.length === 0) throw new InputError(`${name} holds no records. Give at least one row of data.`);
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), keys.push(k));
  const rows = records.map((r) =>
    keys.map((k) => {
      const v = r[k];
      if (v === null || v === undefined) return "";
      if (typeof v === "object") return JSON.stringify(v);
      return String(v);
    }),
  );
  return fromRows([keys, ...rows], name);
}

/** `delimiter`: in a file not separated by commas, numbers may group or separate decimals with commas ("1,5", "1,234.5") */
function fromRows(rows: string[][], name: string, delimiter = ","): LoadedTable {
  const warnings: string[] = [];
  const header = rows[0];
  if (!header || header.length === 0) throw new InputError(`${name} has no header line. Add a first line with the column names.`);
  if (rows.length < 2) throw new InputError(`${name} has a header but no data rows. Add at least one row of data.`);
  const names = uniqueNames(header, warnings);
  const data = rows.slice(1);
  const columns: Column[] = names.map((colName, j) =>
    typeColumn(
      colName,
      data.map((r) => r[j] ?? ""),
      delimiter,
      warnings,
    ),
  );
  return { table: new Table(columns), warnings };
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

/** A number with dots grouping thousands, as a decimal-comma file writes it: "1.234", "12.500.000". */
const DOT_THOUSANDS = /^[-+]?\d{1,3}(?:\.\d{3})+$/;
/** A number with commas grouping thousands, US style: "1,234", "1,234,567.5". */
const COMMA_THOUSANDS = /^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

/**
 * Which way a value writes a number with commas: "europe" (a decimal comma), "us" (commas
 * group thousands), "either" ("1,234", or a plain number either style reads alike), or null
 * when it is not a number in either.
 */
function numberStyle(t: string, plain: boolean): "europe" | "us" | "either" | null {
  if (plain) return t.includes(".") && !DOT_THOUSANDS.test(t) ? "us" : "either";
  const eu = isDecimalCommaNumber(t);
  const us = COMMA_THOUSANDS.test(t);
  if (eu && us) return "either";
  return eu ? "europe" : us ? "us" : null;
}

/**
 * Numeric if every present value is a number (with a decimal comma in a file that allows it),
 * datetime if every one is a date (date-reading.ts; a numeric column named as a time may be
 * epoch seconds), else categorical. How a column was read, when it took a guess, goes into
 * `warnings` for the profile.
 */
function typeColumn(name: string, raw: string[], delimiter: string, warnings: string[]): Column {
  let numeric = true;
  // a file not separated by commas may write numbers with commas: as decimals ("1,5", Europe) or
  // grouping thousands ("1,234.5", US); each column must keep to one of the two
  let grouped = delimiter !== ",";
  let europe = 0;
  let us = 0;
  let present = 0;
  const trimmed: (string | null)[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i]!.trim();
    if (MISSING_TOKENS.has(t)) {
      trimmed[i] = null;
      continue;
    }
    trimmed[i] = t;
    present++;
    const plain = NUMBER.test(t) || INFINITY.test(t);
    if (numeric && !plain) numeric = false;
    if (!grouped) continue;
    const style = numberStyle(t, plain);
    if (style === null) grouped = false;
    else if (style === "europe") europe++;
    else if (style === "us") us++;
  }
  // both styles in one column: not numbers this loader can read
  if (europe > 0 && us > 0) grouped = false;
  if (present > 0 && (numeric || grouped)) {
    // "1,234" alone could be either: a semicolon file means a decimal comma, other files thousands
    const decimalComma = europe > 0 || (us === 0 && delimiter === ";");
    const values = new Float64Array(raw.length);
    let infinite = 0;
    let reread = 0;
    for (let i = 0; i < raw.length; i++) {
      const t = trimmed[i];
      let v: number;
      if (t === null || t === undefined) v = NaN;
      else if (INFINITY.test(t)) v = t.startsWith("-") ? -Infinity : Infinity;
      else if (!numeric && (t.includes(",") || (decimalComma && DOT_THOUSANDS.test(t)))) {
        v = decimalComma ? parseDecimalComma(t) : Number(t.replace(/,/g, ""));
        reread++;
      } else v = Number(t);
      // an infinite value has no place on any scale a model learns: it counts as missing
      if (Number.isFinite(v) || Number.isNaN(v)) values[i] = v;
      else ((values[i] = NaN), infinite++);
    }
    if (reread > 0) {
      warnings.push(
        decimalComma
          ? `Column ${name}: numbers written with a decimal comma ("1,5"; dots group thousands) were read as decimals.`
          : `Column ${name}: commas in numbers were read as thousands separators ("1,234" is 1234).`,
      );
    }
    const epoch = readEpochColumn(name, values);
    if (epoch) {
      if (epoch.note) warnings.push(epoch.note);
      return { name, kind: "datetime", values: epoch.values };
    }
    return infinite ? { name, kind: "numeric", values, infinite } : { name, kind: "numeric", values };
  }
  const values = trimmed;
  const dates = present > 0 ? readDateColumn(name, values) : null;
  if (dates) {
    if (dates.note) warnings.push(dates.note);
    return { name, kind: "datetime", values: dates.values };
  }
  return { name, kind: "categorical", values };
}
