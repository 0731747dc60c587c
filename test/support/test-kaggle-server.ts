/**
 * Kaggle's public API (v1) on 127.0.0.1, answering as www.kaggle.com/api/v1 does for the
 * routes the product's Kaggle source calls: basic auth on every route (401 without it),
 * `datasets/list` (search), `datasets/view/{owner}/{slug}`, `datasets/list/{owner}/{slug}`
 * (files) and `datasets/download/{owner}/{slug}`, which redirects to a storage route that
 * honours Range. Faults are real HTTP: 429 with Retry-After, a connection dropped mid-body.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface KaggleDatasetFixture {
  ref: string;
  title: string;
  subtitle?: string;
  licenseName: string;
  downloadCount: number;
  version?: number;
  tags?: string[];
  /** the zip the download serves */
  zip: Buffer;
  files: Array<{ name: string; totalBytes: number; columns?: string[] }>;
}

export interface TestKaggle {
  /** the API's root (what KAGGLE_API_ENDPOINT takes; the routes are under /api/v1) */
  url: string;
  requests: Array<{ method: string; path: string; status: number; range: string | null }>;
  faults: { rateLimit?: number; dropAfterBytes?: { bytes: number; times: number } };
  close(): Promise<void>;
}

export async function startTestKaggle(datasets: KaggleDatasetFixture[], credentials: { username: string; key: string }): Promise<TestKaggle> {
  const requests: TestKaggle["requests"] = [];
  const faults: TestKaggle["faults"] = {};
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.key}`).toString("base64")}`;
  const blobs = new Map<string, Buffer>();
  const view = (d: KaggleDatasetFixture) => ({
    id: Number.parseInt(crypto.createHash("md5").update(d.ref).digest("hex").slice(0, 6), 16),
    ref: d.ref,
    title: d.title,
    subtitle: d.subtitle ?? "",
    creatorName: d.ref.split("/")[0],
    totalBytes: d.files.reduce((s, f) => s + f.totalBytes, 0),
    url: `https://www.kaggle.com/datasets/${d.ref}`,
    lastUpdated: "2026-05-01T10:00:00.000Z",
    downloadCount: d.downloadCount,
    isPrivate: false,
    licenseName: d.licenseName,
    ownerName: d.ref.split("/")[0],
    ownerRef: d.ref.split("/")[0],
    voteCount: Math.round(d.downloadCount / 100),
    currentVersionNumber: d.version ?? 1,
    usabilityRating: 0.88,
    tags: (d.tags ?? []).map((t) => ({ ref: t.replace(/\s+/g, "-"), name: t })),
    files: [],
    versions: [],
  });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, status, range: (req.headers.range as string | undefined) ?? null });
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    // storage: a signed URL, no auth (as the real redirect target), Range honoured
    if (url.pathname.startsWith("/storage/")) {
      const blob = blobs.get(url.pathname.slice("/storage/".length));
      if (!blob) return send(404, { code: 404, message: "No such object" });
      const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ""));
      const start = range ? Number(range[1]) : 0;
      const status = range ? 206 : 200;
      requests.push({ method: "GET", path: url.pathname, status, range: (req.headers.range as string | undefined) ?? null });
      res.writeHead(status, {
        "Content-Type": "application/zip",
        "Content-Length": String(blob.length - start),
        ...(range ? { "Content-Range": `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
      });
      const body = blob.subarray(start);
      const drop = faults.dropAfterBytes && faults.dropAfterBytes.times > 0 && body.length > faults.dropAfterBytes.bytes ? faults.dropAfterBytes : null;
      if (drop) {
        drop.times--;
        res.write(body.subarray(0, drop.bytes), () => res.socket?.destroy());
        return;
      }
      return res.end(body);
    }
    if (!url.pathname.startsWith("/api/v1/")) return send(404, { code: 404, message: "Not found" });
    if (req.headers.authorization !== expected) return send(401, { code: 401, message: "Unauthenticated" });
    if (faults.rateLimit) {
      faults.rateLimit--;
      return send(429, { code: 429, message: "Too many requests" }, { "Retry-After": "1" });
    }
    const parts = url.pathname.slice("/api/v1/".length).split("/").map(decodeURIComponent);
    const find = (owner?: string, slug?: string) => datasets.find((d) => d.ref === `${owner}/${slug}`);
    if (parts[0] === "datasets" && parts[1] === "list" && parts.length === 2) {
      const words = (url.searchParams.get("search") ?? "").toLowerCase().split(/\s+/).filter(Boolean);
      const hits = datasets.filter((d) => words.some((w) => `${d.ref} ${d.title} ${d.subtitle ?? ""}`.toLowerCase().includes(w)));
      return send(200, hits.map(view));
    }
    if (parts[0] === "datasets" && parts[1] === "list" && parts.length === 4) {
      const d = find(parts[2], parts[3]);
      if (!d) return send(404, { code: 404, message: "Not found" });
      return send(200, {
        datasetFiles: d.files.map((f) => ({
          ref: f.name,
          name: f.name,
          datasetRef: d.ref,
          totalBytes: f.totalBytes,
          fileType: f.name.split(".").pop(),
          columns: (f.columns ?? []).map((c, i) => ({ order: i, name: c, type: "String" })),
        })),
        errorMessage: null,
        nextPageToken: "",
      });
    }
    if (parts[0] === "datasets" && parts[1] === "view") {
      const d = find(parts[2], parts[3]);
      return d ? send(200, view(d)) : send(404, { code: 404, message: "Not found" });
    }
    if (parts[0] === "datasets" && parts[1] === "download") {
      const d = find(parts[2], parts[3]);
      if (!d) return send(404, { code: 404, message: "Not found" });
      const key = crypto.createHash("sha256").update(d.ref).digest("hex");
      blobs.set(key, d.zip);
      return send(302, {}, { Location: `${kaggle.url}/storage/${key}` });
    }
    send(404, { code: 404, message: "Not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const kaggle: TestKaggle = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    faults,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return kaggle;
}
