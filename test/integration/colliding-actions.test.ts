/**
 * Actions that collide with work in progress are refused with 409 and a message naming what
 * runs, and change nothing: while the pipeline runs a stage, and while a stage cell runs from
 * the notebook. Nothing is silently dropped.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV } from "../../contract";
import { confirmGatesUntil, stageCellSources, startConductor, waitFor, type RunningConductor } from "../support/running-conductor";
import { BOSTON_CSV, removeTempWorkspaces } from "../support/temp-workspace";

/** Rejects with 409 and a message matching `reason`. */
async function refused(action: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(action, (err: Error & { status?: number }) => {
    assert.equal(err.status, 409, err.message);
    assert.match(err.message, reason);
    return true;
  });
}

describe("colliding actions", function () {
  this.timeout(120_000);
  let rc: RunningConductor;
  before(async () => (rc = await startConductor()));
  after(async () => (await rc.stop(), removeTempWorkspaces()));

  it("while the pipeline trains: a gate answer, a retry, an export, a stage cell and a re-parse get 409 naming the stage", async () => {
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", auto: true, pacing: true });
    await waitFor(() => rc.conductor.get(id).snapshot.stages.TRAIN.status === "running", 30_000, "training to start");
    const seq = rc.conductor.get(id).bus.lastSeq;
    await refused(rc.client.confirm(id, {}), /is running TRAIN/);
    await refused(rc.client.retry(id), /is running TRAIN/);
    await refused(rc.client.exportZip(id), /is running TRAIN/);
    await refused(rc.client.parse(id, { prompt: "predict crime" }), /is running TRAIN/);
    await refused(
      rc.client.execute(id, { code: "1", stage_id: "TRAIN" }, () => undefined),
      /is running TRAIN/,
    );
    // nothing the refused requests asked for happened: only training's own events followed
    const since = rc.conductor.get(id).bus.eventsSince(seq);
    assert.ok(!since.some((e) => e.event.name === EV.STAGE_STATUS && e.event.payload.stage_id === "PARSE_INTENT"), "the refused re-parse rewound nothing");
    await rc.conductor.idle(id);
    assert.equal(rc.conductor.get(id).snapshot.stages.EXPORT.status, "completed");
  });

  it("while a stage cell runs from the notebook: the gate, a retry, another stage cell and a re-run of stale stages get 409 naming the cell", async () => {
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    await confirmGatesUntil(rc, id, "REVIEW_EDIT");
    assert.equal((await rc.client.state(id)).snapshot.waiting?.stage_id, "REVIEW_EDIT");
    const trainCell = stageCellSources(rc, id, "TRAIN")[0]!;
    const running = rc.client.execute(id, { code: trainCell, stage_id: "TRAIN" }, () => undefined);
    running.catch(() => undefined); // a failed assertion below must not leave it unhandled
    await waitFor(() => rc.conductor.get(id).running !== null, 10_000, "the cell to start");
    const because = /running the Train and evaluate cell from the notebook/;
    await refused(rc.client.confirm(id, { stage_id: "REVIEW_EDIT" }), because);
    await refused(rc.client.retry(id), because);
    await refused(rc.client.exportZip(id), because);
    await refused(
      rc.client.execute(id, { code: "1", stage_id: "MODEL_SELECT" }, () => undefined),
      because,
    );
    const done = await running;
    assert.equal(done.status, "ok");
    // the cell ran TRAIN again: the review is reset and comes back once the stale stages are re-run
    assert.deepEqual(done.stale_stages, ["REVIEW_EDIT"]);
    await rc.client.rerunStale(id);
    await rc.conductor.idle(id);
    assert.equal((await rc.client.state(id)).snapshot.waiting?.stage_id, "REVIEW_EDIT");
  });

  it("the same request twice at once (a gate answer, a stage cell, a retry, a re-run of stale stages): one is taken, the other gets 409", async () => {
    const settle = async (both: Array<Promise<unknown>>) => {
      const results = await Promise.allSettled(both);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      assert.equal(refused.length, 1, JSON.stringify(results.map((r) => (r.status === "rejected" ? String(r.reason) : "ok"))));
      assert.equal((refused[0]!.reason as { status?: number }).status, 409, String(refused[0]!.reason));
      return String(refused[0]!.reason);
    };
    const count = (id: string, stage: string, status: string) =>
      rc.conductor
        .get(id)
        .bus.eventsSince(0)
        .filter((e) => e.event.name === EV.STAGE_STATUS && e.event.payload.stage_id === stage && e.event.payload.status === status).length;

    // a gate answered twice: the plan is approved once
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    await confirmGatesUntil(rc, id, "PREPROCESS");
    await settle([rc.client.confirm(id, { stage_id: "PREPROCESS" }), rc.client.confirm(id, { stage_id: "PREPROCESS" })]);
    await rc.conductor.idle(id);
    const approvals = rc.conductor
      .get(id)
      .bus.eventsSince(0)
      .filter((e) => e.event.name === EV.PLAN_APPROVED && e.event.payload.stage_id === "PREPROCESS");
    assert.equal(approvals.length, 1, "the plan was approved once");

    // two stage cells at once: one runs, the other is refused naming it
    await confirmGatesUntil(rc, id, "REVIEW_EDIT");
    const trainCell = stageCellSources(rc, id, "TRAIN")[0]!;
    const trainsBefore = count(id, "TRAIN", "running");
    const why = await settle([
      rc.client.execute(id, { code: trainCell, stage_id: "TRAIN" }, () => undefined),
      rc.client.execute(id, { code: trainCell, stage_id: "TRAIN" }, () => undefined),
    ]);
    assert.match(why, /running the Train and evaluate cell from the notebook/);
    assert.equal(count(id, "TRAIN", "running"), trainsBefore + 1, "TRAIN ran once");

    // the stale stages re-run twice at once: once (an edited MODEL_SELECT cell makes TRAIN stale)
    await rc.conductor.idle(id);
    const modelCell = stageCellSources(rc, id, "MODEL_SELECT")[0]!;
    const edited = await rc.client.execute(id, { code: `${modelCell}\n// edited`, stage_id: "MODEL_SELECT" }, () => undefined);
    assert.ok(edited.stale_stages.includes("TRAIN"), JSON.stringify(edited));
    const retrains = count(id, "TRAIN", "running");
    await settle([rc.client.rerunStale(id), rc.client.rerunStale(id)]);
    await rc.conductor.idle(id);
    assert.equal(count(id, "TRAIN", "running"), retrains + 1, "TRAIN ran once");

    // a failed stage retried twice at once: once
    const { project_id: failing } = await rc.client.createProject({ prompt: "predict house prices", pacing: false, auto: true, data_path: BOSTON_CSV });
    await rc.conductor.idle(failing);
    const dataFile = path.join(rc.conductor.projectsDir, failing, "data", "data.csv");
    fs.renameSync(dataFile, `${dataFile}.aside`);
    await rc.client.parse(failing, { prompt: "predict house prices" }); // runs again from the start: DATA_SOURCE fails without its file
    await rc.conductor.idle(failing);
    assert.equal(rc.conductor.get(failing).snapshot.stages.DATA_SOURCE.status, "failed");
    fs.renameSync(`${dataFile}.aside`, dataFile);
    const before = count(failing, "DATA_SOURCE", "running");
    await settle([rc.client.retry(failing), rc.client.retry(failing)]);
    await rc.conductor.idle(failing);
    assert.equal(count(failing, "DATA_SOURCE", "running"), before + 1, "DATA_SOURCE ran once");
    assert.equal(rc.conductor.get(failing).snapshot.stages.EXPORT.status, "completed");
  });
});
