import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { EV, type AnyEventEnvelope, type EventPayload } from "../../contract";
import { sha256 } from "../../kernel/assets/asset-store";
import { transformRows, type FittedPreprocessor } from "../../kernel/data/feature-transform";
import { splitRows } from "../../kernel/data/row-split";
import { loadTableFile } from "../../kernel/data/table-loader";
import { encodeTarget } from "../../kernel/data/target-column";
import type { SavedModel } from "../../kernel/ml/learner";
import { regressionMetrics } from "../../kernel/ml/metrics";
import { decodeModelFile } from "../../kernel/ml/model-file";
import { findLearner } from "../../kernel/ml/model-zoo";
import { assertValidLog } from "../support/contract-rules";
import { BOSTON_CSV, removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const run = promisify(execFile);
const BIN = path.join(__dirname, "..", "..", "bin", "automl.js");

/** `automl run PROMPT --data DATA --target TARGET --auto --no-pacing` in the workspace `ws`, writing to `out`. */
function runAuto(prompt: string, data: string, target: string, ws: string, out: string) {
  return run(process.execPath, [BIN, "run", prompt, "--data", data, "--target", target, "--auto", "--no-pacing", "--out", out, "--workspace", ws]);
}

function payloadsOf<N extends AnyEventEnvelope["event"]["name"]>(events: AnyEventEnvelope[], name: N): Array<EventPayload<N>> {
  return events.filter((e) => e.event.name === name).map((e) => e.event.payload as EventPayload<N>);
}

describe("headless run (npx automl run)", function () {
  this.timeout(120_000);
  after(removeTempWorkspaces);

  it("takes the Boston housing table from prompt to export; every event validates and the test metric is real", async () => {
    const ws = tempWorkspace("run");
    const out = path.join(ws, "out");
    const runStarted = Date.now();
    const { stdout } = await runAuto("predict house prices", BOSTON_CSV, "medv", ws, out);
    assert.match(stdout, /✔ EXPORT/);
    const finished = Number(/finished in ([\d.]+) s/.exec(stdout)?.[1]);
    // the process ends with its summary: an idle thread (the table's) kept it up to a minute longer
    const lingered = (Date.now() - runStarted) / 1000 - finished;
    assert.ok(lingered < 5, `the process exited ${lingered.toFixed(1)} s after saying it finished`);
    const zipName = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
    assert.deepEqual(fs.readdirSync(out).sort(), ["events.jsonl", "notebook.ipynb", zipName].sort());

    const projectId = zipName.replace(/\.zip$/, "");
    const lines = fs
      .readFileSync(path.join(out, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const events = assertValidLog(lines, projectId);

    // the notebook: nbformat 4 with cells for each stage, in order
    const nb = JSON.parse(fs.readFileSync(path.join(out, "notebook.ipynb"), "utf8"));
    assert.equal(nb.nbformat, 4);
    assert.equal(nb.metadata.kernelspec.language, "typescript");
    const stagesInNotebook = [...new Set(nb.cells.map((c: { metadata: { automl: { stage_id: string } } }) => c.metadata.automl.stage_id))];
    assert.deepEqual(stagesInNotebook, ["PARSE_INTENT", "DATA_SOURCE", "PROFILE_DATA", "PREPROCESS", "MODEL_SELECT", "TRAIN", "REVIEW_EDIT", "EXPORT"]);
    assert.ok(nb.cells.some((c: { cell_type: string; source: string[] }) => c.cell_type === "code" && c.source.join("").includes("rt.train(models, data")));

    // the zip holds what EXPORT_READY lists, with those checksums
    const ready = payloadsOf(events, EV.EXPORT_READY)[0]!;
    const zipBytes = fs.readFileSync(path.join(out, zipName));
    assert.equal(ready.checksum, `sha256:${sha256(zipBytes)}`);
    const files = unzipSync(new Uint8Array(zipBytes));
    assert.deepEqual(Object.keys(files).sort(), ready.contents.map((c) => c.path).sort());
    for (const c of ready.contents) assert.equal(sha256(files[c.path]!), c.sha256, c.path);

    // the exported best model, applied to the test rows of the recorded split, gives the reported test RMSE
    // a model file (safetensors layout): its arrays as bytes, the rest as a JSON document
    const best = decodeModelFile(files["model/best-model.model"]!) as {
      model: SavedModel;
      preprocessor: FittedPreprocessor;
      final_metrics: { primary: { name: string; value: number } };
    };
    const split = payloadsOf(events, EV.SPLIT_SUMMARY)[0]!;
    const plan = payloadsOf(events, EV.PLAN_PROPOSED).find((p) => p.stage_id === "PREPROCESS")!.plan_json as { split: { test_size: number; val_size: number } };
    const { table } = await loadTableFile(BOSTON_CSV);
    const rows = splitRows(encodeTarget(table, "medv", "regression"), { seed: split.seed, testSize: plan.split.test_size, valSize: plan.split.val_size });
    assert.equal(rows.test.length, split.test_rows);
    const model = findLearner(best.model.model_id)!.restore(best.model);
    const predictions = model.predict(transformRows(best.preprocessor, table, rows.test));
    const truth = rows.test.map((r) => table.cell(r, "medv") as number);
    const rmse = regressionMetrics(truth, predictions).rmse;
    assert.equal(best.final_metrics.primary.name, "rmse");
    assert.ok(Math.abs(rmse - best.final_metrics.primary.value) < 1e-9, `recomputed ${rmse} vs reported ${best.final_metrics.primary.value}`);
    assert.ok(rmse < 6, `a linear model on Boston reaches a test RMSE well under the target's std (9.2); got ${rmse}`);

    // automl predict: from the export zip and from the project's folder, every row, to the last digit
    const everyRow = model.predict(
      transformRows(
        best.preprocessor,
        table,
        Uint32Array.from({ length: table.nRows }, (_, i) => i),
      ),
    );
    for (const source of [path.join(out, zipName), path.join(ws, ".automl", "projects", projectId)]) {
      const predFile = path.join(ws, "pred.csv");
      const { stdout: said } = await run(process.execPath, [BIN, "predict", "--model", source, "--data", BOSTON_CSV, "--out", predFile]);
      assert.match(said, /^506 predictions of medv by \w+/);
      const lines = fs.readFileSync(predFile, "utf8").trim().split("\n");
      assert.equal(lines[0], "medv_predicted");
      assert.deepEqual(lines.slice(1), Array.from(everyRow, String), `predictions from ${path.basename(source)}`);
    }

    // the best run's charts travel as PNGs; its importances name Boston's known strong features
    const bestRun = payloadsOf(events, EV.BEST_MODEL_UPDATED).at(-1)!.run_id;
    for (const chart of ["residuals", "feature_importance"]) {
      const png = files[`runs/${bestRun}/${chart}.png`];
      assert.ok(png, `runs/${bestRun}/${chart}.png is in the zip`);
      assert.deepEqual(Array.from(png.subarray(0, 4)), [0x89, 0x50, 0x4e, 0x47]);
    }
    const importance = JSON.parse(new TextDecoder().decode(files[`runs/${bestRun}/feature_importance.json`]!)) as {
      features: Array<{ feature: string; permutation: number }>;
    };
    assert.ok(["lstat", "rm"].includes(importance.features[0]!.feature), `top feature ${importance.features[0]!.feature}`);
    assert.ok(payloadsOf(events, EV.FEATURE_IMPORTANCE_READY).length >= 2);

    // simulated steps say so; real ones do not
    const started = payloadsOf(events, EV.TRAIN_RUN_STARTED);
    const oneShot = started.find((s) => s.model_id === "ridge")!;
    assert.equal(oneShot.config.train.simulated, true);
    const simulatedScalars = payloadsOf(events, EV.METRIC_SCALAR).filter((m) => m.run_id === oneShot.run_id && m.split === "train");
    assert.ok(simulatedScalars.length > 0 && simulatedScalars.every((m) => m.simulated === true));
    const gd = started.find((s) => s.model_id === "linear_gd")!;
    assert.equal(gd.config.train.simulated, false);
    assert.equal(gd.config.train.pacing_ms, 0, "--no-pacing");
    assert.ok(
      payloadsOf(events, EV.METRIC_SCALAR)
        .filter((m) => m.run_id === gd.run_id)
        .every((m) => m.simulated === undefined),
    );
  });

  it("says in the profile and the report how it read the file: what it found, and what it guessed", async () => {
    const ws = tempWorkspace("read-as");
    const out = path.join(ws, "out");
    // a semicolon file from an older German Excel: Windows-1252 text, decimal commas
    const rows = Array.from({ length: 80 }, (_, i) => `${["Köln", "Zürich", "Genève"][i % 3]};${100 + ((i * 37) % 900)},${i % 10};${20 + ((i * 13) % 180)}`);
    const data = path.join(ws, "mieten.csv");
    fs.writeFileSync(data, Buffer.from(["stadt;preis;fläche", ...rows].join("\n") + "\n", "latin1"));
    await runAuto("predict the rent", data, "preis", ws, out);
    const events = fs
      .readFileSync(path.join(out, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AnyEventEnvelope);
    const profile = payloadsOf(events, EV.PROFILE_SUMMARY).at(-1)!;
    assert.ok(
      profile.read_as?.some((n) => /separated by semicolons/.test(n)),
      JSON.stringify(profile.read_as),
    );
    assert.ok(
      profile.warnings.some((w) => /read as Windows-1252/.test(w)),
      JSON.stringify(profile.warnings),
    );
    assert.ok(
      profile.warnings.some((w) => /Column preis: numbers written with a decimal comma/.test(w)),
      JSON.stringify(profile.warnings),
    );
    const zipName = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
    const report = new TextDecoder().decode(unzipSync(new Uint8Array(fs.readFileSync(path.join(out, zipName))))["report.md"]!);
    assert.match(report, /Read as:\n- mieten\.csv is separated by semicolons/);
    assert.match(report, /- mieten\.csv is not valid UTF-8/);
  });

  it("predicts classes with their probabilities from a trained classifier, and refuses data without the model's columns", async () => {
    const ws = tempWorkspace("predict-classes");
    const out = path.join(ws, "out");
    await run(process.execPath, [BIN, "run", "classify penguin species", "--auto", "--no-pacing", "--out", out, "--workspace", ws]);
    const zip = path.join(
      out,
      fs.readdirSync(out).find((f) => f.endsWith(".zip"))!,
    );
    const project = path.join(ws, ".automl", "projects", path.basename(zip, ".zip"));
    const data = path.join(
      project,
      "data",
      fs.readdirSync(path.join(project, "data")).find((f) => f.endsWith(".csv") || f.endsWith(".json"))!,
    );
    const predFile = path.join(ws, "species.csv");
    await run(process.execPath, [BIN, "predict", "--model", zip, "--data", data, "--out", predFile]);
    const [header, ...lines] = fs.readFileSync(predFile, "utf8").trim().split("\n");
    const columns = header!.split(",");
    assert.equal(columns[0], "Species_predicted");
    const classes = columns.slice(1).map((c) => c.replace(/^p_/, ""));
    assert.deepEqual([...classes].sort(), ["Adelie", "Chinstrap", "Gentoo"]);
    const { table } = await loadTableFile(data);
    assert.equal(lines.length, table.nRows);
    let right = 0;
    lines.forEach((line, r) => {
      const [label, ...p] = line.split(",");
      const probs = p.map(Number);
      assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-9, `row ${r}: probabilities sum to 1`);
      assert.equal(label, classes[probs.indexOf(Math.max(...probs))], `row ${r}: the predicted class is the most probable`);
      if (label === table.cell(r, "Species")) right++;
    });
    assert.ok(right / lines.length > 0.9, `accuracy over the rows ${right}/${lines.length}`);

    // new data without a column the model reads: exit 2, saying which and what to do
    const lacking = path.join(ws, "lacking.csv");
    fs.writeFileSync(lacking, "Island,Beak Length (mm)\nBiscoe,40.1\n");
    await assert.rejects(run(process.execPath, [BIN, "predict", "--model", zip, "--data", lacking]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /The data lacks the columns .*Beak Depth \(mm\).*which the model was trained on\. Give data with the training data's columns/);
      return true;
    });
    await assert.rejects(run(process.execPath, [BIN, "predict", "--model", data, "--data", data]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /Give a model file this product wrote/);
      return true;
    });
  });

  it("exits with a clear message when the data is unusable or the target does not exist", async () => {
    const ws = tempWorkspace("bad");
    const empty = path.join(ws, "empty.csv");
    fs.writeFileSync(empty, "");
    await assert.rejects(
      run(process.execPath, [BIN, "run", "predict price", "--data", empty, "--auto", "--workspace", ws]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /empty.csv is empty/);
        return true;
      },
    );
    await assert.rejects(
      run(process.execPath, [BIN, "run", "predict price", "--data", BOSTON_CSV, "--target", "price", "--auto", "--no-pacing", "--workspace", ws]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /The target column "price" is not in the data\. Columns are: crim/);
        assert.match(err.stderr, /Re-run with --target COL, where COL is one of: medv, crim/);
        return true;
      },
    );
  });
});
