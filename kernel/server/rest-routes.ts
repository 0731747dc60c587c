/**
 * The REST surface of the seeds: projects, state, confirm, parse, upload, retry, events and
 * assets. Handlers validate with the contract's request schemas and leave the work to the
 * conductor; every error becomes a JSON `{error}` with a status that says whose fault it was.
 */
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import {
  SINCE_QUERY_PARAM,
  confirmRequest,
  createProjectRequest,
  parseRequest,
  retryRequest,
  cursorRequest,
  executeRequest,
  restartRequest,
  type ExecutionMessage,
} from "../../contract";
import type { Conductor } from "../conductor/conductor";
import { safeDataFileName } from "../conductor/project-meta";
import { ensurePngFor } from "../assets/chart-png";
import { MAX_TABLE_FILE_BYTES } from "../data/table-loader";
import { HttpError, readJson, saveBody, sendJson } from "./http-exchange";

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
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
          projects: conductor
            .list()
            .map((s) => ({ ...s.meta, busy: s.busy, current_stage: s.snapshot.current_stage, status: s.snapshot.stages[s.snapshot.current_stage].status })),
        }),
    },
    {
      method: "POST",
      pattern: /^\/api\/projects$/,
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
        sendJson(res, 200, { events: conductor.get(pid!).bus.eventsSince(since) });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/confirm$`),
      handler: async (req, res, [pid]) => {
        await conductor.confirm(pid!, await readJson(req, confirmRequest));
        sendJson(res, 202, conductor.state(pid!));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/parse$`),
      handler: async (req, res, [pid]) => {
        await conductor.parse(pid!, await readJson(req, parseRequest));
        sendJson(res, 202, conductor.state(pid!));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/retry$`),
      handler: async (req, res, [pid]) => {
        const body = await readJson(req, retryRequest);
        await conductor.retry(pid!, { resume: body.resume });
        sendJson(res, 202, conductor.state(pid!));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/upload$`),
      handler: async (req, res, [pid], url) => {
        conductor.get(pid!); // 404 before reading a large body
        const name = safeDataFileName(url.searchParams.get("filename") ?? String(req.headers["x-filename"] ?? "upload.csv"));
        const temp = path.join(os.tmpdir(), `automl-upload-${randomBytes(6).toString("hex")}${path.extname(name)}`);
        await saveBody(req, temp, MAX_TABLE_FILE_BYTES);
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
      handler: async (_req, res, [pid]) => sendJson(res, 200, await conductor.exportNow(pid!)),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/kernel/execute$`),
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
      handler: async (req, res, [pid]) => {
        const body = await readJson(req, restartRequest);
        const result = await conductor.notebook.restart(conductor.get(pid!), body.replay ?? false);
        sendJson(res, 200, { ...result, kernel: conductor.notebook.session(conductor.get(pid!)).status() });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/api/projects/${id}/kernel/(complete|inspect)$`),
      handler: async (req, res, [pid, what]) => {
        const body = await readJson(req, cursorRequest);
        const session = conductor.notebook.session(conductor.get(pid!));
        sendJson(res, 200, what === "complete" ? await session.complete(body) : await session.inspect(body));
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/api/projects/${id}/kernel/variables$`),
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
        const real = project.assets.regularFile(rel);
        if (!real) throw new HttpError(404, `No asset ${rel} in project ${pid} (only regular files inside the project folder are served).`);
        // a file that grows while it is sent (the event log) is sent as it was when asked for, so the body matches its length
        const size = fs.statSync(real).size;
        res.writeHead(200, {
          "content-type": CONTENT_TYPES[path.extname(abs).toLowerCase()] ?? "application/octet-stream",
          "content-length": size,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        });
        if (size === 0) res.end();
        else fs.createReadStream(real, { start: 0, end: size - 1 }).pipe(res);
      },
    },
  ];
}

export function parseSince(url: URL): number {
  const raw = url.searchParams.get(SINCE_QUERY_PARAM);
  if (raw === null || raw === "") return 0;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `since must be a whole number (the last seq you received), not ${JSON.stringify(raw)}.`);
  return Number(raw);
}
