/**
 * `automl run "<prompt>"`: drives one project headless through the same HTTP and WebSocket
 * API the extension uses, shows it in the terminal, and leaves the event log, the notebook
 * and the export zip in --out.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import WebSocket from "ws";
import {
  ConductorClient,
  ConductorRequestError,
  EV,
  GATE_ACTIONS,
  STAGE_IDS,
  STAGE_TITLES,
  canResumeSearch,
  subscribe,
  type AnyEventEnvelope,
  type EventPayload,
  type SocketLike,
} from "../../contract";
import { Conductor } from "../conductor/conductor";
import { isAlive, type LockHolder } from "../conductor/workspace-lock";
import { AttachError, openOrAttach } from "./attach";
import { EVENTS_FILE } from "../conductor/project-meta";
import { createLogger } from "../logging/logger";
import { NOTEBOOK_FILE } from "../notebook/pipeline-notebook";
import { LOOPBACK, startServer } from "../server/conductor-server";
import { cliCommand } from "./command-name";
import { askAtGate } from "./terminal-gate";
import { TerminalProgress } from "./terminal-progress";

export interface RunOptions {
  prompt: string;
  data?: string;
  /** a dataset to fetch instead of searching (hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME, workspace:PATH) */
  source?: string;
  target?: string;
  auto: boolean;
  out?: string;
  workspace: string;
  pacing: boolean;
  seed?: number;
  timeBudgetSeconds?: number;
  /** model files kept: the leaderboard's best N runs' */
  keepModels?: number;
  verbose: boolean;
  /** continue this project instead of creating one */
  project?: string;
}

export const EXIT = { ok: 0, stageFailed: 1, badInput: 2, stopped: 3, workspaceBusy: 4 } as const;

/** The conductor a run talks to: its own, or the one that already holds the workspace. */
interface RunSession {
  client: ConductorClient;
  projectsDir: string;
  /** the holder's process when attached; null when this process is the conductor */
  attachedTo: LockHolder | null;
  close(): Promise<void>;
}

async function openSession(opts: RunOptions, view: TerminalProgress): Promise<RunSession> {
  const logger = createLogger(opts.verbose ? "info" : "warn");
  const automlDir = path.join(path.resolve(opts.workspace), ".automl");
  const opened = await openOrAttach(() => Conductor.open({ workspace: opts.workspace, logger, strictContract: false, command: "run" }), automlDir);
  if ("attached" in opened) {
    const { client, holder } = opened.attached;
    view.line(`attached to the conductor already running this workspace (process ${holder.pid}, \`automl ${holder.command}\`)`);
    return { client, projectsDir: path.join(automlDir, "projects"), attachedTo: holder, close: async () => undefined };
  }
  const conductor = opened.own;
  const server = await startServer({ conductor, logger });
  conductor.publishEndpoint(server.port, server.token);
  return {
    client: new ConductorClient(`http://${LOOPBACK}:${server.port}`, server.token),
    projectsDir: conductor.projectsDir,
    attachedTo: null,
    close: async () => {
      // another client (a second `automl run`, VS Code) may be using this conductor: serve it to the end
      let told = false;
      // this run's own stream is closing as well: give it a moment before calling anyone "other"
      const grace = Date.now() + 1000;
      while (server.clientCount() > 0 && !conductor.anyBusy() && Date.now() < grace) await new Promise((r) => setTimeout(r, 25));
      while (server.clientCount() > 0 || conductor.anyBusy()) {
        if (!told)
          view.line(`other clients are using this conductor (${server.clientCount()} connected); it keeps serving them until they are done (Ctrl+C stops it)`);
        told = true;
        await new Promise((r) => setTimeout(r, 250));
      }
      await server.close();
      await conductor.close();
    },
  };
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const view = new TerminalProgress(process.stdout);
  let session: RunSession;
  try {
    session = await openSession(opts, view);
  } catch (err) {
    if (!(err instanceof AttachError)) throw err;
    process.stderr.write(`automl: ${err.message}\n`);
    return EXIT.workspaceBusy;
  }
  const { client } = session;
  try {
    let projectId: string;
    let since = 0;
    try {
      if (opts.project) {
        projectId = opts.project;
        // follow from where the project stands now: what the answer or the retry brings comes after
        since = (await client.state(projectId)).snapshot.last_seq;
        view.line(`project ${projectId} (${path.join(session.projectsDir, projectId)})`);
        const code = await resume(client, projectId, opts);
        if (code !== null) return code;
      } else {
        const created = await client.createProject({
          prompt: opts.prompt,
          target: opts.target,
          data_path: opts.data ? path.resolve(opts.data) : undefined,
          source: opts.source,
          auto: opts.auto,
          pacing: opts.pacing,
          seed: opts.seed,
          time_budget_s: opts.timeBudgetSeconds,
          keep_models: opts.keepModels,
        });
        projectId = created.project_id;
        view.line(`project ${projectId} (${path.join(session.projectsDir, projectId)})`);
      }
    } catch (err) {
      if (err instanceof ConductorRequestError && err.status < 500) {
        process.stderr.write(`automl: ${err.message}\n`);
        return EXIT.badInput;
      }
      throw err;
    }
    const code = await follow(client, projectId, view, opts, session.attachedTo, since);
    if (code === EXIT.ok) await summarise(client, session.projectsDir, projectId, view, opts.out);
    return code;
  } finally {
    await session.close();
  }
}

function follow(
  client: ConductorClient,
  projectId: string,
  view: TerminalProgress,
  opts: RunOptions,
  attachedTo: LockHolder | null,
  since: number,
): Promise<number> {
  return new Promise((resolve) => {
    const sub = subscribe({
      since,
      url: (since) => client.streamUrl(projectId, since),
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      onReconnect: () => {
        // the conductor we attached to is another process: if it is gone, nothing will answer
        if (attachedTo && !isAlive(attachedTo)) {
          sub.close();
          process.stderr.write(
            `\nautoml: the conductor running this project (process ${attachedTo.pid}) stopped. Run the same command again: the project resumes from its log.\n`,
          );
          resolve(EXIT.stageFailed);
        }
      },
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
          process.stderr.write(
            `\nautoml: ${STAGE_TITLES[p.stage_id]} failed: ${p.message}\nRun it again: ${cliCommand()} run --project ${projectId}${workspaceFlag(opts)}\n`,
          );
          return EXIT.stageFailed;
        }
      }
      if (e.event.name === EV.WAITING_CONFIRMATION) {
        handleGate(client, projectId, e.event.payload, opts).then(
          (code) => {
            if (code !== null) {
              sub.close();
              resolve(code);
            }
          },
          (err: unknown) => {
            // the gate's answer could not be sent (the conductor went away): say so and stop
            sub.close();
            process.stderr.write(`\nautoml: could not answer the gate: ${err instanceof Error ? err.message : String(err)}\n`);
            resolve(EXIT.stageFailed);
          },
        );
      }
      return null;
    };
  });
}

/**
 * `run --project ID`: where the project stands decides. Done → nothing to do; a gate → ask
 * (or stop, as for a new project); a failed stage → retry it. Null: follow it from now on.
 */
async function resume(client: ConductorClient, projectId: string, opts: RunOptions): Promise<number | null> {
  const { snapshot, busy } = await client.state(projectId);
  if (snapshot.stages.EXPORT.status === "completed" && !busy) {
    process.stdout.write(`Project ${projectId} is complete.\n`);
    return EXIT.ok;
  }
  // data given to a project that waits for it (or for a choice of dataset): the gate is answered with it
  if ((opts.data || opts.source) && !busy) {
    const stage = snapshot.waiting?.stage_id;
    if (stage !== "DATA_SOURCE" && snapshot.stages.DATA_SOURCE.status !== "failed") {
      process.stderr.write(
        `\nautoml: --data and --source give a project its data at its data stage; ${projectId} is past it (now at ${STAGE_TITLES[snapshot.current_stage]}). Start a new project with them instead.\n`,
      );
      return EXIT.badInput;
    }
    if (opts.data) {
      const file = path.resolve(opts.data);
      await client.upload(projectId, path.basename(file), fs.readFileSync(file));
      process.stdout.write(`${path.basename(file)} given to ${projectId}: the data stage runs again with it.\n`);
      return null;
    }
    const choose = snapshot.waiting?.next_actions.find((a) => a.id === GATE_ACTIONS.chooseDataset);
    if (!choose) {
      process.stderr.write(
        `\nautoml: ${projectId} does not wait for a dataset now (${snapshot.stages.DATA_SOURCE.message}). Start a new project with --source ${opts.source}.\n`,
      );
      return EXIT.badInput;
    }
    await client.confirm(projectId, { stage_id: "DATA_SOURCE", action: choose.id, dataset_id: opts.source });
    process.stdout.write(`${opts.source} chosen for ${projectId}: the data stage runs again with it.\n`);
    return null;
  }
  if (snapshot.waiting) return await handleGate(client, projectId, snapshot.waiting, opts);
  const failed = STAGE_IDS.find((s) => snapshot.stages[s].status === "failed");
  if (failed && !busy) {
    // a search a stop cut short carries on from where it was; anything else runs again
    const resumeSearch = canResumeSearch(snapshot);
    process.stdout.write(
      `${STAGE_TITLES[failed]} failed: ${snapshot.stages[failed].message}\n${resumeSearch ? "Resuming the search: its finished runs are kept and it gets the rest of its budget." : "Retrying it."}\n`,
    );
    await client.retry(projectId, { resume: resumeSearch });
  }
  return null;
}

/**
 * A gate in the terminal. Needs data → stop with the flag that gives it; needs a target and
 * nobody can be asked → stop with the flag that names it; otherwise ask (terminal-gate.ts),
 * or stop when there is no terminal.
 */
async function handleGate(client: ConductorClient, projectId: string, gate: EventPayload<"WAITING_CONFIRMATION">, opts: RunOptions): Promise<number | null> {
  const cli = cliCommand();
  const again = opts.project ? `${cli} run --project ${projectId}${workspaceFlag(opts)}` : "the same command";
  if (gate.next_actions[0]?.id === GATE_ACTIONS.upload) {
    process.stderr.write(
      `\nautoml: ${gate.summary}\nRun ${again} with --data FILE (your data) or --source ID (hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME, workspace:PATH).\n`,
    );
    return EXIT.badInput;
  }
  const interactive = Boolean(process.stdin.isTTY);
  const chooseTarget = gate.next_actions[0]?.id === GATE_ACTIONS.chooseTarget ? gate.next_actions[0] : undefined;
  // a request nothing could read: only a reworded one helps
  if (gate.next_actions[0]?.id === GATE_ACTIONS.editPrompt && (!interactive || opts.auto)) {
    process.stderr.write(
      `\nautoml: ${gate.summary}\nReword the request and run again: ${cli} run "…"${opts.data ? ` --data ${opts.data}` : ""}${workspaceFlag(opts)}\n`,
    );
    return EXIT.badInput;
  }
  // a task this version cannot train: only the person can say what instead (auto mode does not guess it)
  if (gate.next_actions[0]?.id === GATE_ACTIONS.setTask && (!interactive || opts.auto)) {
    process.stderr.write(
      `\nautoml: ${gate.summary}\nReword the request, or continue in a terminal without --auto to choose the task from a list: ${cli} run --project ${projectId}${workspaceFlag(opts)}\n`,
    );
    return EXIT.badInput;
  }
  if (opts.auto && !chooseTarget) {
    // a project made without --auto and continued with it: its gates take their first choice, as auto mode does
    const first = gate.next_actions[0];
    // a choice among datasets takes the best-ranked, listed first
    const dataset = first?.id === GATE_ACTIONS.chooseDataset ? first.choices?.[0]?.value : undefined;
    process.stdout.write(`${STAGE_TITLES[gate.stage_id]}: ${gate.summary} → ${first?.label ?? "continue"}${dataset ? `: ${dataset}` : ""} (--auto)\n`);
    await client.confirm(projectId, { stage_id: gate.stage_id, action: first?.id, ...(dataset ? { dataset_id: dataset } : {}) });
    return null;
  }
  const chooseDataset = gate.next_actions[0]?.id === GATE_ACTIONS.chooseDataset ? gate.next_actions[0] : undefined;
  if (chooseDataset && !interactive) {
    // the candidates, numbered as a terminal would show them, and the flag that takes one
    const list = (chooseDataset.choices ?? []).map(
      (c, i) => `  ${String(i + 1).padStart(2)}) ${c.value}  ${c.label}${c.description ? `\n      ${c.description}` : ""}`,
    );
    process.stderr.write(
      `\nautoml: ${gate.summary}\n${list.join("\n")}\nChoose one: ${cli} run --project ${projectId}${workspaceFlag(opts)} --source ID (one of the above), or the same in a terminal to pick from the list\n`,
    );
    return EXIT.badInput;
  }
  if (chooseTarget && (!interactive || opts.auto)) {
    const columns = (chooseTarget.choices ?? []).map((c) => c.value);
    const how = opts.project
      ? `Continue it in a terminal without --auto to pick the column from a list: ${cli} run --project ${projectId}${workspaceFlag(opts)}`
      : `Re-run with --target COL${columns.length ? `, where COL is one of: ${columns.join(", ")}` : ""}.`;
    process.stderr.write(`\nautoml: ${gate.summary}\n${how}\n`);
    return EXIT.badInput;
  }
  if (!interactive) {
    process.stderr.write(
      `\nautoml: the project waits at ${STAGE_TITLES[gate.stage_id]} (${gate.summary}) and there is no terminal to ask. Re-run with --auto, or continue it in a terminal: ${cli} run --project ${projectId}${workspaceFlag(opts)}\n`,
    );
    return EXIT.stopped;
  }
  const outcome = await askAtGate(client, projectId, gate);
  if (outcome === "stopped") {
    process.stdout.write(`Stopped. The project is kept; continue it with: ${cli} run --project ${projectId}${workspaceFlag(opts)}\n`);
    return EXIT.stopped;
  }
  return null;
}

function workspaceFlag(opts: RunOptions): string {
  return path.resolve(opts.workspace) === process.cwd() ? "" : ` --workspace ${JSON.stringify(path.resolve(opts.workspace))}`;
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
    view.line(
      `best model: ${best.model_id}; test ${best.final_metrics.metrics
        .filter((m) => m.split === "test")
        .map((m) => `${m.name} ${m.value.toFixed(4)}`)
        .join(", ")}`,
    );
  }
  view.line(`event log: ${files.events}`);
  view.line(`notebook:  ${files.notebook}`);
  if (files.zip) view.line(`export:    ${files.zip}`);
}
