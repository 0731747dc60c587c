/**
 * The REST surface of the seeds: projects, state, confirm, parse, upload, retry, events and
 * assets, and predictions from a project's model. Handlers validate with the contract's request schemas and leave the work to the
 * conductor; every error becomes a JSON `{error}` with a status that says whose fault it was.
 */
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import {
  LIMIT_QUERY_PARAM,
  MAX_EVENTS_PER_PAGE,
  SINCE_QUERY_PARAM,
  type EventsPage,
  confirmRequest,
  createProjectRequest,
  parseRequest,
  predictRequest,
  predictFileRequest,
  retryRequest,
  cursorRequest,
  executeRequest,
  restartRequest,
  type ExecutionMessage,
} from "../../contract";
import type { Conductor } from "../conductor/conductor";
import { safeDataFileName } from "../conductor/project-meta";
import { ensurePngFor } from "../assets/chart-png";
import { HttpError, readJson, saveBody, sendJson } from "./http-exchange";
import type { Logger } from "../logging/logger";

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /**
   * how long the handler may take before the request is answered 503 (the work it started goes
   * on, and the events say how it ends); default DEFAULT_TIME_LIMIT_MS. null only for running a
   * cell: a cell runs as long as the person's code does, streams as it goes, and is interrupted by them
   */
  timeLimitMs?: number | null;
}

const DEFAULT_TIME_LIMIT_MS = 30_000;
/** creating a project with a data file, confirming a plan, exporting: a big table takes a while */
const LONG_TIME_LIMIT_MS = 5 * 60_000;
/**
 * The biggest upload: a data file sent over HTTP is written to a temp file, then copied into the
 * project; a bigger one is better given by its path, which is read where it lies.
 */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
/** an upload of the biggest data file, over a slow loopback */
export const UPLOAD_TIME_LIMIT_MS = 10 * 60_000;
/** complete, inspect, variables: a kernel inside a synchronous loop cannot answer them */
const KERNEL_QUERY_TIME_LIMIT_MS = 10_000;

/** Runs a route's handler within its time limit (see Route.timeLimitMs). */
export async function withinTimeLimit(route: Route, req: IncomingMessage, res: ServerResponse, work: () => Promise<void>, logger: Logger): Promise<void> {
  const limit = route.timeLimitMs === undefined ? DEFAULT_TIME_LIMIT_MS : route.timeLimitMs;
  if (limit === null) return work();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => (timer = setTimeout(() => resolve("expired"), limit)));
  const done = work();
  try {
    if ((await Promise.race([done, expired])) !== "expired") return;
  } finally {
    clearTimeout(timer);
  }
  logger.warn(`${req.method} ${req.url?.split("?")[0]} took longer than ${limit / 1000} s: answered 503, its work goes on`);
  sendJson(res, 503, {
    error: `This request took longer than ${limit / 1000} s and was answered without waiting for it; what it started goes on: follow the project's events or state.`,
  });
  done.catch((err: unknown) => logger.warn(`${req.method} ${req.url?.split("?")[0]} failed after its time limit: ${(err as Error).message}`));
}

const CONTENT_TYPES: Record<string, string> = {
  ".json": "application/json; charset=utf-8",
  ".jsonl": "application/x-ndjson; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".ipynb": "application/x-ipynb+json",
  ".zip": "application/zip",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".bin": "application/octet-stream",
};

export function restRoutes(conductor: Conductor): Route[] {
  const id = "([^/]+)";
  return [
    {
      method: "GET",
      pattern: /^\/api\/health$/,
      handler: async (_req, res) => sendJson(res, 200, { ok: true, pid: process.pid, projects: conductor.list().length }),
    },
    {
      method: "GET",
      pattern: /^\/api\/projects$/,
      handler: async (_req, res) =>
        sendJson(res, 200, {
          projects: conductor.list().map((s) => ({
            ...s.meta,
            busy: s.busy,
            current_stage: s.snapshot.current_stage,
            status: s.snapshot.stages[s.snapshot.current_stage].status,
            best_model: s.snapshot.best,
          })),
        }),
    },
    {
      method: "POST",
      pattern: /^\/api\/projects$/,
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (req, res) => {
        const body = await readJson(req, createProjectRequest);
        const project = await conductor.createProject(body);
        sendJson(res, 201, { project_id: project.meta.id, state: conductor.state(project.meta.id) });
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/api/projects/${id}/state$`),
      handler: async (_req, res, [pid]) => sendJson(res, 200, conductor.state(pid!)),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/api/projects/${id}/events$`),
      handler: async (_req, res, [pid], url) => {
        const since = parseSince(url);
        const limit = parseLimit(url);
        const bus = conductor.get(pid!).bus;
        const page: EventsPage<unknown> = { events: bus.eventsPage(since, limit), last_seq: bus.lastSeq };
        sendJson(res, 200, page);
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/confirm$`),
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (req, res, [pid]) => {
        await conductor.confirm(pid!, await readJson(req, confirmRequest));
        sendJson(res, 202, conductor.state(pid!));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/parse$`),
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (req, res, [pid]) => {
        await conductor.parse(pid!, await readJson(req, parseRequest));
        sendJson(res, 202, conductor.state(pid!));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/retry$`),
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (req, res, [pid]) => {
        const body = await readJson(req, retryRequest);
        await conductor.retry(pid!, { resume: body.resume });
        sendJson(res, 202, conductor.state(pid!));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/upload$`),
      timeLimitMs: UPLOAD_TIME_LIMIT_MS,
      handler: async (req, res, [pid], url) => {
        conductor.get(pid!); // 404 before reading a large body
        const name = safeDataFileName(url.searchParams.get("filename") ?? String(req.headers["x-filename"] ?? "upload.csv"));
        const temp = path.join(os.tmpdir(), `automl-upload-${randomBytes(6).toString("hex")}${path.extname(name)}`);
        await saveBody(req, temp, MAX_UPLOAD_BYTES);
        try {
          await conductor.upload(pid!, name, temp);
        } finally {
          fs.rmSync(temp, { force: true });
        }
        sendJson(res, 202, conductor.state(pid!));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/export$`),
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (_req, res, [pid]) => sendJson(res, 200, await conductor.exportNow(pid!)),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/predict$`),
      handler: async (req, res, [pid]) => {
        conductor.get(pid!); // 404 before reading the body
        sendJson(res, 200, conductor.predict(pid!, await readJson(req, predictRequest)));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/predict-file$`),
      // a file of millions of rows streams through in a minute or two
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (req, res, [pid]) => sendJson(res, 200, await conductor.predictFile(pid!, await readJson(req, predictFileRequest))),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/kernel/execute$`),
      timeLimitMs: null,
      handler: async (req, res, [pid]) => {
        const body = await readJson(req, executeRequest);
        const project = conductor.get(pid!);
        // the head goes out with the first line, so a refusal before any output is still a plain error
        const write = (m: ExecutionMessage) => {
          if (!res.headersSent) res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" });
          res.write(JSON.stringify(m) + "\n");
        };
        const done = await conductor.notebook.execute(project, body, (output) => write({ type: "output", output }));
        write(done);
        res.end();
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/kernel/interrupt$`),
      handler: async (_req, res, [pid]) => {
        const interrupted = conductor.notebook.session(conductor.get(pid!)).interrupt();
        sendJson(res, 202, { interrupted });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/kernel/restart$`),
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (req, res, [pid]) => {
        const body = await readJson(req, restartRequest);
        const result = await conductor.notebook.restart(conductor.get(pid!), body.replay ?? false);
        sendJson(res, 200, { ...result, kernel: conductor.notebook.session(conductor.get(pid!)).status() });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/kernel/(complete|inspect)$`),
      timeLimitMs: KERNEL_QUERY_TIME_LIMIT_MS,
      handler: async (req, res, [pid, what]) => {
        const body = await readJson(req, cursorRequest);
        const session = conductor.notebook.session(conductor.get(pid!));
        sendJson(res, 200, what === "complete" ? await session.complete(body) : await session.inspect(body));
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/api/projects/${id}/kernel/variables$`),
      timeLimitMs: KERNEL_QUERY_TIME_LIMIT_MS,
      handler: async (_req, res, [pid]) => sendJson(res, 200, { variables: await conductor.notebook.session(conductor.get(pid!)).variables() }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/api/projects/${id}/kernel$`),
      handler: async (_req, res, [pid]) => sendJson(res, 200, conductor.notebook.session(conductor.get(pid!)).status()),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/rerun-stale$`),
      timeLimitMs: LONG_TIME_LIMIT_MS,
      handler: async (_req, res, [pid]) => {
        const project = conductor.get(pid!);
        const result = await conductor.notebook.rerunStale(project);
        sendJson(res, 200, { ...result, state: conductor.state(pid!) });
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/api/projects/${id}/assets/(.+)$`),
      handler: async (_req, res, [pid, assetPath]) => {
        const project = conductor.get(pid!);
        let rel: string;
        try {
          rel = decodeURIComponent(assetPath!);
        } catch {
          throw new HttpError(400, "Asset path is not valid URL encoding.");
        }
        let abs: string;
        try {
          abs = project.assets.absolute(rel);
        } catch {
          throw new HttpError(400, "Asset path leaves the project folder.");
        }
        // a chart's PNG is rendered from its JSON's vega-lite spec the first time it is asked for
        if (abs.endsWith(".png") && !fs.existsSync(abs)) await ensurePngFor(abs);
        // only a regular file inside the project: not a folder, a FIFO, or a link leading out of it
        const opened = project.assets.openRegular(rel);
        if (!opened) throw new HttpError(404, `No asset ${rel} in project ${pid} (only regular files inside the project folder are served).`);
        // a file that grows while it is sent (the event log) is sent as it was when asked for, so the body matches its length
        const { fd, size } = opened;
        res.writeHead(200, {
          "content-type": CONTENT_TYPES[path.extname(abs).toLowerCase()] ?? "application/octet-stream",
          "content-length": size,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        });
        if (size === 0) {
          fs.closeSync(fd);
          res.end();
        } else fs.createReadStream("", { fd, start: 0, end: size - 1 }).pipe(res);
      },
    },
  ];
}

function parseLimit(url: URL): number {
  const raw = url.searchParams.get(LIMIT_QUERY_PARAM);
  if (raw === null || raw === "") return MAX_EVENTS_PER_PAGE;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_EVENTS_PER_PAGE) {
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_EVENTS_PER_PAGE}, not ${JSON.stringify(raw)}; read more with since.`);
  }
  return Number(raw);
}

export function parseSince(url: URL): number {
  const raw = url.searchParams.get(SINCE_QUERY_PARAM);
  if (raw === null || raw === "") return 0;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `since must be a whole number (the last seq you received), not ${JSON.stringify(raw)}.`);
  return Number(raw);
}
