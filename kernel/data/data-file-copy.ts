/** Copying a data file into a project: streamed, and never more than the data size budget. */
import * as fs from "node:fs";
import * as path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InputError } from "../errors/input-error";
import { MAX_TABLE_FILE_BYTES, megabytes } from "./table-loader";

/** Streams `source` to `dest` (replacing it only once complete); refuses past `maxBytes` while reading, leaving nothing behind. */
export async function copyDataFile(source: string, dest: string, maxBytes = MAX_TABLE_FILE_BYTES): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) done(new InputError(`${path.basename(source)} is larger than ${megabytes(maxBytes)}, the biggest data file this version loads.`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(fs.createReadStream(source), limit, fs.createWriteStream(partial));
    fs.renameSync(partial, dest);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
}
