/**
 * What a delimited text file is, told from its bytes: its encoding, its delimiter and whether
 * its numbers use a decimal comma. Each guess says how it was made, for the profile: a file
 * read with an assumption the person can check is better than one silently read wrong (a
 * Latin-1 "Köln" read as UTF-8 became "K�ln"; a semicolon file was read as one column).
 */

export type TextEncoding = "utf-8" | "utf-16le" | "utf-16be" | "windows-1252";

/** How many leading bytes decide UTF-16 without a byte-order mark. */
const SNIFF_BYTES = 64 * 1024;

/**
 * The encoding of a file told from its first bytes: a byte-order mark, UTF-16's zero bytes, else
 * UTF-8 until a byte says otherwise (the loader then reads it again as Windows-1252: see
 * notUtf8Note). `skip`: the byte-order mark's length. `null`: not text.
 */
export function encodingOfHead(head: Uint8Array, name: string): { encoding: TextEncoding; skip: number; note: string | null } | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: "utf-8", skip: 3, note: null };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: "utf-16le", skip: 2, note: `${name} is UTF-16 (little-endian, by its byte-order mark).` };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: "utf-16be", skip: 2, note: `${name} is UTF-16 (big-endian, by its byte-order mark).` };
  const sniffed = head.subarray(0, Math.min(head.length, SNIFF_BYTES));
  let zerosEven = 0;
  let zerosOdd = 0;
  for (let i = 0; i < sniffed.length; i++) if (sniffed[i] === 0) i % 2 === 0 ? zerosEven++ : zerosOdd++;
  if (zerosEven + zerosOdd === 0) return { encoding: "utf-8", skip: 0, note: null };
  const half = sniffed.length / 2;
  if (zerosOdd > 0.4 * half && zerosEven < 0.05 * half)
    return { encoding: "utf-16le", skip: 0, note: `${name} is UTF-16 (little-endian, without a byte-order mark: told from its zero bytes).` };
  if (zerosEven > 0.4 * half && zerosOdd < 0.05 * half)
    return { encoding: "utf-16be", skip: 0, note: `${name} is UTF-16 (big-endian, without a byte-order mark: told from its zero bytes).` };
  return null;
}

/** What is said when a file is read as Windows-1252 because `bytes` (at line `linesBefore` + its own) are not UTF-8. */
export function notUtf8Note(name: string, bytes: Uint8Array, linesBefore: number): string {
  const bad = firstInvalidUtf8(bytes);
  return (
    `${name} is not valid UTF-8 (line ${linesBefore + lineOf(bytes, bad)} has the byte 0x${bytes[bad]!.toString(16).toUpperCase().padStart(2, "0")}, which UTF-8 never uses alone), ` +
    `so it was read as Windows-1252 / Latin-1, the encoding Excel and older tools use. If accented letters look wrong in the data view, save the file as UTF-8 and load it again.`
  );
}

/** The offset of the first byte that breaks UTF-8 (the file is known not to be valid). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return 0;
}

function lineOf(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

export interface DelimiterGuess {
  delimiter: string;
  /** why this one, when the file's name did not say (a .tsv is tab-separated) */
  note: string | null;
}

const DELIMITERS = [",", ";", "\t", "|"] as const;
const DELIMITER_NAMES: Record<string, string> = { ",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars" };
/** lines looked at to tell the delimiter */
const SNIFF_LINES = 50;

/**
 * The delimiter that splits the first lines into the same number of fields (quoted fields
 * are skipped over, newlines in them included), preferring more fields: a semicolon file
 * whose values hold decimal commas splits consistently on ";" and inconsistently on ",".
 */
export function sniffDelimiter(text: string, name: string, hinted: string | null): DelimiterGuess {
  const counts = new Map<string, number[]>(DELIMITERS.map((d) => [d, []]));
  let inQuotes = false;
  let line = new Map<string, number>();
  let lines = 0;
  // a blank line (a trailing one, one between rows) says nothing about the delimiter
  let blank = true;
  const endLine = () => {
    if (!blank) {
      for (const d of DELIMITERS) counts.get(d)!.push(line.get(d) ?? 0);
      lines++;
    }
    line = new Map();
    blank = true;
  };
  for (let i = 0; i < text.length && lines < SNIFF_LINES; i++) {
    const ch = text[i]!;
    if (ch === '"') ((inQuotes = !inQuotes), (blank = false));
    else if (!inQuotes && (ch === "\n" || (ch === "\r" && text[i + 1] !== "\n"))) endLine();
    else if (ch !== "\r" && ch !== " ") {
      blank = false;
      if (!inQuotes && counts.has(ch)) line.set(ch, (line.get(ch) ?? 0) + 1);
    }
  }
  if (lines < SNIFF_LINES) endLine();
  let best: { d: string; fields: number; consistent: number } | null = null;
  for (const d of DELIMITERS) {
    const c = counts.get(d)!;
    if (c.length === 0 || c[0] === 0) continue;
    // the share of lines with the header's count (a last partial line, a ragged row, are tolerated)
    const consistent = c.filter((n) => n === c[0]).length / c.length;
    if (consistent < 0.8) continue;
    if (!best || consistent > best.consistent + 0.1 || (consistent >= best.consistent - 0.1 && c[0]! > best.fields)) best = { d, fields: c[0]!, consistent };
  }
  // the file's name says tabs: kept whenever tabs split its lines consistently
  const hintedCounts = hinted ? counts.get(hinted) : undefined;
  const hintHolds =
    hintedCounts !== undefined &&
    hintedCounts.length > 0 &&
    hintedCounts[0]! > 0 &&
    hintedCounts.filter((n) => n === hintedCounts[0]).length / hintedCounts.length >= 0.8;
  if (hinted && (!best || best.d === hinted || hintHolds)) return { delimiter: hinted, note: null };
  if (!best) return { delimiter: hinted ?? ",", note: null };
  if (best.d === ",") return { delimiter: ",", note: null };
  return { delimiter: best.d, note: `${name} is separated by ${DELIMITER_NAMES[best.d]} (its first lines split into ${best.fields + 1} fields on them).` };
}

/** A number written with a decimal comma, optionally with dots (or spaces) grouping thousands: "1,5", "-1.234,56". */
const DECIMAL_COMMA_NUMBER = /^[-+]?(?:\d{1,3}(?:[. \u00a0]\d{3})+|\d+),\d+$/;

export function isDecimalCommaNumber(text: string): boolean {
  return DECIMAL_COMMA_NUMBER.test(text);
}

/** "1.234,56" → 1234.56 (only for text isDecimalCommaNumber accepted). */
export function parseDecimalComma(text: string): number {
  return Number(text.replace(/[. \u00a0]/g, "").replace(",", "."));
}
