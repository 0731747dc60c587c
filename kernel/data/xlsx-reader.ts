/**
 * Excel .xlsx (Office Open XML): a zip of XML parts. The first sheet is read (the others are
 * named in the note): shared strings, inline strings, numbers, booleans, formula results and
 * dates (numbers whose cell style is a date format, turned from Excel's day serials into
 * times). Its own small reader, not the `xlsx` package: npm's last release of that one has
 * unfixed advisories for crafted files (prototype pollution, ReDoS), and a data file is
 * untrusted input.
 */
import { unzipSync } from "fflate";
import { InputError } from "../errors/input-error";
import type { ColumnSink } from "./columnar-files";
import { isoTextEpoch, type ColumnBuilder } from "./column-builder";
import type { Column } from "./table";

/** A zip that holds a workbook. */
export function isXlsx(bytes: Uint8Array): boolean {
  // the part's name is stored uncompressed in the zip's headers
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).includes("xl/workbook.xml");
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) =>
    e.startsWith("#x") ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith("#") ? String.fromCodePoint(Number(e.slice(1))) : XML_ENTITIES[e]!,
  );
}

function attr(tag: string, name: string): string | null {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescapeXml(m[1]!) : null;
}

/** The text of every <t> in an element (rich text splits one string into runs). */
function textOf(xml: string): string {
  let out = "";
  for (const m of xml.matchAll(/<t(?:\s[^>]*)?>([^<]*)<\/t>/g)) out += m[1];
  return unescapeXml(out);
}

/** Excel's built-in number formats that show dates or times. */
const DATE_FORMAT_IDS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);
/** a custom format is a date if it has date letters outside quotes and brackets ([Red], "text") */
const DATE_LETTERS = /[dmyhs]/i;

function dateStyles(stylesXml: string | null): boolean[] {
  if (!stylesXml) return [];
  const custom = new Map<number, string>();
  for (const m of stylesXml.matchAll(/<numFmt\s[^>]*>/g)) {
    const id = Number(attr(m[0], "numFmtId"));
    custom.set(id, attr(m[0], "formatCode") ?? "");
  }
  const xfs = /<cellXfs[^>]*>([\s\S]*?)<\/cellXfs>/.exec(stylesXml)?.[1] ?? "";
  return [...xfs.matchAll(/<xf\s[^>]*?\/?>/g)].map((m) => {
    const id = Number(attr(m[0], "numFmtId") ?? 0);
    if (DATE_FORMAT_IDS.has(id)) return true;
    const code = custom.get(id);
    return code !== undefined && DATE_LETTERS.test(outsideQuotesAndBrackets(code));
  });
}

/** A format code without its "quoted text" and [brackets] (colours, conditions), whose letters are not date parts. */
function outsideQuotesAndBrackets(code: string): string {
  let out = "";
  let close: string | null = null;
  for (const ch of code) {
    if (close) {
      if (ch === close) close = null;
    } else if (ch === '"') close = '"';
    else if (ch === "[") close = "]";
    else out += ch;
  }
  return out;
}

/** Excel's day serial (1900 system: day 25569 is 1970-01-01) to epoch milliseconds. */
function serialToEpoch(serial: number): number {
  return Math.round((serial - 25569) * 86_400_000);
}

/** "BC12" → 54 (0-based column index). */
function columnIndex(ref: string): number {
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n - 1;
}

type Cell = { kind: "text"; value: string } | { kind: "number"; value: number } | { kind: "time"; value: number } | null;

export function readXlsx(bytes: Uint8Array, name: string, sink: ColumnSink): { columns: Column[]; note: string } {
  let parts: Record<string, Uint8Array>;
  try {
    parts = unzipSync(bytes, { filter: (f) => f.name.startsWith("xl/") && f.name.endsWith(".xml") && !f.name.startsWith("xl/worksheets/_rels") });
  } catch (err) {
    throw new InputError(`${name} is not a readable Excel file (${(err as Error).message}). Save it again from Excel, or as CSV.`);
  }
  const text = (p: string) => (parts[p] ? new TextDecoder().decode(parts[p]) : null);
  const workbook = text("xl/workbook.xml");
  if (!workbook) throw new InputError(`${name} has no workbook part: it is not an Excel .xlsx file. Save it again from Excel, or as CSV.`);
  const sheets = [...workbook.matchAll(/<sheet\s[^>]*>/g)].map((m) => ({ name: attr(m[0], "name") ?? "?", rid: attr(m[0], "r:id") }));
  if (sheets.length === 0) throw new InputError(`${name} has no sheets. Save it again from Excel, or as CSV.`);
  const rels = text("xl/_rels/workbook.xml.rels") ?? "";
  const target = [...rels.matchAll(/<Relationship\s[^>]*>/g)].map((m) => m[0]).find((r) => attr(r, "Id") === sheets[0]!.rid);
  const sheetPath = target ? `xl/${attr(target, "Target")!.replace(/^\/?xl\//, "")}` : "xl/worksheets/sheet1.xml";
  const sheetXml = text(sheetPath);
  if (!sheetXml) throw new InputError(`${name}: the sheet ${sheets[0]!.name} could not be found in the file. Save it again from Excel, or as CSV.`);
  const shared = [...(text("xl/sharedStrings.xml") ?? "").matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) => textOf(m[1]!));
  const isDateStyle = dateStyles(text("xl/styles.xml"));

  // the sheet's rows as arrays of cells (a sheet is small next to a CSV: Excel stops at 1,048,576 rows)
  const rows: Cell[][] = [];
  for (const rowMatch of sheetXml.matchAll(/<row\b[^>]*?(?:\/>|>([\s\S]*?)<\/row>)/g)) {
    const at = Number(attr(rowMatch[0].slice(0, rowMatch[0].indexOf(">") + 1), "r") ?? rows.length + 1) - 1;
    while (rows.length < at) rows.push([]);
    const cells: Cell[] = [];
    for (const c of (rowMatch[1] ?? "").matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const head = `<c${c[1]}>`;
      const ref = attr(head, "r");
      const col = ref ? columnIndex(ref) : cells.length;
      const type = attr(head, "t") ?? "n";
      const body = c[2] ?? "";
      const v = /<v>([^<]*)<\/v>/.exec(body)?.[1];
      let cell: Cell = null;
      if (type === "s" && v !== undefined) cell = { kind: "text", value: shared[Number(v)] ?? "" };
      else if (type === "inlineStr") cell = { kind: "text", value: textOf(body) };
      else if ((type === "str" || type === "e") && v !== undefined) cell = { kind: "text", value: unescapeXml(v) };
      else if (type === "b" && v !== undefined) cell = { kind: "text", value: v === "1" ? "TRUE" : "FALSE" };
      else if (type === "d" && v !== undefined) {
        // a date cell written as ISO 8601 text (strict OOXML; the xlsx package with cellDates)
        const ms = isoTextEpoch(v);
        cell = Number.isNaN(ms) ? { kind: "text", value: unescapeXml(v) } : { kind: "time", value: ms };
      } else if (v !== undefined && v !== "") {
        const x = Number(v);
        cell = isDateStyle[Number(attr(head, "s") ?? 0)] ? { kind: "time", value: serialToEpoch(x) } : { kind: "number", value: x };
      }
      cells[col] = cell;
    }
    rows[at] = cells;
  }
  while (rows.length > 0 && rows[rows.length - 1]!.every((c) => c === null || c === undefined)) rows.pop();
  if (rows.length === 0) throw new InputError(`${name}: the sheet ${sheets[0]!.name} is empty. Put the table in the first sheet, with a header row.`);
  const header = rows[0]!;
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  sink.checkMemory(rows.length - 1, width);
  const names: string[] = [];
  const used = new Set<string>();
  for (let j = 0; j < width; j++) {
    const h = header[j];
    let base = h ? (h.kind === "text" ? h.value.trim() : String(h.value)) : "";
    if (base === "") base = `column_${j + 1}`;
    let unique = base;
    for (let k = 1; used.has(unique); k++) unique = `${base}.${k}`;
    used.add(unique);
    names.push(unique);
  }
  const builders: ColumnBuilder[] = names.map(() => sink.builder(rows.length));
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    for (let j = 0; j < width; j++) {
      const cell = row[j];
      const b = builders[j]!;
      if (!cell) b.addMissing();
      else if (cell.kind === "text") b.addText(cell.value);
      else if (cell.kind === "time") b.addTime(cell.value);
      else b.addValue(cell.value);
    }
  }
  const others =
    sheets.length > 1
      ? ` (the workbook has ${sheets.length} sheets; the others, ${sheets
          .slice(1)
          .map((s) => s.name)
          .join(", ")}, were not read)`
      : "";
  return {
    columns: builders.map((b, j) => b.finish(names[j]!, null, sink.warnings)),
    note: `${name} is an Excel workbook: read its first sheet, ${sheets[0]!.name}${others}.`,
  };
}
