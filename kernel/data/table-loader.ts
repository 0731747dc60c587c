/**
 * Reads a CSV (or a JSON array of records) into a typed Table. Every way a file can be
 * unusable ends in an InputError that names the file, the line and what to do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { openIfRegular } from "../files/regular-file";
import { InputError } from "../errors/input-error";
import { Table, type Column } from "./table";

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
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

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
  if (bytes.length === 0) {
    throw new InputError(`${name} is empty. Give a CSV with a header line and at least one row of data.`);
  }
  if (bytes.subarray(0, Math.min(bytes.length, 8192)).includes(0)) {
    throw new InputError(`${name} is not a text file (it contains NUL bytes). Give a CSV or a JSON array of records.`);
  }
  const text = bytes.toString("utf8");
  const ext = path.extname(filePath).toLowerCase();
  if (ext === ".json") return fromRecords(parseJsonRecords(text, name), name);
  return fromRows(parseDelimited(text, name, ext === ".tsv" ? "\t" : ","), name);
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
        throw new InputError(`${name} is malformed: a quoted field that starts${where} is never closed. Close the quote and load the file again.`);
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

function parseJsonRecords(text: string, name: string): Record<string, unknown>[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${name} is not valid JSON (${(err as Error).message}). Give a JSON array of records or a CSV.`);
  }
  if (!Array.isArray(value) || value.some((r) => r === null || typeof r !== "object" || Array.isArray(r))) {
    throw new InputError(`${name} must be a JSON array of flat records like [{"a": 1, "b": "x"}, …].`);
  }
  return value as Record<string, unknown>[];
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

function fromRows(rows: string[][], name: string): LoadedTable {
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

/** Numeric if every present value is a number, datetime if every one is an ISO date, else categorical. */
function typeColumn(name: string, raw: string[]): Column {
  let numeric = true;
  let datetime = true;
  let present = 0;
  for (const v of raw) {
    const t = v.trim();
    if (MISSING_TOKENS.has(t)) continue;
    present++;
    if (numeric && !NUMBER.test(t) && !INFINITY.test(t)) numeric = false;
    if (datetime && !ISO_DATE.test(t)) datetime = false;
    if (!numeric && !datetime) break;
  }
  if (present > 0 && numeric) {
    const values = new Float64Array(raw.length);
    let infinite = 0;
    for (let i = 0; i < raw.length; i++) {
      const t = raw[i]!.trim();
      const v = MISSING_TOKENS.has(t) ? NaN : INFINITY.test(t) ? Infinity : Number(t);
      // an infinite value has no place on any scale a model learns: it counts as missing
      if (Number.isFinite(v) || Number.isNaN(v)) values[i] = v;
      else ((values[i] = NaN), infinite++);
    }
    return infinite ? { name, kind: "numeric", values, infinite } : { name, kind: "numeric", values };
  }
  const values = raw.map((v) => {
    const t = v.trim();
    return MISSING_TOKENS.has(t) ? null : t;
  });
  return { name, kind: present > 0 && datetime ? "datetime" : "categorical", values };
}
