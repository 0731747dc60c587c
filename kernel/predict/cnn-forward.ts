/**
 * The small CNN's forward pass in plain JavaScript, from its saved weights: what `automl
 * predict` and the export bundle's predict.mjs run, so a bundle predicts images with no
 * TensorFlow.js and no native code (a 28 × 28 digit is about 1.2 million multiply-adds, a
 * millisecond or two). The layers are small-cnn.ts's: two blocks of 3 × 3 'same' convolution,
 * ReLU and 2 × 2 max pooling, a dense ReLU layer, a softmax layer; the unit tests hold its
 * probabilities to tfjs's.
 */
import type { CnnState } from "../ml/image/small-cnn";

interface Weights {
  values: ArrayLike<number>;
  shape: number[];
}

function weight(state: CnnState, name: string): Weights {
  const w = state.weights.find((x) => x.name === name);
  if (!w) throw new Error(`the model file's network has no ${name} weights`);
  return w;
}

/** 3 × 3 'same' convolution plus bias and ReLU: input h × w × ci, output h × w × co (channels last). */
function convRelu(input: Float32Array, h: number, w: number, ci: number, kernel: Weights, bias: Weights): Float32Array {
  const co = kernel.shape[3]!;
  const k = kernel.values;
  const out = new Float32Array(h * w * co);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = (y * w + x) * co;
      for (let o = 0; o < co; o++) out[at + o] = bias.values[o]!;
      for (let dy = 0; dy < 3; dy++) {
        const sy = y + dy - 1;
        if (sy < 0 || sy >= h) continue;
        for (let dx = 0; dx < 3; dx++) {
          const sx = x + dx - 1;
          if (sx < 0 || sx >= w) continue;
          const src = (sy * w + sx) * ci;
          const base = (dy * 3 + dx) * ci * co;
          for (let i = 0; i < ci; i++) {
            const v = input[src + i]!;
            if (v === 0) continue;
            const row = base + i * co;
            for (let o = 0; o < co; o++) out[at + o]! += v * k[row + o]!;
          }
        }
      }
      for (let o = 0; o < co; o++) if (out[at + o]! < 0) out[at + o] = 0;
    }
  }
  return out;
}

/** 2 × 2 max pooling, stride 2, 'valid' (an odd last row or column is dropped, as tfjs drops it). */
function maxPool(input: Float32Array, h: number, w: number, c: number): { out: Float32Array; h: number; w: number } {
  const ph = Math.floor(h / 2);
  const pw = Math.floor(w / 2);
  const out = new Float32Array(ph * pw * c);
  for (let y = 0; y < ph; y++)
    for (let x = 0; x < pw; x++)
      for (let ch = 0; ch < c; ch++) {
        const a = input[(2 * y * w + 2 * x) * c + ch]!;
        const b = input[(2 * y * w + 2 * x + 1) * c + ch]!;
        const d = input[((2 * y + 1) * w + 2 * x) * c + ch]!;
        const e = input[((2 * y + 1) * w + 2 * x + 1) * c + ch]!;
        out[(y * pw + x) * c + ch] = Math.max(a, b, d, e);
      }
  return { out, h: ph, w: pw };
}

function dense(input: Float32Array, kernel: Weights, bias: Weights, relu: boolean): Float32Array {
  const [inputs, outputs] = kernel.shape as [number, number];
  const out = Float32Array.from({ length: outputs }, (_, o) => bias.values[o]!);
  for (let i = 0; i < inputs; i++) {
    const v = input[i]!;
    if (v === 0) continue;
    const row = i * outputs;
    for (let o = 0; o < outputs; o++) out[o]! += v * kernel.values[row + o]!;
  }
  if (relu) for (let o = 0; o < outputs; o++) if (out[o]! < 0) out[o] = 0;
  return out;
}

/** One image's class probabilities: `pixels` 8-bit, height × width × channels as the network reads them. */
export function cnnProbabilities(state: CnnState, pixels: Uint8Array): Float64Array {
  const { height, width, channels } = state.input;
  const input = Float32Array.from(pixels, (v) => v / 255);
  const c1 = weight(state, "conv1/kernel");
  const a1 = maxPool(convRelu(input, height, width, channels, c1, weight(state, "conv1/bias")), height, width, c1.shape[3]!);
  const c2 = weight(state, "conv2/kernel");
  const a2 = maxPool(convRelu(a1.out, a1.h, a1.w, c1.shape[3]!, c2, weight(state, "conv2/bias")), a1.h, a1.w, c2.shape[3]!);
  const hidden = dense(a2.out, weight(state, "dense/kernel"), weight(state, "dense/bias"), true);
  return softmaxOf(dense(hidden, weight(state, "output/kernel"), weight(state, "output/bias"), false));
}

/** Class probabilities of an output layer's logits. */
export function softmaxOf(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = out.reduce((a, b) => a + b, 0);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}
