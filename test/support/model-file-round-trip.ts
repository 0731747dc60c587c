import type { SavedModel } from "../../kernel/ml/learner";
import { decodeModelFile, encodeModelFile } from "../../kernel/ml/model-file";

/** A saved model as it comes back from a model file's bytes (how a project keeps it). */
export function throughModelFile(saved: SavedModel): SavedModel {
  return decodeModelFile(encodeModelFile(saved)) as SavedModel;
}
