/**
 * A streaming parser for delimited text (CSV, TSV, semicolon files): text goes in as chunks of
 * any size, records come out one at a time, and nothing holds more than one chunk and one
 * unfinished record. Quoted fields may hold delimiters, doubled quotes and newlines; lines end
 * in \n, \r\n or \r; blank lines are skipped. Every malformed record is an InputError naming
 * the line and what to fix.
 *
 * A plain decimal field ("-12.5", "3") is read as a number while it is scanned, without making
 * a string of it: at a million rows of twenty columns that is millions of strings the garbage
 * collector never sees (the number is exact: at most 15 digits, one division by a power of ten).
 */
import { InputError } from "../errors/input-error";

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** the powers of ten a double holds exactly */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** One record, valid during the sink's call (the parser reuses it). */
export class ParsedRecord {
  count = 0;
  line = 0;
  /** per field: the number it is when it is a plain decimal, else NaN */
  readonly numbers: Float64Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** a quoted field's text (its quotes undone); null for an unquoted field, which is a slice of the chunk */
  private readonly quoted: (string | null)[];
  buffer = "";

  constructor(maxFields: number) {
    this.numbers = new Float64Array(maxFields);
    this.starts = new Int32Array(maxFields);
    this.ends = new Int32Array(maxFields);
    this.quoted = new Array<string | null>(maxFields).fill(null);
  }

  get capacity(): number {
    return this.numbers.length;
  }

  /** An unquoted field's place in the chunk (read it there, without a string of its own); null for a quoted one. */
  span(j: number): { buffer: string; from: number; to: number } | null {
    if (this.quoted[j] !== null) return null;
    this.spanOut.buffer = this.buffer;
    this.spanOut.from = this.starts[j]!;
    this.spanOut.to = this.ends[j]!;
    return this.spanOut;
  }

  private readonly spanOut = { buffer: "", from: 0, to: 0 };

  text(j: number): string {
    return this.quoted[j] ?? this.buffer.slice(this.starts[j], this.ends[j]);
  }

  setSlice(j: number, start: number, end: number, number: number): void {
    this.starts[j] = start;
    this.ends[j] = end;
    this.quoted[j] = null;
    this.numbers[j] = number;
  }

  setQuoted(j: number, text: string): void {
    this.quoted[j] = text;
    this.numbers[j] = NaN;
  }

  /** whether the record is a blank line */
  get blank(): boolean {
    return this.count === 1 && this.quoted[0] === null && this.starts[0] === this.ends[0];
  }
}

export type RecordSink = (record: ParsedRecord) => void;

export class DelimitedParser {
  private carry = "";
  /** the line the carried (unfinished) record starts on */
  private line = 1;
  private record = new ParsedRecord(64);
  private readonly delimiter: number;

  constructor(
    delimiter: string,
    private readonly name: string,
    /** a record longer than this is refused (a file with no line ends is not a table) */
    private readonly maxRecordChars: number,
    private readonly onRecord: RecordSink,
  ) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  /**
   * Parses what `text` completes; an unfinished last record waits for the next chunk. A long
   * unfinished record is parsed again only once as much text again has come (small chunks
   * after a long record would otherwise re-read it each time: quadratic).
   */
  push(text: string): void {
    if (this.carry !== "" && this.pendingLength + text.length < this.carry.length) {
      this.pending.push(text);
      this.pendingLength += text.length;
      this.refuseIfTooLong(this.carry.length + this.pendingLength);
      return;
    }
    const buf = this.carry + this.pending.join("") + text;
    this.carry = "";
    this.pending = [];
    this.pendingLength = 0;
    const stop = this.parse(buf, false);
    if (stop < buf.length) this.carry = buf.slice(stop);
    this.refuseIfTooLong(this.carry.length);
  }

  private pending: string[] = [];
  private pendingLength = 0;

  private refuseIfTooLong(chars: number): void {
    if (chars > this.maxRecordChars) {
      throw new InputError(
        `${this.name} is malformed: the record that starts at line ${this.line} is longer than ${Math.round(this.maxRecordChars / 1024 / 1024)} MB ` +
          `(a quote that is never closed, or a file without line ends). Fix the file and load it again.`,
      );
    }
  }

  /** The end of the text: the last record need not end in a newline. */
  end(): void {
    const buf = this.carry + this.pending.join("");
    this.carry = "";
    this.pending = [];
    this.pendingLength = 0;
    if (buf !== "") this.parse(buf, true);
  }

  private field(j: number): void {
    if (j < this.record.capacity) return;
    const bigger = new ParsedRecord(this.record.capacity * 2);
    for (let k = 0; k < this.record.capacity; k++) {
      bigger.setQuoted(k, this.record.text(k));
      bigger.numbers[k] = this.record.numbers[k]!;
    }
    bigger.buffer = this.record.buffer;
    this.record = bigger;
  }

  /** Parses whole records from `buf`; returns where the first unfinished one begins (buf.length when none is). */
  private parse(buf: string, final: boolean): number {
    const n = buf.length;
    const D = this.delimiter;
    this.record.buffer = buf;
    let i = 0;
    while (i < n) {
      const recordStart = i;
      const recordLine = this.line;
      let lines = 0;
      let count = 0;
      for (;;) {
        this.field(count);
        const record = this.record;
        if (i < n && buf.charCodeAt(i) === QUOTE) {
          // a quoted field: up to the quote that is not doubled
          let j = i + 1;
          let parts = "";
          let closed = -1;
          for (;;) {
            const q = buf.indexOf('"', j);
            if (q < 0) break;
            if (q + 1 < n && buf.charCodeAt(q + 1) === QUOTE) {
              parts += buf.slice(j, q + 1);
              j = q + 2;
              continue;
            }
            if (q + 1 === n && !final) break; // the next chunk may start with the quote that doubles this one
            closed = q;
            break;
          }
          if (closed < 0) {
            if (!final) return recordStart;
            throw new InputError(
              `${this.name} is malformed: a quoted field that starts at line ${recordLine + lines} is never closed (the file ends inside it). Close the quote and load the file again.`,
            );
          }
          record.setQuoted(count, parts + buf.slice(j, closed));
          for (let k = buf.indexOf("\n", i); k >= 0 && k < closed; k = buf.indexOf("\n", k + 1)) lines++;
          i = closed + 1;
          // spaces after the closing quote are tolerated; anything else is text after the quote
          while (i < n && (buf.charCodeAt(i) === SPACE || buf.charCodeAt(i) === TAB) && buf.charCodeAt(i) !== D) i++;
          if (i < n) {
            const c = buf.charCodeAt(i);
            if (c !== D && c !== LF && c !== CR) {
              throw new InputError(
                `${this.name} is malformed at line ${recordLine + lines}: text follows a closing quote. Double the quote inside a quoted value ("") and load the file again.`,
              );
            }
          }
        } else {
          // an unquoted field, read as a plain decimal on the way when it is one
          let j = i;
          let c = j < n ? buf.charCodeAt(j) : 0;
          const negative = c === MINUS;
          if (negative || c === PLUS) j++;
          let mantissa = 0;
          let digits = 0;
          let decimals = -1;
          let plain = true;
          for (; j < n; j++) {
            c = buf.charCodeAt(j);
            if (c === D || c === LF || c === CR) break;
            if (c >= ZERO && c <= NINE) {
              mantissa = mantissa * 10 + (c - ZERO);
              digits++;
              if (decimals >= 0) decimals++;
            } else if (c === DOT && decimals < 0) decimals = 0;
            else plain = false;
          }
          let number = NaN;
          if (plain && digits > 0 && digits <= 15 && decimals <= 22) {
            number = decimals > 0 ? mantissa / POW10[decimals]! : mantissa;
            if (negative) number = -number;
          }
          record.setSlice(count, i, j, number);
          i = j;
        }
        count++;
        if (i >= n) {
          if (!final) return recordStart;
          break;
        }
        const c = buf.charCodeAt(i);
        if (c === D) {
          i++;
          if (i >= n && final) {
            this.field(count);
            this.record.setSlice(count++, i, i, NaN);
          }
          continue;
        }
        // the end of a line: \n, \r\n or \r
        if (c === CR) {
          if (i + 1 >= n && !final) return recordStart; // the \n may open the next chunk
          i += i + 1 < n && buf.charCodeAt(i + 1) === LF ? 2 : 1;
        } else i++;
        lines++;
        break;
      }
      this.line = recordLine + lines;
      const record = this.record;
      record.count = count;
      record.line = recordLine;
      if (record.blank) continue;
      this.onRecord(record);
    }
    return n;
  }
}
