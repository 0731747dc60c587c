/**
 * Reading a zip that came from elsewhere (a Kaggle download) without trusting it: its
 * directory is read first, and the whole archive is refused when an entry's name would leave
 * the folder it is extracted into (`../`, an absolute path, a drive letter) or when what it
 * declares would expand past a limit; one entry is then extracted as a stream, counting the
 * bytes it really expands to (an entry that lies about its size is stopped there) and checking
 * its CRC, into `NAME.part`, renamed into place only when whole.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import * as zlib from "node:zlib";
import { InputError } from "../errors/input-error";

export interface ZipEntry {
  name: string;
  compressedSize: number;
  size: number;
  method: number;
  crc32: number;
  encrypted: boolean;
  localHeaderOffset: number;
}

/** expanded bytes a zip may declare, in all, by default (a larger one is refused as a possible bomb) */
export const DEFAULT_MAX_EXPANDED_BYTES = 4 * 1024 ** 3;

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The archive's entries from its central directory (zip64 too); a file that is not a zip is refused. */
export function zipEntries(file: string, shownAs: string): ZipEntry[] {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const tailLength = Math.min(size, 22 + 65_535 + 20);
    const tail = Buffer.alloc(tailLength);
    fs.readSync(fd, tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new InputError(`${shownAs} is not a zip archive (no directory at its end): the download may be damaged. Run the stage again.`);
    let count = tail.readUInt16LE(eocd + 10);
    let dirSize = tail.readUInt32LE(eocd + 12);
    let dirOffset = tail.readUInt32LE(eocd + 16);
    if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
      const at = Number(tail.readBigUInt64LE(eocd - 20 + 8));
      const z = Buffer.alloc(56);
      fs.readSync(fd, z, 0, 56, at);
      if (z.readUInt32LE(0) !== ZIP64_EOCD) throw new InputError(`${shownAs} has a damaged zip64 directory. Run the stage again.`);
      count = Number(z.readBigUInt64LE(32));
      dirSize = Number(z.readBigUInt64LE(40));
      dirOffset = Number(z.readBigUInt64LE(48));
    }
    if (dirOffset + dirSize > size)
      throw new InputError(`${shownAs} is cut short (its directory points past its end): the download is incomplete. Run the stage again.`);
    const dir = Buffer.alloc(dirSize);
    fs.readSync(fd, dir, 0, dirSize, dirOffset);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) throw new InputError(`${shownAs} has a damaged zip directory. Run the stage again.`);
      const flags = dir.readUInt16LE(p + 8);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      const rawName = dir.subarray(p + 46, p + 46 + nameLength);
      let compressedSize = dir.readUInt32LE(p + 20);
      let uncompressed = dir.readUInt32LE(p + 24);
      let offset = dir.readUInt32LE(p + 42);
      // zip64: the sizes and offset that did not fit are in the 0x0001 extra field, in this order
      const extra = dir.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
      for (let e = 0; e + 4 <= extra.length;) {
        const id = extra.readUInt16LE(e);
        const len = extra.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (uncompressed === 0xffffffff) ((uncompressed = Number(extra.readBigUInt64LE(q))), (q += 8));
          if (compressedSize === 0xffffffff) ((compressedSize = Number(extra.readBigUInt64LE(q))), (q += 8));
          if (offset === 0xffffffff) offset = Number(extra.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      entries.push({
        // bit 11: UTF-8 names; otherwise CP437, read as Latin-1 (the same for ASCII names)
        name: rawName.toString(flags & 0x800 ? "utf8" : "latin1"),
        compressedSize,
        size: uncompressed,
        method: dir.readUInt16LE(p + 10),
        crc32: dir.readUInt32LE(p + 16),
        encrypted: (flags & 1) === 1,
        localHeaderOffset: offset,
      });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The entries, checked as a whole before anything is extracted: every name stays inside the
 * folder, and the declared expanded sizes stay under `maxExpandedBytes`. Files only (folders
 * dropped), names with forward slashes.
 */
export function checkedZipEntries(file: string, shownAs: string, maxExpandedBytes = DEFAULT_MAX_EXPANDED_BYTES): ZipEntry[] {
  const entries = zipEntries(file, shownAs);
  for (const e of entries) {
    const name = e.name.replace(/\\/g, "/");
    if (name.startsWith("/") || /^[a-zA-Z]:/.test(name) || name.split("/").includes("..")) {
      throw new InputError(
        `${shownAs} holds an entry named ${JSON.stringify(e.name)}, which leads out of the folder it would be extracted into: the archive is refused and nothing was extracted. Get the data from its owner another way.`,
      );
    }
  }
  const files = entries.filter((e) => !e.name.endsWith("/") && !e.name.endsWith("\\"));
  const total = files.reduce((sum, e) => sum + e.size, 0);
  if (total > maxExpandedBytes) {
    throw new InputError(
      `${shownAs} would expand to ${sizeInWords(total)} (from ${sizeInWords(fs.statSync(file).size)}), past the ${sizeInWords(maxExpandedBytes)} this product expands from an archive: it is refused and nothing was extracted. Raise AUTOML_MAX_EXPANDED_BYTES if the data really is that large.`,
    );
  }
  return files.map((e) => ({ ...e, name: e.name.replace(/\\/g, "/") }));
}

/**
 * Extracts one entry (from checkedZipEntries) to `dest`, streamed: stored or deflated only,
 * never more bytes than the entry declares (a lying entry is a bomb: stopped and refused), its
 * CRC checked; through `dest.part`, so a failure leaves nothing behind.
 */
export async function extractZipEntry(file: string, entry: ZipEntry, dest: string, shownAs: string): Promise<void> {
  if (entry.encrypted) throw new InputError(`${entry.name} in ${shownAs} is encrypted: it cannot be read without its password.`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new InputError(
      `${entry.name} in ${shownAs} is compressed with method ${entry.method}, which this product does not expand (only stored and deflated entries).`,
    );
  }
  const fd = fs.openSync(file, "r");
  let start: number;
  try {
    const local = Buffer.alloc(30);
    fs.readSync(fd, local, 0, 30, entry.localHeaderOffset);
    if (local.readUInt32LE(0) !== LOCAL)
      throw new InputError(`${shownAs} is damaged (no entry where its directory says ${entry.name} is). Run the stage again.`);
    start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    fs.closeSync(fd);
  }
  const part = `${dest}.part`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  let written = 0;
  let crc = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      written += chunk.length;
      if (written > entry.size) {
        done(
          new InputError(
            `${entry.name} in ${shownAs} expands past the ${sizeInWords(entry.size)} its archive declares: a zip bomb or a damaged archive. It is refused and nothing was kept.`,
          ),
        );
        return;
      }
      crc = zlib.crc32(chunk, crc);
      done(null, chunk);
    },
  });
  const raw = fs.createReadStream(file, { start, end: start + entry.compressedSize - 1, highWaterMark: 1 << 20 });
  try {
    if (entry.compressedSize === 0) fs.writeFileSync(part, "");
    else if (entry.method === 0) await pipeline(raw, counted, fs.createWriteStream(part));
    else await pipeline(raw, zlib.createInflateRaw({ chunkSize: 1 << 20 }), counted, fs.createWriteStream(part));
    if (written !== entry.size || crc >>> 0 !== entry.crc32 >>> 0) {
      throw new InputError(
        `${entry.name} in ${shownAs} is damaged (it expanded to ${written} bytes of ${entry.size}, or its checksum differs). Run the stage again.`,
      );
    }
    fs.renameSync(part, dest);
  } catch (err) {
    raw.destroy();
    fs.rmSync(part, { force: true });
    if (err instanceof InputError) throw err;
    throw new InputError(`${entry.name} in ${shownAs} cannot be expanded (${(err as Error).message}): the archive is damaged. Run the stage again.`);
  }
}

/** A size as messages give it: gigabytes from 1 GiB, else megabytes, one decimal. */
export function sizeInWords(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
