/** A model file's document as the predict paths read it: decoded, or what is wrong with the file in words. */
import { InputError } from "../errors/input-error";
import { decodeModelFile, ModelFileError } from "../ml/model-file";

/** A model file's document, or what is wrong with the file (an InputError). */
export function decodeModelDocument(bytes: Uint8Array, shownAs: string): unknown {
  try {
    return decodeModelFile(bytes, shownAs);
  } catch (err) {
    if (err instanceof ModelFileError)
      throw new InputError(`${err.message} Give a model file this product wrote (a project's models/<run>.model), the project's folder, or its export zip.`);
    throw err;
  }
}
