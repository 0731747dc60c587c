/**
 * One conductor per workspace. `.automl/conductor.lock` names the process that owns the
 * workspace's projects: its pid, and once it listens, its port and token. Only that process
 * opens and writes the projects' event logs (and so only it ever cuts a torn tail back); a
 * second `automl serve` or `automl run` on the same workspace attaches to it through its API
 * or refuses, saying who holds it.
 *
 * The lock appears whole or not at all: it is written to a private temporary file and then
 * hard-linked to its name, which fails if the name exists. It is mode 0600, so the token in
 * it is readable by its user only. A lock whose process is gone is taken over: it is renamed
 * aside (one rename wins) and checked to be the stale lock that was judged, so two processes
 * racing for a stale lock cannot both win, and a fresh lock moved aside by mistake is put back.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const LOCK_FILE = "conductor.lock";

export interface LockHolder {
  pid: number;
  /** set once the holder listens */
  port: number | null;
  token: string | null;
  /** `serve` or `run` */
  command: string;
  hostname: string;
  started_at: string;
  /** tells apart two conductors of one process (tests open several) */
  instance: string;
}

/** The workspace is held by a live conductor; `holder` says which. */
export class WorkspaceBusyError extends Error {
  override name = "WorkspaceBusyError";
  constructor(
    readonly holder: LockHolder,
    readonly lockPath: string,
  ) {
    super(
      `This workspace's projects are held by another AutoML conductor: process ${holder.pid} (\`automl ${holder.command}\`, started ${holder.started_at}` +
        `${holder.port ? `, listening on 127.0.0.1:${holder.port}` : ""}). Use that one, or stop it first (its lock is ${lockPath}).`,
    );
  }
}

/** Locks this process holds: a process that ends without close() (an uncaught error) still frees its workspaces. */
const held = new Set<WorkspaceLock>();
let exitHookInstalled = false;

export class WorkspaceLock {
  private released = false;

  private constructor(
    readonly lockPath: string,
    private holder: LockHolder,
    /** the stale holder this lock took over from, if any */
    readonly tookOverFrom: LockHolder | null,
  ) {
    held.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once("exit", () => {
        for (const lock of held) lock.release();
      });
    }
  }

  /** Takes the workspace's lock, or throws WorkspaceBusyError naming the live holder. */
  static acquire(automlDir: string, command: string): WorkspaceLock {
    fs.mkdirSync(automlDir, { recursive: true });
    const lockPath = path.join(automlDir, LOCK_FILE);
    const mine: LockHolder = {
      pid: process.pid,
      port: null,
      token: null,
      command,
      hostname: os.hostname(),
      started_at: new Date().toISOString(),
      instance: randomBytes(8).toString("hex"),
    };
    let tookOverFrom: LockHolder | null = null;
    // one process at a time may clear a stale lock: moving it aside without this, a process that had read the stale lock
    // could move a newer, live one away and leave the workspace to two conductors
    const takeover = `${lockPath}.takeover`;
    for (let attempt = 0; attempt < 400; attempt++) {
      if (linkNew(lockPath, mine)) return new WorkspaceLock(lockPath, mine, tookOverFrom);
      const text = readText(lockPath);
      if (text === null) continue; // released meanwhile: try again
      const holder = parseHolder(text);
      if (holder && isAlive(holder)) throw new WorkspaceBusyError(holder, lockPath);
      // dead or unreadable (a lock cannot be half-written, so unreadable means damaged): take over, holding the takeover folder
      try {
        fs.mkdirSync(takeover);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        // another process is clearing it; one that died doing so left the folder behind: cleared after a while
        if (Date.now() - (statMtime(takeover) ?? Date.now()) > STALE_TAKEOVER_MS) fs.rmSync(takeover, { recursive: true, force: true });
        sleepMs(5);
        continue;
      }
      try {
        // still the stale lock we read (nobody can replace it while we hold the takeover folder, and its holder is dead)
        if (readText(lockPath) === text) {
          fs.rmSync(lockPath, { force: true });
          tookOverFrom = holder;
        }
      } finally {
        fs.rmSync(takeover, { recursive: true, force: true });
      }
    }
    throw new Error(`could not take the workspace lock ${lockPath}: it kept changing hands`);
  }

  /** Records where this conductor listens, so a second client can attach to it. */
  publish(port: number, token: string): void {
    if (this.released) return;
    this.holder = { ...this.holder, port, token };
    fs.renameSync(writePrivateTemp(this.lockPath, this.holder), this.lockPath);
  }

  /** Frees the workspace, if the lock is still this conductor's. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    const text = readText(this.lockPath);
    if (text !== null && parseHolder(text)?.instance === this.holder.instance) fs.rmSync(this.lockPath, { force: true });
  }
}

/** a takeover folder older than this was left by a process that died clearing a stale lock */
const STALE_TAKEOVER_MS = 10_000;

function statMtime(p: string): number | null {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return null;
  }
}

/** Sleeps this thread (acquiring is synchronous: it runs before the conductor's event loop has anything to do). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The holder named by a workspace's lock, live or not; null when there is no lock. */
export function readLock(automlDir: string): LockHolder | null {
  const text = readText(path.join(automlDir, LOCK_FILE));
  return text === null ? null : parseHolder(text);
}

/** Whether the process named by a lock still runs (a lock from another machine counts as live: it cannot be checked). */
export function isAlive(holder: LockHolder): boolean {
  if (holder.hostname !== os.hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The holder written whole to a new file beside the lock, readable by its user only; returns its path. */
function writePrivateTemp(lockPath: string, holder: LockHolder): string {
  const temp = `${lockPath}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(holder, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  return temp;
}

function linkNew(lockPath: string, holder: LockHolder): boolean {
  const temp = writePrivateTemp(lockPath, holder);
  try {
    fs.linkSync(temp, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== "number" || typeof v.instance !== "string") return null;
    return {
      pid: v.pid,
      port: typeof v.port === "number" ? v.port : null,
      token: typeof v.token === "string" ? v.token : null,
      command: String(v.command ?? "?"),
      hostname: String(v.hostname ?? os.hostname()),
      started_at: String(v.started_at ?? "?"),
      instance: v.instance,
    };
  } catch {
    return null;
  }
}
