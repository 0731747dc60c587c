import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV } from "../../contract";
import { AssetStore } from "../../kernel/assets/asset-store";
import type { FitInput, SavedModel } from "../../kernel/ml/learner";
import { decodeModelFile, encodeModelFile, MODEL_FILE_VERSION, ModelFileError, readModelFileSummary } from "../../kernel/ml/model-file";
import { findLearner } from "../../kernel/ml/model-zoo";
import { runTraining } from "../../kernel/ml/training-run";
import { histGradientBoosting } from "../../kernel/ml/trees/gradient-boosting";
import { randomForest } from "../../kernel/ml/trees/random-forest";
import { unpackArrays } from "../../kernel/ml/trees/packed-arrays";
import { table } from "../support/synthetic-table";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

/** The header of a model file's bytes, as any safetensors reader sees it. */
function headerOf(bytes: Buffer): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>> {
  const n = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
}

describe("the model file (safetensors layout)", () => {
  after(removeTempWorkspaces);

  it("stores typed arrays as bytes in the safetensors layout and gives the document back with them in place", () => {
    const doc = {
      name: "x",
      nested: { w: new Float64Array([1.5, -Infinity, NaN, 3]), ids: new Int32Array([7, -8]) },
      flags: new Uint8Array([1, 0, 1]),
      list: [1, 2],
    };
    const bytes = encodeModelFile(doc);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0, "the header is padded to a multiple of 8");
    const header = headerOf(bytes);
    const meta = header["__metadata__"] as Record<string, string>;
    assert.equal(meta["format"], "automl-model");
    assert.equal(meta["format_version"], String(MODEL_FILE_VERSION));
    // the tensors lie one after another and fill the data section, as safetensors requires
    const tensors = Object.entries(header).filter(([k]) => k !== "__metadata__") as [
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] },
    ][];
    // the integer array is stored in the narrowest type that holds it (I8 here) and read back as an Int32Array
    assert.deepEqual(tensors.map(([, t]) => t.dtype).sort(), ["F64", "I8", "U8"]);
    const spans = tensors.map(([, t]) => t.data_offsets).sort((a, b) => a[0] - b[0]);
    assert.equal(spans[0]![0], 0);
    for (let i = 1; i < spans.length; i++) assert.equal(spans[i]![0], spans[i - 1]![1]);
    assert.equal(spans.at(-1)![1], bytes.length - 8 - n);
    const back = decodeModelFile(bytes) as typeof doc;
    assert.ok(back.nested.w instanceof Float64Array);
    assert.deepEqual(Array.from(back.nested.w), [1.5, -Infinity, NaN, 3]);
    assert.deepEqual(back.nested.ids, new Int32Array([7, -8]));
    assert.deepEqual(back.flags, new Uint8Array([1, 0, 1]));
    assert.deepEqual(back.list, [1, 2]);
    assert.equal(back.name, "x");
  });

  it("refuses damaged, foreign and newer files with a message that names the file", () => {
    const good = encodeModelFile({ a: new Float64Array([1, 2, 3]) });
    assert.throws(
      () => decodeModelFile(good.subarray(0, 5), "m.model"),
      (e: Error) => e instanceof ModelFileError && /m\.model .*first 8 bytes/.test(e.message),
    );
    assert.throws(() => decodeModelFile(good.subarray(0, 20), "m.model"), /m\.model .*header length .* does not fit/);
    const truncated = good.subarray(0, good.length - 4);
    assert.throws(() => decodeModelFile(truncated, "m.model"), /array t0 lies outside the file/);
    const foreign = Buffer.concat([Buffer.alloc(8), Buffer.from("{}")]);
    foreign.writeBigUInt64LE(2n);
    assert.throws(() => decodeModelFile(foreign, "other.safetensors"), /other\.safetensors .*does not say format "automl-model"/);
    const newer = Buffer.from(good);
    const text = newer.toString("latin1").replace('"format_version":"1"', '"format_version":"9"');
    assert.throws(
      () => decodeModelFile(Buffer.from(text, "latin1"), "m.model"),
      /m\.model is a model file of format version 9; this version of AutoML reads version 1\. Update/,
    );
    const lying = Buffer.from(good.toString("latin1").replace('"shape":[3]', '"shape":[4]'), "latin1");
    assert.throws(() => decodeModelFile(lying, "m.model"), /size does not match its shape/);
  });

  it("refuses malformed headers as damaged files, never with another error", () => {
    const withHeader = (header: string) => {
      const h = Buffer.from(header);
      const n = Buffer.alloc(8);
      n.writeBigUInt64LE(BigInt(h.length));
      return Buffer.concat([n, h, Buffer.alloc(16)]);
    };
    const meta = (document: string) => `"__metadata__":{"format":"automl-model","format_version":"1","document":${JSON.stringify(document)}}`;
    for (const header of [
      "null",
      `{${meta("{}")},"t0":null}`,
      `{${meta("{}")},"t0":{"dtype":"F64","shape":[-1],"data_offsets":[8,0]}}`,
      `{${meta('{"a":{"$tensor":"t0","as":"constructor"}}')},"t0":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`,
      `{${meta("not json")}}`,
      `{${meta("{}")},"t0":{"dtype":"toString","shape":[1],"data_offsets":[0,1]}}`,
    ]) {
      assert.throws(
        () => decodeModelFile(withHeader(header), "m.model"),
        (e: Error) => e instanceof ModelFileError && /m\.model/.test(e.message),
        header,
      );
    }
  });

  it("reads what describes a model from the header alone", () => {
    const dir = tempWorkspace("model-file");
    const file = path.join(dir, "m.model");
    fs.writeFileSync(file, encodeModelFile({ final_metrics: { primary: { name: "rmse", value: 2.5 } }, model: { big: new Float64Array(100_000) } }));
    const fd = fs.openSync(file, "r");
    try {
      const summary = readModelFileSummary({ fd, size: fs.fstatSync(fd).size }, "m.model") as { final_metrics: unknown; model: { big: unknown } };
      assert.deepEqual(summary.final_metrics, { primary: { name: "rmse", value: 2.5 } });
      assert.deepEqual(summary.model.big, { $tensor: "t0" }, "the arrays are not read");
    } finally {
      fs.closeSync(fd);
    }
  });

  it("holds a forest and a boosted model as a handful of arrays, far smaller than their JSON, and predicts the same after", async () => {
    const make = (x: number[]) => 2 * x[0]! - x[1]! + (x[2]! > 0 ? 1 : 0);
    const input: FitInput = { task: "regression", train: table(20_000, 1, make, 6, false), val: table(500, 2, make, 6, false), nClasses: 0 };
    const test = table(1000, 3, make, 6, false);
    for (const [learner, params] of [
      [randomForest, { n_estimators: 40 }],
      [histGradientBoosting, { max_iter: 60 }],
    ] as const) {
      const model = await learner.fit(input, params, {});
      const saved = model.save();
      const bytes = encodeModelFile(saved);
      const tensors = Object.keys(headerOf(bytes)).length - 1;
      assert.ok(tensors <= 20, `${learner.id}: ${tensors} arrays (the trees' fields are packed, not one array per tree)`);
      // what the JSON of the same state was before the model file (numbers as text)
      const asJson = JSON.stringify(saved, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)).length;
      assert.ok(bytes.length < asJson * 0.6, `${learner.id}: ${bytes.length} bytes against ${asJson} as JSON`);
      const restored = findLearner(saved.model_id)!.restore(decodeModelFile(bytes) as SavedModel);
      assert.deepEqual(restored.predict(test.x), model.predict(test.x));
    }
  });

  it("still restores a forest saved as JSON before the model file", async () => {
    const make = (x: number[]) => (x[0]! > 0 ? 1 : 0);
    const input: FitInput = { task: "classification", train: table(2000, 4, make), val: table(200, 5, make), nClasses: 2 };
    const model = await randomForest.fit(input, { n_estimators: 5 }, {});
    const saved = model.save();
    type Packed = { data: Float64Array; lengths: Int32Array };
    const state = saved.state as { mapper: { edges: Packed; nBins: Uint16Array; categorical: boolean[] }; trees: Record<string, Packed> };
    const perTree = unpackArrays(state.trees["feature"]!).map((_, i) =>
      Object.fromEntries(Object.entries(state.trees).map(([field, packed]) => [field, Array.from(unpackArrays(packed)[i]!)])),
    );
    const old = JSON.parse(
      JSON.stringify({
        ...saved,
        state: {
          ...state,
          mapper: {
            edges: unpackArrays(state.mapper.edges).map((e) => Array.from(e!, (v) => (v === Infinity ? "Infinity" : v))),
            nBins: Array.from(state.mapper.nBins),
            categorical: state.mapper.categorical,
          },
          trees: perTree,
        },
      }),
    ) as SavedModel;
    const test = table(300, 6, make);
    assert.deepEqual(randomForest.restore(old).predict(test.x), model.predict(test.x));
  });

  it("fails the run, not the stage, when its model cannot be saved", async () => {
    const events: { name: string; payload: Record<string, unknown> }[] = [];
    const sink = { emit: (name: string, payload: unknown) => void events.push({ name, payload: payload as Record<string, unknown> }) };
    const make = (x: number[]) => x[0]! + x[1]!;
    const data: FitInput = { task: "regression", train: table(500, 7, make, 3, false), val: table(100, 8, make, 3, false), nClasses: 0 };
    const result = await runTraining(
      {
        learner: findLearner("ridge")!,
        params: {},
        data,
        test: table(100, 9, make, 3, false),
        classes: [],
        featureNames: ["a", "b", "c"],
        metricPrimary: "rmse",
        config: { preprocess: {} } as never,
        pacing: false,
        saveModel: () => {
          throw new Error("ENOSPC: no space left on device");
        },
      },
      sink as never,
      new AssetStore("p", tempWorkspace("save-fails")),
    );
    assert.equal(result.status, "failed");
    assert.equal(result.model, null);
    assert.match(result.reason ?? "", /its model could not be saved: ENOSPC: no space left on device/);
    const finished = events.filter((e) => e.name === EV.TRAIN_RUN_FINISHED);
    assert.equal(finished.length, 1);
    assert.equal(finished[0]!.payload["status"], "failed");
  });
});
