/**
 * Issue 14's promise: the same model predicts the same numbers, to the last digit, from the CLI
 * (`automl predict`, with the project's folder or its export zip), from the conductor
 * (POST /api/projects/{id}/predict) and from the export bundle's own predict.mjs, unzipped into
 * a folder of its own where this product is not installed. For regression, two classes and
 * three classes, on data unlike training in places (a value outside the range, a category
 * training never saw, text where numbers were).
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { unzipSync, zipSync } from "fflate";
import type { PredictResponse } from "../../contract";
import { loadTableFile } from "../../kernel/data/table-loader";
import { startConductor } from "../support/running-conductor";
import { BOSTON_CSV, removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const run = promisify(execFile);
const BIN = path.join(__dirname, "..", "..", "bin", "automl.js");
const PENGUINS = path.join(__dirname, "..", "..", "node_modules", "vega-datasets", "data", "penguins.json");

interface Trained {
  ws: string;
  projectId: string;
  zip: string;
  projectDir: string;
}

async function train(label: string, prompt: string, data: string, target: string): Promise<Trained> {
  const ws = tempWorkspace(label);
  const out = path.join(ws, "out");
  await run(process.execPath, [BIN, "run", prompt, "--data", data, "--target", target, "--auto", "--no-pacing", "--out", out, "--workspace", ws]);
  const zipName = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
  const projectId = zipName.replace(/\.zip$/, "");
  return { ws, projectId, zip: path.join(out, zipName), projectDir: path.join(ws, ".automl", "projects", projectId) };
}

/** The bundle unzipped into a fresh folder outside the checkout, its (empty) dependencies installed as a person would. */
async function unzipBundle(zip: string): Promise<string> {
  const dir = path.join(tempWorkspace("bundle"), "model");
  for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(fs.readFileSync(zip))))) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), bytes);
  }
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund"], { cwd: dir });
  return dir;
}

/** The REST response written as the CSV lines the CLI writes (a refused row: empty fields). */
function restAsCsvLines(r: PredictResponse): string[] {
  const k = r.model.classes?.length ?? 0;
  return r.predictions.map((p) => {
    if (p === null) return ",".repeat(k);
    if ("value" in p) return String(p.value);
    return [p.label, ...r.model.classes!.map((c) => String(p.probabilities[c]))].join(",");
  });
}

/** Writes `rows` as CSV (the target left out), with a few values unlike training. */
function newData(file: string, rows: Record<string, unknown>[], target: string, oddities: (row: Record<string, unknown>, i: number) => void): void {
  const columns = Object.keys(rows[0]!).filter((c) => c !== target);
  const cell = (v: unknown) => (v === null || v === undefined ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [columns.map(cell).join(",")];
  rows.forEach((r, i) => {
    const copy = { ...r };
    oddities(copy, i);
    lines.push(columns.map((c) => cell(copy[c])).join(","));
  });
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

describe("predictions three ways: automl predict, the conductor's endpoint and the bundle's predict.mjs", function () {
  this.timeout(240_000);
  after(removeTempWorkspaces);

  const cases = [
    {
      name: "regression (Boston house prices)",
      prompt: "predict house prices",
      data: BOSTON_CSV,
      target: "medv",
      odd: (r: Record<string, unknown>, i: number) => {
        if (i === 3) r["rm"] = 42; // outside the range
        if (i === 5) r["tax"] = "unknown"; // text where numbers were: refused
      },
      refused: [6],
    },
    {
      name: "two classes (penguin sex)",
      prompt: "classify penguin sex",
      data: "penguins-sexed.json",
      target: "Sex",
      odd: (r: Record<string, unknown>, i: number) => {
        if (i === 2) r["Island"] = "Atlantis"; // a category training never saw
        if (i === 4) r["Body Mass (g)"] = 90_000;
      },
      refused: [],
    },
    {
      name: "three classes (penguin species)",
      prompt: "classify penguin species",
      data: PENGUINS,
      target: "Species",
      odd: (r: Record<string, unknown>, i: number) => {
        if (i === 1) r["Island"] = "Atlantis";
        if (i === 7) r["Flipper Length (mm)"] = "long";
      },
      refused: [8],
    },
  ];

  for (const c of cases) {
    it(`gives the same numbers every way: ${c.name}`, async () => {
      let data = c.data;
      if (data === "penguins-sexed.json") {
        // two classes: the penguins whose sex was recorded (the file also holds "." and none)
        data = path.join(tempWorkspace("sexed"), data);
        const all = JSON.parse(fs.readFileSync(PENGUINS, "utf8")) as Record<string, unknown>[];
        fs.writeFileSync(data, JSON.stringify(all.filter((r) => r["Sex"] === "MALE" || r["Sex"] === "FEMALE")));
      }
      const t = await train("three-ways", c.prompt, data, c.target);
      const { table } = await loadTableFile(data);
      const fresh = path.join(t.ws, "new.csv");
      newData(fresh, table.records(), c.target, c.odd);

      // 1. the CLI, from the export zip and from the project's folder
      const fromZip = path.join(t.ws, "zip.csv");
      const cli = await run(process.execPath, [BIN, "predict", "--model", t.zip, "--data", fresh, "--out", fromZip]);
      const fromFolder = path.join(t.ws, "folder.csv");
      await run(process.execPath, [BIN, "predict", "--model", t.projectDir, "--data", fresh, "--out", fromFolder]);
      const cliText = fs.readFileSync(fromZip, "utf8");
      assert.equal(fs.readFileSync(fromFolder, "utf8"), cliText, "the project folder and its export predict alike");
      const [header, ...lines] = cliText.trimEnd().split("\n");
      assert.equal(lines.length, table.nRows);
      assert.equal(header!.split(",")[0], `${c.target}_predicted`);
      assert.equal(
        header!.split(",").length,
        { "regression (Boston house prices)": 1, "two classes (penguin sex)": 3, "three classes (penguin species)": 4 }[c.name],
      );
      // the report: the odd rows, with what was done
      const reportFile = fromZip.replace(/\.csv$/, ".report.csv");
      const report = fs.readFileSync(reportFile, "utf8");
      const reportRows = report
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[0]));
      assert.deepEqual(
        reportRows,
        [...reportRows].sort((a, b) => a - b),
        "the report goes row by row",
      );
      assert.match(cli.stderr, /every row with a problem is listed in/);
      for (const row of c.refused) {
        assert.equal(lines[row - 1], ",".repeat((header!.match(/,/g) ?? []).length), `row ${row} refused: its line is empty`);
        assert.match(report, new RegExp(`^${row},[^\\n]*,(text_in_numbers|text_in_dates),refused$`, "m"));
      }
      assert.ok(lines.filter((l) => !/^,*$/.test(l)).length === table.nRows - c.refused.length);

      // 2. the bundle's predict.mjs, in a folder of its own
      const bundle = await unzipBundle(t.zip);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(bundle, "package.json"), "utf8")).dependencies, {});
      const fromBundle = path.join(bundle, "pred.csv");
      await run(process.execPath, ["predict.mjs", fresh, "--out", fromBundle], { cwd: bundle });
      assert.equal(fs.readFileSync(fromBundle, "utf8"), cliText, "predict.mjs writes the CLI's bytes");
      assert.equal(fs.readFileSync(path.join(bundle, "pred.report.csv"), "utf8"), report, "and the same report");
      // its sample runs as the README says
      const sample = await run(process.execPath, ["predict.mjs", "sample.csv"], { cwd: bundle });
      assert.match(sample.stdout, /^20 predictions of .* written to .*sample\.predictions\.csv/);

      // 3. the conductor's endpoint, on the same workspace's project
      const rc = await startConductor({ workspace: t.ws });
      try {
        const { table: given } = await loadTableFile(fresh);
        const response = await rc.client.predict(t.projectId, { rows: given.records() as Record<string, string | number | null>[] });
        assert.deepEqual(restAsCsvLines(response), lines, "the endpoint's numbers are the CLI's, digit for digit");
        assert.deepEqual(
          response.problems.filter((p) => p.refused).map((p) => p.row),
          c.refused,
        );
        assert.ok(response.summary.length > 0);
      } finally {
        await rc.stop();
      }
    });
  }

  it("refuses a changed bundle naming the file, a newer format with what to do, an entry that climbs out, and a zip that is no bundle", async () => {
    const t = await train("bundle-checks", "predict house prices", BOSTON_CSV, "medv");
    const bundle = await unzipBundle(t.zip);
    const data = path.join(bundle, "sample.csv");

    // a byte of the model changed: predict.mjs refuses, naming the file
    const model = path.join(bundle, "model", "best-model.model");
    const bytes = fs.readFileSync(model);
    bytes[bytes.length - 1]! ^= 1;
    fs.writeFileSync(model, bytes);
    await assert.rejects(run(process.execPath, ["predict.mjs", data], { cwd: bundle }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /model\/best-model\.model does not match the manifest \(its sha256 differs\): the file was changed after export\. Refused/);
      return true;
    });

    const files = unzipSync(new Uint8Array(fs.readFileSync(t.zip)));
    const manifest = JSON.parse(new TextDecoder().decode(files["manifest.json"]));
    const rezip = (name: string, changed: Record<string, Uint8Array>) => {
      const file = path.join(t.ws, name);
      fs.writeFileSync(file, zipSync({ ...files, ...changed }));
      return file;
    };
    const refused = async (zip: string, message: RegExp) =>
      assert.rejects(run(process.execPath, [BIN, "predict", "--model", zip, "--data", data]), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, message);
        return true;
      });
    // a newer format
    await refused(
      rezip("newer.zip", { "manifest.json": new TextEncoder().encode(JSON.stringify({ ...manifest, format_version: 99 })) }),
      /is a bundle of format version 99; this version of AutoML reads version 1\. Update the extension/,
    );
    // an entry that climbs out of the folder it is unzipped into
    await refused(
      rezip("climbing.zip", { "../../evil.sh": new TextEncoder().encode("echo owned") }),
      /holds the entry "\.\.\/\.\.\/evil\.sh", which is refused: it climbs out/,
    );
    // a file added after export
    await refused(rezip("added.zip", { "model/extra.bin": new Uint8Array([1, 2, 3]) }), /holds model\/extra\.bin, which its manifest does not list/);
    // a zip that is not a bundle
    const other = path.join(t.ws, "other.zip");
    fs.writeFileSync(other, zipSync({ "notes.txt": new TextEncoder().encode("hello") }));
    await refused(other, /is not an AutoML export bundle \(it holds no manifest\.json\)/);
    // an empty data file
    const empty = path.join(t.ws, "empty.csv");
    fs.writeFileSync(empty, "");
    await assert.rejects(run(process.execPath, [BIN, "predict", "--model", t.zip, "--data", empty]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /empty\.csv is empty/);
      return true;
    });
  });
});
