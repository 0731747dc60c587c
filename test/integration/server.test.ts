import { zipSync } from "fflate";
import { encodePng } from "../../kernel/data/image-files";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as os from "node:os";
import WebSocket from "ws";
import { CLOSE_CODES, EV, subscribe, type AnyEventEnvelope, type SocketLike } from "../../contract";
import { openStream, startConductor, waitFor, type RunningConductor } from "../support/running-conductor";
import { removeTempWorkspaces } from "../support/temp-workspace";

/** A project parked at its first gate, so the test owns its stream. */
async function parkedProject(rc: RunningConductor): Promise<string> {
  const { project_id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
  await rc.conductor.idle(project_id);
  return project_id;
}

async function flood(rc: RunningConductor, id: string, n: number, textBytes: number): Promise<void> {
  const bus = rc.conductor.get(id).bus;
  const text = "x".repeat(textBytes);
  for (let i = 0; i < n; i++) {
    bus.emit("TRAIN", EV.LOG_LINE, { run_id: null, level: "info", text: `${i} ${text}` });
    if (i % 100 === 99) await new Promise((r) => setImmediate(r)); // as a training loop yields
  }
}

describe("conductor server", function () {
  let rc: RunningConductor;
  beforeEach(async () => (rc = await startConductor()));
  afterEach(async () => rc.stop());
  after(removeTempWorkspaces);

  const base = () => `http://127.0.0.1:${rc.server.port}`;

  describe("security", () => {
    it("listens on 127.0.0.1 only", async function () {
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a && a.family === "IPv4" && !a.internal);
      if (!external) this.skip(); // no non-loopback interface to try from
      const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const s = net.connect(rc.server.port, external!.address);
        s.on("connect", () => (s.destroy(), resolve(null)));
        s.on("error", resolve);
      });
      assert.equal(error?.code, "ECONNREFUSED");
    });

    it("requires the token on every HTTP request, as a bearer header or a query parameter", async () => {
      const none = await fetch(`${base()}/api/health`);
      assert.equal(none.status, 401);
      assert.match(((await none.json()) as { error: string }).error, /token/);
      assert.equal((await fetch(`${base()}/api/projects`, { headers: { authorization: "Bearer wrong" } })).status, 401);
      assert.equal((await fetch(`${base()}/api/projects?token=${rc.server.token}x`)).status, 401);
      assert.equal((await fetch(`${base()}/api/health`, { headers: { authorization: `Bearer ${rc.server.token}` } })).status, 200);
      assert.equal((await fetch(`${base()}/api/health?token=${encodeURIComponent(rc.server.token)}`)).status, 200);
    });

    it("requires the token on the WebSocket upgrade", async () => {
      const id = await parkedProject(rc);
      const url = rc.client.streamUrl(id, 0);
      await assert.rejects(openStream(url.replace(/token=[^&]+/, "token=bad")), { status: 401 });
      await assert.rejects(openStream(url.replace(/&token=[^&]+/, "")), { status: 401 });
      const ok = await openStream(url);
      ok.ws.close();
      const withHeader = new WebSocket(url.replace(/&token=[^&]+/, ""), { headers: { authorization: `Bearer ${rc.server.token}` } });
      await new Promise((resolve, reject) => (withHeader.on("open", resolve), withHeader.on("error", reject)));
      withHeader.close();
    });
  });

  describe("REST", () => {
    it("answers bad requests with a status and a message that says what to do", async () => {
      const call = (method: string, path: string, body?: string) =>
        fetch(`${base()}${path}`, { method, body, headers: { authorization: `Bearer ${rc.server.token}`, "content-type": "application/json" } });
      const empty = await call("POST", "/api/projects", JSON.stringify({ prompt: "  " }));
      assert.equal(empty.status, 400);
      assert.match(((await empty.json()) as { error: string }).error, /prompt is empty/);
      assert.equal((await call("POST", "/api/projects", "{not json")).status, 400);
      // a pasted megabyte (one long token) is refused at once, and the server goes on answering
      const t0 = performance.now();
      const [long, health] = await Promise.all([
        call("POST", "/api/projects", JSON.stringify({ prompt: `predict ${"a".repeat(1_000_000)}` })),
        call("GET", "/api/health"),
      ]);
      assert.ok(performance.now() - t0 < 1000, `answered in ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(long.status, 400);
      assert.match(
        ((await long.json()) as { error: string }).error,
        /prompt is longer than 2,000 characters: say what to predict in a sentence or two, and give the data as a file/,
      );
      assert.equal(health.status, 200);
      const unknown = await call("GET", "/api/projects/no-such-project/state");
      assert.equal(unknown.status, 404);
      assert.match(((await unknown.json()) as { error: string }).error, /No project "no-such-project"/);
      assert.equal((await call("POST", "/api/projects/no-such-project/confirm", "{}")).status, 404);
      assert.equal((await call("DELETE", "/api/projects")).status, 405);
      await assert.rejects(openStream(rc.client.streamUrl("no-such-project", 0)), { status: 404 });

      const id = await parkedProject(rc);
      const wrongGate = await call("POST", `/api/projects/${id}/confirm`, JSON.stringify({ stage_id: "TRAIN" }));
      assert.equal(wrongGate.status, 409);
      assert.match(((await wrongGate.json()) as { error: string }).error, /waits at PARSE_INTENT, not TRAIN/);
      assert.equal((await call("POST", `/api/projects/${id}/retry`, "{}")).status, 409);
      await assert.rejects(openStream(rc.client.streamUrl(id, 0).replace("since=0", "since=-1")), { status: 400 });
      assert.equal((await call("GET", `/api/projects/${id}/assets/..%2F..%2F..%2Fetc%2Fpasswd`)).status, 400);
      assert.equal((await call("GET", `/api/projects/${id}/assets/nothing.json`)).status, 404);
      // a chart's PNG is rendered from its JSON the first time it is asked for
      fs.mkdirSync(path.join(rc.conductor.projectsDir, id, "runs", "r1"), { recursive: true });
      fs.writeFileSync(
        path.join(rc.conductor.projectsDir, id, "runs", "r1", "chart.json"),
        JSON.stringify({
          vega_lite: {
            data: { values: [{ a: 1, b: 2 }] },
            mark: "bar",
            encoding: { x: { field: "a", type: "ordinal" }, y: { field: "b", type: "quantitative" } },
          },
        }),
      );
      const png = await call("GET", `/api/projects/${id}/assets/runs/r1/chart.png`);
      assert.equal(png.status, 200);
      assert.equal(png.headers.get("content-type"), "image/png");
      assert.deepEqual(Array.from(new Uint8Array(await png.arrayBuffer()).subarray(0, 4)), [0x89, 0x50, 0x4e, 0x47]);
      const meta = await call("GET", `/api/projects/${id}/assets/project.json`);
      assert.equal(meta.status, 200);
      assert.equal(((await meta.json()) as { id: string }).id, id);
    });

    it("takes a CSV upload, refusing a malformed one without changing anything", async () => {
      const { project_id: id } = await rc.client.createProject({ prompt: "predict weekly sales", pacing: false, auto: true });
      await rc.conductor.idle(id);
      let state = await rc.client.state(id);
      assert.equal(state.snapshot.stages.DATA_SOURCE.status, "waiting");
      assert.deepEqual(
        state.snapshot.waiting?.next_actions.map((a) => a.id),
        ["upload", "choose_dataset", "edit_prompt"],
      );
      await assert.rejects(rc.client.confirm(id), {
        status: 409,
        message: /needs a data file before it can continue: upload one \(CSV, TSV, JSON, Parquet, Arrow or Excel\)/,
      });
      const seqBefore = state.snapshot.last_seq;
      // the message names the person's file, not the temp file it was read from
      await assert.rejects(rc.client.upload(id, "sales.csv", "store,sales\n1,100\n2\n"), { status: 400, message: /^sales\.csv is malformed at line 3/ });
      await assert.rejects(rc.client.upload(id, "sales.csv", ""), { status: 400, message: /is empty/ });
      state = await rc.client.state(id);
      assert.equal(state.snapshot.last_seq, seqBefore, "a refused upload emits nothing");
      assert.equal(state.meta.data_file, null);
      const rows = Array.from({ length: 40 }, (_, i) => `${i % 5},${i % 2},${100 + 3 * (i % 5) + 7 * (i % 2) + (i % 3)}`).join("\n");
      await rc.client.upload(id, "sales.csv", `store,promo,sales\n${rows}\n`);
      await rc.conductor.idle(id);
      state = await rc.client.state(id);
      assert.equal(state.meta.data_file, "data/sales.csv");
      assert.equal(state.snapshot.stages.EXPORT.status, "completed");
      assert.equal(state.snapshot.intent?.target, "sales");
    });

    it("takes an upload of a zipped labelled image folder: its images copied with their index, the images classified", async () => {
      const { project_id: id } = await rc.client.createProject({ prompt: "classify photos of my pets", pacing: false, auto: true });
      await rc.conductor.idle(id);
      assert.equal((await rc.client.state(id)).snapshot.stages.DATA_SOURCE.status, "waiting");
      const square = (v: number) => encodePng({ width: 12, height: 12, channels: 3, data: Uint8Array.from({ length: 432 }, (_, i) => (i % 3 ? v : 255 - v)) });
      const files: Record<string, Uint8Array> = {};
      for (let i = 0; i < 10; i++) ((files[`pets/cat/c${i}.png`] = square(40 + i)), (files[`pets/dog/d${i}.png`] = square(210 - i)));
      await rc.client.upload(id, "pets.zip", zipSync(files));
      await rc.conductor.idle(id);
      const state = await rc.client.state(id);
      assert.equal(state.meta.data_file, "data/pets/images.csv");
      assert.equal(state.snapshot.intent?.task_type, "image_classification");
      assert.equal(state.snapshot.stages.EXPORT.status, "completed");
    });
  });

  describe("event stream", () => {
    it("sends HELLO, the stored history after since, then live events", async () => {
      const id = await parkedProject(rc);
      const last = rc.conductor.get(id).bus.lastSeq;
      const s = await openStream(rc.client.streamUrl(id, 3));
      assert.equal(s.hello.since, 3);
      assert.equal(s.hello.last_seq, last);
      await waitFor(() => s.events.length === last - 3, 5000, "replay");
      await flood(rc, id, 5, 10);
      await waitFor(() => s.events.length === last - 3 + 5, 5000, "live events");
      assert.deepEqual(
        s.events.map((e) => e.seq),
        Array.from({ length: last + 2 }, (_, i) => i + 4),
      );
      s.ws.close();
    });

    it("lets a client reconnect with its last seq and miss nothing, getting nothing twice", async () => {
      const id = await parkedProject(rc);
      const first = await openStream(rc.client.streamUrl(id, 0));
      await flood(rc, id, 50, 10);
      const end1 = rc.conductor.get(id).bus.lastSeq;
      await waitFor(() => first.events.length === end1, 5000, "first batch");
      first.ws.terminate();
      await flood(rc, id, 50, 10); // while disconnected
      const second = await openStream(rc.client.streamUrl(id, first.events[first.events.length - 1]!.seq));
      await flood(rc, id, 50, 10);
      const end2 = rc.conductor.get(id).bus.lastSeq;
      await waitFor(() => second.events.length === end2 - end1, 5000, "second batch");
      const seqs = [...first.events, ...second.events].map((e) => e.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: end2 }, (_, i) => i + 1),
      );
      second.ws.close();
    });

    it("resumes through the shared subscription client after the socket drops", async () => {
      const id = await parkedProject(rc);
      const sockets: WebSocket[] = [];
      const got: AnyEventEnvelope[] = [];
      const reconnects: number[] = [];
      const sub = subscribe({
        url: (since) => rc.client.streamUrl(id, since),
        createSocket: (url) => {
          const ws = new WebSocket(url);
          sockets.push(ws);
          return ws as unknown as SocketLike;
        },
        onEvent: (e) => got.push(e),
        onReconnect: (r) => reconnects.push(r.since),
        backoffMs: () => 10,
      });
      await flood(rc, id, 30, 10);
      await waitFor(() => got.length >= 20, 5000, "some events");
      sockets[0]!.terminate();
      await flood(rc, id, 30, 10);
      const end = rc.conductor.get(id).bus.lastSeq;
      await waitFor(() => got.length === end, 5000, "all events after reconnect");
      assert.deepEqual(
        got.map((e) => e.seq),
        Array.from({ length: end }, (_, i) => i + 1),
      );
      assert.equal(reconnects.length, 1);
      sub.close();
    });
  });
});

describe("a slow stream client", function () {
  let rc: RunningConductor;
  before(async () => (rc = await startConductor({ streamLimits: { highWaterBytes: 64 * 1024, maxBacklog: 200, closeTimeoutMs: 30_000 } })));
  after(async () => (await rc.stop(), removeTempWorkspaces()));

  it("is closed with SLOW_CONSUMER without stalling others, and catches up with since", async () => {
    const id = await parkedProject(rc);
    const fast = await openStream(rc.client.streamUrl(id, 0));
    const slow = await openStream(rc.client.streamUrl(id, 0));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
    (slow.ws as unknown as { _socket: net.Socket })._socket.pause(); // stops reading: the kernel buffers fill, then ours
    const clientsBefore = rc.server.clientCount();

    await flood(rc, id, 3000, 10_000); // ~30 MB, more than loopback buffers hold
    const end = rc.conductor.get(id).bus.lastSeq;
    await waitFor(() => fast.events.length === end, 20_000, "the fast client to get everything");
    await waitFor(() => rc.server.clientCount() === clientsBefore - 1, 20_000, "the server to drop the slow client");

    (slow.ws as unknown as { _socket: net.Socket })._socket.resume();
    const { code, reason } = await closed;
    assert.equal(code, CLOSE_CODES.SLOW_CONSUMER);
    const held = slow.events.length ? slow.events[slow.events.length - 1]!.seq : 0;
    assert.match(reason, new RegExp(`since=${held}$`));
    assert.ok(held < end, "the slow client really fell behind");

    const again = await openStream(rc.client.streamUrl(id, held));
    await waitFor(() => again.events.length === end - held, 20_000, "the slow client to catch up");
    const seqs = [...slow.events, ...again.events].map((e) => e.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: end }, (_, i) => i + 1),
      "nothing missed, nothing twice",
    );
    fast.ws.close();
    again.ws.close();
  });
});
