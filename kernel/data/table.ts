/**
 * A column-oriented table, every column one typed array: numbers in a Float64Array (NaN marks a
 * missing value), text dictionary-encoded (an Int32Array of codes into the column's distinct
 * values, kept end to end in one buffer; -1 marks a missing value), dates and times as epoch milliseconds in UTC in a
 * Float64Array. A million rows of twenty columns is about 160 MB of arrays, not the gigabytes
 * that an array of row objects or of strings took; the arrays move between threads whole.
 * Columns are typed once, at load.
 */
import { levelText, levelTexts, type TextLevels } from "./text-levels";

export type ColumnKind = "numeric" | "categorical" | "datetime";

export interface NumericColumn {
  name: string;
  kind: "numeric";
  values: Float64Array;
  /** how many values were ±Infinity in the source; they are stored as missing (NaN) */
  infinite?: number;
}

export interface CategoricalColumn {
  name: string;
  kind: "categorical";
  /** per row: an index into `levels`, or MISSING_CODE */
  codes: Int32Array;
  /** the column's distinct values, in order of first appearance, in one buffer (text-levels.ts) */
  levels: TextLevels;
}

export interface DatetimeColumn {
  name: string;
  kind: "datetime";
  /** epoch milliseconds, UTC (a time written with a zone is moved to UTC; one without is read as UTC); NaN where missing */
  values: Float64Array;
  /** every value is a calendar day without a time: shown as 2000-01-31 */
  dateOnly: boolean;
}

export type Column = NumericColumn | CategoricalColumn | DatetimeColumn;

export type CellValue = number | string | null;

export const MISSING_CODE = -1;

export function columnLength(c: Column): number {
  return c.kind === "categorical" ? c.codes.length : c.values.length;
}

export function isMissingAt(c: Column, row: number): boolean {
  return c.kind === "categorical" ? c.codes[row]! < 0 : Number.isNaN(c.values[row]!);
}

/** A time as ISO 8601: "2000-01-31" for a column of days, "2000-01-31T10:30:00Z" otherwise. */
export function isoOfEpoch(ms: number, dateOnly: boolean): string {
  const iso = new Date(ms).toISOString();
  return dateOnly ? iso.slice(0, 10) : iso.replace(".000Z", "Z");
}

export class Table {
  readonly nRows: number;
  private readonly byName: Map<string, Column>;

  constructor(readonly columns: readonly Column[]) {
    this.nRows = columns[0] ? columnLength(columns[0]) : 0;
    this.byName = new Map(columns.map((c) => [c.name, c]));
    for (const c of columns) {
      if (columnLength(c) !== this.nRows) throw new Error(`column ${c.name} has ${columnLength(c)} rows, expected ${this.nRows}`);
    }
  }

  get columnNames(): string[] {
    return this.columns.map((c) => c.name);
  }

  get nCols(): number {
    return this.columns.length;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  column(name: string): Column {
    const c = this.byName.get(name);
    if (!c) throw new Error(`no column ${JSON.stringify(name)}; columns are ${this.columnNames.join(", ")}`);
    return c;
  }

  /** A cell as a person reads it: a number, a text, a date in ISO 8601, or null. */
  cell(row: number, name: string): CellValue {
    const c = this.column(name);
    if (isMissingAt(c, row)) return null;
    switch (c.kind) {
      case "numeric":
        return c.values[row]!;
      case "categorical":
        return levelText(c.levels, c.codes[row]!);
      case "datetime":
        return isoOfEpoch(c.values[row]!, c.dateOnly);
    }
  }

  /** Rows as plain records, for previews and JSON assets. */
  records(start = 0, end = this.nRows): Record<string, CellValue>[] {
    const out: Record<string, CellValue>[] = [];
    for (let r = start; r < Math.min(end, this.nRows); r++) {
      const rec: Record<string, CellValue> = {};
      for (const c of this.columns) rec[c.name] = this.cell(r, c.name);
      out.push(rec);
    }
    return out;
  }

  isMissing(row: number, name: string): boolean {
    return isMissingAt(this.column(name), row);
  }
}

/** A text column's values per row, for tests and small tables (a big table should read codes). */
export function textValues(c: CategoricalColumn): (string | null)[] {
  const texts = levelTexts(c.levels);
  return Array.from(c.codes, (k) => (k < 0 ? null : texts[k]!));
}
