/**
 * Notebook kernels clean up after themselves: what a cell starts ends with the kernel, a kernel
 * outlives neither a restart nor its conductor (even inside a synchronous loop), no request is
 * left unanswered, idle kernels are reaped, their number is capped, and their memory too.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import type { CellOutput, ExecutionMessage } from "../../contract";
import { killCliProcesses, serveWorkspace } from "../support/cli-process";
import { startConductor, waitFor, type RunningConductor } from "../support/running-conductor";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";
import { ConductorRequestError, type ConductorClient } from "../../contract";

/** Alive and not a zombie (a killed child waits for its parent to reap it). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Starts a cell without waiting for it; resolves the text it printed so far on demand. */
function startCell(client: ConductorClient, id: string, code: string) {
  const outputs: CellOutput[] = [];
  const done = client
    .execute(id, { code }, (m: ExecutionMessage) => {
      if (m.type === "output") outputs.push(m.output);
    })
    .catch((err: Error) => err);
  const text = () => outputs.map((o) => (o.output_type === "stream" ? o.text : o.output_type === "error" ? `${o.ename}: ${o.evalue}` : "")).join("");
  return { done, text };
}

async function pidsPrinted(cell: { text: () => string }): Promise<number[]> {
  await waitFor(() => /PIDS \[[\d,]+\]/.test(cell.text()), 60_000, "the cell to print its processes");
  return JSON.parse(/PIDS (\[[\d,]+\])/.exec(cell.text())![1]!) as number[];
}

const SPAWN_CHILDREN = `
import { spawn } from "child_process";
const attached = [0, 1, 2].map(() => spawn("sleep", ["300"]).pid);
const detached = [0, 1].map(() => { const c = spawn("sleep", ["300"], { detached: true, stdio: "ignore" }); c.unref(); return c.pid; });
console.log("PIDS " + JSON.stringify([process.pid, ...attached, ...detached]));`;

describe("notebook kernel hygiene", function () {
  this.timeout(180_000);
  let rc: RunningConductor;
  afterEach(async () => {
    await rc?.stop();
    killCliProcesses();
  });
  after(() => removeTempWorkspaces());

  it("interrupt ends what the cell started (not what it detached on purpose); restart ends all of it", async () => {
    rc = await startConductor();
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    const cell = startCell(rc.client, id, `${SPAWN_CHILDREN}\nawait new Promise(() => undefined);`);
    const [kernel, a1, a2, a3, d1, d2] = await pidsPrinted(cell);
    assert.ok(
      [kernel, a1, a2, a3, d1, d2].every((p) => running(p!)),
      "everything runs",
    );
    await rc.client.interrupt(id);
    const interrupted = await cell.done;
    assert.ok(!(interrupted instanceof Error) && interrupted.status === "interrupted");
    await waitFor(() => ![a1, a2, a3].some((p) => running(p!)), 10_000, "the cell's children to end with the interrupt");
    assert.ok(running(kernel!), "the kernel keeps running");
    assert.ok(running(d1!) && running(d2!), "children the cell detached on purpose keep running");
    await rc.client.restartKernel(id);
    await waitFor(() => ![kernel, d1, d2].some((p) => running(p!)), 10_000, "the old kernel and its detached children to end with the restart");
  });

  it("answers every request waiting on a kernel that restarts, and starts no kernel to complete code", async () => {
    rc = await startConductor();
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    const completion = await rc.client.complete(id, { code: "Math.ma", cursor: 7 });
    assert.deepEqual(completion.candidates, [], "nothing to complete without a kernel");
    assert.equal((await rc.client.kernelStatus(id)).pid, null, "completion started no kernel");

    const cell = startCell(rc.client, id, `console.log("PIDS " + JSON.stringify([process.pid]));\nfor (;;) {}`);
    await pidsPrinted(cell);
    // a kernel in a synchronous loop cannot answer: these wait until it restarts
    const waiting = [rc.client.variables(id).catch((e: Error) => e), rc.client.complete(id, { code: "Math.ma", cursor: 7 }).catch((e: Error) => e)];
    await new Promise((r) => setTimeout(r, 300));
    await rc.client.restartKernel(id);
    for (const answer of await Promise.all(waiting)) {
      assert.ok(answer instanceof ConductorRequestError, "answered with an error");
      assert.equal(answer.status, 409);
      assert.match(answer.message, /restarted before it answered/);
    }
    const done = await cell.done;
    assert.ok(!(done instanceof Error) && done.status === "kernel_died");
  });

  it("answers a request the kernel cannot (it is inside a synchronous loop) with a 503 at its time limit", async () => {
    rc = await startConductor();
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    const cell = startCell(rc.client, id, `console.log("PIDS " + JSON.stringify([process.pid]));\nfor (;;) {}`);
    await pidsPrinted(cell);
    const t0 = performance.now();
    const answer = await rc.client.variables(id).catch((e: Error) => e);
    const waited = performance.now() - t0;
    assert.ok(answer instanceof ConductorRequestError && answer.status === 503, String(answer));
    assert.match(answer.message, /took longer than 10 s/);
    assert.ok(waited >= 9_500 && waited < 15_000, `answered after ${waited.toFixed(0)} ms`);
    await rc.client.restartKernel(id);
    await cell.done;
  });

  it("stops a kernel left idle, and the one idle longest to stay under the cap; refuses when every kernel is busy", async () => {
    rc = await startConductor({ kernelLimits: { idleMs: 2000, maxAlive: 1, memoryMb: 4096 } });
    const { project_id: a } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    const { project_id: b } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    assert.equal(((await startCell(rc.client, a, "1 + 1").done) as { status: string }).status, "ok");
    const first = (await rc.client.kernelStatus(a)).pid!;
    assert.equal(((await startCell(rc.client, b, "2 + 2").done) as { status: string }).status, "ok");
    const statusA = await rc.client.kernelStatus(a);
    assert.equal(statusA.pid, null, "a's kernel made room for b's");
    assert.match(statusA.stopped_because ?? "", /make room.*automl\.kernel\.maxAlive = 1/);
    await waitFor(() => !running(first), 5000, "a's kernel process to end");

    // b is busy: a cannot start a kernel now
    const busy = startCell(rc.client, b, "await new Promise((r) => setTimeout(r, 4000));");
    await waitFor(() => rc.conductor.notebook.session(rc.conductor.get(b)).status().state === "busy", 10_000, "b to be busy");
    const refused = await startCell(rc.client, a, "3 + 3").done;
    assert.ok(refused instanceof Error, "refused");
    assert.match(refused.message, /1 notebook kernel is busy, the most allowed at once \(setting automl\.kernel\.maxAlive\)/);
    await busy.done;

    // idle for longer than the limit: reaped
    const pid = (await rc.client.kernelStatus(b)).pid!;
    await waitFor(() => rc.conductor.notebook.session(rc.conductor.get(b)).status().pid === null, 15_000, "b's idle kernel to be reaped");
    assert.match((await rc.client.kernelStatus(b)).stopped_because ?? "", /nothing to do.*automl\.kernel\.idleMinutes/);
    await waitFor(() => !running(pid), 5000, "its process to end");
  });

  it("ends a kernel that passes its memory limit with kernel_died: out of memory", async () => {
    rc = await startConductor({ kernelLimits: { idleMs: 60_000, maxAlive: 4, memoryMb: 512 } });
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    const cell = startCell(rc.client, id, "const hoard: number[][] = [];\nfor (;;) hoard.push(new Array(1_000_000).fill(Math.random()));");
    const done = await cell.done;
    assert.ok(!(done instanceof Error) && done.status === "kernel_died", String(done));
    assert.match(cell.text(), /kernel_died: out of memory: the kernel passed its limit of 512 MB \(the setting automl\.kernel\.memoryMb\)/);
    assert.equal(((await startCell(rc.client, id, "40 + 2").done) as { status: string }).status, "ok", "the next cell gets a fresh kernel");
  });

  it("leaves no process behind when its conductor is killed with SIGKILL, even mid-loop", async () => {
    const workspace = tempWorkspace();
    const served = await serveWorkspace(workspace);
    const { project_id: id } = await served.client.createProject({ prompt: "predict house prices", pacing: false });
    const cell = startCell(served.client, id, `${SPAWN_CHILDREN}\nfor (;;) {}`);
    const pids = await pidsPrinted(cell);
    assert.ok(pids.every(running));
    served.child.kill("SIGKILL");
    await waitFor(() => !pids.some(running), 10_000, "the kernel and every process it started to end").catch((err: Error) => {
      const left = pids.filter(running);
      for (const p of left) process.kill(p, "SIGKILL");
      throw new Error(`${err.message}; left running: ${left.join(", ")}`);
    });
  });
});
