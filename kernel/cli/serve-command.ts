/**
 * `automl serve`: the conductor process. When it listens it prints exactly one JSON line
 * `{"port","token","pid"}` on stdout (the extension reads it); its log goes to stderr.
 */
import { readyLineSchema, type ReadyLine } from "../../contract";
import { Conductor } from "../conductor/conductor";
import { createLogger } from "../logging/logger";
import { startServer } from "../server/conductor-server";

export interface ServeOptions {
  workspace: string;
  port?: number;
  verbose: boolean;
}

export async function serveCommand(opts: ServeOptions): Promise<void> {
  const logger = createLogger(opts.verbose ? "debug" : "info");
  const conductor = Conductor.open({ workspace: opts.workspace, logger, strictContract: process.env["AUTOML_STRICT_CONTRACT"] === "1" });
  const server = await startServer({ conductor, logger, port: opts.port });
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
}
