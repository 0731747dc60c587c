/**
 * Transfer learning from a pretrained network on disk: a MobileNet-like network saved as
 * TensorFlow.js saves a Keras model (test/fixtures/pretrained-network, made by
 * test/support/pretrained-network.ts: pretrained on Fashion-MNIST's first five classes),
 * cut at its features, a softmax layer trained on five classes it never saw; the plain
 * JavaScript forward pass that predicts with it held to TensorFlow.js's; the folders a person
 * may point to by mistake refused with what to do.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadFeatureNetwork, pretrainedFolderProblem, trainTransfer } from "../../kernel/ml/image/pretrained-network";
import { InputError } from "../../kernel/errors/input-error";
import { IMAGE_LEARNERS } from "../../kernel/ml/image/image-learners";
import { networkInput } from "../../kernel/ml/image/transfer-model";
import { tensorflow } from "../../kernel/ml/tfjs/tensorflow-backend";
import type { ImageBatchSource } from "../../kernel/ml/image/epoch-loop";
import { networkFeatures, transferProbabilities } from "../../kernel/predict/network-forward";
import { fashionImages } from "../support/image-parquet";
import { PRETRAINED_NETWORK } from "../support/pretrained-network";

const NETWORK = PRETRAINED_NETWORK;

/** Fashion-MNIST images of `classes` (labels 0..k-1 in that order), `count` of each from `from` on, as 28 × 28 grey. */
function images(classes: number[], count: number, from: number): ImageBatchSource {
  const pixels = new Uint8Array(classes.length * count * 784);
  const labels = new Int32Array(classes.length * count);
  classes.forEach((cls, k) =>
    fashionImages(cls, count, from).forEach((p, i) => {
      pixels.set(p, (k * count + i) * 784);
      labels[k * count + i] = k;
    }),
  );
  return { n: labels.length, height: 28, width: 28, channels: 1, pixels, labels };
}

describe("transfer learning from a pretrained network on disk", function () {
  this.timeout(300_000);
  let scratch: string;
  before(() => (scratch = fs.mkdtempSync(path.join(os.tmpdir(), "transfer-"))));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("cuts the network at its global average pooling; the plain-JS forward pass gives TensorFlow.js's features within 1e-4", async () => {
    const { tf, cut, state } = await loadFeatureNetwork(NETWORK, "");
    try {
      assert.equal(state.source.feature_layer, "global_average_pooling2d_1");
      assert.deepEqual(state.input, { height: 32, width: 32, channels: 3 });
      assert.equal(state.features, 32);
      assert.deepEqual([...new Set(state.layers.map((l) => l.class_name))].sort(), [
        "Add",
        "BatchNormalization",
        "Conv2D",
        "DepthwiseConv2D",
        "GlobalAveragePooling2D",
        "InputLayer",
        "ReLU",
        "ZeroPadding2D",
      ]);
      const src = images([5, 8], 2, 0);
      for (let i = 0; i < src.n; i++) {
        const input = networkInput(src.pixels.subarray(i * 784, (i + 1) * 784), src, state.input, "-1..1");
        const expected = tf.tidy(() => (cut.predict(tf.tensor4d(input, [1, 32, 32, 3])) as import("@tensorflow/tfjs").Tensor).dataSync());
        const got = networkFeatures(state.layers, input, [32, 32, 3]);
        const gap = Math.max(...Array.from(got, (v, j) => Math.abs(v - expected[j]!)));
        assert.ok(gap < 1e-4, `image ${i}: features differ by ${gap}`);
        assert.ok(
          got.some((v) => v > 0.01),
          "features that are not all zero",
        );
      }
    } finally {
      cut.dispose();
    }
  });

  it("trains a softmax layer on the frozen features for four classes the network never saw, its probabilities the same in plain JavaScript; a named earlier layer's features", async () => {
    const classes = [5, 7, 8, 9]; // sandal, sneaker, bag, ankle boot
    const train = images(classes, 120, 0);
    const val = images(classes, 40, 200);
    const test = images(classes, 60, 400);
    const epochs: number[] = [];
    const notes: string[] = [];
    const trained = await trainTransfer(
      NETWORK,
      train,
      4,
      { epochs: 40, patience: 6, learning_rate: 0.003 },
      { seed: 7, val, onEpoch: (e) => void epochs.push(e.train_loss), onNote: (t) => notes.push(t) },
    );
    try {
      assert.match(notes[0]!, /global_average_pooling2d_1 of the network in .* \(2,944 weights, frozen; 32 × 32 input\): 32 features of 640 images/);
      assert.ok(epochs.length >= 7 && epochs.at(-1)! < epochs[0]!, `the training loss falls: ${epochs.map((l) => l.toFixed(3)).join(", ")}`);
      const proba = await trained.predict(test);
      let correct = 0;
      for (let i = 0; i < test.n; i++) {
        const row = Array.from(proba.subarray(i * 4, i * 4 + 4));
        if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
      }
      const accuracy = correct / test.n;
      console.log(`      transfer to 4 unseen classes, 32 pooled features: test accuracy ${accuracy.toFixed(4)} after ${trained.epochs} epochs`);
      // this 2,944-weight network's 32 pooled features carry a part of what tells these classes apart (chance: 0.25)
      assert.ok(accuracy > 0.6, `test accuracy ${accuracy}`);
      // the network's weights are the folder's, untouched
      const { state: fresh, cut } = await loadFeatureNetwork(NETWORK, "");
      cut.dispose();
      assert.deepEqual(
        trained.state.layers.flatMap((l) => l.weights.map((w) => Array.from(w.values))),
        fresh.layers.flatMap((l) => l.weights.map((w) => Array.from(w.values))),
      );
      for (let i = 0; i < 3; i++) {
        const js = transferProbabilities(trained.state, networkInput(test.pixels.subarray(i * 784, (i + 1) * 784), test, trained.state.input, "-1..1"));
        const gap = Math.max(...Array.from(js, (p, c) => Math.abs(p - proba[i * 4 + c]!)));
        assert.ok(gap < 1e-4, `probabilities differ by ${gap}`);
      }
      assert.ok(trained.descent.trajectory.length > 10 && Number.isFinite(trained.descent.lossAt(trained.descent.center)));
    } finally {
      trained.dispose();
    }
    // the block before the pooling (8 × 8 × 32 features, where the shapes still are): cut there by name, as a plan's feature_layer says
    const earlier = await trainTransfer(NETWORK, train, 4, { epochs: 40, patience: 6, learning_rate: 0.003, feature_layer: "block_2_add" }, { seed: 7, val });
    try {
      assert.equal(earlier.state.features, 2048);
      assert.equal(earlier.state.layers.at(-1)!.name, "block_2_add");
      const p = await earlier.predict(test);
      let correct = 0;
      for (let i = 0; i < test.n; i++) {
        const row = Array.from(p.subarray(i * 4, i * 4 + 4));
        if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
      }
      console.log(`      the same from block_2_add's 2,048 features: test accuracy ${(correct / test.n).toFixed(4)}`);
      assert.ok(correct / test.n > 0.85, `test accuracy ${correct / test.n}`);
    } finally {
      earlier.dispose();
    }
  });

  it("refuses what is not a layers model in a folder, saying what to do: no model.json, a graph model, a weight file outside the folder or missing, an unknown feature layer, layers the forward pass does not run", async () => {
    const env = (dir: string) => ({ AUTOML_PRETRAINED_IMAGE_MODEL: dir });
    const emptyFolder = () => fs.mkdtempSync(path.join(scratch, "nothing-"));
    assert.equal(pretrainedFolderProblem({}), null, "none set: nothing to say");
    assert.equal(pretrainedFolderProblem(env(NETWORK)), null);
    assert.match(
      pretrainedFolderProblem(env(emptyFolder()))!,
      /names .*nothing-\w+, which has no model.json: point it to a folder holding a TensorFlow.js layers model/,
    );
    const graph = path.join(scratch, "graph");
    fs.mkdirSync(graph);
    fs.writeFileSync(path.join(graph, "model.json"), JSON.stringify({ format: "graph-model", modelTopology: {}, weightsManifest: [] }));
    assert.match(pretrainedFolderProblem(env(graph))!, /is a graph model .*--output_format tfjs_layers_model/);
    const json = JSON.parse(fs.readFileSync(path.join(NETWORK, "model.json"), "utf8")) as { weightsManifest: Array<{ paths: string[] }> };
    const outside = path.join(scratch, "outside");
    fs.mkdirSync(outside);
    json.weightsManifest[0]!.paths = ["../secret.bin"];
    fs.writeFileSync(path.join(scratch, "secret.bin"), "x");
    fs.writeFileSync(path.join(outside, "model.json"), JSON.stringify(json));
    await assert.rejects(loadFeatureNetwork(outside, ""), /names the weight file \.\.\/secret\.bin, outside its folder: it is not read/);
    json.weightsManifest[0]!.paths = ["group1-shard1of1.bin"];
    fs.writeFileSync(path.join(outside, "model.json"), JSON.stringify(json));
    await assert.rejects(loadFeatureNetwork(outside, ""), /names the weight file group1-shard1of1.bin, which is not in the folder: copy every .bin file/);
    await assert.rejects(loadFeatureNetwork(NETWORK, "block_9_add"), /has no layer block_9_add: its last layers are .*act_softmax/);
    // layers the plain-JS pass does not run (an ELU activation, layer normalisation): refused when it loads, not when it predicts
    const { tf } = await tensorflow();
    const input = tf.input({ shape: [16, 16, 3] });
    let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "elu", name: "conv_elu" }).apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
    x = tf.layers.layerNormalization({ name: "norm" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({}).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
    const other = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3 }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor });
    const otherDir = path.join(scratch, "other");
    fs.mkdirSync(otherDir);
    await other.save(
      tf.io.withSaveHandler(async (a) => {
        fs.writeFileSync(path.join(otherDir, "w.bin"), Buffer.from(a.weightData as ArrayBuffer));
        fs.writeFileSync(
          path.join(otherDir, "model.json"),
          JSON.stringify({ format: "layers-model", modelTopology: a.modelTopology, weightsManifest: [{ paths: ["w.bin"], weights: a.weightSpecs }] }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    other.dispose();
    await assert.rejects(
      loadFeatureNetwork(otherDir, ""),
      /cannot be kept for predicting: conv_elu's activation is elu; norm is a LayerNormalization\. A saved model's forward pass runs/,
    );
    // said before anything loads (when models are proposed): the same layers, a folder that is not there, a weight file cut short
    assert.match(pretrainedFolderProblem(env(otherDir))!, /cannot be kept for predicting: conv_elu's activation is elu; norm is a LayerNormalization/);
    assert.match(pretrainedFolderProblem(env(path.join(scratch, "not-there")))!, /names .*not-there, which is not a folder here/);
    const cutShort = path.join(scratch, "cut-short");
    fs.mkdirSync(cutShort);
    fs.copyFileSync(path.join(NETWORK, "model.json"), path.join(cutShort, "model.json"));
    fs.writeFileSync(path.join(cutShort, "group1-shard1of1.bin"), fs.readFileSync(path.join(NETWORK, "group1-shard1of1.bin")).subarray(0, 1000));
    assert.match(
      pretrainedFolderProblem(env(cutShort))!,
      /the weight files hold 1,000 bytes where model.json's weights take 12,436: a file is cut short or from another network/,
    );
    // a network that fails only when it loads (a feature layer it does not have): that run fails, not the stage (a plain Error, not bad input)
    const transfer = IMAGE_LEARNERS.find((l) => l.id === "mobilenet_transfer")!;
    const before = process.env["AUTOML_PRETRAINED_IMAGE_MODEL"];
    process.env["AUTOML_PRETRAINED_IMAGE_MODEL"] = NETWORK;
    try {
      const failed = await transfer.fit(images([5, 7], 4, 0), 2, { feature_layer: "nowhere" }, { seed: 1 }).catch((e: unknown) => e);
      assert.ok(failed instanceof Error && !(failed instanceof InputError), String(failed));
      assert.match((failed as Error).message, /has no layer nowhere/);
    } finally {
      if (before === undefined) delete process.env["AUTOML_PRETRAINED_IMAGE_MODEL"];
      else process.env["AUTOML_PRETRAINED_IMAGE_MODEL"] = before;
    }
  });
});
