/** The `automl` binary as a child process, as people run it: started, read, and killed after the test. */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { ConductorClient, readyLineSchema, type ReadyLine } from "../../contract";

export const BIN = path.join(__dirname, "..", "..", "bin", "automl.js");
const started: ChildProcess[] = [];

export interface CliProcess {
  child: ChildProcess;
  /** resolves when the process has exited and its streams are closed */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderr: string[];
}

/** Runs `automl ARGS` with strict contract checking. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, AUTOML_STRICT_CONTRACT: "1", ...env } });
  started.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on("data", (d) => stdout.push(String(d)));
  child.stderr!.on("data", (d) => stderr.push(String(d)));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code) => resolve({ code, stdout: stdout.join(""), stderr: stderr.join("") })),
  );
  return { child, done, stderr };
}

/** `automl serve` on a workspace, once it has printed its ready line. */
export async function serveWorkspace(
  workspace: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; ready: ReadyLine; client: ConductorClient; stderr: string[] }> {
  const { child, stderr } = startCli(["serve", "--workspace", workspace], env);
  const firstLine = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${stderr.join("")}`)));
  });
  const ready = readyLineSchema.parse(JSON.parse(firstLine));
  return { child, ready, client: new ConductorClient(`http://127.0.0.1:${ready.port}`, ready.token), stderr };
}

/** Kills every process these helpers started that is still running. */
export function killCliProcesses(): void {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
