/**
 * One conductor per workspace, with real processes: a second `serve` refuses or attaches, a
 * second `run` attaches through the API and the first serves it to the end, a lock left by a
 * killed process is taken over, and racers for a stale lock never both win. Every project's
 * log stays one unbroken sequence written by one process.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readyLineSchema } from "../../contract";
import { LOCK_FILE, readLock } from "../../kernel/conductor/workspace-lock";
import { killCliProcesses, serveWorkspace, startCli } from "../support/cli-process";
import { assertValidLog } from "../support/contract-rules";
import { BOSTON_CSV, removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const REPO = path.join(__dirname, "..", "..");
const children: ChildProcess[] = [];

/** The project logs of a workspace, each checked as one unbroken, valid sequence. */
function assertLogsWhole(workspace: string, trained = true): string[] {
  const dir = path.join(workspace, ".automl", "projects");
  const ids = fs.readdirSync(dir);
  for (const id of ids) {
    const lines = fs
      .readFileSync(path.join(dir, id, "events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean);
    assertValidLog(
      lines.map((l) => JSON.parse(l)),
      id,
      trained,
    );
    assert.ok(!fs.readdirSync(path.join(dir, id)).some((f) => f.includes(".torn-")), `no torn tail was cut from ${id}`);
  }
  return ids;
}

describe("one conductor per workspace", function () {
  this.timeout(180_000);
  afterEach(() => {
    killCliProcesses();
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });
  after(removeTempWorkspaces);

  it("refuses a second serve naming the holder, hands --attach the holder's line, and a run beside serve attaches through the API", async () => {
    const ws = tempWorkspace("lock-serve");
    const first = await serveWorkspace(ws);
    const lockPath = path.join(ws, ".automl", LOCK_FILE);
    assert.equal(fs.statSync(lockPath).mode & 0o777, 0o600, "the lock (it holds the token) is readable by its user only");
    assert.deepEqual([readLock(path.join(ws, ".automl"))?.pid, readLock(path.join(ws, ".automl"))?.port], [first.ready.pid, first.ready.port]);

    const refused = await startCli(["serve", "--workspace", ws]).done;
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, new RegExp(`process ${first.ready.pid} \\(\`automl serve\``));

    const attached = await startCli(["serve", "--attach", "--workspace", ws]).done;
    assert.equal(attached.code, 0, attached.stderr);
    assert.deepEqual(readyLineSchema.parse(JSON.parse(attached.stdout.trim())), { ...first.ready, attached: true });

    const run = await startCli(["run", "predict house prices", "--data", BOSTON_CSV, "--target", "medv", "--auto", "--no-pacing", "--workspace", ws]).done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`attached to the conductor already running this workspace \\(process ${first.ready.pid}`));
    const { projects } = await first.client.listProjects();
    assert.equal(projects.length, 1, "the run's project lives in the serving conductor");
    assert.equal((await first.client.state(projects[0]!.id)).snapshot.stages.EXPORT.status, "completed");
    assertLogsWhole(ws);

    first.child.kill("SIGTERM");
    await new Promise((r) => first.child.once("exit", r));
    assert.ok(!fs.existsSync(lockPath), "a conductor that stops frees the workspace");
  });

  it("two runs on one workspace: the second attaches, the first serves it to the end, and neither log is touched by the other process", async () => {
    const ws = tempWorkspace("lock-runs");
    const first = startCli(["run", "predict house prices", "--data", BOSTON_CSV, "--target", "medv", "--auto", "--workspace", ws]);
    const automlDir = path.join(ws, ".automl");
    const until = Date.now() + 30_000;
    while (!readLock(automlDir)?.port && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(readLock(automlDir)?.pid, first.child.pid);
    const second = startCli(["run", "classify penguin species", "--auto", "--no-pacing", "--workspace", ws]);
    const [a, b] = await Promise.all([first.done, second.done]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, new RegExp(`attached to the conductor already running this workspace \\(process ${first.child.pid}, \`automl run\`\\)`));
    assert.match(b.stdout, /best model: /);
    assert.equal(assertLogsWhole(ws).length, 2);
    assert.ok(!fs.existsSync(path.join(automlDir, LOCK_FILE)), "the lock is freed when the last run ends");
  });

  it("takes over a lock left by a killed conductor, and keeps the killed one's history", async () => {
    const ws = tempWorkspace("lock-stale");
    const first = await serveWorkspace(ws);
    const { project_id: id } = await first.client.createProject({ prompt: "predict house prices", pacing: false });
    const waiting = Date.now() + 30_000;
    while ((await first.client.state(id)).snapshot.waiting === null && Date.now() < waiting) await new Promise((r) => setTimeout(r, 50));
    const before = (await first.client.events(id)).events;
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    assert.equal(readLock(path.join(ws, ".automl"))?.pid, first.ready.pid, "kill -9 leaves the lock behind");

    const second = await serveWorkspace(ws);
    assert.equal(readLock(path.join(ws, ".automl"))?.pid, second.ready.pid);
    assert.match(second.stderr.join(""), new RegExp(`took over the workspace lock of process ${first.ready.pid}`));
    assert.deepEqual((await second.client.events(id)).events, before, "the same history, nothing cut");
    assertLogsWhole(ws, false);
  });

  it("waits for a holder that is shutting down (it no longer answers), then takes the workspace", async () => {
    const ws = tempWorkspace("lock-closing");
    // a holder caught between closing its server and exiting, as after Stop Conductor: alive, not answering
    const closing = spawn(process.execPath, ["-e", "setTimeout(() => {}, 2500)"], { stdio: "ignore" });
    children.push(closing);
    fs.mkdirSync(path.join(ws, ".automl"), { recursive: true });
    const holder = {
      pid: closing.pid!,
      port: 9,
      token: "x".repeat(43),
      command: "serve",
      hostname: os.hostname(),
      started_at: new Date().toISOString(),
      instance: "closing",
    };
    fs.writeFileSync(path.join(ws, ".automl", LOCK_FILE), JSON.stringify(holder), { mode: 0o600 });
    const t0 = Date.now();
    const next = startCli(["serve", "--attach", "--workspace", ws]);
    const line = await new Promise<string>((resolve, reject) => {
      next.child.stdout!.once("data", (d: Buffer) => resolve(String(d).split("\n")[0]!));
      next.child.once("exit", (code) => reject(new Error(`serve --attach exited with ${code}: ${next.stderr.join("")}`)));
    });
    const ready = readyLineSchema.parse(JSON.parse(line));
    assert.equal(ready.attached, undefined, "it serves the workspace itself once the holder is gone");
    assert.equal(ready.pid, next.child.pid);
    assert.ok(Date.now() - t0 >= 1500, "it waited for the holder to exit");
    assert.equal(readLock(path.join(ws, ".automl"))?.pid, next.child.pid);
    next.child.kill("SIGTERM");
  });

  it("lets exactly one of several processes racing for a stale lock win", async () => {
    const ws = tempWorkspace("lock-race");
    const automlDir = path.join(ws, ".automl");
    fs.mkdirSync(automlDir, { recursive: true });
    // a lock whose process is gone: a child that already exited
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => gone.once("exit", r));
    fs.writeFileSync(
      path.join(automlDir, LOCK_FILE),
      JSON.stringify({ pid: gone.pid, port: null, token: null, command: "serve", hostname: os.hostname(), started_at: "then", instance: "dead" }),
      { mode: 0o600 },
    );
    const script = `
      const { WorkspaceLock, WorkspaceBusyError } = require(${JSON.stringify(path.join(REPO, "kernel", "conductor", "workspace-lock.ts"))});
      const start = Number(process.argv[1]);
      while (Date.now() < start) {}
      try { WorkspaceLock.acquire(${JSON.stringify(automlDir)}, "race"); console.log("won"); setTimeout(() => {}, 5000); }
      catch (e) { console.log(e instanceof WorkspaceBusyError ? "busy" : "error " + e.message); }`;
    const at = String(Date.now() + 3000);
    const racers = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ["--require", "tsx/cjs", "-e", script, at], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
      children.push(child);
      return new Promise<string>((resolve) => {
        let out = "";
        child.stdout!.on("data", (d) => (out += String(d)));
        child.once("close", () => resolve(out.trim()));
      });
    });
    const outcomes = await Promise.all(racers);
    assert.equal(outcomes.filter((o) => o === "won").length, 1, outcomes.join(", "));
    assert.equal(outcomes.filter((o) => o === "busy").length, 5, outcomes.join(", "));
  });
});
