/** Reading request bodies and writing JSON answers, with the error → status mapping in one place. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { ApiError } from "../../contract";
import { streamToFile } from "../data/data-file-copy";
import { isInputError } from "../errors/input-error";
import { ConflictError, NotFoundError } from "../errors/request-errors";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_JSON_BYTES = 5 * 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return; // answered already (a handler past its time limit finishing late)
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

export function statusFor(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (isInputError(err) || err instanceof z.ZodError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  return 500;
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusFor(err);
  let message: string;
  if (err instanceof z.ZodError) message = `Invalid request: ${err.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`;
  else if (status === 500) message = "Internal error in the conductor; its log has the details.";
  else message = (err as Error).message;
  const body: ApiError = { error: message };
  if (!res.headersSent) sendJson(res, status, body);
  else res.destroy();
}

/** Parses a JSON body against a schema; an empty body counts as `{}`. */
export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BYTES) throw new HttpError(413, `Request body is larger than ${MAX_JSON_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  let value: unknown = {};
  if (text) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, "Request body is not valid JSON.");
    }
  }
  return schema.parse(wellFormed(value));
}

/** a UTF-16 surrogate without its pair (JSON can carry one as an escape; no file, notebook or UTF-8 stream can) */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** how deep a request body's arrays and objects may nest */
export const MAX_BODY_DEPTH = 64;

/**
 * Every string of a request body made well-formed (a lone surrogate becomes U+FFFD), so what a
 * client sends can be written anywhere: the event log, a notebook Jupyter reads, a zip.
 */
export function wellFormed(value: unknown, depth = 0): unknown {
  // no request of this API nests deeper than a few levels; thousands of levels ran this
  // function (and would run the schema's parse) out of stack, answered 500
  if (depth > MAX_BODY_DEPTH) throw new HttpError(400, `Request body nests deeper than ${MAX_BODY_DEPTH} levels of arrays and objects.`);
  if (typeof value === "string") return value.replace(LONE_SURROGATE, "\uFFFD");
  if (Array.isArray(value)) return value.map((v) => wellFormed(v, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k, depth + 1) as string, wellFormed(v, depth + 1)]));
  }
  return value;
}

/** Streams a request body to a file, refusing more than `maxBytes` (413) while it reads. */
export function saveBody(req: IncomingMessage, file: string, maxBytes: number): Promise<number> {
  const mb = Math.round(maxBytes / 1024 / 1024);
  return streamToFile(
    req,
    file,
    maxBytes,
    () =>
      new HttpError(
        413,
        `Upload is larger than ${mb} MB, the most this server takes over HTTP. Give the file by its path instead (automl run --data FILE, or open it from VS Code): a file on this machine is read in place, as a stream. Or upload a sample of the rows.`,
      ),
  );
}
