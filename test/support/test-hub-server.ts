/**
 * A Hugging Face Hub on 127.0.0.1 that answers the routes the product's Hub source calls
 * (through @huggingface/hub) as huggingface.co does: dataset search with `expand` fields and
 * `Link` pagination, dataset info by revision, the file tree (also the `refs/convert/parquet`
 * ref), and downloads from `/datasets/{repo}/resolve/{rev}/{path}`, redirected to a content
 * route that honours Range and sends ETag / Content-Range. Access rules and faults are real
 * HTTP: 401/403 for gated repositories, 404 with X-Error-Code, 429 with Retry-After, and a
 * connection dropped part-way through a body. It records every request for the tests.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

export interface HubFile {
  path: string;
  /** the bytes, or a file on disk to stream (the benchmark's 200 MB) */
  bytes?: Buffer;
  diskFile?: string;
}

export interface HubDataset {
  id: string;
  downloads: number;
  likes?: number;
  tags: string[];
  cardData?: Record<string, unknown>;
  description?: string;
  gated?: false | "auto" | "manual";
  /** tokens granted access to a gated dataset */
  allowedTokens?: string[];
  sha?: string;
  files: HubFile[];
  /** the Hub's Parquet conversion (refs/convert/parquet), when it made one */
  parquet?: HubFile[];
}

export interface HubFaults {
  /** answer the next N API requests 429 with Retry-After: 1 */
  rateLimit?: number;
  /** drop the connection after this many body bytes, on the next N content downloads */
  dropAfterBytes?: { bytes: number; times: number };
  /** answer every request 503 */
  down?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
  range: string | null;
  status: number;
}

export interface TestHub {
  url: string;
  requests: RecordedRequest[];
  faults: HubFaults;
  datasets: HubDataset[];
  close(): Promise<void>;
}

const PAGE = 50;

export async function startTestHub(datasets: HubDataset[], options: { pageSize?: number } = {}): Promise<TestHub> {
  const pageSize = options.pageSize ?? PAGE;
  const faults: HubFaults = {};
  const requests: RecordedRequest[] = [];
  for (const d of datasets) d.sha ??= crypto.createHash("sha1").update(d.id).digest("hex");
  const contentOf = (f: HubFile) => ({
    size: f.bytes ? f.bytes.length : fs.statSync(f.diskFile!).size,
    etag: `"${crypto
      .createHash("sha256")
      .update(f.bytes ?? f.diskFile!)
      .digest("hex")
      .slice(0, 40)}"`,
  });
  const content = new Map<string, HubFile>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const record = (status: number) =>
      requests.push({
        method: req.method ?? "GET",
        path: url.pathname + url.search,
        authorization: req.headers.authorization ?? null,
        range: (req.headers.range as string | undefined) ?? null,
        status,
      });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record(status);
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "X-Request-Id": crypto.randomUUID(), ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string) => json(status, { error: message }, { "X-Error-Code": code });
    if (faults.down) return error(503, "ServiceUnavailable", "Service Unavailable");
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? null;
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);

    if (parts[0] === "api" && faults.rateLimit) {
      faults.rateLimit--;
      record(429);
      res.writeHead(429, { "Retry-After": "1", "Content-Type": "application/json" });
      return res.end(JSON.stringify({ error: "You have been rate-limited; you can retry this action in about 1 second." }));
    }
    const find = (owner?: string, name?: string) => datasets.find((d) => d.id === `${owner}/${name}`);
    const expanded = (d: HubDataset) => {
      const all: Record<string, unknown> = {
        private: false,
        downloads: d.downloads,
        gated: d.gated ?? false,
        likes: d.likes ?? 0,
        lastModified: "2026-06-01T00:00:00.000Z",
        cardData: d.cardData,
        tags: d.tags,
        description: d.description,
        sha: d.sha,
        author: d.id.split("/")[0],
      };
      const asked = url.searchParams.getAll("expand");
      return { _id: crypto.createHash("md5").update(d.id).digest("hex").slice(0, 24), id: d.id, ...Object.fromEntries(asked.map((k) => [k, all[k]])) };
    };

    // GET /api/datasets?search&filter&sort&limit&expand (paginated by Link)
    if (req.method === "GET" && parts[0] === "api" && parts[1] === "datasets" && parts.length === 2) {
      const q = (url.searchParams.get("search") ?? "").toLowerCase();
      const filters = url.searchParams.getAll("filter");
      let hits = datasets.filter((d) => d.id.toLowerCase().includes(q) && filters.every((f) => d.tags.includes(f)));
      if (url.searchParams.get("sort") === "downloads") hits = [...hits].sort((a, b) => b.downloads - a.downloads);
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 1000), pageSize);
      const cursor = Number(url.searchParams.get("cursor") ?? 0);
      const page = hits.slice(cursor, cursor + limit);
      const headers: Record<string, string> = {};
      if (cursor + limit < hits.length) {
        const next = new URL(url.href.replace("http://127.0.0.1", hub.url));
        next.searchParams.set("cursor", String(cursor + limit));
        headers["Link"] = `<${next.href}>; rel="next"`;
      }
      return json(200, page.map(expanded), headers);
    }
    // GET /api/datasets/{owner}/{name}/revision/{rev}
    if (req.method === "GET" && parts[0] === "api" && parts[1] === "datasets" && parts[4] === "revision") {
      const d = find(parts[2], parts[3]);
      if (!d) return error(404, "RepoNotFound", "Repository not found");
      return json(200, expanded(d));
    }
    // GET /api/datasets/{owner}/{name}/tree/{rev}[/{path}]?recursive
    if (req.method === "GET" && parts[0] === "api" && parts[1] === "datasets" && parts[4] === "tree") {
      const d = find(parts[2], parts[3]);
      if (!d) return error(404, "RepoNotFound", "Repository not found");
      const rev = parts[5] ?? "main";
      const files = rev === "refs/convert/parquet" ? d.parquet : rev === "main" || rev === d.sha ? d.files : undefined;
      if (!files) return error(404, "RevisionNotFound", `Invalid rev id: ${rev}`);
      const entries = files.map((f) => {
        const { size } = contentOf(f);
        const lfs = size > 10_000 ? { oid: contentOf(f).etag.slice(1, -1), size, pointerSize: 134 } : undefined;
        return { type: "file", oid: contentOf(f).etag.slice(1, 41), size: lfs ? 134 : size, path: f.path, ...(lfs ? { lfs } : {}) };
      });
      const cursor = Number(url.searchParams.get("cursor") ?? 0);
      const headers: Record<string, string> = {};
      if (cursor + pageSize < entries.length) {
        const next = new URL(url.href.replace("http://127.0.0.1", hub.url));
        next.searchParams.set("cursor", String(cursor + pageSize));
        headers["Link"] = `<${next.href}>; rel="next"`;
      }
      return json(200, entries.slice(cursor, cursor + pageSize), headers);
    }
    // GET /datasets/{owner}/{name}/resolve/{rev}/{path}: access checked, then redirected to the content
    if (req.method === "GET" && parts[0] === "datasets" && parts[3] === "resolve") {
      const d = find(parts[1], parts[2]);
      if (!d) return error(404, "RepoNotFound", "Repository not found");
      if (d.gated && !token)
        return error(401, "GatedRepo", `Access to dataset ${d.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      if (d.gated && !(d.allowedTokens ?? []).includes(token!)) {
        return error(
          403,
          "GatedRepo",
          `Access to dataset ${d.id} is restricted and you are not in the authorized list. Visit ${hub.url}/datasets/${d.id} to ask for access.`,
        );
      }
      const rev = parts[4]!;
      const filePath = parts.slice(5).join("/");
      const files = rev === "refs/convert/parquet" ? d.parquet : d.files;
      const f = files?.find((x) => x.path === filePath);
      if (!f) return error(404, "EntryNotFound", `${filePath} does not exist on "${rev}"`);
      const key = crypto.createHash("sha256").update(`${d.id}@${rev}/${filePath}`).digest("hex");
      content.set(key, f);
      record(302);
      res.writeHead(302, { Location: `${hub.url}/cdn/${key}`, "X-Linked-Size": String(contentOf(f).size), "X-Linked-ETag": contentOf(f).etag });
      return res.end();
    }
    // GET /cdn/{key}: the bytes, whole or a Range
    if (req.method === "GET" && parts[0] === "cdn") {
      const f = content.get(parts[1] ?? "");
      if (!f) return error(404, "EntryNotFound", "no such object");
      const { size, etag } = contentOf(f);
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ""));
      const start = range ? Number(range[1]) : 0;
      const end = range ? (range[2] ? Math.min(Number(range[2]), size - 1) : size - 1) : size - 1;
      const status = range ? 206 : 200;
      record(status);
      res.writeHead(status, {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(end - start + 1),
        ETag: etag,
        "Accept-Ranges": "bytes",
        ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
      });
      const drop = faults.dropAfterBytes && faults.dropAfterBytes.times > 0 && end - start + 1 > faults.dropAfterBytes.bytes ? faults.dropAfterBytes : null;
      if (drop) drop.times--;
      const stream = f.bytes ? streamOf(f.bytes.subarray(start, end + 1)) : fs.createReadStream(f.diskFile!, { start, end, highWaterMark: 1 << 20 });
      let sent = 0;
      stream.on("data", (chunk: Buffer) => {
        if (drop && sent + chunk.length > drop.bytes) {
          res.write(chunk.subarray(0, drop.bytes - sent));
          stream.destroy();
          res.socket?.destroy();
          return;
        }
        sent += chunk.length;
        if (!res.write(chunk)) {
          stream.pause();
          res.once("drain", () => stream.resume());
        }
      });
      stream.on("end", () => res.end());
      return;
    }
    error(404, "NotFound", `no route for ${req.method} ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const hub: TestHub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    faults,
    datasets,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return hub;
}

function streamOf(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 16_384) chunks.push(bytes.subarray(i, i + 16_384));
  return Readable.from(chunks);
}
