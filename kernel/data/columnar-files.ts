/**
 * The columnar file formats: Parquet (hyparquet, with hyparquet-compressors for the ZSTD,
 * GZIP, Brotli and LZ4 pages that real files use; read from the file by byte ranges, one row
 * group at a time, never whole) and Apache Arrow IPC (the apache-arrow reader, file or stream
 * format). Their values are typed already: numbers, text, and timestamps go to the column
 * builders as such.
 */
import * as fs from "node:fs";
import { DataType, tableFromIPC, type Table as ArrowTable } from "apache-arrow";
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { InputError } from "../errors/input-error";
import type { ColumnBuilder } from "./column-builder";
import type { Column } from "./table";

/** Where a columnar reader puts its values. */
export interface ColumnSink {
  warnings: string[];
  /** a builder for a column of about `rows` rows */
  builder(rows: number): ColumnBuilder;
  /** refuses a table of this size when it would not fit in memory */
  checkMemory(rows: number, cols: number): void;
}

/** A Parquet file read by byte ranges: hyparquet asks for the footer, then each column chunk. */
export function fileRanges(fd: number, size: number): AsyncBuffer {
  return {
    byteLength: size,
    slice(start: number, end = size): ArrayBuffer {
      const out = new ArrayBuffer(end - start);
      fs.readSync(fd, new Uint8Array(out), 0, end - start, start);
      return out;
    },
  };
}

/** `fd`: the file, opened and checked by the caller (who closes it). */
export async function readParquetFile(fd: number, size: number, name: string, sink: ColumnSink, progress: (f: number) => void): Promise<Column[]> {
  const file = fileRanges(fd, size);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new InputError(`${name} is not a readable Parquet file (${(err as Error).message}). Write it again, or give a CSV.`);
  }
  const rows = Number(metadata.num_rows);
  // the top level's plain columns; a nested one (a list, a struct) has no single value per row
  const names: string[] = [];
  const nested: string[] = [];
  for (let i = 1; i < metadata.schema.length;) {
    const el = metadata.schema[i]!;
    if (el.num_children) {
      nested.push(el.name);
      i += 1 + countDescendants(metadata, i);
    } else {
      names.push(el.name);
      i++;
    }
  }
  if (nested.length > 0) sink.warnings.push(`${name}: nested columns (${nested.join(", ")}) were left out; they hold lists or records, not one value per row.`);
  sink.checkMemory(rows, names.length);
  const builders = names.map(() => sink.builder(rows));
  // chunks arrive per column and row group, not always in row order: each waits for its turn
  const waiting = names.map(() => new Map<number, ArrayLike<unknown>>());
  let done = 0;
  try {
    await parquetRead({
      file,
      metadata,
      compressors,
      columns: names,
      onChunk(chunk) {
        const j = names.indexOf(chunk.columnName);
        if (j < 0) return;
        const b = builders[j]!;
        waiting[j]!.set(chunk.rowStart, chunk.columnData as ArrayLike<unknown>);
        for (let next = waiting[j]!.get(b.length); next; next = waiting[j]!.get(b.length)) {
          waiting[j]!.delete(b.length);
          for (let i = 0; i < next.length; i++) b.addValue(next[i]);
          done += next.length;
        }
        progress(Math.min(0.99, done / Math.max(1, rows * names.length)));
      },
    });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${name} could not be read as Parquet (${(err as Error).message}). Write it again, or give a CSV.`);
  }
  return builders.map((b, j) => b.finish(names[j]!, null, sink.warnings));
}

function countDescendants(metadata: FileMetaData, at: number): number {
  let count = 0;
  let open = metadata.schema[at]!.num_children ?? 0;
  let i = at + 1;
  while (open > 0 && i < metadata.schema.length) {
    const el = metadata.schema[i]!;
    open += (el.num_children ?? 0) - 1;
    count++;
    i++;
  }
  return count;
}

export function readArrowFile(bytes: Uint8Array, name: string, sink: ColumnSink): Column[] {
  let table: ArrowTable;
  try {
    // a byte array is read at once (the overload that returns a promise takes a stream)
    table = tableFromIPC(bytes) as ArrowTable;
  } catch (err) {
    throw new InputError(`${name} is not a readable Arrow IPC file (${(err as Error).message}). Write it again, or give a CSV.`);
  }
  const rows = table.numRows;
  sink.checkMemory(rows, table.numCols);
  return table.schema.fields.map((field, j) => {
    const vector = table.getChildAt(j)!;
    const b = sink.builder(rows);
    const time = DataType.isDate(field.type) || DataType.isTimestamp(field.type);
    for (let i = 0; i < rows; i++) {
      const v: unknown = vector.get(i);
      if (time && v !== null && v !== undefined) b.addTime(v instanceof Date ? v.getTime() : Number(v));
      else b.addValue(v);
    }
    return b.finish(field.name, null, sink.warnings);
  });
}
