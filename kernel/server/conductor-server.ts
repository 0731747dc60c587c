/**
 * The conductor's server: HTTP and WebSocket on 127.0.0.1 only, on a free port, behind the
 * per-launch token. It routes; the conductor decides.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { CLOSE_CODES, PROJECT_ID_PATTERN } from "../../contract";
import type { Conductor } from "../conductor/conductor";
import type { Project } from "../conductor/project";
import type { Logger } from "../logging/logger";
import { DEFAULT_STREAM_LIMITS, EventStreamClient, type StreamLimits } from "./event-stream-client";
import { HttpError, sendError, statusFor } from "./http-exchange";
import { newToken, notLoopback, presentedToken, tokenMatches } from "./request-auth";
import { UPLOAD_TIME_LIMIT_MS, parseSince, restRoutes, withinTimeLimit } from "./rest-routes";

export interface ServerOptions {
  conductor: Conductor;
  logger: Logger;
  /** 0 (the default) picks a free port */
  port?: number;
  token?: string;
  streamLimits?: Partial<StreamLimits>;
}

export interface RunningServer {
  port: number;
  token: string;
  /** how many WebSocket clients are connected */
  clientCount(): number;
  close(): Promise<void>;
}

export const LOOPBACK = "127.0.0.1";
const STREAM_PATH = /^\/ws\/projects\/([^/]+)$/;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { conductor, logger } = options;
  const token = options.token ?? newToken();
  const limits = { ...DEFAULT_STREAM_LIMITS, ...options.streamLimits };
  const routes = restRoutes(conductor);
  const clients = new Set<EventStreamClient>();

  let port = 0;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", `http://${LOOPBACK}`);
    try {
      const foreign = notLoopback(req, port);
      if (foreign) throw new HttpError(403, foreign);
      if (!tokenMatches(token, presentedToken(req, url))) {
        res.setHeader("www-authenticate", 'Bearer realm="automl"');
        throw new HttpError(401, "Missing or wrong token. Send it as 'Authorization: Bearer <token>' or ?token=<token>.");
      }
      const candidates = routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw new HttpError(404, `No route ${req.method} ${url.pathname}.`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        res.setHeader("allow", candidates.map((r) => r.method).join(", "));
        throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}; use ${candidates.map((r) => r.method).join(" or ")}.`);
      }
      const params = route.pattern.exec(url.pathname)!.slice(1);
      await withinTimeLimit(route, req, res, () => route.handler(req, res, params, url), logger);
    } catch (err) {
      if (statusFor(err) === 500) logger.error(`${req.method} ${url.pathname}: ${(err as Error).stack ?? String(err)}`);
      sendError(res, err);
    }
  });

  // no compression: the event stream writes pre-built frames to the socket (event-stream-client.ts)
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", `http://${LOOPBACK}`);
    const refuse = (status: number, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`);
    };
    const foreign = notLoopback(req, port);
    if (foreign) return refuse(403, foreign);
    if (!tokenMatches(token, presentedToken(req, url))) return refuse(401, "Missing or wrong token.");
    const m = STREAM_PATH.exec(url.pathname);
    if (!m || !PROJECT_ID_PATTERN.test(m[1]!)) return refuse(404, `No stream at ${url.pathname}.`);
    let since: number;
    let project: Project;
    try {
      since = parseSince(url);
      project = conductor.get(m[1]!);
    } catch (err) {
      return refuse(statusFor(err), (err as Error).message);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client: EventStreamClient = new EventStreamClient(ws, project.bus, since, limits, () => clients.delete(client));
      clients.add(client);
      client.start();
    });
  });

  // a client that sends its headers slowly, or its body (an upload) for ever, is cut off
  server.headersTimeout = 10_000;
  server.requestTimeout = UPLOAD_TIME_LIMIT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  logger.info(`conductor listening on http://${LOOPBACK}:${port}`);

  return {
    port,
    token,
    clientCount: () => clients.size,
    close: async () => {
      for (const c of clients) c.close(CLOSE_CODES.GOING_AWAY, "conductor shutting down");
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
