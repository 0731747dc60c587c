import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../../kernel/errors/input-error";
import { planPreprocessing } from "../../kernel/data/preprocess-plan";
import { fitPreprocessor, transformRows } from "../../kernel/data/preprocessor";
import { loadTableFile } from "../../kernel/data/table-loader";
import { profileTable } from "../../kernel/data/table-profile";
import type { CategoricalColumn } from "../../kernel/data/table";
import { levelTexts } from "../../kernel/data/text-levels";
import { encodeModelFile } from "../../kernel/ml/model-file";
import { findLearner } from "../../kernel/ml/model-zoo";
import { loadPredictor, predict, textInputs } from "../../kernel/predict/model-predictor";
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

  it("reads new data as the model was trained (codes stay text), says what is unlike training with its rows, and refuses text where numbers were", async () => {
    const dir = tempWorkspace("predict-new");
    const p = loadPredictor(await trainedModel(dir));
    const fresh = path.join(dir, "new.csv");
    // every code here looks like a number: read plainly, "007" would be 7, a category training never saw
    fs.writeFileSync(fresh, "district,size,listed\n007,50,2020-01-05\n999,60,2020-01-06\n007,500,2020-01-07\n");
    const { table } = await loadTableFile(fresh, fresh, { textColumns: textInputs(p) });
    assert.deepEqual(levelTexts((table.column("district") as CategoricalColumn).levels), ["007", "999"], "read as text, zeros kept");
    const preds = predict(p, table);
    assert.equal(preds.rows, 3);
    assert.ok(preds.values!.every((v) => Number.isFinite(v)));
    assert.ok(
      preds.notes.some((n) => /^Column size: 1 row\(s\) outside the training range 30 to 119 \(rows 3\)/.test(n)),
      preds.notes.join(" | "),
    );
    assert.ok(
      preds.notes.some((n) => /^Column district: 1 row\(s\) with a category training never saw \("999" in row 2/.test(n)),
      preds.notes.join(" | "),
    );
    // numbers where text was trained on (a typed format's column): made text, and said where they match nothing
    const { table: typed } = await loadTableFile(fresh);
    assert.equal(typed.column("district").kind, "numeric");
    const typedNotes = predict(p, typed).notes;
    assert.ok(
      typedNotes.some((n) => /^Column district: 3 row\(s\) with a category training never saw \("7" in row 1/.test(n)),
      typedNotes.join(" | "),
    );

    const wrong = path.join(dir, "wrong.csv");
    fs.writeFileSync(wrong, "district,size,listed\n007,fifty,2020-01-05\nA12,60,2020-01-06\n");
    const { table: bad } = await loadTableFile(wrong, wrong, { textColumns: textInputs(p) });
    assert.throws(
      () => predict(p, bad),
      (err: Error) =>
        err instanceof InputError &&
        /Column size holds text \("fifty" in row 1\) where the model was trained on numbers\. Correct the values in rows 1/.test(err.message),
    );
  });
});
