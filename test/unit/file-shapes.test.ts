import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { zipSync } from "fflate";
import { InputError } from "../../kernel/errors/input-error";
import { loadTableFile } from "../../kernel/data/table-loader";
import { readDateColumn } from "../../kernel/data/date-reading";
import { profileTable } from "../../kernel/data/table-profile";
import { textValues, type CategoricalColumn, type NumericColumn } from "../../kernel/data/table";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

function file(name: string, content: string | Uint8Array): string {
  const p = path.join(tempWorkspace("shapes"), name);
  fs.writeFileSync(p, content);
  return p;
}

const numbers = (c: unknown) => Array.from((c as NumericColumn).values);
const texts = (c: unknown) => textValues(c as CategoricalColumn);

describe("files of every common shape", () => {
  after(removeTempWorkspaces);

  it("reads a semicolon file with decimal commas as numbers, and says how", async () => {
    const { table, warnings, notes } = await loadTableFile(file("eu.csv", 'stadt;preis;menge\nKöln;"1.234,5";3\nBonn;2,25;4\nAachen;-0,5;\n'));
    assert.deepEqual(table.columnNames, ["stadt", "preis", "menge"]);
    assert.deepEqual(numbers(table.column("preis")), [1234.5, 2.25, -0.5]);
    assert.deepEqual(numbers(table.column("menge")).slice(0, 2), [3, 4]);
    assert.ok(
      notes.some((w) => /separated by semicolons/.test(w)),
      notes.join("\n"),
    );
    assert.ok(
      warnings.some((w) => /Column preis: numbers written with a decimal comma/.test(w)),
      warnings.join("\n"),
    );
  });

  it("reads commas grouping thousands in a tab file as thousands, and keeps blank lines and commas in values from fooling the sniffer", async () => {
    const us = await loadTableFile(file("us.tsv", "amount\tn\n1,234\t1\n999\t2\n12,500\t3\n"));
    assert.deepEqual(numbers(us.table.column("amount")), [1234, 999, 12500]);
    assert.ok(
      us.warnings.some((w) => /Column amount: commas in numbers were read as thousands separators/.test(w)),
      us.warnings.join("\n"),
    );
    const mixed = await loadTableFile(file("m.tsv", "v\n1,234\n9.5\n"));
    assert.deepEqual(numbers(mixed.table.column("v")), [1234, 9.5]);
    const blanks = await loadTableFile(file("b.csv", "a;b\n1;2\n\n3;4\n\n\n\n"));
    assert.deepEqual(blanks.table.columnNames, ["a", "b"]);
    const named = await loadTableFile(file("n.tsv", "name, first\tage\nSmith, J\t3\nDoe, A\t4\n"));
    assert.deepEqual(named.table.columnNames, ["name, first", "age"]);
  });

  it("reads Latin-1 bytes as Windows-1252 with a warning naming the line, never as replacement characters", async () => {
    const bytes = Buffer.concat([Buffer.from("city,n\nBonn,1\n"), Buffer.from([0x4b, 0xf6, 0x6c, 0x6e]), Buffer.from(",2\n")]);
    const { table, warnings } = await loadTableFile(file("latin.csv", bytes));
    assert.deepEqual(texts(table.column("city")), ["Bonn", "Köln"]);
    assert.ok(
      warnings.some((w) => /not valid UTF-8 \(line 3 has the byte 0xF6.*Windows-1252/.test(w)),
      warnings.join("\n"),
    );
  });

  it("reads UTF-8 with a byte-order mark, and UTF-16 with or without one", async () => {
    const text = "name,x\nZürich,1\nGenève,2\n";
    const bom8 = await loadTableFile(file("bom.csv", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])));
    assert.deepEqual(bom8.table.columnNames, ["name", "x"]);
    assert.equal(bom8.warnings.length + bom8.notes.length, 0);
    const le = Buffer.from(text, "utf16le");
    for (const [label, bytes, said] of [
      ["with a mark", Buffer.concat([Buffer.from([0xff, 0xfe]), le]), /UTF-16 \(little-endian, by its byte-order mark\)/],
      ["without one", le, /UTF-16 \(little-endian, without a byte-order mark/],
    ] as const) {
      const { table, notes } = await loadTableFile(file("u16.csv", bytes));
      assert.deepEqual(texts(table.column("name")), ["Zürich", "Genève"], label);
      assert.ok(
        notes.some((w) => said.test(w)),
        `${label}: ${notes.join("\n")}`,
      );
    }
  });

  it("tells tabs in a .txt, and keeps quoted newlines and delimiters inside fields", async () => {
    const { table, notes } = await loadTableFile(file("t.txt", 'a\tb\tc\n1\t"two\nlines, with a comma"\t3\n4\t"x"\t6\n'));
    assert.deepEqual(table.columnNames, ["a", "b", "c"]);
    assert.deepEqual(texts(table.column("b")), ["two\nlines, with a comma", "x"]);
    assert.ok(notes.some((w) => /separated by tabs/.test(w)));
  });

  it("reads NDJSON (.ndjson, .jsonl, and a .json of one record per line)", async () => {
    for (const name of ["r.ndjson", "r.jsonl", "r.json"]) {
      const { table } = await loadTableFile(file(name, '{"a": 1, "b": "x"}\n\n{"a": 2.5, "b": "y"}\n{"a": null, "b": "z"}\n'));
      assert.deepEqual(numbers(table.column("a")).slice(0, 2), [1, 2.5], name);
      assert.deepEqual(texts(table.column("b")), ["x", "y", "z"], name);
    }
    await assert.rejects(loadTableFile(file("bad.ndjson", '{"a": 1}\n{"a": \n')), /bad\.ndjson line 2 is not a JSON record/);
  });

  it("reads a gzip-compressed CSV and the one CSV in a zip, and says so", async () => {
    const csv = "a,b\n1,x\n2,y\n";
    const gz = await loadTableFile(file("d.csv.gz", zlib.gzipSync(csv)));
    assert.deepEqual(texts(gz.table.column("b")), ["x", "y"]);
    assert.ok(gz.notes.some((w) => /gzip-compressed/.test(w)));
    const zip = await loadTableFile(
      file("d.zip", zipSync({ "folder/data.csv": Buffer.from(csv), "__MACOSX/._data.csv": Buffer.from("junk"), "README.md": Buffer.from("hi") })),
    );
    assert.deepEqual(numbers(zip.table.column("a")), [1, 2]);
    assert.ok(zip.notes.some((w) => /read data\.csv from it/.test(w)));
  });

  const bad: Array<[string, () => string, RegExp]> = [
    [
      "a zip of two data files",
      () => file("two.zip", zipSync({ "a.csv": Buffer.from("a\n1\n"), "b.csv": Buffer.from("b\n2\n") })),
      /holds 2 data files \(a\.csv, b\.csv\).*Give the one to use/,
    ],
    ["a zip without a data file", () => file("none.zip", zipSync({ "x.png": Buffer.from([1, 2, 3]) })), /holds no CSV, TSV or JSON file/],
    [
      "a gzip that expands to one endless line",
      () => file("bomb.csv.gz", zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x61))),
      /bomb\.csv\.gz is malformed: the record that starts at line 1 is longer than 16 MB/,
    ],
    ["a file that ends inside a quoted field", () => file("q.csv", 'a,b\n1,"never closed\n2,3\n'), /quoted field that starts at line 2 is never closed/],
    [
      "a row with more fields than the header",
      () => file("r.csv", "a,b\n1,2\n3,4,5\n"),
      /malformed at line 3: that row has a different number of fields than the header/,
    ],
  ];
  for (const [what, make, message] of bad) {
    it(`refuses ${what} with a message that says what to do`, async () => {
      const path = make();
      await assert.rejects(loadTableFile(path), (err: unknown) => err instanceof InputError && message.test((err as Error).message));
    });
  }

  it("says when a table has more columns than rows", async () => {
    const header = [...Array.from({ length: 30 }, (_, j) => `c${j}`), "y"].join(",");
    const rows = Array.from({ length: 10 }, (_, i) => Array.from({ length: 31 }, (_, j) => (i * 31 + j) % 7).join(","));
    const { table } = await loadTableFile(file("wide.csv", [header, ...rows].join("\n")));
    const profile = profileTable(table, "y", "regression");
    assert.ok(
      profile.warnings.some((w) => /More columns \(30 features\) than rows \(10\).*dual system/.test(w)),
      profile.warnings.join("\n"),
    );
  });

  it("keeps an all-missing column (as text with no value) rather than failing", async () => {
    const { table } = await loadTableFile(file("m.csv", "a,empty\n1,\n2,NA\n"));
    assert.deepEqual(texts(table.column("empty")), [null, null]);
  });
});

describe("dates as people write them", () => {
  after(removeTempWorkspaces);

  it("reads month names, year-first slashes and ISO with zones", async () => {
    assert.deepEqual(readDateColumn("d", ["Jan 1 2000", "February 29, 2000", "1 Mar 2001", null])?.values, ["2000-01-01", "2000-02-29", "2001-03-01", null]);
    assert.deepEqual(readDateColumn("d", ["2001/01/14 21:55", "2001/1/2"])?.values, ["2001-01-14T21:55:00", "2001-01-02"]);
    assert.deepEqual(readDateColumn("d", ["2000-01-01T10:00:00+02:00", "2000-01-02 10:00:00Z"])?.values, ["2000-01-01T10:00:00+02:00", "2000-01-02T10:00:00Z"]);
  });

  it("reads times with AM/PM and fractions of a second, and unpadded year-first dates, as spreadsheets export them", async () => {
    const { table } = await loadTableFile(
      file("orders.csv", "ordered,shipped,n\n1/5/2020 3:45 PM,2020-1-5,1\n12/31/2020 12:00 AM,2020-12-25,2\n2/1/2021 11:05:09.25 a.m.,2021-3-4,3\n"),
    );
    const iso = (name: string) => Array.from((table.column(name) as { values: Float64Array }).values, (ms) => new Date(ms).toISOString());
    assert.equal(table.column("ordered").kind, "datetime");
    assert.deepEqual(iso("ordered"), ["2020-01-05T15:45:00.000Z", "2020-12-31T00:00:00.000Z", "2021-02-01T11:05:09.250Z"]);
    assert.deepEqual(iso("shipped"), ["2020-01-05T00:00:00.000Z", "2020-12-25T00:00:00.000Z", "2021-03-04T00:00:00.000Z"]);
    assert.deepEqual(readDateColumn("d", ["Jan 5 2020 11:05 PM", "5 March 2020 12:30 PM"])?.values, ["2020-01-05T23:05:00", "2020-03-05T12:30:00"]);
    assert.equal(readDateColumn("d", ["1/5/2020 13:45 PM"]), null, "13 PM is no time: the column stays text");
    assert.equal(readDateColumn("d", ["2020-8-7", "2020-10-15"])?.note, null, "ISO's order with or without zeros is one format");
  });

  it("tells day/month order from the column and says how it read it", async () => {
    const dayFirst = readDateColumn("d", ["01/02/2000", "13/02/2000"])!;
    assert.deepEqual(dayFirst.values, ["2000-02-01", "2000-02-13"]);
    assert.match(dayFirst.note!, /13\/02\/2000 are read day first/);
    const monthFirst = readDateColumn("d", ["01/31/2000", "02/01/2000"])!;
    assert.deepEqual(monthFirst.values, ["2000-01-31", "2000-02-01"]);
    assert.match(monthFirst.note!, /month first/);
    const unclear = readDateColumn("d", ["01/02/2000", "03/04/2000"])!;
    assert.match(unclear.note!, /no value tells the order, so check it/);
    assert.equal(readDateColumn("d", ["13/01/2000", "01/13/2000"]), null, "some values need day first, others month first: not one date column");
    assert.equal(readDateColumn("d", ["31/02/2000"]), null, "not a calendar day");
  });

  it("reads dotted dates day first, and refuses days that are not on the calendar", async () => {
    const dotted = readDateColumn("d", ["01.02.2020", "03.04.2020"])!;
    assert.deepEqual(dotted.values, ["2020-02-01", "2020-04-03"]);
    assert.match(dotted.note!, /day first \(day\.month\.year/);
    assert.equal(readDateColumn("d", ["2023-02-30", "2023-03-01"]), null);
  });

  it("reads a column of mixed formats value by value and says so; a column with a non-date stays text", async () => {
    const mixed = readDateColumn("d", ["2000-01-05", "Jan 6 2000"])!;
    assert.deepEqual(mixed.values, ["2000-01-05", "2000-01-06"]);
    assert.match(mixed.note!, /mixes date formats \(ISO 8601, month name\)/);
    assert.equal(readDateColumn("d", ["2000-01-05", "soon"]), null);
  });

  it("loads vega-datasets' stocks.csv with its 'Jan 1 2000' dates as a date column", async () => {
    const { table } = await loadTableFile(path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", "stocks.csv"));
    const date = table.column("date");
    assert.equal(date.kind, "datetime");
    assert.equal(table.cell(0, "date"), "2000-01-01");
  });

  it("reads numbers in a column named as a time as epoch seconds, and numbers elsewhere as numbers", async () => {
    const { table, warnings } = await loadTableFile(file("e.csv", "timestamp,amount\n946684800,946684800\n946771200,5\n"));
    assert.equal(table.column("timestamp").kind, "datetime");
    assert.deepEqual([table.cell(0, "timestamp"), table.cell(1, "timestamp")], ["2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"]);
    assert.equal(table.column("amount").kind, "numeric");
    assert.ok(warnings.some((w) => /Column timestamp: numbers read as times in epoch seconds/.test(w)));
  });
});
