/**
 * A small convolutional network for image classification, in TensorFlow.js on the backend
 * tensorflow-backend.ts picks (WebAssembly unless tfjs-node is really installed): two blocks of
 * 3 × 3 convolution, ReLU and 2 × 2 max pooling, a dense layer with dropout, a softmax layer.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (training a stock conv2d on it
 * throws "Kernel 'Conv2DBackpropFilter' not registered"), and its Conv2DBackpropInput took
 * 97 ms a batch where a forward convolution takes 11 ms (measured: 64 × 14 × 14 × 32 → 64
 * filters). So the convolution's gradients are written here from kernels wasm runs fast: the
 * input's as a convolution of the output's gradient with the flipped filter, the filter's as
 * a convolution of the input (its batch as channels) with the output's gradient (checked against
 * tfjs's own gradients on the cpu backend in the unit tests).
 *
 * Trained with Adam on mini-batches, epoch by epoch; augmentation (random shifts, and
 * horizontal flips where the classes allow them) on each batch; the best epoch's weights (by
 * validation accuracy) are kept and training stops after `patience` epochs without a better one.
 */
import type { Params } from "../learner";
import { accuracyAndLogLoss } from "../metrics";
import { tensorflow, type Tensorflow } from "../tfjs/tensorflow-backend";
import { runEpochs, type ImageBatchSource, type TrainedImageNetwork, type TrainingHooks } from "./epoch-loop";
import { softmaxLayerLoss } from "../loss-landscape";

/** the landscape's loss is the training loss on this many training images */
const LANDSCAPE_IMAGES = 512;

type Tensor = import("@tensorflow/tfjs").Tensor;
type Tensor4D = import("@tensorflow/tfjs").Tensor4D;
type Variable = import("@tensorflow/tfjs").Variable;

export interface CnnSettings {
  filters: number;
  dense: number;
  epochs: number;
  batch_size: number;
  learning_rate: number;
  dropout: number;
  /** the largest random shift, as a share of the side (0: none) */
  augment_shift: number;
  /** random horizontal flips (right for photos of objects, wrong for digits and letters) */
  augment_flip: boolean;
  patience: number;
}

export const CNN_DEFAULTS: CnnSettings = {
  filters: 16,
  dense: 128,
  epochs: 12,
  batch_size: 64,
  learning_rate: 0.002,
  dropout: 0.25,
  augment_shift: 0.07,
  augment_flip: false,
  patience: 3,
};

/** A trained network's weights by name and shape, as the model file keeps them. */
export interface CnnState {
  input: { height: number; width: number; channels: number };
  classes: number;
  settings: CnnSettings;
  weights: Array<{ name: string; shape: number[]; values: Float32Array }>;
}

export function cnnSettings(params: Params): CnnSettings {
  const s = { ...CNN_DEFAULTS } as Record<string, number | boolean>;
  for (const [k, v] of Object.entries(params)) if (k in s) s[k] = v as number | boolean;
  const out = s as unknown as CnnSettings;
  const positiveInt = (name: keyof CnnSettings) => {
    if (!Number.isInteger(out[name]) || (out[name] as number) < 1)
      throw new Error(`${name} must be a whole number of at least 1 (it is ${JSON.stringify(out[name])})`);
  };
  (["filters", "dense", "epochs", "batch_size", "patience"] as const).forEach(positiveInt);
  if (!(out.learning_rate > 0 && out.learning_rate < 1)) throw new Error(`learning_rate must be between 0 and 1 (it is ${out.learning_rate})`);
  if (!(out.dropout >= 0 && out.dropout < 1)) throw new Error(`dropout must be at least 0 and below 1 (it is ${out.dropout})`);
  if (!(out.augment_shift >= 0 && out.augment_shift <= 0.3)) throw new Error(`augment_shift must be between 0 and 0.3 (it is ${out.augment_shift})`);
  return out;
}

/** 3 × 3 'same' convolution, stride 1, with gradients wasm can run (see the file's comment). */
export function convolution(tf: Tensorflow, needInputGradient: boolean): (x: Tensor4D, w: Tensor4D) => Tensor4D {
  const op = tf.customGrad(((x: Tensor4D, w: Tensor4D, save: (t: Tensor[]) => void) => {
    save([x, w]);
    return {
      value: tf.conv2d(x, w, 1, "same"),
      gradFunc: (dy: Tensor4D, saved: Tensor[]) => {
        const [x4, w4] = saved as [Tensor4D, Tensor4D];
        // the input's gradient: the output's, convolved with the filter turned half a turn (its in and out channels swapped)
        const dx = needInputGradient ? tf.conv2d(dy, tf.reverse(w4, [0, 1]).transpose<Tensor4D>([0, 1, 3, 2]), 1, "same") : tf.zerosLike(x4);
        // the filter's gradient: the padded input (batch as channels) convolved with the output's gradient as the filter
        const padded = tf
          .pad(x4, [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ])
          .transpose<Tensor4D>([3, 1, 2, 0]);
        const dw = tf.conv2d(padded, dy.transpose<Tensor4D>([1, 2, 0, 3]), 1, "valid").transpose([1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  }) as unknown as Parameters<Tensorflow["customGrad"]>[0]);
  return op as unknown as (x: Tensor4D, w: Tensor4D) => Tensor4D;
}

interface Network {
  variables: Variable[];
  /** `dropoutSeed`: each training batch's own (a seeded run drops the same units again) */
  logits(x: Tensor4D, training: boolean, dropoutSeed?: number): Tensor;
  /** the dense layer's output (the output layer's input), without dropout */
  hidden(x: Tensor4D): Tensor;
}

function buildNetwork(tf: Tensorflow, input: CnnState["input"], classes: number, s: CnnSettings, seed: number, from?: CnnState): Network {
  const f1 = s.filters;
  const f2 = 2 * s.filters;
  const pooledH = Math.floor(Math.floor(input.height / 2) / 2);
  const pooledW = Math.floor(Math.floor(input.width / 2) / 2);
  const flat = pooledH * pooledW * f2;
  if (flat === 0) throw new Error(`images of ${input.width} × ${input.height} pixels are too small for two 2 × 2 poolings: resize them to at least 4 × 4`);
  let k = 0;
  const he = (shape: number[], fanIn: number) => tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), "float32", seed + k++);
  const saved = new Map(from?.weights.map((w) => [w.name, w]));
  const variable = (name: string, shape: number[], init: () => Tensor) => {
    const w = saved.get(name);
    return tf.variable(w ? tf.tensor(w.values, w.shape) : init(), true, `${name}_${seed}_${Math.random().toString(36).slice(2, 8)}`);
  };
  const W1 = variable("conv1/kernel", [3, 3, input.channels, f1], () => he([3, 3, input.channels, f1], 9 * input.channels));
  const b1 = variable("conv1/bias", [f1], () => tf.zeros([f1]));
  const W2 = variable("conv2/kernel", [3, 3, f1, f2], () => he([3, 3, f1, f2], 9 * f1));
  const b2 = variable("conv2/bias", [f2], () => tf.zeros([f2]));
  const W3 = variable("dense/kernel", [flat, s.dense], () => he([flat, s.dense], flat));
  const b3 = variable("dense/bias", [s.dense], () => tf.zeros([s.dense]));
  const W4 = variable("output/kernel", [s.dense, classes], () => he([s.dense, classes], s.dense).mul(0.5));
  const b4 = variable("output/bias", [classes], () => tf.zeros([classes]));
  const conv1 = convolution(tf, false);
  const conv2 = convolution(tf, true);
  // the two convolution blocks and the dense layer: the output layer's input
  const dense = (x: Tensor4D, training: boolean, dropoutSeed: number): Tensor => {
    let h: Tensor = tf.relu(conv1(x, W1 as unknown as Tensor4D).add(b1));
    h = tf.maxPool(h as Tensor4D, 2, 2, "valid");
    h = tf.relu(conv2(h as Tensor4D, W2 as unknown as Tensor4D).add(b2));
    h = tf.maxPool(h as Tensor4D, 2, 2, "valid");
    h = h.reshape([h.shape[0]!, flat]);
    if (training && s.dropout > 0) h = tf.dropout(h, s.dropout, undefined, dropoutSeed);
    return tf.relu(tf.matMul(h as import("@tensorflow/tfjs").Tensor2D, W3 as unknown as import("@tensorflow/tfjs").Tensor2D).add(b3));
  };
  const names = ["conv1/kernel", "conv1/bias", "conv2/kernel", "conv2/bias", "dense/kernel", "dense/bias", "output/kernel", "output/bias"];
  const variables = [W1, b1, W2, b2, W3, b3, W4, b4];
  variables.forEach((v, i) => ((v as Variable & { label?: string }).label = names[i]));
  return {
    variables,
    logits(x, training, dropoutSeed = 0) {
      let h = dense(x, training, dropoutSeed);
      if (training && s.dropout > 0) h = tf.dropout(h, s.dropout, undefined, dropoutSeed + 0.5);
      return tf.matMul(h as import("@tensorflow/tfjs").Tensor2D, W4 as unknown as import("@tensorflow/tfjs").Tensor2D).add(b4);
    },
    hidden: (x) => dense(x, false, 0),
  };
}

/** `idx` images of the source as a 0–1 float batch, shifted (and flipped) at random when augmenting. */
function batchOf(src: ImageBatchSource, idx: ArrayLike<number>, s: CnnSettings | null, random: () => number): Float32Array {
  const { height: h, width: w, channels: c } = src;
  const size = h * w * c;
  const out = new Float32Array(idx.length * size);
  for (let b = 0; b < idx.length; b++) {
    const base = idx[b]! * size;
    const at = b * size;
    const maxX = s ? Math.round(s.augment_shift * w) : 0;
    const maxY = s ? Math.round(s.augment_shift * h) : 0;
    const dx = maxX ? Math.floor(random() * (2 * maxX + 1)) - maxX : 0;
    const dy = maxY ? Math.floor(random() * (2 * maxY + 1)) - maxY : 0;
    const flip = s?.augment_flip === true && random() < 0.5;
    if (!dx && !dy && !flip) {
      for (let i = 0; i < size; i++) out[at + i] = src.pixels[base + i]! / 255;
      continue;
    }
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= h) continue; // shifted in from outside: 0, as MNIST's background
      for (let x = 0; x < w; x++) {
        let sx = x - dx;
        if (flip) sx = w - 1 - sx;
        if (sx < 0 || sx >= w) continue;
        for (let ch = 0; ch < c; ch++) out[at + (y * w + x) * c + ch] = src.pixels[base + (sy * w + sx) * c + ch]! / 255;
      }
    }
  }
  return out;
}

const PREDICT_BATCH = 256;

/** Class probabilities (n × k) of every image of the source. */
async function probabilities(tf: Tensorflow, net: Network, src: ImageBatchSource, classes: number): Promise<Float32Array> {
  const out = new Float32Array(src.n * classes);
  for (let i = 0; i < src.n; i += PREDICT_BATCH) {
    const idx = Array.from({ length: Math.min(PREDICT_BATCH, src.n - i) }, (_, j) => i + j);
    const p = tf.tidy(() =>
      tf.softmax(net.logits(tf.tensor4d(batchOf(src, idx, null, Math.random), [idx.length, src.height, src.width, src.channels]), false)),
    );
    out.set(await p.data(), i * classes);
    p.dispose();
  }
  return out;
}

export type TrainedCnn = TrainedImageNetwork<CnnState>;

export async function trainCnn(train: ImageBatchSource, classes: number, params: Params, hooks: TrainingHooks): Promise<TrainedCnn> {
  const s = cnnSettings(params);
  const { tf, backend } = await tensorflow();
  const input = { height: train.height, width: train.width, channels: train.channels };
  const net = buildNetwork(tf, input, classes, s, hooks.seed);
  const outputLayer = () => Float64Array.from([...net.variables[6]!.dataSync(), ...net.variables[7]!.dataSync()]);
  try {
    const val = hooks.val;
    const { epochs, trajectory } = await runEpochs(
      {
        tf,
        n: train.n,
        labels: train.labels,
        classes,
        settings: s,
        variables: net.variables,
        batch: (idx, random) => tf.tensor4d(batchOf(train, idx, s, random), [idx.length, input.height, input.width, input.channels]),
        logits: (x, dropoutSeed) => net.logits(x as Tensor4D, true, dropoutSeed),
        validate: async () => (val && val.n > 0 ? accuracyAndLogLoss(await probabilities(tf, net, val, classes), val.labels, classes, 1e-7) : null),
        outputLayer,
      },
      hooks,
    );
    const state: CnnState = {
      input,
      classes,
      settings: s,
      weights: net.variables.map((v) => ({
        name: (v as Variable & { label: string }).label,
        shape: v.shape,
        values: Float32Array.from(v.dataSync() as Float32Array),
      })),
    };
    return {
      state,
      epochs,
      backend,
      descent: { trajectory, center: trajectory.at(-1)!, lossAt: await lastLayerLoss(tf, net, train, classes) },
      predict: (src) => probabilities(tf, net, src, classes),
      dispose: () => tf.dispose(net.variables),
    };
  } catch (err) {
    tf.dispose(net.variables);
    throw err;
  }
}

/**
 * The training loss as a function of the output layer's weights (kernel, then bias), on the
 * network's features of the first LANDSCAPE_IMAGES training images: computed in plain
 * JavaScript from features taken once, so the landscape's grid of losses costs no tensors.
 */
async function lastLayerLoss(tf: Tensorflow, net: Network, train: ImageBatchSource, classes: number): Promise<(w: Float64Array) => number> {
  const n = Math.min(LANDSCAPE_IMAGES, train.n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const features = tf.tidy(() => net.hidden(tf.tensor4d(batchOf(train, idx, null, Math.random), [n, train.height, train.width, train.channels])));
  const h = (await features.data()) as Float32Array;
  const width = features.shape[1]!;
  features.dispose();
  return softmaxLayerLoss(h, train.labels, n, width, classes);
}

/** A saved network, loaded to predict. */
export async function loadCnn(state: CnnState): Promise<{ predict(src: ImageBatchSource): Promise<Float32Array>; dispose(): void }> {
  const { tf } = await tensorflow();
  const net = buildNetwork(tf, state.input, state.classes, state.settings, 0, state);
  return { predict: (src) => probabilities(tf, net, src, state.classes), dispose: () => tf.dispose(net.variables) };
}
