/**
 * Files a project produces (samples, profiles, models, the notebook, the zip) live under
 * its folder and are served at /api/projects/{id}/assets/{path}. Events carry the URL,
 * never the data (the contract's asset rules).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { threadId } from "node:worker_threads";
import { apiPaths, type FileEntry } from "../../contract";
import { openIfRegular } from "../files/regular-file";

export interface WrittenAsset {
  /** path relative to the project folder, with forward slashes */
  relPath: string;
  url: string;
  size: number;
  sha256: string;
}

export class AssetStore {
  constructor(
    readonly projectId: string,
    readonly root: string,
  ) {}

  url(relPath: string): string {
    return apiPaths.asset(this.projectId, relPath);
  }

  absolute(relPath: string): string {
    const abs = path.resolve(this.root, relPath);
    if (abs !== this.root && !abs.startsWith(this.root + path.sep)) throw new Error(`asset path escapes the project: ${relPath}`);
    return abs;
  }

  write(relPath: string, content: string | Uint8Array): WrittenAsset {
    const abs = this.absolute(relPath);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    // write then rename, so a reader (or a crash) never sees half a file
    const tmp = `${abs}.${process.pid}-${threadId}.tmp`;
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, abs);
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    return { relPath, url: this.url(relPath), size: bytes.length, sha256: sha256(bytes) };
  }

  writeJson(relPath: string, value: unknown): WrittenAsset {
    return this.write(relPath, JSON.stringify(value, null, 1) + "\n");
  }

  /**
   * The real path of `relPath` when it is a regular file inside the project, following links
   * only while they stay inside; null otherwise (missing, a folder or a special file such as a
   * FIFO, or a link leading out: a project folder shared as a zip must not leak the files of
   * whoever opens it).
   */
  regularFile(relPath: string): string | null {
    const real = this.realInside(relPath);
    return real && fs.statSync(real).isFile() ? real : null;
  }

  /**
   * `relPath` opened for reading when it is a regular file inside the project (see
   * regularFile), checked on the descriptor itself so that nothing swapped in between (a FIFO,
   * whose open would wait for good) is read; null otherwise. The caller closes the descriptor
   * (a stream given it closes it at its end).
   */
  openRegular(relPath: string): { fd: number; size: number } | null {
    const real = this.realInside(relPath);
    if (!real) return null;
    const opened = openIfRegular(real);
    return "refused" in opened ? null : { fd: opened.fd, size: opened.stat.size };
  }

  /** The real path of `relPath` when it exists and stays inside the project, links followed; null otherwise. */
  private realInside(relPath: string): string | null {
    let real: string;
    try {
      real = fs.realpathSync(this.absolute(relPath));
    } catch {
      return null;
    }
    const root = this.realRoot();
    return real === root || real.startsWith(root + path.sep) ? real : null;
  }

  private realRootValue: string | null = null;
  private realRoot(): string {
    this.realRootValue ??= fs.realpathSync(this.root);
    return this.realRootValue;
  }

  /** A project file's bytes; refused when it is not a regular file inside the project (see regularFile). */
  read(relPath: string): Buffer {
    const opened = this.openRegular(relPath);
    if (!opened) throw new Error(`${relPath} is not a regular file inside the project folder (missing, special, or a link leading out of it)`);
    try {
      return fs.readFileSync(opened.fd);
    } finally {
      fs.closeSync(opened.fd);
    }
  }

  /** Removes a file of the project (a link is removed itself, never what it points to). */
  remove(relPath: string): void {
    fs.rmSync(this.absolute(relPath), { force: true });
  }

  exists(relPath: string): boolean {
    return fs.existsSync(this.absolute(relPath));
  }

  /** FILE_TREE_UPDATE entries for the given files (hashed as streams: a search's models are tens of megabytes, read without holding the event loop). */
  async fileEntries(relPaths: string[]): Promise<FileEntry[]> {
    const entries: FileEntry[] = [];
    for (const p of relPaths) {
      const opened = this.openRegular(p);
      if (!opened) throw new Error(`${p} is not a regular file inside the project folder (missing, special, or a link leading out of it)`);
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of fs.createReadStream("", { fd: opened.fd })) {
        size += (chunk as Buffer).length;
        hash.update(chunk as Buffer);
      }
      entries.push({ path: p, type: "file", size, sha: hash.digest("hex") });
    }
    return entries;
  }
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}
