/**
 * A pretrained network's forward pass in plain JavaScript, from the layers and weights a
 * transfer model's file keeps (pretrained-network.ts cuts the network at its features): what
 * `automl predict` and an export's predict.mjs run, so a transfer model predicts with no
 * TensorFlow.js. It runs the Keras layers MobileNet v1 and v2 are made of; training refuses a
 * network with any other layer, and checks this pass against TensorFlow.js's on two images
 * before the model is kept (the unit tests hold it to 1e-4). Activations are height × width ×
 * channels, channels last, as Keras keeps them.
 */
import type { NetworkLayer, TransferState } from "../ml/image/transfer-model";
import { softmaxOf } from "./cnn-forward";

interface Activation {
  /** [height, width, channels], or [length] for a vector */
  shape: number[];
  data: Float32Array;
}

function weight(layer: NetworkLayer, name: string): Float32Array | null {
  return layer.weights.find((w) => w.name === name)?.values ?? null;
}

function pair(v: unknown, fallback: number): [number, number] {
  if (Array.isArray(v)) return [Number(v[0] ?? fallback), Number(v[1] ?? v[0] ?? fallback)];
  return typeof v === "number" ? [v, v] : [fallback, fallback];
}

/** The padding before a window's first position, and the output length, as TensorFlow's 'same' and 'valid' make them. */
function windows(size: number, k: number, stride: number, padding: string): { out: number; before: number } {
  if (padding === "same") {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + k - size, 0);
    return { out, before: Math.floor(total / 2) };
  }
  return { out: Math.floor((size - k) / stride) + 1, before: 0 };
}

function activate(data: Float32Array, name: unknown, channels: number): Float32Array {
  switch (name ?? "linear") {
    case "linear":
      return data;
    case "relu":
      for (let i = 0; i < data.length; i++) if (data[i]! < 0) data[i] = 0;
      return data;
    case "relu6":
      for (let i = 0; i < data.length; i++) data[i] = Math.min(6, Math.max(0, data[i]!));
      return data;
    case "sigmoid":
      for (let i = 0; i < data.length; i++) data[i] = 1 / (1 + Math.exp(-data[i]!));
      return data;
    case "tanh":
      for (let i = 0; i < data.length; i++) data[i] = Math.tanh(data[i]!);
      return data;
    case "softmax":
      for (let at = 0; at < data.length; at += channels) {
        let max = -Infinity;
        for (let c = 0; c < channels; c++) max = Math.max(max, data[at + c]!);
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += data[at + c] = Math.exp(data[at + c]! - max);
        for (let c = 0; c < channels; c++) data[at + c]! /= sum;
      }
      return data;
    default:
      throw new Error(`the activation ${JSON.stringify(name)} is not one the forward pass runs`);
  }
}

function conv2d(x: Activation, layer: NetworkLayer, depthwise: boolean): Activation {
  const [h, w, ci] = x.shape as [number, number, number];
  const cfg = layer.config;
  const [kh, kw] = pair(cfg["kernel_size"], 1);
  const [sh, sw] = pair(cfg["strides"], 1);
  const [dh, dw] = pair(cfg["dilation_rate"], 1);
  if (dh !== 1 || dw !== 1) throw new Error(`${layer.name}: dilated convolutions are not run by the forward pass`);
  const kernel = weight(layer, depthwise ? "depthwise_kernel" : "kernel");
  if (!kernel) throw new Error(`${layer.name} has no kernel weights`);
  const mult = depthwise ? Number(cfg["depth_multiplier"] ?? 1) : 0;
  const co = depthwise ? ci * mult : Number(cfg["filters"]);
  const bias = cfg["use_bias"] === false ? null : weight(layer, "bias");
  const padding = String(cfg["padding"] ?? "valid");
  const rows = windows(h, kh, sh, padding);
  const cols = windows(w, kw, sw, padding);
  const out = new Float32Array(rows.out * cols.out * co);
  for (let y = 0; y < rows.out; y++) {
    for (let xo = 0; xo < cols.out; xo++) {
      const at = (y * cols.out + xo) * co;
      if (bias) for (let o = 0; o < co; o++) out[at + o] = bias[o]!;
      for (let ky = 0; ky < kh; ky++) {
        const sy = y * sh + ky - rows.before;
        if (sy < 0 || sy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const sx = xo * sw + kx - cols.before;
          if (sx < 0 || sx >= w) continue;
          const src = (sy * w + sx) * ci;
          if (depthwise) {
            // kernel [kh, kw, ci, mult]: output channel i·mult + m
            const base = (ky * kw + kx) * ci * mult;
            for (let i = 0; i < ci; i++) {
              const v = x.data[src + i]!;
              for (let m = 0; m < mult; m++) out[at + i * mult + m]! += v * kernel[base + i * mult + m]!;
            }
          } else {
            // kernel [kh, kw, ci, co]
            const base = (ky * kw + kx) * ci * co;
            for (let i = 0; i < ci; i++) {
              const v = x.data[src + i]!;
              if (v === 0) continue;
              const row = base + i * co;
              for (let o = 0; o < co; o++) out[at + o]! += v * kernel[row + o]!;
            }
          }
        }
      }
    }
  }
  return { shape: [rows.out, cols.out, co], data: activate(out, cfg["activation"], co) };
}

function batchNorm(x: Activation, layer: NetworkLayer): Activation {
  const c = x.shape[x.shape.length - 1]!;
  const eps = Number(layer.config["epsilon"] ?? 1e-3);
  const gamma = layer.config["scale"] === false ? null : weight(layer, "gamma");
  const beta = layer.config["center"] === false ? null : weight(layer, "beta");
  const mean = weight(layer, "moving_mean");
  const variance = weight(layer, "moving_variance");
  if (!mean || !variance) throw new Error(`${layer.name} has no moving mean and variance`);
  const scale = Float32Array.from({ length: c }, (_, k) => (gamma ? gamma[k]! : 1) / Math.sqrt(variance[k]! + eps));
  const shift = Float32Array.from({ length: c }, (_, k) => (beta ? beta[k]! : 0) - mean[k]! * scale[k]!);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i]! * scale[i % c]! + shift[i % c]!;
  return { shape: x.shape, data: out };
}

function pool(x: Activation, layer: NetworkLayer, max: boolean): Activation {
  const [h, w, c] = x.shape as [number, number, number];
  const [ph, pw] = pair(layer.config["pool_size"], 2);
  const [sh, sw] = pair(layer.config["strides"] ?? layer.config["pool_size"], 2);
  const padding = String(layer.config["padding"] ?? "valid");
  const rows = windows(h, ph, sh, padding);
  const cols = windows(w, pw, sw, padding);
  const out = new Float32Array(rows.out * cols.out * c);
  for (let y = 0; y < rows.out; y++)
    for (let xo = 0; xo < cols.out; xo++)
      for (let ch = 0; ch < c; ch++) {
        let acc = max ? -Infinity : 0;
        let count = 0;
        for (let ky = 0; ky < ph; ky++) {
          const sy = y * sh + ky - rows.before;
          if (sy < 0 || sy >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const sx = xo * sw + kx - cols.before;
            if (sx < 0 || sx >= w) continue;
            const v = x.data[(sy * w + sx) * c + ch]!;
            acc = max ? Math.max(acc, v) : acc + v;
            count++;
          }
        }
        out[(y * cols.out + xo) * c + ch] = max ? acc : acc / Math.max(1, count);
      }
  return { shape: [rows.out, cols.out, c], data: out };
}

function zeroPad(x: Activation, layer: NetworkLayer): Activation {
  const [h, w, c] = x.shape as [number, number, number];
  const p = layer.config["padding"];
  let [top, bottom, left, right] = [1, 1, 1, 1];
  if (typeof p === "number") [top, bottom, left, right] = [p, p, p, p];
  else if (Array.isArray(p) && Array.isArray(p[0]))
    [top, bottom, left, right] = [p[0][0], p[0][1], (p[1] as number[])[0], (p[1] as number[])[1]].map(Number) as [number, number, number, number];
  else if (Array.isArray(p)) [top, bottom, left, right] = [p[0], p[0], p[1], p[1]].map(Number) as [number, number, number, number];
  const oh = h + top + bottom;
  const ow = w + left + right;
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < h; y++) out.set(x.data.subarray(y * w * c, (y + 1) * w * c), ((y + top) * ow + left) * c);
  return { shape: [oh, ow, c], data: out };
}

function dense(x: Activation, layer: NetworkLayer): Activation {
  const units = Number(layer.config["units"]);
  const kernel = weight(layer, "kernel");
  if (!kernel) throw new Error(`${layer.name} has no kernel weights`);
  const bias = layer.config["use_bias"] === false ? null : weight(layer, "bias");
  const inputs = x.data.length;
  const out = Float32Array.from({ length: units }, (_, o) => (bias ? bias[o]! : 0));
  for (let i = 0; i < inputs; i++) {
    const v = x.data[i]!;
    if (v === 0) continue;
    for (let o = 0; o < units; o++) out[o]! += v * kernel[i * units + o]!;
  }
  return { shape: [units], data: activate(out, layer.config["activation"], units) };
}

function runLayer(layer: NetworkLayer, inputs: Activation[]): Activation {
  const x = inputs[0]!;
  switch (layer.class_name) {
    case "InputLayer":
    case "Dropout":
      return x;
    case "Conv2D":
      return conv2d(x, layer, false);
    case "DepthwiseConv2D":
      return conv2d(x, layer, true);
    case "BatchNormalization":
      return batchNorm(x, layer);
    case "ReLU": {
      const max = layer.config["max_value"];
      const cap = typeof max === "number" ? max : Infinity;
      const slope = Number(layer.config["negative_slope"] ?? 0);
      const threshold = Number(layer.config["threshold"] ?? 0);
      return { shape: x.shape, data: Float32Array.from(x.data, (v) => (v >= threshold ? Math.min(cap, v) : slope * (v - threshold))) };
    }
    case "Activation":
      return { shape: x.shape, data: activate(Float32Array.from(x.data), layer.config["activation"], x.shape[x.shape.length - 1]!) };
    case "ZeroPadding2D":
      return zeroPad(x, layer);
    case "GlobalAveragePooling2D": {
      const [h, w, c] = x.shape as [number, number, number];
      const out = new Float32Array(c);
      for (let i = 0; i < h * w; i++) for (let ch = 0; ch < c; ch++) out[ch]! += x.data[i * c + ch]!;
      for (let ch = 0; ch < c; ch++) out[ch]! /= h * w;
      return { shape: [c], data: out };
    }
    case "MaxPooling2D":
      return pool(x, layer, true);
    case "AveragePooling2D":
      return pool(x, layer, false);
    case "Add": {
      const out = Float32Array.from(x.data);
      for (const other of inputs.slice(1)) for (let i = 0; i < out.length; i++) out[i]! += other.data[i]!;
      return { shape: x.shape, data: out };
    }
    case "Reshape":
      return { shape: (layer.config["target_shape"] as number[]).map(Number), data: x.data };
    case "Flatten":
      return { shape: [x.data.length], data: x.data };
    case "Dense":
      return dense(x, layer);
    default:
      throw new Error(`the layer ${layer.name} is a ${layer.class_name}, which the forward pass does not run`);
  }
}

/** The features of one image (already the network's input: height × width × 3, scaled), through the cut network's layers. */
export function networkFeatures(layers: readonly NetworkLayer[], input: Float32Array, shape: [number, number, number]): Float32Array {
  // each layer's output is kept only until the last layer that takes it (MobileNet's are megabytes each)
  const lastUse = new Map<string, number>();
  layers.forEach((l, i) => l.inputs.forEach((n) => lastUse.set(n, i)));
  const outputs = new Map<string, Activation>();
  let last: Activation = { shape, data: input };
  layers.forEach((layer, i) => {
    const from = layer.inputs.length ? layer.inputs.map((n) => outputs.get(n) ?? missing(layer, n)) : [{ shape, data: input }];
    last = runLayer(layer, from);
    for (const n of layer.inputs) if (lastUse.get(n) === i) outputs.delete(n);
    outputs.set(layer.name, last);
  });
  return last.data;
}

function missing(layer: NetworkLayer, input: string): never {
  throw new Error(`the layer ${layer.name} takes ${input}, which comes after it or is not in the network`);
}

/** One image's class probabilities from a transfer model: `input` is networkInput's (the image at the network's size, scaled). */
export function transferProbabilities(state: TransferState, input: Float32Array): Float64Array {
  const features = networkFeatures(state.layers, input, [state.input.height, state.input.width, 3]);
  const k = state.classes;
  const logits = Float64Array.from(state.head.bias);
  for (let j = 0; j < state.features; j++) {
    const v = features[j]!;
    if (v !== 0) for (let c = 0; c < k; c++) logits[c]! += v * state.head.kernel[j * k + c]!;
  }
  return softmaxOf(logits);
}
