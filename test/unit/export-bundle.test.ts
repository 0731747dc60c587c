import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { EV, type EventName } from "../../contract";
import { AssetStore } from "../../kernel/assets/asset-store";
import { transformRows, type FittedPreprocessor } from "../../kernel/data/feature-transform";
import { planPreprocessing } from "../../kernel/data/preprocess-plan";
import { fitPreprocessor } from "../../kernel/data/preprocessor";
import { loadTableFile } from "../../kernel/data/table-loader";
import type { Table } from "../../kernel/data/table";
import { profileTable } from "../../kernel/data/table-profile";
import { LEARNER_STATES } from "../../kernel/export/bundle-files";
import { exportProjectZip } from "../../kernel/export/project-export";
import { averagedEnsemble } from "../../kernel/ml/averaged-ensemble";
import type { FitInput, FittedModel, Learner } from "../../kernel/ml/learner";
import { encodeModelFile, modelFileOf } from "../../kernel/ml/model-file";
import { findLearner, learnerIds, restoreModel } from "../../kernel/ml/model-zoo";
import { predictFile } from "../../kernel/predict/file-prediction";
import { predictBatch, predictorFromModelFile } from "../../kernel/predict/model-predictor";
import { PredictionReport } from "../../kernel/predict/prediction-report";
import { InputError } from "../../kernel/errors/input-error";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

/** small settings, so every learner fits in a moment */
const QUICK: Record<string, Record<string, number>> = {
  hist_gbdt: { max_iter: 20 },
  random_forest: { n_estimators: 10 },
  extra_trees: { n_estimators: 10 },
  ml_random_forest: { n_estimators: 5 },
  mlp: { max_epochs: 5 },
  tfjs_linear: { max_epochs: 5 },
  tfjs_logistic: { max_epochs: 5 },
  linear_gd: { max_epochs: 20 },
  logistic_gd: { max_epochs: 20 },
};

/** A table with numbers, a text code, a date and missing values; `label` is numeric or a class. */
function writeTable(file: string, rows: number, classes: boolean): void {
  const lines = ["code,size,when,extra,label"];
  for (let i = 0; i < rows; i++) {
    const size = i % 17 === 0 ? "" : String(20 + ((i * 37) % 80));
    const code = ["007", "A1", "B2", "C3"][i % 4]!;
    const label = classes ? ["low", "mid", "high"][(i * 7) % 3]! : String((i * 13) % 50);
    lines.push(`${code},${size},2021-0${1 + (i % 9)}-1${i % 10},${(i * 0.37).toFixed(2)},${label}`);
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/** Training and validation on the same rows: what is tested here is prediction, not fitting. */
function regressionInput(prep: FittedPreprocessor, table: Table, rows: number[]): FitInput {
  const set = { x: transformRows(prep, table, rows), y: Float64Array.from(rows, (r) => table.cell(r, "label") as number) };
  return { task: "regression", train: set, val: set, nClasses: 0 };
}

describe("the model format and the export bundle", () => {
  after(removeTempWorkspaces);

  it("documents every learner's state in the bundle's README", () => {
    const documented = new Set(LEARNER_STATES.flatMap(([ids]) => ids.split(", ")));
    for (const id of learnerIds()) assert.ok(documented.has(id), `${id} is not described in bundle-files.ts LEARNER_STATES`);
  });

  it("predicts with every learner from its model file exactly as the fitted model does", async function () {
    this.timeout(120_000);
    const dir = tempWorkspace("every-learner");
    const tested = new Set<string>();
    for (const classes of [false, true]) {
      const file = path.join(dir, `${classes}.csv`);
      writeTable(file, 160, classes);
      const { table } = await loadTableFile(file);
      const task = classes ? "classification" : "regression";
      const steps = planPreprocessing(profileTable(table, "label", task), "label");
      const rows = Array.from({ length: table.nRows }, (_, i) => i);
      const prep = fitPreprocessor(steps, table, rows, "label");
      const x = transformRows(prep, table, rows);
      const names = ["low", "mid", "high"];
      const y = Float64Array.from(rows, (r) => (classes ? names.indexOf(table.cell(r, "label") as string) : (table.cell(r, "label") as number)));
      const input = { task, train: { x, y }, val: { x, y }, nClasses: classes ? 3 : 0 } as const;
      const fitted: FittedModel[] = [];
      const learners = learnerIds()
        .map((id) => findLearner(id)!)
        .filter((l) => l.tasks.includes(task) && l.id !== "averaged_ensemble");
      const withEnsemble: Array<[Learner, FittedModel]> = [];
      for (const learner of learners) {
        const model = await learner.fit(input, QUICK[learner.id] ?? {}, {});
        fitted.push(model);
        withEnsemble.push([learner, model]);
      }
      const ensemble = averagedEnsemble(fitted.slice(0, 2), ["a", "b"], restoreModel);
      withEnsemble.push([ensemble, await ensemble.fit(input, {}, {})]);
      for (const [learner, model] of withEnsemble) {
        const bytes = encodeModelFile({
          run_id: `${learner.id}-1`,
          task,
          target: "label",
          classes: classes ? names : [],
          preprocessor: prep,
          model: model.save(),
        });
        const p = predictorFromModelFile(bytes, `${learner.id}.model`);
        const got = predictBatch(p, table, 0, new PredictionReport());
        tested.add(learner.id);
        const want = model.predict(x);
        if (classes) assert.deepEqual(Array.from(got.probabilities!), Array.from(want), `${learner.id}: the same probabilities`);
        else assert.deepEqual(Array.from(got.values!), Array.from(want), `${learner.id}: the same values`);
      }
    }
    assert.deepEqual([...tested].sort(), learnerIds().sort(), "every learner was tried");
  });

  it("predicts a file in batches exactly as in one, text turning up in a later batch refusing only its rows", async () => {
    const dir = tempWorkspace("batches");
    const train = path.join(dir, "train.csv");
    writeTable(train, 200, false);
    const { table } = await loadTableFile(train);
    const steps = planPreprocessing(profileTable(table, "label", "regression"), "label");
    const rows = Array.from({ length: table.nRows }, (_, i) => i);
    const prep = fitPreprocessor(steps, table, rows, "label");
    const model = await findLearner("hist_gbdt")!.fit(regressionInput(prep, table, rows), { max_iter: 15 }, {});
    const p = predictorFromModelFile(
      encodeModelFile({ run_id: "b-1", task: "regression", target: "label", classes: [], preprocessor: prep, model: model.save() }),
      "b.model",
    );
    const fresh = path.join(dir, "new.csv");
    const text = fs.readFileSync(train, "utf8").trimEnd().split("\n");
    // row 150: text in a column of numbers, well after the first batches held only numbers
    text[150] = text[150]!.replace(/^([^,]*),([^,]*),/, "$1,big,");
    fs.writeFileSync(fresh, text.join("\n") + "\n");
    const whole = await predictFile(p, { data: fresh, out: path.join(dir, "whole.csv") });
    const batched = await predictFile(p, { data: fresh, out: path.join(dir, "batched.csv"), batchRows: 7 });
    assert.equal(fs.readFileSync(path.join(dir, "batched.csv"), "utf8"), fs.readFileSync(path.join(dir, "whole.csv"), "utf8"));
    assert.equal(fs.readFileSync(batched.report!, "utf8"), fs.readFileSync(whole.report!, "utf8"));
    assert.equal(whole.refused, 1);
    assert.match(fs.readFileSync(whole.report!, "utf8"), /^150,size,big,text_in_numbers,refused$/m);
    assert.equal(fs.readFileSync(path.join(dir, "whole.csv"), "utf8").split("\n")[150], "", "row 150's line is empty");

    // --keep: columns of the data first, as they were written, in every batch
    const kept = await predictFile(p, { data: fresh, out: path.join(dir, "kept.csv"), batchRows: 7, keep: ["code", "label"] });
    const keptLines = fs.readFileSync(kept.out, "utf8").trimEnd().split("\n");
    assert.equal(keptLines[0], "code,label,label_predicted");
    const source = text.slice(1).map((l) => l.split(","));
    keptLines.slice(1).forEach((line, i) => {
      const [code, label, predicted] = line.split(",");
      assert.equal(code, source[i]![0], `row ${i + 1}: the code as written ("007" stays)`);
      assert.equal(label, source[i]![4]);
      assert.equal(predicted, fs.readFileSync(path.join(dir, "whole.csv"), "utf8").split("\n")[i + 1]);
    });
    assert.ok(!kept.ignored.includes("label"), "a kept column is not called ignored");
    // paths that cannot work are messages before anything is written
    await assert.rejects(
      predictFile(p, { data: fresh, out: dir }),
      (err: Error) => err instanceof InputError && /is a folder \(or not a file\): give --out a file's path/.test(err.message),
    );
    await assert.rejects(
      predictFile(p, { data: fresh, out: path.join(dir, "no", "such", "p.csv") }),
      (err: Error) => err instanceof InputError && /The folder for .* does not exist\. Create it/.test(err.message),
    );
    await assert.rejects(
      predictFile(p, { data: path.join(dir, "nothing.csv") }),
      (err: Error) => err instanceof InputError && /does not exist/.test(err.message),
    );
    await assert.rejects(
      predictFile(p, { data: fresh, out: path.join(dir, "k2.csv"), keep: ["order_id"] }),
      (err: Error) => err instanceof InputError && /The data has no column order_id to keep/.test(err.message),
    );
  });

  it("writes the same bundle, byte for byte, from the same project, and says its progress", async function () {
    this.timeout(60_000);
    const dir = tempWorkspace("reproducible");
    const project = path.join(dir, "p");
    fs.mkdirSync(path.join(project, "models"), { recursive: true });
    fs.mkdirSync(path.join(project, "data"), { recursive: true });
    const train = path.join(project, "data", "train.csv");
    writeTable(train, 120, false);
    const { table } = await loadTableFile(train);
    const steps = planPreprocessing(profileTable(table, "label", "regression"), "label");
    const rows = Array.from({ length: table.nRows }, (_, i) => i);
    const prep = fitPreprocessor(steps, table, rows, "label");
    const model = await findLearner("ridge")!.fit(regressionInput(prep, table, rows), {}, {});
    fs.writeFileSync(
      path.join(project, modelFileOf("ridge-1")),
      encodeModelFile({
        run_id: "ridge-1",
        task: "regression",
        target: "label",
        classes: [],
        features: prep.features.map((f) => f.name),
        preprocessor: prep,
        model: model.save(),
      }),
    );
    fs.writeFileSync(path.join(project, "data", "sample.json"), JSON.stringify({ rows: table.records(0, 30) }));
    fs.writeFileSync(path.join(project, "events.jsonl"), '{"seq":1}\n');
    const exportOnce = async (to: string) => {
      const seen: Array<{ name: EventName; payload: unknown }> = [];
      await exportProjectZip(
        new AssetStore("p", project),
        new AssetStore("p", to),
        { emit: (name, payload) => void seen.push({ name, payload }) },
        {
          projectId: "p",
          prompt: "predict the label",
          best: { run_id: "ridge-1", model_id: "ridge", model_file: modelFileOf("ridge-1") },
        },
      );
      return { bytes: fs.readFileSync(path.join(to, "export", "p.zip")), seen };
    };
    const first = await exportOnce(path.join(dir, "a"));
    const second = await exportOnce(path.join(dir, "b"));
    assert.ok(first.bytes.equals(second.bytes), "the same project, the same zip");
    const progress = first.seen.filter((e) => e.name === EV.EXPORT_PROGRESS).map((e) => (e.payload as { pct: number }).pct);
    assert.ok(progress.length >= 3 && progress[0] === 0 && progress.at(-1) === 100, `progress ${progress.join(",")}`);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      "progress only rises",
    );
    const files = unzipSync(new Uint8Array(first.bytes));
    const names = Object.keys(files);
    assert.equal(names.at(-1), "manifest.json");
    for (const f of ["README.md", "predict.mjs", "package.json", "model/best-model.model", "model/schema.json", "sample.csv", "data/train.csv", "events.jsonl"])
      assert.ok(names.includes(f), `${f} in the bundle`);
    const schema = JSON.parse(new TextDecoder().decode(files["model/schema.json"]));
    assert.deepEqual(
      schema.inputs.map((c: { name: string; kind: string }) => `${c.name}:${c.kind}`),
      prep.inputs!.map((c) => `${c.name}:${c.kind}`),
    );
    assert.equal(new TextDecoder().decode(files["sample.csv"]).split("\n")[0], [...prep.inputs!.map((c) => c.name), "label"].join(","));
  });
});
