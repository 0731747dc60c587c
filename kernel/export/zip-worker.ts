/**
 * The worker thread behind project-export.ts: writes one zip as a stream. Each entry is read a
 * megabyte at a time (a file up to the size it had when the export began: the event log grows
 * while it is read), deflated and written, its sha256 taken on the way; the manifest, which
 * lists those hashes, is the last entry. The zip never sits in memory whole, and its bytes
 * depend only on the entries' bytes (fixed time stamps, the order given). Built as its own
 * bundle, dist/kernel/zip-worker.js.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { Zip, ZipDeflate } from "fflate";

export interface ZipRequest {
  /** the zip file to write (a temporary name; the caller renames it) */
  out: string;
  entries: Array<{ path: string } & ({ file: string; size: number } | { text: string })>;
  /** the manifest without its files, which this worker fills in; null: no manifest */
  manifest: ({ files?: never } & Record<string, unknown>) | null;
  manifestPath: string;
}

export type ZipMessage =
  | { kind: "progress"; done: number; total: number; path: string }
  | { kind: "done"; contents: Array<{ path: string; size: number; sha256: string }>; sha256: string; size: number }
  | { kind: "error"; message: string };

const CHUNK = 1024 * 1024;
// a fixed time, the same files making the same zip byte for byte: a zip stores local time, so
// local midnight (a UTC instant would be another hour in another time zone)
const MTIME = new Date(2020, 0, 1, 0, 0, 0);

function writeZip(req: ZipRequest, post: (m: ZipMessage) => void): void {
  const fd = fs.openSync(req.out, "w");
  const whole = createHash("sha256");
  let size = 0;
  let failure: Error | null = null;
  const zip = new Zip((err, data) => {
    if (err) failure = err;
    else {
      fs.writeSync(fd, data);
      whole.update(data);
      size += data.length;
    }
  });
  try {
    const contents: Array<{ path: string; size: number; sha256: string }> = [];
    const total = req.entries.length + (req.manifest ? 1 : 0);
    const add = (path: string, chunks: Iterable<Uint8Array>) => {
      const entry = new ZipDeflate(path, { level: 6 });
      entry.mtime = MTIME;
      zip.add(entry);
      const hash = createHash("sha256");
      let bytes = 0;
      for (const chunk of chunks) {
        hash.update(chunk);
        bytes += chunk.length;
        entry.push(chunk, false);
        if (failure) throw failure;
      }
      entry.push(new Uint8Array(0), true);
      if (failure) throw failure;
      contents.push({ path, size: bytes, sha256: hash.digest("hex") });
      post({ kind: "progress", done: contents.length, total, path });
    };
    for (const e of req.entries) add(e.path, "text" in e ? [new TextEncoder().encode(e.text)] : fileChunks(e.file, e.size));
    if (req.manifest) add(req.manifestPath, [new TextEncoder().encode(JSON.stringify({ ...req.manifest, files: [...contents] }, null, 2) + "\n")]);
    zip.end();
    if (failure) throw failure;
    fs.closeSync(fd);
    post({ kind: "done", contents, sha256: whole.digest("hex"), size });
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** The file's first `size` bytes, a chunk at a time. */
function* fileChunks(file: string, size: number): Generator<Uint8Array> {
  const fd = fs.openSync(file, "r");
  try {
    let at = 0;
    while (at < size) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size - at));
      const got = fs.readSync(fd, buffer, 0, buffer.length, at);
      if (got === 0) throw new Error(`${file} is shorter than when the export began (${at} of ${size} bytes)`);
      at += got;
      yield buffer.subarray(0, got);
    }
  } finally {
    fs.closeSync(fd);
  }
}

if (parentPort) {
  const port = parentPort;
  try {
    writeZip(workerData as ZipRequest, (m) => port.postMessage(m));
  } catch (error) {
    port.postMessage({ kind: "error", message: (error as Error).message } satisfies ZipMessage);
  }
}
