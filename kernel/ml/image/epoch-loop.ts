/**
 * The one training loop of the image classifiers (the small CNN, and the softmax layer on a
 * pretrained network's features): Adam on shuffled mini-batches with the step's cosine decay,
 * epoch by epoch with the real training loss and accuracy, validation accuracy and loss after
 * each epoch, the best epoch's weights kept and training stopped after `patience` epochs
 * without a better one, and the output layer's weights recorded every few batches (the
 * gradient-descent view's trajectory). A model gives its batches and its logits.
 */
import { seededRandom, shuffleInPlace } from "../../data/seeded-random";
import type { Descent } from "../loss-landscape";
import type { Tensorflow } from "../tfjs/tensorflow-backend";

type Tensor = import("@tensorflow/tfjs").Tensor;
type Variable = import("@tensorflow/tfjs").Variable;

/** the output layer's weights are recorded at most this many times over a run */
const TRAJECTORY_POINTS = 240;

/** images as the network reads them: n × height × width × channels, values 0–1 */
export interface ImageBatchSource {
  n: number;
  height: number;
  width: number;
  channels: number;
  /** 8-bit pixels, image after image */
  pixels: Uint8Array;
  labels: Int32Array;
}

/** One epoch's figures, as a trainer reports them. */
export interface EpochReport {
  epoch: number;
  epochs: number;
  train_loss: number;
  train_accuracy: number;
  val_loss: number | null;
  val_accuracy: number | null;
  images_per_s: number;
}

/** What a trainer tells as it goes, and what it is given besides the training images. */
export interface TrainingHooks {
  val?: ImageBatchSource;
  /** after every batch (its loss), for progress */
  onBatch?(batch: number, batches: number, loss: number): Promise<void> | void;
  onEpoch?(e: EpochReport): Promise<void> | void;
  /** a sentence for the run's log (what a pretrained network's features took) */
  onNote?(text: string): void;
  signal?: AbortSignal;
  seed: number;
}

/** A trained image network: what its model file keeps (`state`), and how it predicts more images. */
export interface TrainedImageNetwork<State> {
  state: State;
  /** the epochs run (early stopping may end before the planned ones) */
  epochs: number;
  backend: string;
  /** class probabilities of more images with the kept weights */
  predict(src: ImageBatchSource): Promise<Float32Array>;
  /**
   * the output layer's real trajectory (its weights every few batches) and the training loss as
   * a function of them on the network's features of a fixed slice of training images: the
   * gradient-descent view's landscape (the layers below it are those of the kept network)
   */
  descent: Descent;
  dispose(): void;
}

export interface EpochLoopModel {
  tf: Tensorflow;
  /** the training rows and their classes */
  n: number;
  labels: Int32Array;
  classes: number;
  settings: { epochs: number; batch_size: number; learning_rate: number; patience: number };
  /** every weight that trains (the best epoch's are put back at the end) */
  variables: Variable[];
  /** the rows `idx` as a batch tensor (`random`: the run's seeded stream, for augmentation) */
  batch(idx: number[], random: () => number): Tensor;
  /** the batch's logits while training (dropout seeded by `dropoutSeed`) */
  logits(x: Tensor, dropoutSeed: number): Tensor;
  /** validation accuracy and log loss of the weights as they are, or null without validation rows */
  validate(): Promise<{ accuracy: number; loss: number } | null>;
  /** the output layer's weights, kernel then bias: a point of the trajectory */
  outputLayer(): Float64Array;
}

/** Trains the model's variables epoch by epoch (see the file's comment); returns the epochs run and the trajectory, the best epoch's weights in place. */
export async function runEpochs(m: EpochLoopModel, hooks: TrainingHooks): Promise<{ epochs: number; trajectory: Float64Array[] }> {
  const { tf, settings: s } = m;
  const optimizer = tf.train.adam(s.learning_rate);
  const random = seededRandom(hooks.seed);
  const order = Array.from({ length: m.n }, (_, i) => i);
  const batches = Math.ceil(m.n / s.batch_size);
  const recordEvery = Math.max(1, Math.floor((s.epochs * batches) / TRAJECTORY_POINTS));
  const trajectory: Float64Array[] = [];
  let best: { accuracy: number; epoch: number; values: Float32Array[] } | null = null;
  let epochsRun = 0;
  try {
    for (let epoch = 1; epoch <= s.epochs; epoch++) {
      const started = performance.now();
      // cosine decay of the step over the planned epochs, to a twentieth of it: the last epochs settle rather than wander
      (optimizer as unknown as { learningRate: number }).learningRate =
        s.learning_rate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / s.epochs)));
      shuffleInPlace(order, random);
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < batches; b++) {
        hooks.signal?.throwIfAborted();
        const idx = order.slice(b * s.batch_size, (b + 1) * s.batch_size);
        const xs = m.batch(idx, random);
        const ys = tf.oneHot(
          tf.tensor1d(
            Int32Array.from(idx, (i) => m.labels[i]!),
            "int32",
          ),
          m.classes,
        );
        let predicted: Tensor | null = null;
        const loss = optimizer.minimize(
          () =>
            tf.tidy(() => {
              const logits = m.logits(xs, hooks.seed * 100_003 + epoch * batches + b);
              predicted = tf.keep(logits.argMax(-1));
              return tf.losses.softmaxCrossEntropy(ys, logits) as import("@tensorflow/tfjs").Scalar;
            }),
          true,
          m.variables,
        )!;
        const value = (await loss.data())[0]!;
        const guesses = await (predicted as unknown as Tensor).data();
        for (let i = 0; i < idx.length; i++) if (guesses[i] === m.labels[idx[i]!]) correct++;
        lossSum += value * idx.length;
        tf.dispose([xs, ys, loss, predicted as unknown as Tensor]);
        if (((epoch - 1) * batches + b) % recordEvery === 0) trajectory.push(m.outputLayer());
        await hooks.onBatch?.(b + 1, batches, value);
      }
      epochsRun = epoch;
      const validated = await m.validate();
      if (validated && (!best || validated.accuracy > best.accuracy))
        best = { accuracy: validated.accuracy, epoch, values: m.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array)) };
      await hooks.onEpoch?.({
        epoch,
        epochs: s.epochs,
        train_loss: lossSum / m.n,
        train_accuracy: correct / m.n,
        val_loss: validated?.loss ?? null,
        val_accuracy: validated?.accuracy ?? null,
        images_per_s: m.n / ((performance.now() - started) / 1000),
      });
      if (best && epoch - best.epoch >= s.patience) break;
    }
    if (best) m.variables.forEach((v, i) => v.assign(tf.tensor(best!.values[i]!, v.shape)));
    trajectory.push(m.outputLayer());
    return { epochs: epochsRun, trajectory };
  } finally {
    optimizer.dispose();
  }
}
