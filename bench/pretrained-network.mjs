// A pretrained network at MobileNet's real size, for transfer learning: no MobileNet weights can be had offline, so this
// builds MobileNet v1's architecture (Keras's: a strided 3 × 3 convolution, 13 depthwise-separable blocks with
// batch normalisation and ReLU6, global average pooling, a 1 × 1 convolution classifier) at 224 × 224 with He-initialised
// weights (a depthwise kernel's by its 9 inputs: tfjs counts its channels
// too, and the signal vanished through the 13 blocks), saves it as TensorFlow.js saves a Keras model (model.json + .bin), and measures what a person's
// MobileNet would cost here: loading and cutting it at its features, the features of images on tfjs's wasm
// backend (images/s, batches of 32), and the plain-JavaScript forward pass that `automl predict` and an export's
// predict.mjs run (s/image), with the largest difference between the two (the weights' values do not change the
// cost; trained weights would change the accuracy, which this cannot measure).
// Usage: node bench/pretrained-network.mjs [--alpha 0.25|0.5|0.75|1.0] [--images 64]
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { tensorflow } = require("../kernel/ml/tfjs/tensorflow-backend.ts");
const { loadFeatureNetwork } = require("../kernel/ml/image/pretrained-network.ts");
const { networkInput } = require("../kernel/ml/image/transfer-model.ts");
const { networkFeatures } = require("../kernel/predict/network-forward.ts");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const alpha = Number(arg("--alpha", "1.0"));
const count = Number(arg("--images", "64"));
const SIDE = 224;

async function mobilenetV1(tf, dir) {
  const L = tf.layers;
  const f = (n) => Math.round(n * alpha);
  const input = tf.input({ shape: [SIDE, SIDE, 3], name: "input_1" });
  const bnRelu = (x, name) => L.reLU({ maxValue: 6, name: `${name}_relu` }).apply(L.batchNormalization({ name: `${name}_bn` }).apply(x));
  let x = L.zeroPadding2d({
    padding: [
      [0, 1],
      [0, 1],
    ],
    name: "conv1_pad",
  }).apply(input);
  x = bnRelu(
    L.conv2d({ filters: f(32), kernelSize: 3, strides: 2, padding: "valid", useBias: false, kernelInitializer: "heNormal", name: "conv1" }).apply(x),
    "conv1",
  );
  const blocks = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  blocks.forEach(([filters, stride], i) => {
    const id = i + 1;
    if (stride === 2)
      x = L.zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
        name: `conv_pad_${id}`,
      }).apply(x);
    x = bnRelu(
      L.depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: stride === 2 ? "valid" : "same",
        useBias: false,
        depthwiseInitializer: tf.initializers.randomNormal({ stddev: Math.sqrt(2 / 9), seed: id }),
        name: `conv_dw_${id}`,
      }).apply(x),
      `conv_dw_${id}`,
    );
    x = bnRelu(
      L.conv2d({ filters: f(filters), kernelSize: 1, padding: "same", useBias: false, kernelInitializer: "heNormal", name: `conv_pw_${id}` }).apply(x),
      `conv_pw_${id}`,
    );
  });
  x = L.globalAveragePooling2d({ name: "global_average_pooling2d_1" }).apply(x);
  x = L.reshape({ targetShape: [1, 1, f(1024)], name: "reshape_1" }).apply(x);
  x = L.dropout({ rate: 0.001, name: "dropout" }).apply(x);
  x = L.conv2d({ filters: 1000, kernelSize: 1, padding: "same", name: "conv_preds" }).apply(x);
  x = L.reshape({ targetShape: [1000], name: "reshape_2" }).apply(x);
  const output = L.activation({ activation: "softmax", name: "act_softmax" }).apply(x);
  const model = tf.model({ inputs: input, outputs: output, name: `mobilenet_${alpha}_${SIDE}` });
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      fs.writeFileSync(path.join(dir, "group1-shard1of1.bin"), Buffer.from(a.weightData));
      fs.writeFileSync(
        path.join(dir, "model.json"),
        JSON.stringify({
          format: "layers-model",
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  model.dispose();
}

const { tf, backend } = await tensorflow();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "automl-mobilenet-"));
await mobilenetV1(tf, dir);
const weightsMb = fs.statSync(path.join(dir, "group1-shard1of1.bin")).size / 1024 ** 2;
let t = performance.now();
const { cut, state } = await loadFeatureNetwork(dir, "");
const loadS = (performance.now() - t) / 1000;
// real images: Fashion-MNIST's first ones, enlarged to the network's input as a run does
const clothes = JSON.parse(fs.readFileSync(require.resolve("fashion-mnist/src/clothes/0.json"), "utf8")).data.slice(0, count);
const inputs = clothes.map((p) => networkInput(Uint8Array.from(p), { width: 28, height: 28, channels: 1 }, state.input, "-1..1"));
const one = SIDE * SIDE * 3;
t = performance.now();
const tfFeatures = [];
for (let i = 0; i < inputs.length; i += 32) {
  const batch = inputs.slice(i, i + 32);
  const flat = new Float32Array(batch.length * one);
  batch.forEach((b, j) => flat.set(b, j * one));
  const y = cut.predict(tf.tensor4d(flat, [batch.length, SIDE, SIDE, 3]));
  const data = await y.data();
  y.dispose();
  for (let j = 0; j < batch.length; j++) tfFeatures.push(data.subarray(j * state.features, (j + 1) * state.features));
}
const tfImagesPerS = inputs.length / ((performance.now() - t) / 1000);
const jsTimes = [];
let gap = 0;
let scale = 0;
for (let i = 0; i < 3; i++) {
  t = performance.now();
  const js = networkFeatures(state.layers, inputs[i], [SIDE, SIDE, 3]);
  jsTimes.push((performance.now() - t) / 1000);
  for (let j = 0; j < js.length; j++) {
    gap = Math.max(gap, Math.abs(js[j] - tfFeatures[i][j]));
    scale = Math.max(scale, Math.abs(tfFeatures[i][j]));
  }
}
jsTimes.sort((a, b) => a - b);
console.log(
  `MobileNet v1 ${alpha} ${SIDE} (its architecture, He-initialised weights): ${state.source.parameters.toLocaleString("en")} weights before the classifier, ${weightsMb.toFixed(1)} MB of weights, ${state.layers.length} layers cut at ${state.source.feature_layer} (${state.features} features)`,
);
console.log(`| load and cut | ${loadS.toFixed(2)} s |`);
console.log(`| features on tfjs ${backend} (batches of 32, ${inputs.length} images) | ${tfImagesPerS.toFixed(1)} images/s |`);
console.log(`| plain-JavaScript forward pass (predict; median of 3) | ${jsTimes[1].toFixed(2)} s/image |`);
console.log(`| largest difference, plain JS vs tfjs (features up to ${scale.toFixed(3)}) | ${gap.toExponential(2)} |`);
cut.dispose();
fs.rmSync(dir, { recursive: true, force: true });
