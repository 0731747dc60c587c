import { strict as assert } from "node:assert";
import { ConductorClient, EV } from "../../contract";
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
    await until(
      () => first.client.state(id),
      (s) => s.snapshot.stages.TRAIN.status === "running" && Object.keys(s.snapshot.runs).length > 0,
      "training to start",
    );
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

    // only a search carries on from where it was; a plain training run is retried
    await assert.rejects(second.client.retry(id, { resume: true }), /Only a search that a stop cut short can be resumed/);
    await second.client.retry(id);
    const done = await until(
      () => second.client.state(id),
      (s) => s.snapshot.stages.EXPORT.status === "completed",
      "the retried project to finish",
    );
    assert.ok(done.snapshot.best);
    assertValidLog((await second.client.events(id)).events, id);

    second.child.kill("SIGTERM");
    const code = await new Promise((r) => second.child.once("exit", r));
    assert.equal(code, 0, "SIGTERM stops it cleanly");
  });

  it("resumes a search that a stop cut short: its finished runs kept, the rest of its budget spent", async () => {
    const ws = tempWorkspace("resume");
    const first = await serve(ws);
    const budget = 12;
    const { project_id: id } = await first.client.createProject({ prompt: "predict house prices", auto: true, pacing: false, time_budget_s: budget });
    const during = await until(
      () => first.client.state(id),
      (s) => s.snapshot.leaderboard.filter((r) => r.status === "success").length >= 2,
      "two trials to finish",
      40_000,
    );
    assert.equal(during.snapshot.stages.TRAIN.status, "running");
    first.child.kill("SIGTERM");
    await new Promise((r) => first.child.once("exit", r));

    const second = await serve(ws);
    const stopped = await second.client.state(id);
    assert.equal(stopped.snapshot.stages.TRAIN.status, "failed");
    assert.match(stopped.snapshot.stages.TRAIN.message, /interrupted/);
    const kept = stopped.snapshot.leaderboard.filter((r) => r.status === "success").map((r) => r.run_id);
    assert.ok(kept.length >= 2, `${kept.length} finished runs before the stop`);
    await second.client.retry(id, { resume: true });
    const done = await until(
      () => second.client.state(id),
      (s) => s.snapshot.stages.EXPORT.status === "completed",
      "the resumed project to finish",
      60_000,
    );
    const board = done.snapshot.leaderboard.map((r) => r.run_id);
    for (const run of kept) assert.ok(board.includes(run), `${run}, finished before the stop, is still on the leaderboard`);
    assert.ok(board.length > kept.length, "the resumed search added runs of its own");
    const events = (await second.client.events(id)).events;
    const said = events
      .filter((e) => e.event.name === EV.LOG_LINE && /resuming after a stop/.test(e.event.payload.text))
      .map((e) => (e.event.payload as { text: string }).text);
    assert.equal(said.length, 1);
    const spent = Number(/([\d.]+) s of the 12 s budget spent/.exec(said[0]!)![1]);
    const left = Number(/([\d.]+) s to go/.exec(said[0]!)![1]);
    assert.ok(spent > 0 && Math.abs(spent + left - budget) < 0.2, said[0]);
    // the resumed pass keeps to what was left of the budget (the search's own overrun allowance aside)
    const trainStatus = events.filter((e) => e.event.name === EV.STAGE_STATUS && e.event.payload.stage_id === "TRAIN");
    const resumedPass = trainStatus.at(-1)!.ts - trainStatus.at(-2)!.ts; // seconds
    // (loose: on a loaded 2-core machine the last trial's cross-validation can run over by seconds)
    assert.ok(resumedPass < left * 1.25 + 5, `the resumed pass took ${resumedPass.toFixed(1)} s for ${left} s`);
    assertValidLog(events, id);
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));
  });
});
