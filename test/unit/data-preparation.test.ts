import { strict as assert } from "node:assert";
import fc from "fast-check";
import * as path from "node:path";
import { InputError } from "../../kernel/errors/input-error";
import { planPreprocessing } from "../../kernel/data/preprocess-plan";
import { transformRows } from "../../kernel/data/feature-transform";
import { fitPreprocessor } from "../../kernel/data/preprocessor";
import { splitRows } from "../../kernel/data/row-split";
import { Table, textValues, type CategoricalColumn, type NumericColumn } from "../../kernel/data/table";
import { loadTableFile } from "../../kernel/data/table-loader";
import { profileTable } from "../../kernel/data/table-profile";
import { textLevelsOf } from "../../kernel/data/text-levels";
import { encodeTarget } from "../../kernel/data/target-column";
import { targetChoices } from "../../kernel/agents/target-resolver";
import { BOSTON_CSV, removeTempWorkspaces, tempWorkspace, writeFile } from "../support/temp-workspace";

const load = (name: string, text: string) => loadTableFile(writeFile(tempWorkspace("data"), name, text));

describe("loading tables", () => {
  after(removeTempWorkspaces);

  it("types columns and reads missing values the way pandas does", async () => {
    const { table } = await load("t.csv", 'a,b,c,d\n1,x,2020-01-02,\nNA,"y, z",2021-03-04,?\n3.5e1,x,,n/a\n');
    assert.deepEqual(
      table.columns.map((c) => c.kind),
      ["numeric", "categorical", "datetime", "categorical"],
    );
    assert.deepEqual(Array.from((table.column("a") as NumericColumn).values), [1, NaN, 35]);
    assert.equal(table.cell(1, "b"), "y, z");
    assert.equal(table.cell(2, "c"), null);
    assert.deepEqual(textValues(table.column("d") as CategoricalColumn), [null, null, null]);
  });

  it("reads infinities as numbers, keeps them as missing, and says so in the profile", async () => {
    const { table } = await load("inf.csv", "a,b,y\n1,inf,0\n-Infinity,2,1\n3,+INF,0\n4,5,1\n");
    assert.deepEqual(
      table.columns.map((c) => c.kind),
      ["numeric", "numeric", "numeric"],
    );
    assert.deepEqual(Array.from((table.column("b") as NumericColumn).values), [NaN, 2, NaN, 5]);
    const profile = profileTable(table, "y", "classification");
    assert.ok(profile.warnings.includes("a has 1 infinite value(s); they are treated as missing."), profile.warnings.join(" | "));
    assert.ok(profile.warnings.includes("b has 2 infinite value(s); they are treated as missing."));
  });

  it("reads the real Boston housing table", async () => {
    const { table } = await loadTableFile(BOSTON_CSV);
    assert.equal(table.nRows, 506);
    assert.equal(table.nCols, 14);
    assert.equal(table.column("medv").kind, "numeric");
  });

  it("names missing and duplicate headers instead of failing", async () => {
    const { table, warnings } = await load("t.csv", "a,,a\n1,2,3\n");
    assert.deepEqual(table.columnNames, ["a", "column_2", "a.1"]);
    assert.equal(warnings.length, 2);
  });

  const bad: Array<[string, string, string, RegExp]> = [
    ["an empty file", "e.csv", "", /is empty/],
    ["a header with no rows", "h.csv", "a,b\n", /no data rows/],
    ["a ragged row", "r.csv", "a,b\n1,2\n3\n", /malformed at line 3.*number of fields/],
    ["an unclosed quote", "q.csv", 'a,b\n1,"oops\n', /never closed/],
    ["binary content", "b.csv", "a,b\n\u0000\u0001\n", /not a text file/],
    ["JSON that is not records", "j.json", '{"a": 1}', /array of flat records/],
  ];
  for (const [what, name, text, message] of bad) {
    it(`refuses ${what} with a message that says what to do`, async () => {
      await assert.rejects(load(name, text), (err: unknown) => err instanceof InputError && message.test((err as Error).message));
    });
  }
});

describe("split and preprocessing", () => {
  after(removeTempWorkspaces);

  const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join("\n");
  const csv = "num,cat,label\n" + rows(60, (i) => `${i % 7 === 0 ? "" : i},${["a", "b", "c"][i % 3]},${i % 4 === 0 ? "yes" : "no"}`) + "\n";

  for (const task of ["regression", "classification"] as const) {
    it(`screens a table with more columns than rows down to the features most related to the target (${task}), and says so in the plan`, async () => {
      let seed = 11;
      const r = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
      const header = [...Array.from({ length: 200 }, (_, j) => `c${j}`), "y"].join(",");
      const lines = Array.from({ length: 60 }, () => {
        const x = Array.from({ length: 200 }, r);
        const y = 3 * x[3]! - 3 * x[7]! + 0.05 * r();
        return [...x.map((v) => v.toFixed(4)), task === "regression" ? y.toFixed(4) : y > 0 ? "up" : "down"].join(",");
      });
      const { table } = await load("wide.csv", [header, ...lines].join("\n"));
      const steps = planPreprocessing(profileTable(table, "y", task), "y");
      const screen = steps.find((s) => s.op === "select_features");
      assert.ok(screen, "the plan screens the features");
      assert.equal(screen.params["keep"], 15);
      assert.match(screen.why, /More feature columns \(about 200 after encoding\) than rows \(60\): keep the 15 most related/);
      const split = splitRows(encodeTarget(table, "y", task), { seed: 1, testSize: 0.2, valSize: 0.2 });
      const prep = fitPreprocessor(steps, table, split.train, "y");
      assert.equal(prep.features.length, 15);
      const names = prep.features.map((f) => f.name);
      assert.ok(names.includes("c3") && names.includes("c7"), names.join(", "));
      assert.equal(transformRows(prep, table, split.test).cols, 15);
    });
  }

  it("gives a column of times its hour as a feature, and a column of days only the day parts", async () => {
    const lines = ["day,at,y"];
    for (let i = 0; i < 40; i++) lines.push(`2020-03-${String((i % 28) + 1).padStart(2, "0")},2020-03-01T${String(i % 24).padStart(2, "0")}:30:00Z,${i}`);
    const { table } = await load("times.csv", lines.join("\n"));
    const steps = planPreprocessing(profileTable(table, "y", "regression"), "y");
    assert.deepEqual(
      steps.filter((s) => s.op === "parse_datetime").map((s) => [s.id, s.columns, s.params["parts"]]),
      [
        ["parse-dates", ["day"], ["year", "month", "day", "dayofweek"]],
        ["parse-times", ["at"], ["year", "month", "day", "dayofweek", "hour"]],
      ],
    );
    const rows = Array.from({ length: 40 }, (_, i) => i);
    const prep = fitPreprocessor(
      steps.filter((s) => s.op !== "scale"),
      table,
      rows,
      "y",
    );
    const hour = prep.features.findIndex((f) => f.name === "at_hour");
    assert.ok(hour >= 0 && !prep.features.some((f) => f.name === "day_hour"));
    const x = transformRows(prep, table, rows);
    assert.deepEqual(
      rows.slice(0, 26).map((i) => x.data[i * x.cols + hour]),
      rows.slice(0, 26).map((i) => i % 24),
    );
  });

  it("splits deterministically by seed, stratified by class, without overlap", async () => {
    const { table } = await load("s.csv", csv);
    const target = encodeTarget(table, "label", "classification");
    assert.equal(target.task, "classification");
    if (target.task !== "classification") return;
    const a = splitRows(target, { seed: 7, testSize: 0.2, valSize: 0.25 });
    const b = splitRows(target, { seed: 7, testSize: 0.2, valSize: 0.25 });
    const c = splitRows(target, { seed: 8, testSize: 0.2, valSize: 0.25 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.test, c.test);
    const all = [...a.train, ...a.val, ...a.test];
    assert.equal(new Set(all).size, 60);
    const yesIn = (rs: number[]) => rs.filter((r) => target.y[r] === target.classes.indexOf("yes")).length;
    assert.equal(yesIn(a.test), 3, "15 'yes' rows × 0.2 → 3 in test");
    assert.ok(a.stratified);
  });

  it("splits half a million rows (a table within the size cap) without overflowing the call stack", async () => {
    const n = 500_000;
    const values = new Float64Array(n).map((_, i) => (i * 7919) % 1000);
    const target = encodeTarget(new Table([{ name: "y", kind: "numeric", values }]), "y", "regression");
    const split = splitRows(target, { seed: 1, testSize: 0.2, valSize: 0.25 });
    assert.equal(split.train.length + split.val.length + split.test.length, n);
    assert.equal(split.test.length, 100_000);
  });

  it("fits imputation, encoding and scaling on training rows only and applies them to any row", async () => {
    const { table } = await load("p.csv", csv + "999,zzz,no\n");
    const profile = profileTable(table, "label", "classification");
    const steps = planPreprocessing(profile, "label");
    assert.deepEqual(
      steps.map((s) => s.op),
      ["add_missing_indicator", "impute", "encode_categorical", "scale"],
    );
    const train = [1, 2, 3, 4, 5, 6, 7, 8]; // row 7 has a missing num
    const prep = fitPreprocessor(steps, table, train, "label");
    assert.deepEqual(
      prep.features.map((f) => f.name),
      ["num", "num_missing", "cat=b", "cat=c", "cat=a"],
    );
    const x = transformRows(prep, table, [7, 60]);
    const numSpec = prep.features[0]!;
    assert.equal(numSpec.kind, "numeric");
    if (numSpec.kind !== "numeric") return;
    // the median of the training values 1..6, 8 is 4; it is then scaled with the training mean and std
    assert.equal(numSpec.fill, 4);
    assert.ok(Math.abs(x.data[0]! - (4 - numSpec.center) / numSpec.scale) < 1e-12);
    assert.equal(x.data[1], 1, "row 7 was missing");
    assert.deepEqual(Array.from(x.data.slice(7, 10)), [0, 0, 0], "an unseen level sets no column");
  });

  it("one-hot encodes a text column's most frequent levels in the training rows (ties by name, missing ones counted under the fill), as a full count ranks them", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1, max: 11 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.constantFrom("L3", "L7", "other-fill")),
        (codes, maxLevels, fill) => {
          const texts = Array.from({ length: 12 }, (_, k) => `L${k}`);
          const cat: CategoricalColumn = { name: "cat", kind: "categorical", codes: Int32Array.from(codes), levels: textLevelsOf(texts) };
          const y: NumericColumn = { name: "y", kind: "numeric", values: Float64Array.from(codes, (_, i) => i) };
          const table = new Table([cat, y]);
          const steps = [
            ...(fill ? [{ id: "i", op: "impute" as const, columns: ["cat"], params: { strategy: "constant", fill_value: fill }, why: "" }] : []),
            { id: "e", op: "encode_categorical" as const, columns: ["cat"], params: { max_levels: maxLevels }, why: "" },
          ];
          const rows = codes.map((_, i) => i);
          if (!fill && codes.every((k) => k < 0)) return; // nothing to encode: the plan is refused, as it should be
          const names = fitPreprocessor(steps, table, rows, "y").features.map((f) => f.name);
          // the reference: every text counted, then ranked
          const counts = new Map<string, number>();
          for (const k of codes) {
            const t = k < 0 ? fill : texts[k]!;
            if (t) counts.set(t, (counts.get(t) ?? 0) + 1);
          }
          const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => `cat=${t}`);
          assert.deepEqual(names, [...ranked.slice(0, maxLevels), ...(ranked.length > maxLevels ? ["cat=(other)"] : [])]);
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });

  it("says which columns the plan dropped, and why, when it leaves nothing to learn from", async () => {
    const { table } = await load("ids.csv", "id,y\n" + Array.from({ length: 50 }, (_, i) => `row-${i},${i % 7}`).join("\n") + "\n");
    const steps = planPreprocessing(profileTable(table, "y", "regression"), "y");
    assert.throws(
      () => fitPreprocessor(steps, table, [0, 1, 2, 3], "y"),
      (err: Error) => err instanceof InputError && /it drops id \(unique per row: an identifier\)\. Keep at least one column/.test(err.message),
    );
  });

  it("says a column that counts the rows is a row number, and the plan drops it (a sorted file would leak its order into the score)", async () => {
    const csv = "row,x,y\n" + Array.from({ length: 60 }, (_, i) => `${i + 1},${(i * 7) % 11},${i % 5}`).join("\n") + "\n";
    const { table } = await load("rows.csv", csv);
    const profile = profileTable(table, "y", "regression");
    assert.equal(profile.columns.find((c) => c.name === "row")?.row_number, true);
    assert.equal(profile.columns.find((c) => c.name === "x")?.row_number, undefined);
    assert.ok(
      profile.warnings.some((w) => /^row counts the rows \(1, 2, 3, …\)/.test(w)),
      JSON.stringify(profile.warnings),
    );
    const drop = planPreprocessing(profile, "y").find((s) => s.op === "drop_column");
    assert.deepEqual(drop?.columns, ["row"]);
  });

  it("refuses a plan that names a column that does not exist", async () => {
    const { table } = await load("p.csv", csv);
    const steps = [{ id: "x", op: "scale" as const, columns: ["nope"], params: {}, why: "" }];
    assert.throws(() => fitPreprocessor(steps, table, [0, 1, 2], "label"), /names column "nope", which is not in the data/);
  });

  it("refuses a target that does not exist, naming the columns", async () => {
    const { table } = await load("p.csv", csv);
    assert.throws(() => encodeTarget(table, "price", "regression"), /"price" is not in the data. Columns are: num, cat, label/);
  });
});

describe("target choices at the data gate", () => {
  after(removeTempWorkspaces);
  // vega-datasets' cars: its last column (Origin) is a label, the request asks for a number
  const cars = async () => {
    // the package exports only its index: the data files are read from its folder
    const file = path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", "cars.json");
    return (await loadTableFile(file)).table;
  };

  it("puts the columns the request names first, then those that fit the task, the current target leading a change", async () => {
    const table = await cars();
    const asked = targetChoices(table, { hint: "fuel economy miles per gallon", task: "regression" });
    assert.equal(asked[0]!.value, "Miles_per_Gallon", asked.map((c) => c.value).join(", "));
    const byTask = targetChoices(table, { hint: "fuel economy", task: "regression" }).map((c) => c.value);
    assert.ok(byTask.indexOf("Origin") > byTask.indexOf("Horsepower"), `regression targets before a label: ${byTask.join(", ")}`);
    assert.ok(byTask.indexOf("Name") > byTask.indexOf("Origin"), "a text column of unique names is not a usable target and comes last");
    const change = targetChoices(table, { current: "Horsepower", task: "regression" });
    assert.equal(change[0]!.value, "Horsepower");
    assert.match(change[0]!.description, /^the current target; numbers/);
  });
});
