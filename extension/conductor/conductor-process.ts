/**
 * Runs the conductor (dist/kernel/automl.js serve) as a child process for the workspace:
 * starts it when a command first needs it, reads its ready line, checks its health, restarts
 * it when it dies (projects resume from their event logs), and stops it with the extension.
 * Its log goes to the "AutoML" output channel. It listens on 127.0.0.1 only; the token stays
 * in this process and its webviews.
 *
 * A workspace has one conductor: when one already runs there (`automl serve` or `automl run`
 * in a terminal), `serve --attach` answers with that one's ready line and this extension uses
 * it instead of starting its own, checking on it until it goes away.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as readline from "node:readline";
import * as vscode from "vscode";
import { ConductorClient, readyLineSchema, type ReadyLine } from "../../contract";
import { readSettings, secretEnvironment } from "../settings";

const READY_TIMEOUT_MS = 30_000;
const MAX_RESTARTS_PER_MINUTE = 3;

export class ConductorProcess implements vscode.Disposable {
  private child: ChildProcess | null = null;
  private starting: Promise<ConductorClient> | null = null;
  private client: ConductorClient | null = null;
  private stopping = false;
  private restarts: number[] = [];
  private readonly restarted = new vscode.EventEmitter<ConductorClient>();
  /** fires with the new client after the conductor came back (new port, new token) */
  readonly onDidRestart = this.restarted.event;
  private readonly stopped = new vscode.EventEmitter<void>();
  /** fires when the conductor was stopped on purpose (Stop Conductor, or the extension closing) */
  readonly onDidStop = this.stopped.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get running(): boolean {
    return this.client !== null;
  }

  /** The client of a running conductor, starting one if needed. */
  ensure(): Promise<ConductorClient> {
    if (this.client) return Promise.resolve(this.client);
    // a conductor still shutting down holds the workspace: start the next one after it is gone
    this.starting ??= (this.stoppingNow ?? Promise.resolve()).then(() => this.start()).finally(() => (this.starting = null));
    return this.starting;
  }

  /** set while stop() waits for the process to exit */
  private stoppingNow: Promise<void> | null = null;

  private workspaceFolder(): string {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== "file") {
      throw new Error("Open a folder first: AutoML keeps its projects in the folder's .automl directory.");
    }
    return folder.uri.fsPath;
  }

  private async start(): Promise<ConductorClient> {
    const workspace = this.workspaceFolder();
    const settings = readSettings();
    const node = settings.nodePath || process.execPath;
    const script = this.context.asAbsolutePath("dist/kernel/automl.js");
    const args = [script, "serve", "--attach", "--workspace", workspace];
    this.log.info(`starting the conductor: ${node} ${args.join(" ")}`);
    const child = spawn(node, args, {
      cwd: workspace,
      env: {
        ...process.env,
        ELECTRON_RUN_AS_NODE: "1",
        ...(await secretEnvironment(this.context.secrets)),
        AUTOML_KERNEL_IDLE_MINUTES: String(settings.kernelIdleMinutes),
        AUTOML_KERNEL_MAX_ALIVE: String(settings.kernelMaxAlive),
        AUTOML_KERNEL_MEMORY_MB: String(settings.kernelMemoryMb),
        // a setting left empty keeps what the environment says (or the public default)
        ...(settings.llmBaseUrl ? { AUTOML_LLM_BASE_URL: settings.llmBaseUrl } : {}),
        ...(settings.llmModel ? { AUTOML_LLM_MODEL: settings.llmModel } : {}),
        ...(settings.huggingFaceEndpoint ? { HF_ENDPOINT: settings.huggingFaceEndpoint } : {}),
        ...(settings.kaggleEndpoint ? { KAGGLE_API_ENDPOINT: settings.kaggleEndpoint } : {}),
        ...(settings.pretrainedImageModel ? { AUTOML_PRETRAINED_IMAGE_MODEL: settings.pretrainedImageModel } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.stopping = false;
    const stderr: string[] = [];
    child.stderr!.on("data", (d: Buffer) => {
      const text = String(d).trimEnd();
      stderr.push(text);
      if (stderr.length > 50) stderr.shift();
      for (const line of text.split("\n")) this.log.info(`[conductor] ${line}`);
    });
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the conductor did not get ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      readline.createInterface({ input: child.stdout! }).once("line", (line) => {
        clearTimeout(timer);
        try {
          resolve(readyLineSchema.parse(JSON.parse(line)));
        } catch {
          reject(new Error(`the conductor's first line was not its ready line: ${line.slice(0, 200)}`));
        }
      });
      child.once("error", (err) => (clearTimeout(timer), reject(err)));
      child.once(
        "exit",
        (code, signal) => (
          clearTimeout(timer),
          reject(new Error(`the conductor exited while starting (${signal ?? `code ${code}`}): ${stderr.slice(-5).join(" | ")}`))
        ),
      );
    }).catch((err: Error) => {
      child.kill();
      throw err;
    });
    const client = new ConductorClient(`http://127.0.0.1:${ready.port}`, ready.token);
    await client.health();
    if (ready.attached) {
      this.log.info(`this workspace's conductor already runs (pid ${ready.pid}, 127.0.0.1:${ready.port}): using it`);
      this.attachedPid = ready.pid;
      this.client = client;
      this.watchAttached(client);
      return client;
    }
    this.log.info(`conductor ready on 127.0.0.1:${ready.port} (pid ${ready.pid})`);
    child.removeAllListeners("exit");
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    this.child = child;
    this.client = client;
    return client;
  }

  /** The pid of a conductor this extension attached to (another process runs it), or null. */
  attachedPid: number | null = null;
  private attachedTimer: NodeJS.Timeout | null = null;

  /** An attached conductor is not our child: poll it, and start our own once it is gone. */
  private watchAttached(client: ConductorClient): void {
    this.attachedTimer = setInterval(() => {
      client.health().catch(() => {
        if (this.client !== client) return;
        clearInterval(this.attachedTimer!);
        this.attachedTimer = null;
        this.client = null;
        this.log.warn(`the conductor this window used (pid ${this.attachedPid}) has stopped; starting this window's own`);
        this.attachedPid = null;
        this.ensure().then(
          (c) => this.restarted.fire(c),
          (err: Error) =>
            void vscode.window.showErrorMessage(`AutoML: the conductor could not be started: ${err.message}`, "Show Logs").then((a) => a && this.log.show()),
        );
      });
    }, 3000);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    this.client = null;
    if (this.stopping) return;
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    this.log.error(`the conductor stopped unexpectedly (${signal ?? `exit code ${code}`})`);
    if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      void vscode.window
        .showErrorMessage(
          `The AutoML conductor keeps stopping (${this.restarts.length} times in a minute); it was not restarted again. See its log.`,
          "Show Logs",
        )
        .then((a) => a && this.log.show());
      return;
    }
    this.restarts.push(now);
    this.ensure().then(
      (c) => this.restarted.fire(c),
      (err: Error) =>
        void vscode.window.showErrorMessage(`The AutoML conductor could not be restarted: ${err.message}`, "Show Logs").then((a) => a && this.log.show()),
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.stopping = true;
    this.child = null;
    this.client = null;
    this.stopped.fire();
    if (this.attachedTimer) clearInterval(this.attachedTimer);
    this.attachedTimer = null;
    if (this.attachedPid !== null) {
      // not ours to stop: another process started it and runs it
      this.log.info(`detached from the conductor of pid ${this.attachedPid} (it keeps running)`);
      this.attachedPid = null;
      return;
    }
    if (!child) return this.stoppingNow ?? undefined;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    this.stoppingNow = exited;
    try {
      await exited;
    } finally {
      clearTimeout(timer);
      this.stoppingNow = null;
    }
    this.log.info("conductor stopped");
  }

  async restart(): Promise<ConductorClient> {
    await this.stop();
    const client = await this.ensure();
    this.restarted.fire(client);
    return client;
  }

  dispose(): void {
    void this.stop();
    this.restarted.dispose();
    this.stopped.dispose();
  }
}
