import { strict as assert } from "node:assert";
import { ConductorClient } from "../../contract";
import { killCliProcesses, serveWorkspace as serve } from "../support/cli-process";
import { assertValidLog } from "../support/contract-rules";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("automl serve (the conductor process)", function () {
  this.timeout(60_000);
  after(() => {
    killCliProcesses();
    removeTempWorkspaces();
  });

  it("prints its ready line, survives a kill -9 in the middle of training, and resumes from the log", async () => {
    const ws = tempWorkspace("serve");
    const first = await serve(ws);
    assert.equal(first.ready.pid, first.child.pid);
    assert.ok(first.ready.token.length >= 32);
    const { project_id: id } = await first.client.createProject({ prompt: "predict house prices", auto: true, pacing: true });
    await until(() => first.client.state(id), (s) => s.snapshot.stages.TRAIN.status === "running" && Object.keys(s.snapshot.runs).length > 0, "training to start");
    const before = (await first.client.events(id)).events;
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));

    const second = await serve(ws);
    assert.notEqual(second.ready.token, first.ready.token, "a new token per launch");
    await assert.rejects(new ConductorClient(`http://127.0.0.1:${second.ready.port}`, first.ready.token).state(id), { status: 401 });
    const after = (await second.client.events(id)).events;
    assert.deepEqual(after.slice(0, before.length), before, "the restarted process serves the same history");
    const state = await second.client.state(id);
    assert.equal(state.snapshot.stages.TRAIN.status, "failed");
    assert.match(state.snapshot.stages.TRAIN.message, /interrupted/);
    assert.equal(state.snapshot.stages.MODEL_SELECT.status, "completed");
    const cutOff = Object.values(state.snapshot.runs);
    assert.ok(cutOff.length > 0 && cutOff.every((r) => r.status !== "running"), "the interrupted run is closed as failed");

    await second.client.retry(id);
    const done = await until(() => second.client.state(id), (s) => s.snapshot.stages.EXPORT.status === "completed", "the retried project to finish");
    assert.ok(done.snapshot.best);
    assertValidLog((await second.client.events(id)).events, id);

    second.child.kill("SIGTERM");
    const code = await new Promise((r) => second.child.once("exit", r));
    assert.equal(code, 0, "SIGTERM stops it cleanly");
  });
});
