/**
 * The bundle's predict.mjs on a file big enough for the fast paths (compiled trees, threaded
 * networks: 16,384 rows and more a batch), in a folder of its own: it must finish, and write
 * what `automl predict` writes. (Its worker threads once died unheard in the ES module build,
 * and predict.mjs waited for them forever.)
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { AssetStore } from "../../kernel/assets/asset-store";
import { transformRows } from "../../kernel/data/feature-transform";
import { planPreprocessing } from "../../kernel/data/preprocess-plan";
import { fitPreprocessor } from "../../kernel/data/preprocessor";
import { loadTableFile } from "../../kernel/data/table-loader";
import { profileTable } from "../../kernel/data/table-profile";
import { exportProjectZip } from "../../kernel/export/project-export";
import { encodeModelFile, modelFileOf } from "../../kernel/ml/model-file";
import { findLearner } from "../../kernel/ml/model-zoo";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const run = promisify(execFile);
const BIN = path.join(__dirname, "..", "..", "bin", "automl.js");

function writeRows(file: string, rows: number, seed: number): void {
  let s = seed;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s / 4294967296);
  const lines = ["a,b,c,kind,y"];
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [r() * 4 - 2, r() * 4 - 2, r() * 4 - 2];
    const kind = ["red", "green", "blue"][Math.floor(r() * 3)]!;
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${c.toFixed(4)},${kind},${(Math.sin(a * b) * 3 + c + (kind === "red" ? 1 : 0)).toFixed(4)}`);
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

describe("the bundle's predict.mjs on a large file", function () {
  this.timeout(240_000);
  after(removeTempWorkspaces);

  for (const [id, params] of [
    ["hist_gbdt", { max_iter: 30 }],
    ["mlp", { max_epochs: 3 }],
  ] as const) {
    it(`finishes 40,000 rows with ${id} and writes automl predict's bytes`, async () => {
      const dir = tempWorkspace(`big-${id}`);
      const project = path.join(dir, "project");
      fs.mkdirSync(path.join(project, "models"), { recursive: true });
      const train = path.join(dir, "train.csv");
      writeRows(train, 2000, 1);
      const { table } = await loadTableFile(train);
      const rows = Array.from({ length: table.nRows }, (_, i) => i);
      const prep = fitPreprocessor(planPreprocessing(profileTable(table, "y", "regression"), "y"), table, rows, "y");
      const set = { x: transformRows(prep, table, rows), y: Float64Array.from(rows, (i) => table.cell(i, "y") as number) };
      const model = await findLearner(id)!.fit({ task: "regression", train: set, val: set, nClasses: 0 }, params, {});
      fs.writeFileSync(
        path.join(project, modelFileOf(`${id}-1`)),
        encodeModelFile({ run_id: `${id}-1`, task: "regression", target: "y", classes: [], preprocessor: prep, model: model.save() }),
      );
      await exportProjectZip(
        new AssetStore("p", project),
        new AssetStore("p", project),
        { emit: () => undefined },
        {
          projectId: "p",
          prompt: "predict y",
          best: { run_id: `${id}-1`, model_id: id, model_file: modelFileOf(`${id}-1`) },
        },
      );
      const zip = path.join(project, "export", "p.zip");
      const bundle = path.join(tempWorkspace("unzipped"), "bundle");
      for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(fs.readFileSync(zip))))) {
        fs.mkdirSync(path.dirname(path.join(bundle, name)), { recursive: true });
        fs.writeFileSync(path.join(bundle, name), bytes);
      }
      const big = path.join(dir, "big.csv");
      writeRows(big, 40_000, 2);
      const fromBundle = path.join(dir, "bundle.csv");
      await run(process.execPath, ["predict.mjs", big, "--out", fromBundle], { cwd: bundle, timeout: 120_000 });
      const fromCli = path.join(dir, "cli.csv");
      await run(process.execPath, [BIN, "predict", "--model", zip, "--data", big, "--out", fromCli], { timeout: 120_000 });
      const text = fs.readFileSync(fromBundle, "utf8");
      assert.equal(text.trimEnd().split("\n").length, 40_001);
      assert.equal(text, fs.readFileSync(fromCli, "utf8"));
    });
  }
});
