/**
 * The image classifiers a plan may name, as the tabular learners' zoo lists its own: each with
 * its defaults, the settings a search tries, and whether it can run here.
 */
import type { Params } from "../learner";
import { CNN_DEFAULTS, trainCnn, type CnnHooks, type CnnState, type ImageBatchSource, type TrainedCnn } from "./small-cnn";

export interface ImageLearner {
  id: string;
  name: string;
  family: string;
  why: string;
  defaults: Params;
  /** whether it can train here (a pretrained network needs its weights on disk) */
  available(): boolean;
  searchSpace(): Params[];
  fit(train: ImageBatchSource, classes: number, params: Params, hooks: CnnHooks): Promise<TrainedCnn>;
}

export type ImageModelState = { kind: "small_cnn"; cnn: CnnState };

export const IMAGE_LEARNERS: readonly ImageLearner[] = [
  {
    id: "small_cnn",
    name: "Small convolutional network",
    family: "neural network",
    why: "two convolution blocks learn strokes and shapes from the pixels themselves; trained epoch by epoch with shifted copies of the images, stopped when validation accuracy stops improving",
    defaults: { ...CNN_DEFAULTS },
    available: () => true,
    searchSpace: (): Params[] => [{ filters: 32 }, { learning_rate: 0.001, epochs: 20 }, { augment_shift: 0 }, { dropout: 0.4 }],
    fit: (train, classes, params, hooks) => trainCnn(train, classes, params, hooks),
  },
];

export function findImageLearner(id: string): ImageLearner | undefined {
  return IMAGE_LEARNERS.find((l) => l.id === id);
}
