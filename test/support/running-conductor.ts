/**
 * A real conductor and server on 127.0.0.1 for integration tests, with strict contract
 * checking (an invalid event fails the test that caused it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import WebSocket from "ws";
import { ConductorClient, type AnyEventEnvelope, type HelloMessage, type StageId, type StreamMessage } from "../../contract";
import { Conductor } from "../../kernel/conductor/conductor";
import { createMemoryLogger } from "../../kernel/logging/logger";
import type { KernelLimits } from "../../kernel/notebook-kernel/kernel-session";
import { startServer, type RunningServer, type ServerOptions } from "../../kernel/server/conductor-server";
import { tempWorkspace } from "./temp-workspace";

export interface RunningConductor {
  workspace: string;
  conductor: Conductor;
  server: RunningServer;
  client: ConductorClient;
  logs: string[];
  stop(): Promise<void>;
}

export async function startConductor(
  options: { workspace?: string; streamLimits?: ServerOptions["streamLimits"]; kernelLimits?: KernelLimits } = {},
): Promise<RunningConductor> {
  const workspace = options.workspace ?? tempWorkspace();
  const logger = createMemoryLogger();
  const conductor = Conductor.open({ workspace, logger, strictContract: true, ...(options.kernelLimits ? { kernelLimits: options.kernelLimits } : {}) });
  const server = await startServer({ conductor, logger, streamLimits: options.streamLimits });
  const client = new ConductorClient(`http://127.0.0.1:${server.port}`, server.token);
  return {
    workspace,
    conductor,
    server,
    client,
    logs: logger.lines,
    stop: async () => {
      await server.close();
      await conductor.close();
    },
  };
}

/** Opens a raw socket to a project's stream and collects what arrives. */
export function openStream(url: string): Promise<{ ws: WebSocket; hello: HelloMessage; events: AnyEventEnvelope[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const events: AnyEventEnvelope[] = [];
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as StreamMessage;
      if (msg.type === "HELLO") resolve({ ws, hello: msg, events });
      else events.push(msg);
    });
    ws.on("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.on("error", reject);
  });
}

export async function waitFor(predicate: () => boolean, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Answers each gate with its first choice until the project waits at `stage` (or stops waiting). */
export async function confirmGatesUntil(rc: RunningConductor, id: string, stage: string): Promise<void> {
  for (let guard = 0; guard < 10; guard++) {
    await rc.conductor.idle(id);
    const waiting = (await rc.client.state(id)).snapshot.waiting;
    if (!waiting || waiting.stage_id === stage) return;
    await rc.client.confirm(id, { stage_id: waiting.stage_id });
  }
}

export interface NotebookCell {
  cell_type: string;
  source: string[];
  metadata: { automl?: { stage_id?: StageId } };
}

/** The project's notebook file as the conductor wrote it. */
export function notebookOf(rc: RunningConductor, id: string): { cells: NotebookCell[] } {
  return JSON.parse(fs.readFileSync(path.join(rc.conductor.projectsDir, id, "notebook.ipynb"), "utf8")) as { cells: NotebookCell[] };
}

/** The sources of a stage's code cells in the project's notebook, in order. */
export function stageCellSources(rc: RunningConductor, id: string, stage: StageId): string[] {
  return notebookOf(rc, id)
    .cells.filter((c) => c.cell_type === "code" && c.metadata.automl?.stage_id === stage)
    .map((c) => c.source.join(""));
}
