import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../../kernel/errors/input-error";
import { planPreprocessing } from "../../kernel/data/preprocess-plan";
import { transformRows } from "../../kernel/data/feature-transform";
import { fitPreprocessor } from "../../kernel/data/preprocessor";
import { loadTableFile } from "../../kernel/data/table-loader";
import { profileTable } from "../../kernel/data/table-profile";
import { Table, type CategoricalColumn } from "../../kernel/data/table";
import { levelTexts } from "../../kernel/data/text-levels";
import { encodeModelFile } from "../../kernel/ml/model-file";
import { findLearner } from "../../kernel/ml/model-zoo";
import { predictBatch, predictionsCsvLines, textInputs } from "../../kernel/predict/model-predictor";
import { loadPredictor } from "../../kernel/predict/model-sources";
import { PredictionReport, type RowProblem } from "../../kernel/predict/prediction-report";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

/** A ridge model on rents by district code (text, some of which looks like numbers), size and a date, saved as the pipeline saves one. */
async function trainedModel(dir: string): Promise<string> {
  const lines = ["district,size,listed,rent"];
  for (let i = 0; i < 120; i++) {
    const district = ["007", "A12", "B30"][i % 3]!;
    const size = 30 + ((i * 7) % 90);
    lines.push(`${district},${size},2020-01-${String(1 + (i % 28)).padStart(2, "0")},${10 * size + (i % 3) * 100 + (i % 5)}`);
  }
  const file = path.join(dir, "train.csv");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const { table } = await loadTableFile(file);
  const steps = planPreprocessing(profileTable(table, "rent", "regression"), "rent");
  const rows = Array.from({ length: table.nRows }, (_, i) => i);
  const prep = fitPreprocessor(steps, table, rows, "rent");
  const x = transformRows(prep, table, rows);
  const y = Float64Array.from(rows, (r) => table.cell(r, "rent") as number);
  const model = await findLearner("ridge")!.fit({ task: "regression", train: { x, y }, val: { x, y }, nClasses: 0 }, {}, {});
  const out = path.join(dir, "run.model");
  fs.writeFileSync(out, encodeModelFile({ run_id: "ridge-test", task: "regression", target: "rent", classes: [], preprocessor: prep, model: model.save() }));
  return out;
}

describe("predicting with a saved model", () => {
  after(removeTempWorkspaces);

  it("keeps the training data's input schema with the preprocessing: kinds, ranges and levels seen", async () => {
    const p = loadPredictor(await trainedModel(tempWorkspace("schema")));
    const inputs = Object.fromEntries((p.preprocessor.inputs ?? []).map((c) => [c.name, c]));
    assert.equal(inputs["district"]?.kind, "categorical");
    assert.deepEqual([...(inputs["district"]?.levels ?? [])].sort(), ["007", "A12", "B30"]);
    assert.equal(inputs["size"]?.min, 30);
    assert.equal(inputs["size"]?.max, 119);
    assert.deepEqual([...textInputs(p)], ["district"]);
  });

  it("reads new data as the model was trained (codes stay text), reports what is unlike training row by row, and refuses only the rows it cannot read", async () => {
    const dir = tempWorkspace("predict-new");
    const p = loadPredictor(await trainedModel(dir));
    const fresh = path.join(dir, "new.csv");
    // every code here looks like a number: read plainly, "007" would be 7, a category training never saw
    fs.writeFileSync(fresh, "district,size,listed\n007,50,2020-01-05\n999,60,2020-01-06\n007,500,2020-01-07\n");
    const { table } = await loadTableFile(fresh, fresh, { textColumns: textInputs(p) });
    assert.deepEqual(levelTexts((table.column("district") as CategoricalColumn).levels), ["007", "999"], "read as text, zeros kept");
    const problems: RowProblem[] = [];
    const report = new PredictionReport((x) => problems.push(x));
    const preds = predictBatch(p, table, 0, report);
    assert.equal(preds.rows, 3);
    assert.ok(Array.from(preds.values!).every((v) => Number.isFinite(v)));
    assert.deepEqual(problems, [
      { row: 2, column: "district", value: "999", problem: "unseen_category", refused: false },
      { row: 3, column: "size", value: "500", problem: "outside_range", refused: false },
    ]);
    const lines = report.summaries().map((s) => s.message);
    assert.ok(
      lines.some((n) => /^Column size: 1 row\(s\) with a value outside the range seen in training \("500" in row 3\); rows 3: predicted as trained/.test(n)),
      lines.join(" | "),
    );
    // numbers where text was trained on (a typed format's column): made text, and said where they match nothing
    const { table: typed } = await loadTableFile(fresh);
    assert.equal(typed.column("district").kind, "numeric");
    const typedReport = new PredictionReport();
    predictBatch(p, typed, 100, typedReport);
    const typedLines = typedReport.summaries().map((s) => s.message);
    assert.ok(
      typedLines.some((n) => /^Column district: 3 row\(s\) with a category training never saw \("7" in row 101\); rows 101, 102, 103:/.test(n)),
      typedLines.join(" | "),
    );

    // text where numbers were trained on: that row is refused (no prediction), the others predicted
    const wrong = path.join(dir, "wrong.csv");
    fs.writeFileSync(wrong, "district,size,listed\n007,fifty,2020-01-05\nA12,60,2020-01-06\nB30,,2020-01-07\n");
    const { table: bad } = await loadTableFile(wrong, wrong, { textColumns: textInputs(p) });
    const badReport = new PredictionReport();
    const partly = predictBatch(p, bad, 0, badReport);
    assert.deepEqual(Array.from(partly.refused), [1, 0, 1]);
    assert.ok(Number.isNaN(partly.values![0]!) && Number.isFinite(partly.values![1]!));
    assert.equal(badReport.refused, 2);
    const badLines = badReport.summaries().map((s) => s.message);
    assert.ok(
      badLines.some((n) => /^Column size: 1 row\(s\) with text where the model was trained on numbers \("fifty" in row 1\); rows 1: refused/.test(n)),
      badLines.join(" | "),
    );
    // the empty size: training had every size, so the plan learned no fill for it: refused, not guessed
    assert.ok(
      badLines.some((n) => /^Column size: 1 row\(s\) with no value, and training had none to learn how to fill one; rows 3: refused/.test(n)),
      badLines.join(" | "),
    );
    assert.equal(predictionsCsvLines(p, partly).split("\n")[0], "", "a refused row's line is empty");

    // a missing column is refused before anything is predicted, naming it
    const { table: lacking } = await loadTableFile(fresh, fresh);
    assert.throws(
      () => predictBatch(p, new Table(lacking.columns.filter((c) => c.name !== "size")), 0, new PredictionReport()),
      (err: Error) => err instanceof InputError && /lacks the column size, which the model was trained on/.test(err.message),
    );
  });
});
