/**
 * A small pretrained image network saved as TensorFlow.js saves a Keras model (model.json,
 * format "layers-model", and a .bin weight shard), standing in for MobileNet, whose weights
 * cannot be had offline. It is built of MobileNet's layers (zero padding, strided convolution,
 * batch normalisation, ReLU6, depthwise and pointwise convolutions, a residual Add as in v2,
 * global average pooling, a 1 × 1 convolution classifier with reshapes and softmax, as
 * MobileNet v1's TensorFlow.js model ends) and pretrained on Fashion-MNIST's first five classes
 * (T-shirt, trouser, pullover, dress, coat), so a transfer to its other five (sandal, shirt,
 * sneaker, bag, ankle boot) reuses features it learnt elsewhere.
 *
 * The tests read the copy kept in test/fixtures/pretrained-network (22 kB), made by running
 * this file: `node -r tsx/cjs test/support/pretrained-network.ts test/fixtures/pretrained-network`.
 * It trains on tfjs's pure-JavaScript cpu backend (the product's wasm backend has no kernel for
 * a stock convolution's filter gradient), which takes minutes: too long to make it in each run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fashionImages } from "./image-parquet";

const SIDE = 32;

/** the network the tests read (made by this file) */
export const PRETRAINED_NETWORK = path.join(__dirname, "..", "fixtures", "pretrained-network");

/** 28 × 28 grey → SIDE × SIDE colour, 0..255 (nearest), as MobileNet's input would hold a photo. */
function asColour(grey: Uint8Array): Float32Array {
  const out = new Float32Array(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const v = grey[Math.min(27, Math.floor((y * 28) / SIDE)) * 28 + Math.min(27, Math.floor((x * 28) / SIDE))]!;
      out.fill(v / 127.5 - 1, (y * SIDE + x) * 3, (y * SIDE + x) * 3 + 3);
    }
  return out;
}

async function main(dir: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require("@tensorflow/tfjs") as typeof import("@tensorflow/tfjs");
  await tf.setBackend("cpu");
  const L = tf.layers;
  const input = tf.input({ shape: [SIDE, SIDE, 3], name: "input_1" });
  const bnRelu = (x: import("@tensorflow/tfjs").SymbolicTensor, name: string) =>
    L.reLU({ maxValue: 6, name: `${name}_relu` }).apply(L.batchNormalization({ name: `${name}_bn` }).apply(x)) as import("@tensorflow/tfjs").SymbolicTensor;
  let x = L.zeroPadding2d({
    padding: [
      [0, 1],
      [0, 1],
    ],
    name: "conv1_pad",
  }).apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
  x = bnRelu(
    L.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: "valid", useBias: false, name: "conv1" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor,
    "conv1",
  );
  x = bnRelu(
    L.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false, name: "conv_dw_1" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor,
    "conv_dw_1",
  );
  x = bnRelu(
    L.conv2d({ filters: 32, kernelSize: 1, padding: "same", useBias: false, name: "conv_pw_1" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor,
    "conv_pw_1",
  );
  const down = bnRelu(
    L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "conv_dw_2" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor,
    "conv_dw_2",
  );
  const pw = bnRelu(
    L.conv2d({ filters: 32, kernelSize: 1, padding: "same", name: "conv_pw_2" }).apply(down) as import("@tensorflow/tfjs").SymbolicTensor,
    "conv_pw_2",
  );
  x = L.add({ name: "block_2_add" }).apply([pw, down]) as import("@tensorflow/tfjs").SymbolicTensor;
  x = L.globalAveragePooling2d({ name: "global_average_pooling2d_1" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  x = L.reshape({ targetShape: [1, 1, 32], name: "reshape_1" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  x = L.dropout({ rate: 0.001, name: "dropout" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  x = L.conv2d({ filters: 5, kernelSize: 1, padding: "same", name: "conv_preds" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  x = L.reshape({ targetShape: [5], name: "reshape_2" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  const output = L.activation({ activation: "softmax", name: "act_softmax" }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: "mobilenet_like" });

  const perClass = 240;
  const images: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 5; c++)
    for (const p of fashionImages(c, perClass)) {
      images.push(asColour(p));
      labels.push(c);
    }
  const xs = tf.tensor4d(
    images.reduce((all, im, i) => (all.set(im, i * SIDE * SIDE * 3), all), new Float32Array(images.length * SIDE * SIDE * 3)),
    [images.length, SIDE, SIDE, 3],
  );
  const ys = tf.oneHot(tf.tensor1d(labels, "int32"), 5);
  model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const history = await model.fit(xs, ys, { epochs: 4, batchSize: 32, shuffle: true, verbose: 0 });
  const acc = history.history["acc"] as number[];
  console.log(`      pretrained network: ${model.countParams()} weights, training accuracy ${acc.at(-1)!.toFixed(3)} on Fashion-MNIST's first five classes`);
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const bin = "group1-shard1of1.bin";
      fs.writeFileSync(path.join(dir, bin), Buffer.from(artifacts.weightData as ArrayBuffer));
      fs.writeFileSync(
        path.join(dir, "model.json"),
        JSON.stringify({
          format: "layers-model",
          generatedBy: artifacts.generatedBy,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [bin], weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
}

if (require.main === module) {
  main(process.argv[2]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
