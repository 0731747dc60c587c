/**
 * `automl serve`: the conductor process. When it listens it prints exactly one JSON line
 * `{"port","token","pid"}` on stdout (the extension reads it); its log goes to stderr.
 * A workspace has one conductor: when another live one holds it, `serve` refuses and names
 * it, or with `--attach` prints that one's ready line (`"attached": true`) and exits.
 */
import * as path from "node:path";
import { readyLineSchema, type ReadyLine } from "../../contract";
import { Conductor } from "../conductor/conductor";
import { WorkspaceBusyError } from "../conductor/workspace-lock";
import { createLogger } from "../logging/logger";
import { kernelLimitsFrom, type KernelLimits } from "../notebook-kernel/kernel-session";
import { startServer } from "../server/conductor-server";
import { AttachError, openOrAttach } from "./attach";
import { EXIT } from "./run-command";

export interface ServeOptions {
  workspace: string;
  port?: number;
  verbose: boolean;
  /** print the ready line of a conductor that already holds the workspace instead of refusing */
  attach: boolean;
}

/** Resolves with an exit code when serve ends at once (refused or attached), or null while it serves. */
export async function serveCommand(opts: ServeOptions): Promise<number | null> {
  const logger = createLogger(opts.verbose ? "debug" : "info");
  let kernelLimits: KernelLimits;
  try {
    kernelLimits = kernelLimitsFrom(process.env);
  } catch (err) {
    process.stderr.write(`automl: ${(err as Error).message}\n`);
    return EXIT.badInput;
  }
  const open = () =>
    Conductor.open({ workspace: opts.workspace, logger, strictContract: process.env["AUTOML_STRICT_CONTRACT"] === "1", command: "serve", kernelLimits });
  let conductor: Conductor;
  if (!opts.attach) {
    try {
      conductor = open();
    } catch (err) {
      if (!(err instanceof WorkspaceBusyError)) throw err;
      process.stderr.write(`automl: ${err.message}\n`);
      return EXIT.workspaceBusy;
    }
  } else {
    try {
      const opened = await openOrAttach(open, path.join(path.resolve(opts.workspace), ".automl"));
      if ("attached" in opened) {
        const { holder } = opened.attached;
        const ready: ReadyLine = readyLineSchema.parse({ port: holder.port, token: holder.token, pid: holder.pid, attached: true });
        process.stdout.write(JSON.stringify(ready) + "\n");
        return EXIT.ok;
      }
      conductor = opened.own;
    } catch (attachError) {
      if (!(attachError instanceof AttachError)) throw attachError;
      process.stderr.write(`automl: ${(attachError as Error).message}\n`);
      return EXIT.workspaceBusy;
    }
  }
  const server = await startServer({ conductor, logger, port: opts.port });
  conductor.publishEndpoint(server.port, server.token);
  const ready: ReadyLine = readyLineSchema.parse({ port: server.port, token: server.token, pid: process.pid });
  process.stdout.write(JSON.stringify(ready) + "\n");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping`);
    await server.close();
    await conductor.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return null;
}
