/**
 * Reaching the conductor that already holds a workspace (see workspace-lock.ts): wait until it
 * has published where it listens, then check that it answers, with its token, as that process.
 */
import { ConductorClient } from "../../contract";
import { isAlive, readLock, type LockHolder } from "../conductor/workspace-lock";
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

/** The running conductor of `automlDir`'s workspace, or an AttachError. */
export async function attachToHolder(automlDir: string, first: LockHolder): Promise<Attached> {
  let holder: LockHolder | null = first;
  const until = Date.now() + PUBLISH_WAIT_MS;
  while (holder && isAlive(holder) && (holder.port === null || holder.token === null) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    holder = readLock(automlDir);
  }
  if (!holder || !isAlive(holder)) throw new AttachError(`the conductor that held this workspace (process ${first.pid}) has stopped; run the command again`);
  if (holder.port === null || holder.token === null) {
    throw new AttachError(`process ${holder.pid} holds this workspace but has not said where it listens after ${PUBLISH_WAIT_MS / 1000} s; stop it (kill ${holder.pid}) and run the command again`);
  }
  const client = new ConductorClient(`http://${LOOPBACK}:${holder.port}`, holder.token);
  let pid: number;
  try {
    pid = (await client.health()).pid;
  } catch (err) {
    throw new AttachError(`process ${holder.pid} holds this workspace but does not answer on 127.0.0.1:${holder.port} (${(err as Error).message}); stop it (kill ${holder.pid}) and run the command again`);
  }
  if (pid !== holder.pid) throw new AttachError(`127.0.0.1:${holder.port} answers as process ${pid}, not ${holder.pid}, the holder of this workspace's lock; stop process ${holder.pid} and run the command again`);
  return { holder: holder as Attached["holder"], client };
}
