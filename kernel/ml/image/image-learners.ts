/**
 * The image classifiers a plan may name, as the tabular learners' zoo lists its own: each with
 * its defaults, the settings a search tries, and whether it can run here.
 */
import { InputError } from "../../errors/input-error";
import type { Params } from "../learner";
import { configuredPretrainedFolder, PRETRAINED_MODEL_ENV, pretrainedFolderProblem, trainTransfer, TRANSFER_DEFAULTS } from "./pretrained-network";
import type { TransferState } from "./transfer-model";
import type { ImageBatchSource, TrainedImageNetwork, TrainingHooks } from "./epoch-loop";
import { CNN_DEFAULTS, trainCnn, type CnnState } from "./small-cnn";

export interface ImageLearner {
  id: string;
  name: string;
  family: string;
  why: string;
  defaults: Params;
  /** whether it can train here (a pretrained network needs its weights on disk) */
  available(): boolean;
  searchSpace(): Params[];
  fit(train: ImageBatchSource, classes: number, params: Params, hooks: TrainingHooks): Promise<TrainedImageModel>;
}

/** What a model file keeps of a trained image classifier. */
export type ImageModelState = { kind: "small_cnn"; cnn: CnnState } | { kind: "pretrained_transfer"; transfer: TransferState };

/** A trained image classifier, its model file's part as the model document holds it. */
export type TrainedImageModel = Omit<TrainedImageNetwork<unknown>, "state"> & { model: ImageModelState };

export const IMAGE_LEARNERS: readonly ImageLearner[] = [
  {
    id: "small_cnn",
    name: "Small convolutional network",
    family: "neural network",
    why: "two convolution blocks learn strokes and shapes from the pixels themselves; trained epoch by epoch with shifted copies of the images, stopped when validation accuracy stops improving",
    defaults: { ...CNN_DEFAULTS },
    available: () => true,
    searchSpace: (): Params[] => [{ filters: 32 }, { learning_rate: 0.001, epochs: 20 }, { augment_shift: 0 }, { dropout: 0.4 }],
    fit: async (train, classes, params, hooks) => {
      const t = await trainCnn(train, classes, params, hooks);
      return { ...t, model: { kind: "small_cnn", cnn: t.state } };
    },
  },
  {
    id: "mobilenet_transfer",
    name: "Pretrained network, retrained last layer (transfer learning)",
    family: "neural network",
    why: `the pretrained network in the folder ${PRETRAINED_MODEL_ENV} names (MobileNet, trained on ImageNet's photos) turns each image into features, frozen; only a softmax layer on them is trained, so a few hundred photos can be enough`,
    defaults: { ...TRANSFER_DEFAULTS },
    available: () => configuredPretrainedFolder() !== null && pretrainedFolderProblem() === null,
    searchSpace: (): Params[] => [{ learning_rate: 0.02 }, { dropout: 0.5 }, { learning_rate: 0.001, epochs: 60 }],
    fit: async (train, classes, params, hooks) => {
      try {
        const t = await trainTransfer(configuredPretrainedFolder()!, train, classes, params, hooks);
        return { ...t, model: { kind: "pretrained_transfer", transfer: t.state } };
      } catch (err) {
        // the network's problem is this run's, not the data's: the run fails with why, the other models' runs stand
        if (err instanceof InputError) throw new Error(err.message);
        throw err;
      }
    },
  },
];

export function findImageLearner(id: string): ImageLearner | undefined {
  return IMAGE_LEARNERS.find((l) => l.id === id);
}
