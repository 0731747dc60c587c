/** Copying a data file into a project: streamed, and never more than the data size budget. */
import * as fs from "node:fs";
import * as path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InputError } from "../errors/input-error";
import { MAX_TABLE_FILE_BYTES, megabytes, openDataFile } from "./table-loader";

/**
 * Streams `source` into the file `dest` (replacing it only once complete), failing with
 * `tooBig()` as soon as more than `maxBytes` have come, and leaving nothing behind on any
 * failure. Returns the bytes written. Uploads and data_path copies both come through here.
 */
export async function streamToFile(source: Readable, dest: string, maxBytes: number, tooBig: () => Error): Promise<number> {
  const partial = `${dest}.partial`;
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) done(tooBig());
      else done(null, chunk);
    },
  });
  try {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    await pipeline(source, limit, fs.createWriteStream(partial));
    fs.renameSync(partial, dest);
  } catch (error) {
    source.destroy(); // failed before the pipeline took it: its descriptor or request is let go here
    fs.rmSync(partial, { force: true });
    throw error;
  }
  return size;
}

/** Copies a data file into a project (a regular file only, read through the descriptor it was checked on), never more than the data size budget. */
export async function copyDataFile(source: string, dest: string, maxBytes = MAX_TABLE_FILE_BYTES): Promise<void> {
  const { fd } = openDataFile(source);
  await streamToFile(
    fs.createReadStream("", { fd }),
    dest,
    maxBytes,
    () => new InputError(`${path.basename(source)} is larger than ${megabytes(maxBytes)}, the biggest data file this version loads.`),
  );
}
