/**
 * Reaching the conductor that already holds a workspace (see workspace-lock.ts): wait until it
 * has published where it listens, then check that it answers, with its token, as that process.
 */
import { ConductorClient } from "../../contract";
import { WorkspaceBusyError, isAlive, readLock, type LockHolder } from "../conductor/workspace-lock";
import { LOOPBACK } from "../server/conductor-server";

const PUBLISH_WAIT_MS = 30_000;

export interface Attached {
  holder: LockHolder & { port: number; token: string };
  client: ConductorClient;
}

/** The holder of a workspace cannot be used; the message says why and what to do. */
export class AttachError extends Error {
  override name = "AttachError";
}

/** The holder went away while we looked (it was shutting down): the lock can be taken now. */
export class HolderGoneError extends AttachError {
  override name = "HolderGoneError";
}

/** how long a holder that no longer answers gets to finish shutting down (it closes its server first) */
const SHUTDOWN_WAIT_MS = 15_000;

/**
 * This process's own conductor for the workspace, or the running one it attaches to. A holder
 * caught shutting down (a Stop, then at once a start) is waited for and its lock taken.
 */
export async function openOrAttach<T>(open: () => T, automlDir: string): Promise<{ own: T } | { attached: Attached }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { own: open() };
    } catch (err) {
      if (!(err instanceof WorkspaceBusyError)) throw err;
      try {
        return { attached: await attachToHolder(automlDir, err.holder) };
      } catch (attachError) {
        if (!(attachError instanceof HolderGoneError) || attempt >= 3) throw attachError;
      }
    }
  }
}

/** The running conductor of `automlDir`'s workspace, or an AttachError. */
export async function attachToHolder(automlDir: string, first: LockHolder): Promise<Attached> {
  let holder: LockHolder | null = first;
  const until = Date.now() + PUBLISH_WAIT_MS;
  while (holder && isAlive(holder) && (holder.port === null || holder.token === null) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    holder = readLock(automlDir);
  }
  if (!holder || !isAlive(holder))
    throw new HolderGoneError(`the conductor that held this workspace (process ${first.pid}) has stopped; run the command again`);
  if (holder.port === null || holder.token === null) {
    throw new AttachError(
      `process ${holder.pid} holds this workspace but has not said where it listens after ${PUBLISH_WAIT_MS / 1000} s; stop it (kill ${holder.pid}) and run the command again`,
    );
  }
  const client = new ConductorClient(`http://${LOOPBACK}:${holder.port}`, holder.token);
  let pid: number;
  try {
    pid = (await client.health()).pid;
  } catch (err) {
    const end = Date.now() + SHUTDOWN_WAIT_MS;
    while (isAlive(holder) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    if (!isAlive(holder)) throw new HolderGoneError(`the conductor that held this workspace (process ${holder.pid}) has stopped; run the command again`);
    throw new AttachError(
      `process ${holder.pid} holds this workspace but does not answer on 127.0.0.1:${holder.port} (${(err as Error).message}); stop it (kill ${holder.pid}) and run the command again`,
    );
  }
  if (pid !== holder.pid)
    throw new AttachError(
      `127.0.0.1:${holder.port} answers as process ${pid}, not ${holder.pid}, the holder of this workspace's lock; stop process ${holder.pid} and run the command again`,
    );
  return { holder: holder as Attached["holder"], client };
}
