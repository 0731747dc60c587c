/**
 * What a transfer model is (pretrained-network.ts trains one): the cut network's layers and
 * weights, the softmax layer on its features, and an image as the network reads it, the same
 * for training (on TensorFlow.js) and predicting (predict/network-forward.ts, plain
 * JavaScript), so both see the same numbers. Kept apart from the training module: an export's
 * predict.mjs takes this file and none of TensorFlow.js.
 */
import { resizePixels } from "../../data/image-files";

/** the Keras layer classes the plain-JavaScript forward pass runs (predict/network-forward.ts): those MobileNet v1 and v2 are made of */
export const FORWARD_LAYERS = new Set([
  "InputLayer",
  "Conv2D",
  "DepthwiseConv2D",
  "BatchNormalization",
  "ReLU",
  "Activation",
  "ZeroPadding2D",
  "GlobalAveragePooling2D",
  "MaxPooling2D",
  "AveragePooling2D",
  "Add",
  "Dropout",
  "Reshape",
  "Flatten",
  "Dense",
]);

/** the activations it runs (a layer's `activation`, or an Activation layer's) */
export const FORWARD_ACTIVATIONS = new Set(["linear", "relu", "relu6", "sigmoid", "tanh", "softmax"]);

/** Why the forward pass cannot run `layer` as the Keras config gives it, or null when it can. */
export function unrunnable(layer: { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }): string | null {
  if (!FORWARD_LAYERS.has(layer.class_name)) return `${layer.name} is a ${layer.class_name}`;
  if (layer.inbound_nodes.length > 1) return `${layer.name} is used twice`;
  const activation = layer.config["activation"];
  if (activation !== undefined && !FORWARD_ACTIVATIONS.has(String(activation))) return `${layer.name}'s activation is ${String(activation)}`;
  if (layer.config["data_format"] === "channels_first") return `${layer.name} reads channels first`;
  const axis = layer.config["axis"];
  if (layer.class_name === "BatchNormalization" && ![-1, 3].includes(Number(Array.isArray(axis) ? axis[0] : axis)))
    return `${layer.name} normalises axis ${JSON.stringify(axis)}, not the channels`;
  return null;
}

export interface TransferSettings {
  epochs: number;
  batch_size: number;
  learning_rate: number;
  dropout: number;
  patience: number;
  /** the pixel values the network was trained on: MobileNet's are -1 to 1 */
  input_range: "-1..1" | "0..1" | "0..255";
  /** the layer whose output is the features ("": the last global average pooling, else the input of the last dense layer) */
  feature_layer: string;
}

/** A layer of the cut network as the model file keeps it: its Keras class and config, where its inputs come from, and its weights by name. */
export interface NetworkLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  /** the layers whose outputs it takes, in order (none for the input) */
  inputs: string[];
  weights: Array<{ name: string; shape: number[]; values: Float32Array }>;
}

/** A transfer model: the frozen network up to its features, and the softmax layer trained on them. */
export interface TransferState {
  source: { folder: string; feature_layer: string; layers: number; parameters: number };
  input: { height: number; width: number; channels: 3 };
  input_range: TransferSettings["input_range"];
  /** the cut network's layers in an order where each comes after its inputs; the last is the features */
  layers: NetworkLayer[];
  features: number;
  classes: number;
  settings: TransferSettings;
  head: { kernel: Float32Array; bias: Float32Array };
}

/** The images as the network reads them: resized to its input, in colour, scaled to its input range. */
export function networkInput(
  pixels: Uint8Array,
  from: { width: number; height: number; channels: number },
  to: TransferState["input"],
  range: TransferSettings["input_range"],
): Float32Array {
  const resized = resizePixels({ width: from.width, height: from.height, channels: from.channels as 1 | 3, data: pixels }, to.width, to.height, 3);
  const [scale, shift] = range === "-1..1" ? [1 / 127.5, -1] : range === "0..1" ? [1 / 255, 0] : [1, 0];
  return Float32Array.from(resized.data, (v) => v * scale + shift);
}
