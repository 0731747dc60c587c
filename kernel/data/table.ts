/**
 * A column-oriented table: numbers in Float64Arrays (NaN marks a missing value), everything
 * else as strings (null marks a missing value). Columns are typed once, at load.
 */
export type ColumnKind = "numeric" | "categorical" | "datetime";

export interface NumericColumn {
  name: string;
  kind: "numeric";
  values: Float64Array;
  /** how many values were ±Infinity in the source; they are stored as missing (NaN) */
  infinite?: number;
}

export interface TextColumn {
  name: string;
  kind: "categorical" | "datetime";
  values: (string | null)[];
}

export type Column = NumericColumn | TextColumn;

export type CellValue = number | string | null;

export class Table {
  readonly nRows: number;
  private readonly byName: Map<string, Column>;

  constructor(readonly columns: readonly Column[]) {
    this.nRows = columns[0]?.values.length ?? 0;
    this.byName = new Map(columns.map((c) => [c.name, c]));
    for (const c of columns) {
      if (c.values.length !== this.nRows) throw new Error(`column ${c.name} has ${c.values.length} rows, expected ${this.nRows}`);
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

  cell(row: number, name: string): CellValue {
    const c = this.column(name);
    if (c.kind === "numeric") {
      const v = c.values[row]!;
      return Number.isNaN(v) ? null : v;
    }
    return c.values[row] ?? null;
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
    const c = this.column(name);
    return c.kind === "numeric" ? Number.isNaN(c.values[row]!) : c.values[row] === null;
  }
}
