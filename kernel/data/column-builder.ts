/**
 * Builds one typed column from values as they stream in, without keeping the values' text: a
 * column is numbers (a growing Float64Array) until a value is not a number, then text
 * (dictionary codes, each distinct value kept once). At the end a text column is typed over
 * its distinct values only, not its rows: numbers written with decimal commas or thousands
 * separators, dates in the common formats (date-reading.ts), or categories.
 *
 * A delimited file's column that turns to text after holding numbers has lost the text of
 * those numbers ("007" was kept as 7): `needsText` says so, and the loader reads that column
 * again as text (table-loader.ts).
 */
import { readDateColumn, readEpochColumn } from "./date-reading";
import type { ParsedRecord } from "./delimited-parser";
import { LevelDictionary, MISSING, NOT_FOUND } from "./level-dictionary";
import { MISSING_CODE, type Column } from "./table";
import { NO_LEVELS, eachLevelText, levelCount, levelTexts, type TextLevels } from "./text-levels";
import { isDecimalCommaNumber, parseDecimalComma } from "./text-format";

/** The spellings of "missing" that pandas' read_csv recognises, which people's files use. */
export const MISSING_TOKENS = new Set([
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
/** how pandas, numpy and spreadsheets write infinity: read as a number, kept as missing */
const INFINITY = /^[-+]?(inf|infinity)$/i;

/** A plain number as text ("12", "-1.5e3", ".5", "5."), or NaN. Hex, binary and octal prefixes, which Number() reads, are not numbers in a data file. */
export function plainNumber(t: string): number {
  const v = +t;
  if (v !== v || t === "") return NaN;
  const c0 = t.charCodeAt(0);
  // "0x1A", "0b1", "0o7": Number() accepts these
  if (c0 === 0x30 && t.length > 2) {
    const c1 = t.charCodeAt(1) | 0x20;
    if (c1 === 0x78 || c1 === 0x62 || c1 === 0x6f) return NaN;
  }
  // "Infinity" reads as a number but is told apart by the caller
  if (v === Infinity || v === -Infinity) return NaN;
  return v;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0xa0 || c === 0xfeff;
}

/** trim() only when there is something to trim: most fields have nothing, and trim() on each costs. */
function trimmed(t: string): string {
  return t.length > 0 && (isSpace(t.charCodeAt(0)) || isSpace(t.charCodeAt(t.length - 1))) ? t.trim() : t;
}

type Mode = "empty" | "numeric" | "text" | "time" | "isoText";

function twoDigits(t: string, at: number): number {
  const a = t.charCodeAt(at) - 48;
  const b = t.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * ISO 8601 text ("2000-01-31", "2000-01-31 10:30", "2000-01-31T10:30:00.5+02:00") to epoch
 * milliseconds (UTC; no zone is read as UTC), without a regular expression or a Date; NaN when
 * it is anything else, or not a day on the calendar.
 */
export function isoTextEpoch(t: string, from = 0, to = t.length): number {
  const n = to - from;
  const o = from;
  const at = (k: number) => t.charCodeAt(o + k);
  if (n < 10 || at(4) !== 45 || at(7) !== 45) return NaN;
  const y = twoDigits(t, o) * 100 + twoDigits(t, o + 2);
  const m = twoDigits(t, o + 5);
  const d = twoDigits(t, o + 8);
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= DAYS_IN_MONTH[m - 1]!)) return NaN;
  if (m === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
  const day = Date.UTC(y, m - 1, d);
  if (n === 10) return day;
  const sep = at(10);
  if ((sep !== 0x20 && sep !== 0x54) || n < 16 || at(13) !== 58) return NaN;
  const hh = twoDigits(t, o + 11);
  const mm = twoDigits(t, o + 14);
  let k = 16;
  let ss = 0;
  if (k < n && at(k) === 58) {
    ss = twoDigits(t, o + 17);
    k = 19;
    if (k < n && at(k) === 46) {
      let scale = 100;
      let frac = 0;
      for (k++; k < n && at(k) >= 48 && at(k) <= 57; k++) {
        frac += (at(k) - 48) * scale;
        scale /= 10;
      }
      ss += frac / 1000;
    }
  }
  if (!(hh <= 23 && mm <= 59 && ss < 60)) return NaN;
  const ms = day + ((hh * 60 + mm) * 60 + ss) * 1000;
  if (k === n) return ms;
  const z = at(k);
  if (z === 0x5a && k + 1 === n) return ms; // Z
  if ((z === 0x2b || z === 0x2d) && (n - k === 6 || n - k === 5)) {
    const zh = twoDigits(t, o + k + 1);
    const zm = twoDigits(t, o + n - 2);
    if (!(zh <= 14 && zm <= 59) || (n - k === 6 && at(k + 3) !== 58)) return NaN;
    return ms - (z === 0x2b ? 1 : -1) * (zh * 60 + zm) * 60_000;
  }
  return NaN;
}

export class ColumnBuilder {
  private mode: Mode = "empty";
  private nums: Float64Array = new Float64Array(0);
  private codes: Int32Array = new Int32Array(0);
  private dict = new LevelDictionary();
  length = 0;
  private infinite = 0;
  private numbers = 0;
  /** the column held numbers whose text is gone before it turned to text: read it again as text */
  needsText = false;

  /**
   * `expectRows`: a guess at the row count, to size the arrays once; `fromText`: the values are a
   * delimited file's text (a number's own text is not its shortest form); `textOnly`: every
   * value is kept as text (the second read of a column that needsText).
   */
  constructor(
    private expectRows = 1024,
    private readonly fromText = false,
    private readonly textOnly = false,
    /** the column is text whatever its values look like (a model trained on it as categories: "02139" stays "02139") */
    private readonly keepAsText = false,
  ) {}

  /** A value read as text (a delimited file's field, a JSON string). */
  addText(raw: string): void {
    const t = trimmed(raw);
    if (t === "" || (t.length <= 8 && MISSING_TOKENS.has(t))) return this.addMissing();
    if (this.mode === "text" || this.textOnly) return this.addLevel(t);
    if (this.mode === "isoText") {
      const ms = isoTextEpoch(t);
      if (ms === ms) return this.pushNumber(ms);
      // the first value that is not ISO in a column read as ISO times: read the column again as text
      this.needsText = true;
      this.toText(false);
      return this.addLevel(t);
    }
    const v = plainNumber(t);
    if (v === v) return this.addNumber(v);
    if (INFINITY.test(t)) {
      this.infinite++;
      return this.addNumber(NaN);
    }
    if (this.mode === "time") return this.addLevel(t);
    // the first text in a delimited file's column of numbers: their text is gone (the loader reads the column again)
    if (this.numbers > 0 && this.fromText) this.needsText = true;
    this.toText(false);
    this.addLevel(t);
  }

  /** A delimited file's field: its number when the parser read one on the way, else its text. */
  addField(record: ParsedRecord, j: number): void {
    const v = record.numbers[j]!;
    if (v === v && (this.mode === "numeric" || this.mode === "empty") && !this.textOnly) {
      if (this.mode === "empty") this.start("numeric");
      this.numbers++;
      return this.pushNumber(v);
    }
    const span = record.span(j);
    if (!span || (this.mode !== "text" && this.mode !== "isoText" && !this.textOnly)) return this.addText(record.text(j));
    // a text or ISO-time column: read the field where it lies in the chunk
    const s = span.buffer;
    let from = span.from;
    let to = span.to;
    while (from < to && isSpace(s.charCodeAt(from))) from++;
    while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
    if (from === to) return this.addMissing();
    if (this.mode === "isoText") {
      const ms = isoTextEpoch(s, from, to);
      return ms === ms ? this.pushNumber(ms) : this.addText(s.slice(from, to));
    }
    const code = this.dict.find(s, from, to);
    if (code >= 0) return this.pushCode(code);
    if (code === MISSING) return this.addMissing();
    if (to - from <= 8 && MISSING_TOKENS.has(s.slice(from, to))) {
      // remembered as missing: the next "NA" is one lookup
      this.dict.addMissing(s.slice(from, to));
      return this.addMissing();
    }
    // a new level, copied from the chunk into the column's levels (no string is made for it)
    if (this.mode !== "text") this.toText(false);
    this.pushCode(this.dict.add(s, from, to));
  }

  /**
   * A delimited file's text column whose values so far are all ISO times is read from here on
   * as times, each value parsed as it comes (a column of a million distinct timestamps would
   * otherwise be a million-entry dictionary); a later value that is not one turns it back to
   * text (needsText: the loader reads it again).
   */
  readIsoFromHere(): void {
    if (this.mode !== "text" || !this.fromText || this.textOnly || this.dict.count === 0) return;
    const levelTime = Float64Array.from({ length: this.dict.count }, (_, k) => isoTextEpoch(this.dict.text(k)));
    if (levelTime.some((ms) => ms !== ms)) return;
    const times = new Float64Array(this.length + 1024);
    for (let r = 0; r < this.length; r++) times[r] = this.codes[r]! < 0 ? NaN : levelTime[this.codes[r]!]!;
    this.nums = times;
    this.codes = new Int32Array(0);
    this.dict = new LevelDictionary();
    this.mode = "isoText";
  }

  /** Sizes the arrays for about `rows` rows, once the first chunk of a file has told its row length. */
  reserve(rows: number): void {
    if (this.mode === "text" && rows > this.codes.length) {
      const grown = new Int32Array(rows);
      grown.set(this.codes.subarray(0, this.length));
      this.codes = grown;
    } else if ((this.mode === "numeric" || this.mode === "time" || this.mode === "isoText") && rows > this.nums.length) {
      const grown = new Float64Array(rows);
      grown.set(this.nums.subarray(0, this.length));
      this.nums = grown;
    }
    this.expectRows = rows;
  }

  /** A value a format gave typed (JSON, Parquet, Arrow, a spreadsheet). */
  addValue(v: unknown): void {
    if (v === null || v === undefined) return this.addMissing();
    if (typeof v === "number") {
      if (Number.isNaN(v)) return this.addMissing();
      if (!Number.isFinite(v)) {
        this.infinite++;
        return this.addNumber(NaN);
      }
      return this.addNumber(v);
    }
    if (typeof v === "bigint") return this.addValue(Number(v));
    if (typeof v === "string") return this.addText(v);
    if (typeof v === "boolean") return this.addText(String(v));
    if (v instanceof Date) return this.addTime(v.getTime());
    this.addText(JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? Number(x) : x)));
  }

  /** A time a format gave as such (epoch milliseconds). */
  addTime(ms: number): void {
    if (Number.isNaN(ms)) return this.addMissing();
    if (this.mode === "empty") this.start("time");
    if (this.mode === "time") return this.pushNumber(ms);
    this.addLevel(new Date(ms).toISOString());
  }

  addMissing(): void {
    if (this.mode === "empty") {
      this.length++;
      return;
    }
    if (this.mode === "text") this.pushCode(MISSING_CODE);
    else this.pushNumber(NaN);
  }

  private addNumber(v: number): void {
    if (this.textOnly) return this.addLevel(String(v)); // a typed number where text is kept (JSON's 2139 in a column of codes)
    if (this.mode === "empty") this.start("numeric");
    if (this.mode === "numeric") {
      this.numbers++;
      return this.pushNumber(v);
    }
    // a number in a text column (typed sources): kept as its text
    if (this.mode === "time") this.toText(true);
    this.addLevel(String(v));
  }

  private addLevel(t: string): void {
    if (this.mode !== "text") this.toText(this.mode === "time");
    this.pushCode(this.codeOf(t));
  }

  private start(mode: "numeric" | "time"): void {
    const rows = this.length;
    this.mode = mode;
    this.nums = new Float64Array(Math.max(Math.min(this.expectRows, 1024), rows + 1024));
    this.nums.fill(NaN, 0, rows);
  }

  /** Turns the column to text: earlier times become ISO text; earlier numbers their shortest text, or (from a delimited file, whose text was "007" and not 7) codes the second read fills. */
  private toText(fromTime: boolean): void {
    const rows = this.length;
    const before = this.nums;
    const was = this.mode;
    this.mode = "text";
    this.codes = new Int32Array(Math.max(Math.min(this.expectRows, 1024), rows + 1024));
    for (let r = 0; r < rows; r++) {
      const v = was === "empty" ? NaN : before[r]!;
      if (Number.isNaN(v)) this.codes[r] = MISSING_CODE;
      else if (was === "isoText")
        this.codes[r] = MISSING_CODE; // the second read fills these
      else if (fromTime || was === "time") this.codes[r] = this.codeOf(new Date(v).toISOString());
      else this.codes[r] = this.needsText ? MISSING_CODE : this.codeOf(String(v));
    }
    this.nums = new Float64Array(0);
  }

  private codeOf(t: string): number {
    const code = this.dict.find(t, 0, t.length);
    return code === NOT_FOUND ? this.dict.add(t, 0, t.length) : code;
  }

  /** past the rows reserved for, a column grows by a quarter: the estimate was close, and doubling would waste half */
  private grownSize(current: number): number {
    return current < this.expectRows ? Math.min(this.expectRows, Math.max(1024, current * 2)) : Math.ceil(current * 1.25) + 1024;
  }

  private pushNumber(v: number): void {
    if (this.length === this.nums.length) {
      const grown = new Float64Array(this.grownSize(this.nums.length));
      grown.set(this.nums);
      this.nums = grown;
    }
    this.nums[this.length++] = v;
  }

  private pushCode(k: number): void {
    if (this.length === this.codes.length) {
      const grown = new Int32Array(this.grownSize(this.codes.length));
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[this.length++] = k;
  }

  /**
   * The typed column. `delimiter`: in a file not separated by commas, numbers may be written
   * with commas (decimal or thousands); how a column was read, when that took a guess, goes
   * into `warnings`.
   */
  finish(name: string, delimiter: string | null, warnings: string[]): Column {
    const n = this.length;
    switch (this.mode) {
      case "empty":
        // every value missing: a text column of no levels (the profile says it is all missing)
        return { name, kind: "categorical", codes: new Int32Array(n).fill(MISSING_CODE), levels: NO_LEVELS };
      case "time":
      case "isoText":
        return { name, kind: "datetime", values: fitted(this.nums, n), dateOnly: allMidnight(this.nums, n) };
      case "numeric":
        return numericOrEpoch(name, fitted(this.nums, n), this.infinite, warnings);
      case "text":
        if (this.keepAsText) return { name, kind: "categorical", codes: fitted(this.codes, n), levels: this.dict.finish() };
        return typeText(name, this.dict.finish(), fitted(this.codes, n), this.infinite, delimiter, warnings);
    }
  }
}

/** The first n items: the array itself when it is (nearly) that long, a copy when most of it would be waste. */
function fitted<A extends Float64Array | Int32Array>(array: A, n: number): A {
  if (array.length === n) return array;
  return (array.length - n <= array.length / 64 ? array.subarray(0, n) : array.slice(0, n)) as A;
}

function allMidnight(values: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v) && v % 86_400_000 !== 0) return false;
  }
  return true;
}

function numericOrEpoch(name: string, values: Float64Array, infinite: number, warnings: string[]): Column {
  const epoch = readEpochColumn(name, values);
  if (epoch) {
    warnings.push(epoch.note);
    return { name, kind: "datetime", values: epoch.values, dateOnly: false };
  }
  return infinite ? { name, kind: "numeric", values, infinite } : { name, kind: "numeric", values };
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
 * A text column typed over its distinct values: numbers if every one is a number (with
 * commas, in a file that allows them), dates if every one is a date, else categories.
 */
function typeText(name: string, levels: TextLevels, codes: Int32Array, infinite: number, delimiter: string | null, warnings: string[]): Column {
  const count = levelCount(levels);
  const n = codes.length;
  // a file not separated by commas may write numbers with commas: as decimals ("1,5", Europe) or
  // grouping thousands ("1,234.5", US); each column must keep to one of the two
  let numeric = true;
  let grouped = delimiter !== null && delimiter !== ",";
  let europe = 0;
  let us = 0;
  for (const t of eachLevelText(levels)) {
    const plain = !Number.isNaN(plainNumber(t)) || INFINITY.test(t);
    if (numeric && !plain) numeric = false;
    if (!grouped) {
      if (!numeric) break;
      continue;
    }
    const style = numberStyle(t, plain);
    if (style === null) grouped = false;
    else if (style === "europe") europe++;
    else if (style === "us") us++;
  }
  // both styles in one column: not numbers this loader can read
  if (europe > 0 && us > 0) grouped = false;
  if (count > 0 && (numeric || grouped)) {
    // "1,234" alone could be either: a semicolon file means a decimal comma, other files thousands
    const decimalComma = europe > 0 || (us === 0 && delimiter === ";");
    const levelValue = new Float64Array(count);
    let reread = false;
    levelTexts(levels).forEach((t, k) => {
      let v: number;
      if (INFINITY.test(t)) v = t.startsWith("-") ? -Infinity : Infinity;
      else if (!numeric && (t.includes(",") || (decimalComma && DOT_THOUSANDS.test(t)))) {
        v = decimalComma ? parseDecimalComma(t) : Number(t.replace(/,/g, ""));
        reread = true;
      } else v = Number(t);
      levelValue[k] = v;
    });
    const values = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const k = codes[r]!;
      const v = k < 0 ? NaN : levelValue[k]!;
      // an infinite value has no place on any scale a model learns: it counts as missing
      if (Number.isFinite(v) || Number.isNaN(v)) values[r] = v;
      else ((values[r] = NaN), infinite++);
    }
    if (reread) {
      warnings.push(
        decimalComma
          ? `Column ${name}: numbers written with a decimal comma ("1,5"; dots group thousands) were read as decimals.`
          : `Column ${name}: commas in numbers were read as thousands separators ("1,234" is 1234).`,
      );
    }
    return numericOrEpoch(name, values, infinite, warnings);
  }
  const dates = count > 0 ? readDateColumn(name, { [Symbol.iterator]: () => eachLevelText(levels) }) : null;
  if (dates) {
    if (dates.note) warnings.push(dates.note);
    const levelTime = new Float64Array(count);
    let dateOnly = true;
    dates.values.forEach((iso, k) => {
      levelTime[k] = epochOfIso(iso!);
      if (iso!.length !== 10) dateOnly = false;
    });
    const values = new Float64Array(n);
    for (let r = 0; r < n; r++) values[r] = codes[r]! < 0 ? NaN : levelTime[codes[r]!]!;
    return { name, kind: "datetime", values, dateOnly };
  }
  return { name, kind: "categorical", codes, levels };
}

/** ISO 8601 as read by date-reading.ts to epoch milliseconds: a time without a zone is taken as UTC. */
export function epochOfIso(iso: string): number {
  if (iso.length === 10) return Date.parse(`${iso}T00:00:00Z`);
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/.test(iso);
  return Date.parse(zoned ? iso : `${iso}Z`);
}
