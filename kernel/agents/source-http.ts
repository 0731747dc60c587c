/**
 * HTTP for the network data sources (the Hugging Face Hub, Kaggle): one fetch that retries
 * what is worth retrying (429 and 5xx answers, honouring Retry-After; a connection refused,
 * reset or timed out) and one download that writes a file as it arrives, resumes a dropped
 * transfer from the bytes it has, and renames the file into place only when it is whole.
 * Both sources use them, the Hub's library through its `fetch` parameter.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { sizeInWords } from "../data/safe-unzip";
import { InputError } from "../errors/input-error";

export interface RetryOptions {
  /** attempts in all, the first included */
  attempts: number;
  /** the first wait before a retry, doubled each time (Retry-After wins when the server sends it) */
  baseDelayMs: number;
  /** no wait is longer than this, whatever Retry-After says */
  maxDelayMs: number;
  /** a request without response headers by then is abandoned (and retried) */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 30_000 };

/** What went wrong reaching a source, in words; `status` when it answered. */
export class SourceHttpError extends InputError {
  override name = "SourceHttpError";
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

const RETRIED_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Seconds or an HTTP date, as Retry-After says; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** Waits, or rejects with the signal's reason when it aborts. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

/**
 * A `fetch` that retries 408/429/5xx answers and failed connections, waiting as Retry-After
 * says (else backing off), up to `attempts`; the last answer (or error) is the caller's.
 * `onRetry` hears each wait, so a stage can say why it is slow.
 */
export function retryingFetch(options: Partial<RetryOptions> & { onRetry?: (why: string, waitMs: number) => void; signal?: AbortSignal } = {}): typeof fetch {
  const o = { ...DEFAULT_RETRY, ...options };
  return async (input, init) => {
    for (let attempt = 1; ; attempt++) {
      const { signal, answered } = untilAnswered(init?.signal ?? o.signal ?? null, o.timeoutMs);
      let why: string;
      let wait = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
      try {
        const res = await fetch(input, { ...init, signal }).finally(answered);
        if (!RETRIED_STATUS.has(res.status) || attempt >= o.attempts) return res;
        why = `${res.status} ${res.statusText}`.trim();
        const after = retryAfterMs(res.headers.get("retry-after"));
        if (after !== null) wait = Math.min(o.maxDelayMs, after);
        await res.body?.cancel();
      } catch (err) {
        why = connectionProblem(err);
        // only what may pass in a second is retried (a drop, a silence); a host that is not there, a bad address, is not
        if ((init?.signal ?? o.signal)?.aborted || attempt >= o.attempts || !transient(err)) throw err;
      }
      o.onRetry?.(why, wait);
      await sleep(wait, init?.signal ?? o.signal ?? undefined);
    }
  };
}

/**
 * A signal that aborts with `outer`, or as a TimeoutError when no answer came in `ms`: once
 * `answered` is called the clock stops, so a long body (a 200 MB download) is never cut by it.
 */
function untilAnswered(outer: AbortSignal | null, ms: number): { signal: AbortSignal; answered: () => void } {
  const both = new AbortController();
  const timer = setTimeout(() => both.abort(new DOMException(`no answer in ${ms / 1000} s`, "TimeoutError")), ms);
  if (outer?.aborted) both.abort(outer.reason);
  outer?.addEventListener("abort", () => both.abort(outer.reason), { once: true });
  return { signal: both.signal, answered: () => clearTimeout(timer) };
}

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "UND_ERR_SOCKET",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "EAI_AGAIN",
]);

function transient(err: unknown): boolean {
  const e = err as { name?: string; cause?: { code?: string } };
  return e?.name === "TimeoutError" || TRANSIENT_CODES.has(e?.cause?.code ?? "");
}

/** A failed fetch's cause in words ("connection refused", "timed out"). */
export function connectionProblem(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return "no answer in time";
  const code = e?.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection dropped";
  return e?.cause?.message ?? e?.message ?? String(err);
}

export interface DownloadOptions {
  /**
   * opens the transfer from byte `offset` (a Range request past 0); answers the body's stream
   * and the byte it starts at (0 when the server sent the whole file again instead of the range)
   */
  open(offset: number): Promise<{ body: ReadableStream<Uint8Array>; from: number }>;
  /** the whole file's size when known: progress and the check that nothing is missing */
  size: number | null;
  dest: string;
  /** what is downloaded, for messages ("penguins.parquet from hf:owner/name") */
  what: string;
  onProgress?: (bytes: number, size: number | null) => void;
  /** transfers that drop are resumed this many times before the download fails */
  resumes?: number;
  signal?: AbortSignal;
}

/**
 * Downloads into `dest` through `dest.part`: a transfer that drops is resumed from the bytes
 * already written (up to `resumes` times, with a pause between); the file appears under its
 * name only when it has all its bytes, so a failure leaves nothing half-written behind.
 */
export async function downloadToFile(options: DownloadOptions): Promise<void> {
  const part = `${options.dest}.part`;
  fs.mkdirSync(path.dirname(options.dest), { recursive: true });
  fs.rmSync(part, { force: true });
  fs.writeFileSync(part, "");
  let written = 0;
  const resumes = options.resumes ?? 3;
  let lastError: unknown = null;
  try {
    for (let attempt = 0; attempt <= resumes; attempt++) {
      if (attempt > 0) await sleep(Math.min(4000, 250 * 2 ** attempt), options.signal);
      try {
        const { body, from } = await options.open(written);
        if (from !== written) {
          if (from !== 0) throw new SourceHttpError(`${options.what}: the server resumed at byte ${from}, not ${written}: the download is not used.`, null);
          // the server sent the whole file again: so the file starts again
          fs.truncateSync(part, 0);
          written = 0;
        }
        const out = fs.createWriteStream(part, { flags: "a" });
        try {
          for await (const chunk of Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>)) {
            const bytes = chunk as Buffer;
            if (!out.write(bytes)) await new Promise<void>((r) => out.once("drain", () => r()));
            written += bytes.length;
            options.onProgress?.(written, options.size);
          }
        } finally {
          await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        }
        if (options.size !== null && written < options.size) throw new Error(`the transfer ended after ${written} of ${options.size} bytes`);
        if (options.size !== null && written > options.size) {
          throw new SourceHttpError(`${options.what} came with ${written} bytes where ${options.size} were announced: the download is not used.`, null);
        }
        fs.renameSync(part, options.dest);
        return;
      } catch (err) {
        if (err instanceof SourceHttpError || options.signal?.aborted) throw err;
        lastError = err;
      }
    }
  } catch (err) {
    fs.rmSync(part, { force: true });
    throw err;
  }
  fs.rmSync(part, { force: true });
  const reason = lastError instanceof Error ? connectionProblem(lastError) : String(lastError);
  throw new SourceHttpError(
    `The download of ${options.what} stopped ${options.size ? `at ${sizeInWords(written)} of ${sizeInWords(options.size)}` : `after ${sizeInWords(written)}`} and did not resume after ${resumes} tries (${reason}). Nothing was kept; check the connection and run the stage again.`,
    null,
  );
}

/**
 * The cached file into the project: a copy (a clone where the file system shares blocks), never
 * a link, so a project that changes its file cannot change the cache under another project.
 */
export function placeFile(cached: string, dest: string): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(cached, dest, fs.constants.COPYFILE_FICLONE);
}

/** A base URL without the slashes at its end ("https://huggingface.co/" → "https://huggingface.co"). */
export function withoutTrailingSlash(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === "/") end--;
  return url.slice(0, end);
}
