/** Errors the HTTP layer maps to status codes; their messages go to the client as they are. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** The request is well formed but does not fit the project's current state. */
export class ConflictError extends Error {
  override name = "ConflictError";
}
