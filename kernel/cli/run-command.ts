/**
 * `automl run "<prompt>"`: drives one project headless through the same HTTP and WebSocket
 * API the extension uses, shows it in the terminal, and leaves the event log, the notebook
 * and the export zip in --out.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import WebSocket from "ws";
import {
  ConductorClient,
  ConductorRequestError,
  EV,
  GATE_ACTIONS,
  subscribe,
  type AnyEventEnvelope,
  type EventPayload,
  type SocketLike,
} from "../../contract";
import { Conductor } from "../conductor/conductor";
import { EVENTS_FILE } from "../conductor/project-meta";
import { createLogger } from "../logging/logger";
import { NOTEBOOK_FILE } from "../notebook/pipeline-notebook";
import { LOOPBACK, startServer } from "../server/conductor-server";
import { TerminalProgress } from "./terminal-progress";

export interface RunOptions {
  prompt: string;
  data?: string;
  target?: string;
  auto: boolean;
  out?: string;
  workspace: string;
  pacing: boolean;
  seed?: number;
  timeBudgetSeconds?: number;
  verbose: boolean;
}

export const EXIT = { ok: 0, stageFailed: 1, badInput: 2, stopped: 3 } as const;

export async function runCommand(opts: RunOptions): Promise<number> {
  const logger = createLogger(opts.verbose ? "info" : "warn");
  const conductor = Conductor.open({ workspace: opts.workspace, logger, strictContract: false });
  const server = await startServer({ conductor, logger });
  const client = new ConductorClient(`http://${LOOPBACK}:${server.port}`, server.token);
  const view = new TerminalProgress(process.stdout);
  try {
    let projectId: string;
    try {
      const created = await client.createProject({
        prompt: opts.prompt,
        target: opts.target,
        data_path: opts.data ? path.resolve(opts.data) : undefined,
        auto: opts.auto,
        pacing: opts.pacing,
        seed: opts.seed,
        time_budget_s: opts.timeBudgetSeconds,
      });
      projectId = created.project_id;
    } catch (err) {
      if (err instanceof ConductorRequestError && err.status < 500) {
        process.stderr.write(`automl: ${err.message}\n`);
        return EXIT.badInput;
      }
      throw err;
    }
    view.line(`project ${projectId} (${path.join(conductor.projectsDir, projectId)})`);
    const code = await follow(client, projectId, view, opts);
    if (code === EXIT.ok) await summarise(client, conductor.projectsDir, projectId, view, opts.out);
    return code;
  } finally {
    await server.close();
    await conductor.close();
  }
}

function follow(client: ConductorClient, projectId: string, view: TerminalProgress, opts: RunOptions): Promise<number> {
  return new Promise((resolve) => {
    const sub = subscribe({
      url: (since) => client.streamUrl(projectId, since),
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      onEvent: (e) => {
        view.show(e);
        const outcome = react(e);
        if (outcome !== null) {
          sub.close();
          resolve(outcome);
        }
      },
    });
    const react = (e: AnyEventEnvelope): number | null => {
      if (e.event.name === EV.STAGE_STATUS) {
        const p = e.event.payload;
        if (p.stage_id === "EXPORT" && p.status === "completed") return EXIT.ok;
        if (p.status === "failed") {
          process.stderr.write(`\nautoml: ${p.stage_id} failed: ${p.message}\n`);
          return EXIT.stageFailed;
        }
      }
      if (e.event.name === EV.WAITING_CONFIRMATION) {
        handleGate(client, projectId, e.event.payload, opts).then((code) => {
          if (code !== null) {
            sub.close();
            resolve(code);
          }
        });
      }
      return null;
    };
  });
}

/** A gate in the terminal: needs data → stop with advice; otherwise ask, or stop when nobody can answer. */
async function handleGate(client: ConductorClient, projectId: string, gate: EventPayload<"WAITING_CONFIRMATION">, opts: RunOptions): Promise<number | null> {
  if (gate.next_actions.some((a) => a.id === GATE_ACTIONS.upload)) {
    process.stderr.write(`\nautoml: ${gate.summary} Pass a file with --data FILE.\n`);
    return EXIT.badInput;
  }
  if (!process.stdin.isTTY) {
    process.stderr.write(`\nautoml: the project waits at ${gate.stage_id} (${gate.summary}) and there is no terminal to ask. Re-run with --auto.\n`);
    return EXIT.stopped;
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    const state = await client.state(projectId);
    const plan = state.snapshot.plans[gate.stage_id];
    process.stdout.write(`\n${gate.stage_id}: ${gate.summary}\n`);
    if (plan && !plan.approved) process.stdout.write(`${JSON.stringify(plan.plan_json, null, 2)}\n`);
    const answer = (await rl.question(`${gate.next_actions[0]!.label}? [Y/n] `)).trim().toLowerCase();
    if (answer === "n" || answer === "no") {
      process.stdout.write(`Stopped. The project is kept; run \`automl serve\` in ${opts.workspace} to continue it.\n`);
      return EXIT.stopped;
    }
    await client.confirm(projectId, { stage_id: gate.stage_id });
    return null;
  } finally {
    rl.close();
  }
}

async function summarise(client: ConductorClient, projectsDir: string, projectId: string, view: TerminalProgress, out?: string): Promise<void> {
  const { snapshot } = await client.state(projectId);
  const dir = path.join(projectsDir, projectId);
  const zip = snapshot.export.ready ? path.join(dir, "export", `${projectId}.zip`) : null;
  let files = { events: path.join(dir, EVENTS_FILE), notebook: path.join(dir, NOTEBOOK_FILE), zip };
  if (out) {
    fs.mkdirSync(out, { recursive: true });
    const copy = (from: string | null) => {
      if (!from) return null;
      const to = path.join(out, path.basename(from));
      fs.copyFileSync(from, to);
      return to;
    };
    files = { events: copy(files.events)!, notebook: copy(files.notebook)!, zip: copy(files.zip) };
  }
  const best = snapshot.best ? snapshot.runs[snapshot.best.run_id] : undefined;
  view.line("");
  view.line(`finished in ${view.elapsedSeconds().toFixed(2)} s, ${snapshot.last_seq} events`);
  if (best?.final_metrics) {
    view.line(`best model: ${best.model_id}; test ${best.final_metrics.metrics.map((m) => `${m.name} ${m.value.toFixed(4)}`).join(", ")}`);
  }
  view.line(`event log: ${files.events}`);
  view.line(`notebook:  ${files.notebook}`);
  if (files.zip) view.line(`export:    ${files.zip}`);
}
