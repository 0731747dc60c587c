import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import * as XLSX from "xlsx";
import { InputError } from "../../kernel/errors/input-error";
import { DelimitedParser, type ParsedRecord } from "../../kernel/data/delimited-parser";
import { isoTextEpoch } from "../../kernel/data/column-builder";
import { DistinctCounter, sampledQuantiles } from "../../kernel/data/sketches";
import { loadTableFile } from "../../kernel/data/table-loader";
import { profileColumn, profileTable } from "../../kernel/data/table-profile";
import { endTableThread, loadTableOffThread, profileOnThread } from "../../kernel/data/table-load";
import { textValues, type CategoricalColumn, type DatetimeColumn, type NumericColumn } from "../../kernel/data/table";
import { levelTexts, textLevelsOf } from "../../kernel/data/text-levels";
import { safeDataFileName } from "../../kernel/conductor/project-meta";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const VEGA_DATA = path.join(path.dirname(require.resolve("vega-datasets")), "..", "data");

function file(name: string, content: string | Uint8Array): string {
  const p = path.join(tempWorkspace("columnar"), name);
  fs.writeFileSync(p, content);
  return p;
}

function records(text: string, chunks: number[]): string[][] {
  const out: string[][] = [];
  const parser = new DelimitedParser(",", "t.csv", 1 << 20, (r: ParsedRecord) => out.push(Array.from({ length: r.count }, (_, j) => r.text(j))));
  let at = 0;
  for (const size of chunks) {
    parser.push(text.slice(at, at + size));
    at += size;
  }
  parser.push(text.slice(at));
  parser.end();
  return out;
}

describe("the columnar table and its streaming reader", () => {
  after(removeTempWorkspaces);

  it("parses the same records however the text is cut into chunks (quotes, doubled quotes, CRLF, quoted newlines)", () => {
    const field = fc.oneof(fc.constantFrom("", "a", "1.5", "-3", 'say ""hi""', "x\r\ny", "a,b", " sp "), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom("\n", "\r\n"),
        fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 20 }),
        (rows, eol, cuts) => {
          const quote = (f: string) => (/[",\r\n]/.test(f) || f.trim() !== f ? `"${f.replace(/"/g, '""')}"` : f);
          const clean = rows.map((r) => r.map((f) => f.replace(/""/g, '"'))).filter((r) => !(r.length === 1 && r[0] === ""));
          const text = clean.map((r) => r.map(quote).join(",")).join(eol) + eol;
          assert.deepEqual(records(text, cuts), records(text, []));
          assert.deepEqual(records(text, []), clean);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it("stores numbers in Float64Arrays, text as dictionary codes, and dates as epoch milliseconds", async () => {
    const { table } = await loadTableFile(
      file("t.csv", "n,city,day,at\n1.5,Köln,2000-01-31,2000-01-31T10:30:00+02:00\n,Bonn,,2000-02-01 00:00\n-2,Köln,2000-02-29,\n"),
    );
    const n = table.column("n") as NumericColumn;
    assert.ok(n.values instanceof Float64Array);
    assert.deepEqual(Array.from(n.values), [1.5, NaN, -2]);
    const city = table.column("city") as CategoricalColumn;
    assert.ok(city.codes instanceof Int32Array);
    assert.deepEqual(levelTexts(city.levels), ["Köln", "Bonn"]);
    assert.deepEqual(Array.from(city.codes), [0, 1, 0]);
    const day = table.column("day") as DatetimeColumn;
    assert.deepEqual(Array.from(day.values), [Date.UTC(2000, 0, 31), NaN, Date.UTC(2000, 1, 29)]);
    assert.equal(day.dateOnly, true);
    assert.equal(table.cell(0, "at"), "2000-01-31T08:30:00Z", "a time with a zone is moved to UTC");
    assert.equal(table.cell(1, "at"), "2000-02-01T00:00:00Z");
  });

  it("reads a column again as text when it turns out not to be numbers or ISO times after the first chunk, keeping every value's own text", async () => {
    const rows = 120_000; // past the first 1 MB chunk
    const lines = ["zip,when,v"];
    for (let i = 0; i < rows; i++) lines.push(`${String(i % 1000).padStart(5, "0")},2020-01-${String((i % 28) + 1).padStart(2, "0")},${i}`);
    lines.push("A-17,not a date,5");
    const { table } = await loadTableFile(file("late.csv", lines.join("\n")));
    const zip = table.column("zip") as CategoricalColumn;
    assert.equal(zip.kind, "categorical");
    assert.equal(textValues(zip)[7], "00007", "the zero-padded text survives");
    assert.equal(textValues(zip)[rows], "A-17");
    const when = table.column("when") as CategoricalColumn;
    assert.equal(when.kind, "categorical");
    assert.equal(textValues(when)[0], "2020-01-01");
    assert.equal(table.column("v").kind, "numeric");
  });

  it("keeps a text column's distinct values end to end in one buffer: a byte a unit until a wider one comes, looked up by span", async () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `customer-${String(i).padStart(8, "0")}-${"x".repeat(i % 7)}@example.org`);
    const p = file(
      "ids.csv",
      "id,n\n" +
        ids.map((id, i) => `${id},${i % 5}`).join("\n") +
        "\n" +
        ids
          .slice(0, 100)
          .map((id) => `${id},1`)
          .join("\n") +
        "\n",
    );
    const { table } = await loadTableFile(p, "ids.csv");
    const id = table.column("id") as CategoricalColumn;
    assert.ok(id.levels.units instanceof Uint8Array, "Latin-1 text at a byte a unit");
    assert.equal(
      id.levels.units.length,
      ids.reduce((n, t) => n + t.length, 0),
      "each distinct value once, nothing else",
    );
    assert.deepEqual(levelTexts(id.levels), ids);
    assert.equal(id.codes[20_050], 50, "a repeated value finds its code");
    // past 255: the buffer widens to two bytes a unit, keeping the values before
    const mixed = ["Köln", "", "Zürich", "東京", "x".repeat(20_000), "Łódź", "Köln"];
    const levels = textLevelsOf(mixed);
    assert.ok(levels.units instanceof Uint16Array);
    assert.deepEqual(levelTexts(levels), mixed);
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { maxLength: 30 }), (texts) => assert.deepEqual(levelTexts(textLevelsOf(texts)), texts)),
      { seed: 7 },
    );
  });

  it("reads a file without a header line, and says so", async () => {
    const { table, warnings } = await loadTableFile(file("nohead.csv", "1,2.5,3\n4,5,6\n"));
    assert.deepEqual(table.columnNames, ["column_1", "column_2", "column_3"]);
    assert.equal(table.nRows, 2);
    assert.ok(warnings.some((w) => /has no header line/.test(w)));
  });

  it("refuses a file whose table would not fit in memory, with the numbers, before reading it all", async () => {
    const lines = ["a,b,c"];
    for (let i = 0; i < 200_000; i++) lines.push(`${i},${i * 2},${i % 7}`);
    const big = file("big.csv", lines.join("\n"));
    await assert.rejects(
      loadTableFile(big, big, { memoryBudgetBytes: 1024 * 1024 }),
      (err: unknown) =>
        err instanceof InputError &&
        /big\.csv is 2\.\d MB: about 2\d\d,\d{3} rows × 3 columns, which take about [45]\.\d MB in memory as a table; this machine allows 1\.0 MB for one\. Give a sample of the rows/.test(
          (err as Error).message,
        ),
    );
  });

  it("reads vega-datasets' flights-3m.parquet: 3 million rows, ZSTD pages, timestamps and text", async function () {
    this.timeout(60_000);
    const { table, notes } = await loadTableFile(path.join(VEGA_DATA, "flights-3m.parquet"));
    assert.equal(table.nRows, 3_000_000);
    assert.deepEqual(
      table.columns.map((c) => `${c.name}:${c.kind}`),
      ["date:datetime", "delay:numeric", "distance:numeric", "origin:categorical", "destination:categorical"],
    );
    assert.deepEqual(table.records(0, 1)[0], { date: "2001-01-01T00:01:00Z", delay: 33, distance: 2176, origin: "LAS", destination: "PHL" });
    assert.ok(notes.includes("flights-3m.parquet is a Parquet file."));
  });

  it("reads vega-datasets' flights-200k.arrow (Arrow IPC)", async () => {
    const { table, notes } = await loadTableFile(path.join(VEGA_DATA, "flights-200k.arrow"));
    assert.equal(table.nRows, 200_000);
    assert.deepEqual(table.columnNames, ["delay", "distance", "time"]);
    assert.deepEqual(table.records(1, 2)[0], { delay: 171, distance: 2227, time: 0 });
    assert.ok(notes.some((w) => /Apache Arrow IPC/.test(w)));
  });

  it("reads an Arrow IPC stream (.arrows), and a project keeps that name for it", async () => {
    const stream = tableToIPC(tableFromArrays({ x: Float64Array.from([1, 2, 3]), label: ["a", "b", "a"] }), "stream");
    const { table } = await loadTableFile(file("colors.arrows", stream), "colors.arrows");
    assert.deepEqual(table.records(), [
      { x: 1, label: "a" },
      { x: 2, label: "b" },
      { x: 3, label: "a" },
    ]);
    assert.equal(safeDataFileName("colors.arrows"), "colors.arrows", "not renamed colors.arrows.csv (then read as text)");
  });

  it("reads the first sheet of an Excel workbook: text, numbers, booleans, dates by their cell style, blanks", async () => {
    const book = XLSX.utils.book_new();
    const sheet = XLSX.utils.aoa_to_sheet(
      [
        ["city", "price", "sold", "when"],
        ["Köln", 1.5, true, new Date(Date.UTC(2021, 2, 4))],
        ["Bonn & Co", null, false, new Date(Date.UTC(2021, 2, 5))],
        ["<Aachen>", 3, true, null],
      ],
      { cellDates: false },
    );
    XLSX.utils.book_append_sheet(book, sheet, "Sales");
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([["other"]]), "Notes");
    const bytes = XLSX.write(book, { type: "buffer", bookType: "xlsx" }) as Buffer;
    const { table, notes } = await loadTableFile(file("sales.xlsx", bytes));
    assert.deepEqual(table.columnNames, ["city", "price", "sold", "when"]);
    assert.deepEqual(textValues(table.column("city") as CategoricalColumn), ["Köln", "Bonn & Co", "<Aachen>"]);
    assert.deepEqual(Array.from((table.column("price") as NumericColumn).values), [1.5, NaN, 3]);
    assert.deepEqual(textValues(table.column("sold") as CategoricalColumn), ["TRUE", "FALSE", "TRUE"]);
    assert.equal(table.column("when").kind, "datetime");
    assert.equal(table.cell(0, "when"), "2021-03-04");
    assert.ok(notes.some((w) => /Excel workbook: read its first sheet, Sales \(the workbook has 2 sheets; the others, Notes, were not read\)/.test(w)));
    // dates stored as ISO text in the cell (t="d"), as the xlsx package writes them with cellDates
    const dated = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(
      dated,
      XLSX.utils.aoa_to_sheet(
        [
          ["when", "n"],
          [new Date(Date.UTC(2015, 0, 1)), 1],
          [new Date(Date.UTC(2015, 0, 2, 12)), 2],
        ],
        { cellDates: true },
      ),
      "S",
    );
    const isoCells = await loadTableFile(file("iso.xlsx", XLSX.write(dated, { type: "buffer", bookType: "xlsx", cellDates: true }) as Buffer));
    assert.equal(isoCells.table.column("when").kind, "datetime");
    assert.deepEqual([isoCells.table.cell(0, "when"), isoCells.table.cell(1, "when")], ["2015-01-01T00:00:00Z", "2015-01-02T12:00:00Z"]);
  });

  it("reads ISO text to epoch milliseconds in place, and refuses what is not a calendar day or a time", () => {
    assert.equal(isoTextEpoch("x2000-02-29y", 1, 11), Date.UTC(2000, 1, 29));
    assert.equal(isoTextEpoch("2000-01-31T10:30:15.5Z"), Date.UTC(2000, 0, 31, 10, 30, 15, 500));
    assert.equal(isoTextEpoch("2000-01-31 10:30-0130"), Date.UTC(2000, 0, 31, 12, 0));
    for (const bad of ["2001-02-29", "2000-13-01", "2000-01-31 24:00", "2000-01-31T10", "2000/01/31", "2000-01-31 10:30+2"])
      assert.ok(Number.isNaN(isoTextEpoch(bad)), bad);
  });
});

describe("profiling a big table in one pass", () => {
  after(removeTempWorkspaces);

  it("estimates quartiles from a seeded sample within half a percent in rank, and distinct counts within 3%", () => {
    const n = 1_000_000;
    const values = new Float64Array(n);
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      values[i] = i % 20 === 0 ? NaN : Math.round((s / 2 ** 32) ** 2 * 300_000);
    }
    const present = values.filter((v) => !Number.isNaN(v)).sort();
    const rankOf = (x: number) => {
      let lo = 0;
      while (lo < present.length && present[lo]! < x) lo++;
      return lo / present.length;
    };
    const [p25, median, p75] = sampledQuantiles(values, present.length, [0.25, 0.5, 0.75]);
    for (const [q, x] of [
      [0.25, p25!],
      [0.5, median!],
      [0.75, p75!],
    ] as const)
      assert.ok(Math.abs(rankOf(x) - q) < 0.005, `q${q}: rank ${rankOf(x)}`);
    const counter = new DistinctCounter();
    for (const v of present) counter.add(v);
    const exact = new Set(present).size;
    assert.ok(counter.approximate);
    assert.ok(Math.abs(counter.count() - exact) / exact < 0.03, `${counter.count()} vs ${exact}`);
    const profile = profileColumn({ name: "v", kind: "numeric", values });
    assert.equal(profile.missing, n / 20);
    assert.equal(profile.unique_approx, true);
    assert.equal(profile.quantiles_approx, true);
  });

  it("counts distinct values exactly while they are few, and text exactly always", () => {
    const values = Float64Array.from({ length: 300_000 }, (_, i) => i % 50);
    const profile = profileColumn({ name: "v", kind: "numeric", values });
    assert.equal(profile.unique, 50);
    assert.equal(profile.unique_approx, undefined);
    const text = profileColumn({
      name: "t",
      kind: "categorical",
      codes: Int32Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? -1 : i % 7)),
      levels: textLevelsOf("abcdefg".split("")),
    });
    assert.equal(text.unique, 7);
    assert.equal(text.missing, 334);
    assert.deepEqual(
      text.top!.map((t) => t.value),
      ["b", "c", "e", "f", "a", "d", "g"]
        .slice(0, 7)
        .sort((a, b) => text.top!.find((t) => t.value === b)!.count - text.top!.find((t) => t.value === a)!.count || a.localeCompare(b)),
    );
  });

  it("reports the profile's progress from the table's thread, rising to 1", async () => {
    const lines = ["a,b,c,d,e"];
    for (let i = 0; i < 5000; i++) lines.push(`${i},${i % 3},x${i % 5},${i / 7},2020-01-01`);
    const loaded = await loadTableOffThread(file("p.csv", lines.join("\n")), undefined, { keepThread: true });
    const seen: number[] = [];
    const profile = await profileOnThread(loaded.table, "a", "regression", (f) => seen.push(f));
    assert.deepEqual(profile, profileTable(loaded.table, "a", "regression"));
    assert.deepEqual(seen, [0.2, 0.4, 0.6, 0.8, 1]);
    await endTableThread(loaded.table);
  });
});
