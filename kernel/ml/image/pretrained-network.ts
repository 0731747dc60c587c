/**
 * Transfer learning from a pretrained image network on disk (MobileNet, or any Keras-style
 * network saved for TensorFlow.js): a folder the person points to (AUTOML_PRETRAINED_IMAGE_MODEL,
 * or the `automl.images.pretrainedModel` setting) holding `model.json` (format "layers-model")
 * and its weight shards. Nothing is downloaded: MobileNet's weights are not in any npm package
 * (@tensorflow-models/mobilenet fetches them from tfhub.dev at run time), so the person saves
 * them once (tensorflowjs_converter, or `model.save()` in TensorFlow.js).
 *
 * The network is cut before its classifier (at its last global average pooling, else at the
 * input of its last dense layer, or at a layer the plan names), its weights frozen, and each
 * image's features computed once; a softmax layer on the features is what trains, epoch by
 * epoch with real losses and early stopping, as the small CNN does. The cut network (its
 * topology and weights) and the trained layer are kept in the model file, so `automl predict`
 * and an export's predict.mjs run it without the folder (network-forward.ts, plain JavaScript).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../../errors/input-error";
import { softmaxLayerLoss } from "../loss-landscape";
import type { Params } from "../learner";
import { accuracyAndLogLoss } from "../metrics";
import { tensorflow, type Tensorflow } from "../tfjs/tensorflow-backend";
import { FORWARD_ACTIVATIONS, FORWARD_LAYERS, networkInput, unrunnable, type NetworkLayer, type TransferSettings, type TransferState } from "./transfer-model";
import { runEpochs, type ImageBatchSource, type TrainedImageNetwork, type TrainingHooks } from "./epoch-loop";

/** the environment variable naming the folder (the extension passes its setting as this) */
export const PRETRAINED_MODEL_ENV = "AUTOML_PRETRAINED_IMAGE_MODEL";
/** a model.json past this is not read (MobileNet v2 1.0's is about 200 kB) */
const MAX_TOPOLOGY_BYTES = 32 * 1024 * 1024;
/** the weights past this are not read (MobileNet v2 1.4 is 25 MB; ResNet-50 about 100 MB) */
const MAX_WEIGHT_BYTES = 512 * 1024 * 1024;
const FEATURE_BATCH = 32;
const LANDSCAPE_IMAGES = 512;

export const TRANSFER_DEFAULTS: TransferSettings = {
  epochs: 30,
  batch_size: 32,
  // one softmax layer on fixed features is a convex problem: a larger step than a whole network's is safe
  learning_rate: 0.005,
  dropout: 0.2,
  patience: 5,
  input_range: "-1..1",
  feature_layer: "",
};

export function transferSettings(params: Params): TransferSettings {
  const s = { ...TRANSFER_DEFAULTS } as Record<string, number | string>;
  for (const [k, v] of Object.entries(params)) if (k in s) s[k] = v as number | string;
  const out = s as unknown as TransferSettings;
  for (const name of ["epochs", "batch_size", "patience"] as const)
    if (!Number.isInteger(out[name]) || out[name] < 1) throw new Error(`${name} must be a whole number of at least 1 (it is ${JSON.stringify(out[name])})`);
  if (!(out.learning_rate > 0 && out.learning_rate < 1)) throw new Error(`learning_rate must be between 0 and 1 (it is ${out.learning_rate})`);
  if (!(out.dropout >= 0 && out.dropout < 1)) throw new Error(`dropout must be at least 0 and below 1 (it is ${out.dropout})`);
  if (!["-1..1", "0..1", "0..255"].includes(out.input_range))
    throw new Error(`input_range must be "-1..1", "0..1" or "0..255" (it is ${JSON.stringify(out.input_range)})`);
  return out;
}

/** The folder the environment names, or null when none is set. */
export function configuredPretrainedFolder(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env[PRETRAINED_MODEL_ENV]?.trim();
  return dir ? path.resolve(dir) : null;
}

/** Why the configured folder cannot be used (said once when models are proposed), or null when it can or none is set. */
export function pretrainedFolderProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = configuredPretrainedFolder(env);
  if (!dir) return null;
  try {
    // what can be told without loading it: the folder, model.json, the weight files' bytes, the layers before the features
    const json = readModelJson(dir);
    weightFiles(dir, json);
    const problems = layersBeforeFeatures(json)
      .map(unrunnable)
      .filter((p): p is string => p !== null);
    return problems.length ? unrunnableMessage(problems) : null;
  } catch (err) {
    return (err as Error).message;
  }
}

function unrunnableMessage(problems: string[]): string {
  return `The network cannot be kept for predicting: ${problems.slice(0, 4).join("; ")}${problems.length > 4 ? `; and ${problems.length - 4} more` : ""}. A saved model's forward pass runs ${[...FORWARD_LAYERS].join(", ")} (MobileNet v1 and v2's layers) with ${[...FORWARD_ACTIVATIONS].join(", ")}: choose MobileNet, or name an earlier layer with feature_layer.`;
}

type ModelJson = {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: unknown }> }>;
};

function readModelJson(dir: string): ModelJson {
  const file = path.join(dir, "model.json");
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  const where = `${PRETRAINED_MODEL_ENV} (the setting automl.images.pretrainedModel) names ${dir}`;
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new InputError(`${where}, which is not a folder here: point it to the folder holding the network's model.json and .bin weight files.`);
  if (!stat?.isFile())
    throw new InputError(
      `${where}, which has no model.json: point it to a folder holding a TensorFlow.js layers model (model.json and its .bin weight files), as tensorflowjs_converter --output_format tfjs_layers_model writes MobileNet.`,
    );
  if (stat.size > MAX_TOPOLOGY_BYTES)
    throw new InputError(`${where}: its model.json is ${stat.size} bytes, more than a network's description takes; is it the right file?`);
  let json: ModelJson;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8")) as ModelJson;
  } catch (err) {
    throw new InputError(`${where}: its model.json is not JSON (${(err as Error).message}); save the network again.`);
  }
  if (json.format === "graph-model")
    throw new InputError(
      `${where}: its model.json is a graph model (a frozen TensorFlow graph), whose layers cannot be cut before the classifier: convert the Keras model with tensorflowjs_converter --output_format tfjs_layers_model instead.`,
    );
  if (!json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new InputError(
      `${where}: its model.json has no modelTopology and weightsManifest, so it is not a TensorFlow.js layers model; save the network again.`,
    );
  return json;
}

/** The weight files the manifest names, each a regular file inside the folder, in order; their bytes checked against what the manifest's weights take. */
function weightFiles(dir: string, json: ModelJson): string[] {
  const root = fs.realpathSync(dir);
  const files: string[] = [];
  let total = 0;
  for (const group of json.weightsManifest!) {
    for (const p of group.paths) {
      const file = path.resolve(root, p);
      const real = fs.existsSync(file) ? fs.realpathSync(file) : file;
      const rel = path.relative(root, real);
      if (rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel))
        throw new InputError(`${dir}/model.json names the weight file ${p}, outside its folder: it is not read. Keep the weight files beside model.json.`);
      const stat = fs.statSync(real, { throwIfNoEntry: false });
      if (!stat?.isFile())
        throw new InputError(`${dir}/model.json names the weight file ${p}, which is not in the folder: copy every .bin file model.json lists beside it.`);
      total += stat.size;
      if (total > MAX_WEIGHT_BYTES)
        throw new InputError(`${dir}: the weights are more than ${MAX_WEIGHT_BYTES / 1024 ** 2} MB; choose a smaller network (MobileNet is 2 to 25 MB).`);
      files.push(real);
    }
  }
  const expected = expectedWeightBytes(json);
  if (expected !== null && expected !== total)
    throw new InputError(
      `${dir}: the weight files hold ${total.toLocaleString("en")} bytes where model.json's weights take ${expected.toLocaleString("en")}: a file is cut short or from another network. Save or copy the network again.`,
    );
  return files;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes the manifest's weights take (a quantised weight its stored type's), or null when one is of a type without a fixed size. */
function expectedWeightBytes(json: ModelJson): number | null {
  let bytes = 0;
  for (const w of json.weightsManifest!.flatMap((g) => g.weights)) {
    const stored = (w.quantization as { dtype?: string } | undefined)?.dtype ?? w.dtype;
    const size = DTYPE_BYTES[stored];
    if (!size) return null;
    bytes += size * w.shape.reduce((a, b) => a * b, 1);
  }
  return bytes;
}

function readWeights(dir: string, json: ModelJson): ArrayBuffer {
  const out = Buffer.concat(weightFiles(dir, json).map((f) => fs.readFileSync(f)));
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
}

/**
 * The layers of a layers model's topology (Keras's, as model.json holds it: saved by
 * TensorFlow.js, or converted with its model_config), up to where the features are taken by
 * default: what can be checked before TensorFlow.js loads it.
 */
function layersBeforeFeatures(json: ModelJson): Array<{ class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }> {
  const topology = json.modelTopology as { model_config?: unknown; config?: unknown };
  const model = (topology.model_config ?? topology) as { config?: { layers?: unknown } | unknown[] };
  const raw = Array.isArray(model.config) ? model.config : (model.config as { layers?: unknown } | undefined)?.layers;
  if (!Array.isArray(raw)) return [];
  const layers = raw
    .filter((l): l is Record<string, unknown> => typeof l === "object" && l !== null)
    .map((l) => {
      const config = (l["config"] ?? {}) as Record<string, unknown>;
      return {
        class_name: String(l["class_name"]),
        name: String(l["name"] ?? config["name"]),
        config,
        inbound_nodes: (l["inbound_nodes"] as unknown[] | undefined) ?? [],
      };
    });
  const pooled = layers.map((l) => l.class_name).lastIndexOf("GlobalAveragePooling2D");
  const lastDense = layers.map((l) => l.class_name).lastIndexOf("Dense");
  return layers.slice(0, pooled >= 0 ? pooled + 1 : lastDense >= 0 ? lastDense : layers.length);
}

type LayersModel = import("@tensorflow/tfjs").LayersModel;
type Tensor = import("@tensorflow/tfjs").Tensor;

/** The network of the folder, cut at its features, with its input size. */
export async function loadFeatureNetwork(
  dir: string,
  featureLayer: string,
): Promise<{ tf: Tensorflow; backend: string; cut: LayersModel; state: Omit<TransferState, "head" | "classes" | "settings" | "input_range"> }> {
  const json = readModelJson(dir);
  const weightData = readWeights(dir, json);
  const { tf, backend } = await tensorflow();
  let model: LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as object,
        weightSpecs: json.weightsManifest!.flatMap((g) => g.weights) as import("@tensorflow/tfjs").io.WeightsManifestEntry[],
        weightData,
      }),
    );
  } catch (err) {
    throw new InputError(`The network in ${dir} could not be loaded by TensorFlow.js (${(err as Error).message}): save it again as a layers model.`);
  }
  const shape = model.inputs[0]!.shape;
  const [height, width, channels] = [shape[1], shape[2], shape[3]];
  if (model.inputs.length !== 1 || typeof height !== "number" || typeof width !== "number" || channels !== 3)
    throw new InputError(
      `The network in ${dir} takes ${JSON.stringify(model.inputs.map((i) => i.shape))}: a pretrained image network takes one image of a fixed height and width and 3 colour channels (MobileNet: 224 × 224 × 3).`,
    );
  const at = pickFeatureLayer(model, featureLayer, dir);
  const cut = tf.model({ inputs: model.inputs, outputs: at.output as import("@tensorflow/tfjs").SymbolicTensor });
  const outShape = cut.outputs[0]!.shape;
  const features = outShape.slice(1).reduce<number>((a, b) => a * (b ?? 0), 1);
  if (!features)
    throw new InputError(`The layer ${at.name} of the network in ${dir} has no fixed size (${JSON.stringify(outShape)}): name another with feature_layer.`);
  const layers = networkLayers(cut);
  return {
    tf,
    backend,
    cut,
    state: {
      source: { folder: dir, feature_layer: at.name, layers: layers.length, parameters: cut.countParams() },
      input: { height, width, channels: 3 },
      layers,
      features,
    },
  };
}

/** The layer whose output the features are: the one named, else the last global average pooling, else the input of the last dense layer. */
function pickFeatureLayer(model: LayersModel, named: string, dir: string): import("@tensorflow/tfjs").layers.Layer {
  if (named) {
    const layer = model.layers.find((l) => l.name === named);
    if (!layer)
      throw new InputError(
        `The network in ${dir} has no layer ${named}: its last layers are ${model.layers
          .slice(-6)
          .map((l) => l.name)
          .join(", ")}.`,
      );
    return layer;
  }
  const pooled = [...model.layers].reverse().find((l) => l.getClassName() === "GlobalAveragePooling2D");
  if (pooled) return pooled;
  const lastDense = [...model.layers].reverse().find((l) => l.getClassName() === "Dense");
  const feeding = lastDense ? model.layers.find((l) => l.outboundNodes.some((n) => n.outboundLayer === lastDense)) : undefined;
  if (feeding) return feeding;
  throw new InputError(
    `The network in ${dir} has no global average pooling and no dense classifier to cut before: name the features' layer with feature_layer.`,
  );
}

/** The cut network's layers as the model file keeps them (each after its inputs, as the Keras config lists them). */
function networkLayers(cut: LayersModel): NetworkLayer[] {
  const config = cut.toJSON(null, false) as unknown as {
    config: { layers: Array<{ class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }> };
  };
  const problems = config.config.layers.map(unrunnable).filter((p): p is string => p !== null);
  if (problems.length) throw new InputError(unrunnableMessage(problems));
  return config.config.layers.map((l) => {
    const layer = cut.getLayer(l.name);
    const values = layer.getWeights();
    // a layer used once has one inbound node: its inputs' layer names (a shared layer is not in MobileNet, and is refused above)
    const node = (l.inbound_nodes[0] ?? []) as Array<[string, number, number]>;
    return {
      class_name: l.class_name,
      name: l.name,
      config: l.config,
      inputs: node.map((n) => n[0]),
      weights: layer.weights.map((w, i) => ({
        name: w.originalName.split("/").pop() ?? w.originalName,
        shape: w.shape as number[],
        values: values[i]!.dataSync() as Float32Array,
      })),
    };
  });
}

/** Every image's features, batch by batch. */
async function featuresOf(
  tf: Tensorflow,
  cut: LayersModel,
  src: ImageBatchSource,
  input: TransferState["input"],
  range: TransferSettings["input_range"],
  features: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const out = new Float32Array(src.n * features);
  const size = src.height * src.width * src.channels;
  const one = input.height * input.width * 3;
  for (let i = 0; i < src.n; i += FEATURE_BATCH) {
    signal?.throwIfAborted();
    const n = Math.min(FEATURE_BATCH, src.n - i);
    const batch = new Float32Array(n * one);
    for (let b = 0; b < n; b++) batch.set(networkInput(src.pixels.subarray((i + b) * size, (i + b + 1) * size), src, input, range), b * one);
    const y = tf.tidy(() => (cut.predict(tf.tensor4d(batch, [n, input.height, input.width, 3])) as Tensor).reshape([n, features]));
    out.set((await y.data()) as Float32Array, i * features);
    y.dispose();
    // the conductor answers between batches
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

export type TrainedTransfer = TrainedImageNetwork<TransferState>;

/** Features from the folder's network, then the softmax layer on them trained epoch by epoch (hooks as the small CNN's). */
export async function trainTransfer(dir: string, train: ImageBatchSource, classes: number, params: Params, hooks: TrainingHooks): Promise<TrainedTransfer> {
  const s = transferSettings(params);
  const { tf, backend, cut, state: network } = await loadFeatureNetwork(dir, s.feature_layer);
  try {
    const started = performance.now();
    const trainX = await featuresOf(tf, cut, train, network.input, s.input_range, network.features, hooks.signal);
    const valX = hooks.val && hooks.val.n > 0 ? await featuresOf(tf, cut, hooks.val, network.input, s.input_range, network.features, hooks.signal) : null;
    hooks.onNote?.(
      `${network.source.feature_layer} of the network in ${dir} (${network.source.parameters.toLocaleString("en")} weights, frozen; ${network.input.width} × ${network.input.height} input): ${network.features} features of ${(train.n + (hooks.val?.n ?? 0)).toLocaleString("en")} images in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const d = network.features;
    const kernel = tf.variable(tf.randomNormal([d, classes], 0, Math.sqrt(1 / d), "float32", hooks.seed), true, `transfer_kernel_${uniqueSuffix()}`);
    const bias = tf.variable(tf.zeros([classes]), true, `transfer_bias_${uniqueSuffix()}`);
    const probabilities = (x: Float32Array, n: number) =>
      tf.tidy(() => tf.softmax(tf.matMul(tf.tensor2d(x, [n, d]), kernel).add(bias)).dataSync() as Float32Array).slice();
    const val = hooks.val;
    try {
      const { epochs, trajectory } = await runEpochs(
        {
          tf,
          n: train.n,
          labels: train.labels,
          classes,
          settings: s,
          variables: [kernel, bias],
          batch: (idx) => {
            const xb = new Float32Array(idx.length * d);
            idx.forEach((r, i) => xb.set(trainX.subarray(r * d, (r + 1) * d), i * d));
            return tf.tensor2d(xb, [idx.length, d]);
          },
          logits: (x, dropoutSeed) => tf.matMul(s.dropout > 0 ? tf.dropout(x, s.dropout, undefined, dropoutSeed) : x, kernel).add(bias),
          validate: async () => (valX && val ? accuracyAndLogLoss(probabilities(valX, val.n), val.labels, classes, 1e-7) : null),
          outputLayer: () => Float64Array.from([...kernel.dataSync(), ...bias.dataSync()]),
        },
        hooks,
      );
      const head = { kernel: (kernel.dataSync() as Float32Array).slice(), bias: (bias.dataSync() as Float32Array).slice() };
      const state: TransferState = { ...network, input_range: s.input_range, classes, settings: s, head };
      const n = Math.min(LANDSCAPE_IMAGES, train.n);
      return {
        state,
        epochs,
        backend,
        predict: async (src) => probabilities(await featuresOf(tf, cut, src, network.input, s.input_range, d, hooks.signal), src.n),
        descent: { trajectory, center: trajectory.at(-1)!, lossAt: softmaxLayerLoss(trainX.subarray(0, n * d), train.labels, n, d, classes) },
        dispose: () => {
          tf.dispose([kernel, bias]);
          cut.dispose();
        },
      };
    } catch (err) {
      tf.dispose([kernel, bias]);
      throw err;
    }
  } catch (err) {
    cut.dispose();
    throw err;
  }
}

/** a variable's name no other run's has (tfjs keeps variables by name) */
function uniqueSuffix(): string {
  return Math.random().toString(36).slice(2, 10);
}
