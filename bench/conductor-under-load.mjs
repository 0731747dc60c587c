// The conductor under load, while a project trains: how fast the server answers, how fast
// events reach WebSocket clients (from the event's `ts` to its receipt), whether any is lost
// or duplicated, the conductor's memory, and how far the search's time budget overran.
//
// Usage (after npm run build):
//   node bench/conductor-under-load.mjs [--clients 1,100,1000] [--budget 20] [--pacing on|off]
//   (--budget 0: no search, TRAIN trains the planned models one after the other, paced unless --pacing off)
//                                       [--client lean|ws] [--repeat N]
//   (--repeat N: each client count N times, each run a row, then the median of each column)
//                                       [--data FILE --target COL --prompt TEXT]
//
// One conductor (`automl serve`) on 127.0.0.1 in a fresh temporary workspace; for each client
// count, a new project (a time-budgeted search) with that many WebSocket clients connected
// before it starts (its gates are answered by this script once they are all there), spread over CLIENT_THREADS threads of this process, and
// a pinger asking GET /api/health every 20 ms and GET /state every 100 ms. Only what happens
// while TRAIN runs is counted. Bounded: each round ends when the project is done or after the
// budget plus 120 s. The default data is vega-datasets' flights-20k (20,000 real flights;
// predict the delay).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);
const WebSocket = require("ws");
const CLIENT_THREADS = 4;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

async function main() {
  const counts = option("clients", "1,100,1000").split(",").map(Number);
  const budget = Number(option("budget", "20"));
  const pacing = option("pacing", "on") === "on";
  const data = option("data", path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", "flights-20k.json"));
  const target = option("target", "delay");
  const prompt = option("prompt", "predict the flight delay");
  const workspace = mkdtempSync(path.join(tmpdir(), "automl-load-"));
  const root = path.join(path.dirname(new URL(import.meta.url).pathname), "..");
  // --profile DIR: the conductor writes a CPU profile of its main thread there when it exits
  const profile = option("profile", null);
  // --client ws: the clients use the ws library (as the extension does) instead of the lean
  // client below; both speak the same protocol to the same server
  const clientKind = option("client", "lean");
  const repeat = Number(option("repeat", "1"));
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat is a whole number ≥ 1`);
  if (!["lean", "ws"].includes(clientKind)) throw new Error(`--client is lean or ws, not ${clientKind}`);
  const nodeArgs = profile ? ["--cpu-prof", "--cpu-prof-dir", profile] : [];
  const serve = spawn(process.execPath, [...nodeArgs, path.join(root, "bin", "automl.js"), "serve", "--workspace", workspace], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  serve.stderr.resume();
  const ready = await new Promise((resolve, reject) => {
    let out = "";
    serve.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line));
    });
    serve.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${ready.port}`;
  const auth = { authorization: `Bearer ${ready.token}` };
  console.log(
    `conductor pid ${ready.pid}; data ${path.basename(data)}, target ${target}; ${budget > 0 ? `a search of ${budget} s (its trials are never paced)` : `the planned models trained in turn, pacing ${pacing ? "on" : "off"}`}; ${process.platform} ${process.arch}, node ${process.version}`,
  );
  const rows = [];
  try {
    for (const n of counts) {
      const runs = [];
      for (let i = 0; i < repeat; i++) runs.push(await round({ n, base, auth, ready, data, target, prompt, budget, pacing, clientKind }));
      rows.push(...runs);
      if (repeat > 1) rows.push(medianRow(runs));
    }
  } finally {
    const exited = new Promise((r) => serve.once("exit", r));
    serve.kill("SIGTERM");
    await exited;
    rmSync(workspace, { recursive: true, force: true });
  }
  console.log(
    "\n| clients | events (live) | WS p50 ms | WS p99 ms | WS max ms | lost | duplicated | server p50 ms | server p99 ms | server max ms | requests | RSS max MB | budget overrun |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.n} | ${r.events} | ${r.ws.p50} | ${r.ws.p99} | ${r.ws.max} | ${r.lost} | ${r.duplicated} | ${r.http.p50} | ${r.http.p99} | ${r.http.max} | ${r.requests} | ${r.rssMb} | ${r.overrun} |`,
    );
  }
}

/** The median of each figure over runs of one client count (the middle run for odd counts, else the mean of the two middle ones). */
function medianRow(runs) {
  const median = (f) => {
    const xs = runs
      .map(f)
      .map(Number)
      .sort((a, b) => a - b);
    const mid = xs.length >> 1;
    return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  };
  const fixed = (f) => median(f).toFixed(1);
  const overrunPct = (r) => Number(/\(([\d.]+)%\)/.exec(r.overrun)?.[1] ?? NaN);
  return {
    n: `${runs[0].n} (median of ${runs.length})`,
    events: median((r) => r.events),
    ws: { p50: fixed((r) => r.ws.p50), p99: fixed((r) => r.ws.p99), max: fixed((r) => r.ws.max) },
    lost: runs.reduce((a, r) => a + r.lost, 0) + " (all runs)",
    duplicated: runs.reduce((a, r) => a + r.duplicated, 0) + " (all runs)",
    http: { p50: fixed((r) => r.http.p50), p99: fixed((r) => r.http.p99), max: fixed((r) => r.http.max) },
    requests: median((r) => r.requests),
    rssMb: median((r) => r.rssMb).toFixed(0),
    overrun: `${median(overrunPct).toFixed(1)}%`,
  };
}

async function round({ n, base, auth, ready, data, target, prompt, budget, pacing, clientKind }) {
  const created = await (
    await fetch(`${base}/api/projects`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      // not auto: the project waits at its first gate until every client is connected, then this
      // script answers each gate with its first choice (as auto mode would)
      body: JSON.stringify({ prompt, data_path: data, target, auto: false, pacing, ...(budget > 0 ? { time_budget_s: budget } : {}) }),
    })
  ).json();
  const id = created.project_id;
  if (!id) throw new Error(`no project id in ${JSON.stringify(created)}`);
  const url = `ws://127.0.0.1:${ready.port}/ws/projects/${id}?token=${ready.token}`;
  // what the clients measure is what arrives live (after their HELLO)
  // one thread's clients after another's: the server writes to its sockets in the order they
  // subscribed, so a thread is woken for a run of its own sockets rather than for every fourth
  // (on a 2-core machine each wake-up of a client thread costs the server's thread its core)
  const threads = [];
  for (let t = 0; t < Math.min(CLIENT_THREADS, n); t++) {
    const share = Math.floor(n / CLIENT_THREADS) + (t < n % CLIENT_THREADS ? 1 : 0);
    const thread = new Worker(new URL(import.meta.url), { workerData: { url, clients: share || n, kind: clientKind } });
    threads.push(thread);
    await new Promise((r) => thread.once("message", r)); // connected
  }
  const http = [];
  const rss = [];
  let stopping = false;
  const pinger = (async () => {
    let i = 0;
    while (!stopping) {
      const path = i++ % 5 === 0 ? `/api/projects/${id}/state` : "/api/health";
      const t0 = performance.now();
      const res = await fetch(base + path, { headers: auth });
      await res.arrayBuffer();
      http.push({ at: Date.now(), ms: performance.now() - t0 });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const rssTimer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${ready.pid}/status`, "utf8"))?.[1]);
      rss.push(kb / 1024);
    } catch {
      /* not Linux: no RSS */
    }
  }, 250);
  const until = Date.now() + (Math.max(budget, 60) + 120) * 1000;
  let snapshot;
  for (;;) {
    snapshot = (await (await fetch(`${base}/api/projects/${id}/state`, { headers: auth })).json()).snapshot;
    const done = snapshot.stages.EXPORT.status === "completed" || Object.values(snapshot.stages).some((s) => s.status === "failed");
    if (done || Date.now() > until) break;
    if (snapshot.waiting) {
      await fetch(`${base}/api/projects/${id}/confirm`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ stage_id: snapshot.waiting.stage_id }),
      });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopping = true;
  await pinger;

  clearInterval(rssTimer);
  const events = [];
  for (;;) {
    // the events come in pages (since, limit)
    const page = await (await fetch(`${base}/api/projects/${id}/events?since=${events.length}`, { headers: auth })).json();
    events.push(...page.events);
    if (page.events.length === 0 || events.length >= page.last_seq) break;
  }
  const results = await Promise.all(
    threads.map(
      (w) =>
        new Promise((resolve) => {
          w.once("message", resolve);
          w.postMessage({ lastSeq: events.length });
        }),
    ),
  );
  await Promise.all(threads.map((w) => w.terminate()));
  const trainStatus = events.filter((e) => e.event.name === "STAGE_STATUS" && e.event.payload.stage_id === "TRAIN");
  const from = trainStatus.find((e) => e.event.payload.status === "running")?.ts * 1000;
  const to = trainStatus.find((e) => e.event.payload.status === "completed" || e.event.payload.status === "failed")?.ts * 1000;
  const inTrain = (at) => at >= from && at <= to;
  const latencies = [];
  let lost = 0;
  let duplicated = 0;
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1) : "-");
    return { p50: q(0.5), p99: q(0.99), max: s.length ? s.at(-1).toFixed(1) : "-" };
  };
  const slowest = [];
  const perSecond = [];
  for (const r of results) {
    lost += r.lost;
    duplicated += r.duplicated;
    for (let i = 0; i < r.samples.length; i += 3) {
      const [ts, ms, seq] = [r.samples[i], r.samples[i + 1], r.samples[i + 2]];
      if (!inTrain(ts)) continue;
      latencies.push(ms);
      if (ms > 50) slowest.push([ms, seq]);
      const second = Math.floor((ts - from) / 1000);
      (perSecond[second] ??= []).push(ms);
    }
  }
  if (option("explain", null) !== null) {
    // --explain: which events arrived late, and when in TRAIN
    const bySeq = new Map();
    for (const [ms, seq] of slowest) bySeq.set(seq, Math.max(bySeq.get(seq) ?? 0, ms));
    console.log("  per second of TRAIN (p50/p99/max ms): " + perSecond.map((xs, i) => `${i}s ${stats(xs).p50}/${stats(xs).p99}/${stats(xs).max}`).join(", "));
    for (const [seq, ms] of [...bySeq].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
      const e = events[seq - 1];
      console.log(`  late: ${ms} ms, seq ${seq} ${e.event.name} at TRAIN +${(e.ts * 1000 - from).toFixed(0)} ms`);
    }
  }
  const search = events.find((e) => e.event.name === "LOG_LINE" && /overrun/.test(e.event.payload.text))?.event.payload.text ?? "";
  const overrun = /overrun ([\d.]+) s, ([\d.]+)%/.exec(search);
  const httpInTrain = http.filter((h) => inTrain(h.at)).map((h) => h.ms);
  const row = {
    n,
    events: latencies.length,
    ws: stats(latencies),
    lost,
    duplicated,
    http: stats(httpInTrain),
    requests: httpInTrain.length,
    rssMb: rss.length ? Math.max(...rss).toFixed(0) : "-",
    overrun: overrun ? `${overrun[1]} s (${overrun[2]}%)` : "(no search line)",
  };
  console.log(
    `${n} client(s): project ${id} ${snapshot.stages.EXPORT.status === "completed" ? "done" : "NOT done"}, TRAIN ${((to - from) / 1000).toFixed(1)} s; ${JSON.stringify(row)}`,
  );
  return row;
}

const SEQ = Buffer.from('"seq":');
const TS = Buffer.from('"ts":');

/** The number after `key` in a JSON envelope's bytes (the envelope's own fields come before its payload). */
function numberAfter(bytes, key) {
  const at = bytes.indexOf(key);
  if (at < 0) throw new Error(`no ${key} in ${String(bytes).slice(0, 200)}`);
  let end = at + key.length;
  while (end < bytes.length && bytes[end] !== 0x2c && bytes[end] !== 0x7d) end++;
  return Number(bytes.toString("latin1", at + key.length, end));
}

function wsLibraryClient(url, onText) {
  const ws = new WebSocket(url, { skipUTF8Validation: true, perMessageDeflate: false });
  ws.on("message", onText);
  return ws;
}

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * A WebSocket client (RFC 6455) reduced to what this script needs, for a thousand of them in a
 * few threads: the handshake (its Sec-WebSocket-Accept checked), then the server's frames parsed
 * straight from the socket's chunks; text messages go to onText as bytes, a ping is answered, a
 * close ends the socket. The ws library does the same through a stream and an event per frame,
 * which on a 2-core machine put its own cost into what is measured (see --client ws).
 */
function leanClient(url, onText) {
  const { hostname, port, pathname, search } = new URL(url);
  const key = randomBytes(16).toString("base64");
  const accept = createHash("sha1")
    .update(key + WS_GUID)
    .digest("base64");
  const errorListeners = [];
  const fail = (err) => {
    for (const l of errorListeners) l(err);
    socket.destroy();
  };
  const socket = net.connect(Number(port), hostname, () => {
    socket.setNoDelay(true);
    socket.write(
      `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  let upgraded = false;
  let pending = null; // bytes of an incomplete frame (or of the response head)
  let fragments = null; // a text message in several frames
  const masked = (opcode, payload) => {
    // a client's frames are masked (RFC 6455 §5.3); only short control frames are sent here
    const mask = randomBytes(4);
    const out = Buffer.alloc(6 + payload.length);
    out[0] = 0x80 | opcode;
    out[1] = 0x80 | payload.length;
    mask.copy(out, 2);
    for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i & 3];
    return out;
  };
  socket.on("data", (chunk) => {
    let bytes = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    if (!upgraded) {
      const end = bytes.indexOf("\r\n\r\n");
      if (end < 0) return void (pending = bytes);
      const head = bytes.toString("latin1", 0, end);
      if (!/^HTTP\/1\.1 101 /.test(head)) return fail(new Error(`no upgrade: ${head.split("\r\n")[0]}`));
      if (!head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) return fail(new Error("wrong Sec-WebSocket-Accept"));
      upgraded = true;
      bytes = bytes.subarray(end + 4);
    }
    let at = 0;
    while (bytes.length - at >= 2) {
      const b0 = bytes[at];
      const b1 = bytes[at + 1];
      if (b1 & 0x80) return fail(new Error("the server masked a frame"));
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (bytes.length - at < 4) break;
        length = bytes.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (bytes.length - at < 10) break;
        length = Number(bytes.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (bytes.length - at < header + length) break;
      const payload = bytes.subarray(at + header, at + header + length);
      at += header + length;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x1 && fin) onText(payload);
      else if (opcode === 0x1) fragments = [payload];
      else if (opcode === 0x0 && fragments) {
        fragments.push(payload);
        if (fin) {
          onText(Buffer.concat(fragments));
          fragments = null;
        }
      } else if (opcode === 0x9) socket.write(masked(0xa, payload));
      else if (opcode === 0x8) {
        socket.end(masked(0x8, payload.subarray(0, 2)));
        return;
      }
    }
    if (at < bytes.length) pending = Buffer.from(bytes.subarray(at));
  });
  socket.on("error", fail);
  return {
    on(event, listener) {
      if (event === "error") errorListeners.push(listener);
    },
    terminate: () => socket.destroy(),
  };
}

/** Runs `clients` WebSocket clients; on "report", answers what they received. */
async function clientThread({ url, clients, kind }) {
  const state = [];
  await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise((resolve, reject) => {
          const c = { seqs: new Set(), received: 0, liveFrom: null, lastSeq: 0, samples: [] };
          state.push(c);
          // a thousand clients share this machine with the conductor: each reads only what it
          // measures (seq and ts, near the start of an envelope) instead of parsing every event
          const ws = (kind === "ws" ? wsLibraryClient : leanClient)(url, (data) => {
            const now = Date.now();
            if (c.liveFrom === null) {
              const hello = JSON.parse(String(data));
              c.liveFrom = hello.last_seq;
              resolve();
              return;
            }
            const seq = numberAfter(data, SEQ);
            const ts = numberAfter(data, TS);
            c.received++;
            c.seqs.add(seq);
            c.lastSeq = Math.max(c.lastSeq, seq);
            // flat (ts, latency, seq) triples: no allocation per message in these busy threads
            if (seq > c.liveFrom) c.samples.push(ts * 1000, now - ts * 1000, seq);
          });
          ws.on("error", reject);
          c.ws = ws;
        }),
    ),
  );
  parentPort.postMessage("connected");
  parentPort.once("message", async ({ lastSeq }) => {
    // the last events may still be on their way: up to 10 s for every client to reach the end
    const until = Date.now() + 10_000;
    while (state.some((c) => c.lastSeq < lastSeq) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    let lost = 0;
    let duplicated = 0;
    let samples = [];
    for (const c of state) {
      // every seq from 1 to the project's last must have arrived exactly once
      lost += lastSeq - c.seqs.size;
      duplicated += c.received - c.seqs.size;
      samples = samples.concat(c.samples);
      c.ws.terminate();
    }
    parentPort.postMessage({ lost, duplicated, samples });
  });
}

if (!isMainThread) await clientThread(workerData);
else await main();
