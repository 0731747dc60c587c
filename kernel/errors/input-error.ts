/**
 * A problem with what the person gave us (a file, a prompt, a column name, a plan), as
 * opposed to a bug. Its message says what is wrong and what to do; the server answers it
 * with 400 and a failed stage shows it as its reason.
 */
export class InputError extends Error {
  override name = "InputError";
  constructor(message: string) {
    super(message);
  }
}

export function isInputError(err: unknown): err is InputError {
  return err instanceof InputError;
}
