import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { EV, GATE_ACTIONS, STAGE_IDS, type AnyEventEnvelope, type StageId } from "../../contract";
import { Conductor } from "../../kernel/conductor/conductor";
import { createMemoryLogger } from "../../kernel/logging/logger";
import { removeTempWorkspaces, tempWorkspace, BOSTON_CSV } from "../support/temp-workspace";

function open(workspace: string) {
  return Conductor.open({ workspace, logger: createMemoryLogger(), strictContract: true });
}

const names = (events: readonly AnyEventEnvelope[]) => events.map((e) => e.event.name);
const statusEvents = (events: readonly AnyEventEnvelope[], stage: StageId) =>
  events.filter((e) => e.event.name === EV.STAGE_STATUS && e.event.payload.stage_id === stage).map((e) => (e.event.payload as { status: string }).status);

describe("conductor", () => {
  after(removeTempWorkspaces);

  it("stops at every gate, takes an edited plan, and refuses a plan that cannot work without changing anything", async () => {
    const c = open(tempWorkspace());
    const p = await c.createProject({ prompt: "predict house prices", pacing: false, data_path: BOSTON_CSV, target: "medv" });
    const id = p.meta.id;
    const gatesSeen: StageId[] = [];
    for (let guard = 0; guard < 10 && p.snapshot.stages.EXPORT.status !== "completed"; guard++) {
      await c.idle(id);
      const waiting = p.snapshot.waiting;
      if (!waiting) break;
      gatesSeen.push(waiting.stage_id);
      assert.equal(p.snapshot.stages[waiting.stage_id].status, "waiting");
      assert.ok(waiting.next_actions.length > 0);
      if (waiting.stage_id === "PREPROCESS") {
        const plan = structuredClone(p.snapshot.plans.PREPROCESS!.plan_json) as { steps: Array<{ op: string; columns: string[] }> };
        const broken = structuredClone(plan);
        broken.steps.push({ op: "scale", columns: ["no_such_column"] } as never);
        const seq = p.bus.lastSeq;
        await assert.rejects(c.confirm(id, { action: "edit", plan_json: broken }), /not valid|no_such_column/);
        assert.equal(p.bus.lastSeq, seq, "a refused plan emits nothing");
        assert.equal(p.snapshot.stages.PREPROCESS.status, "waiting");
        plan.steps.unshift({ id: "drop-b", op: "drop_column", columns: ["b"], params: {}, why: "not a feature I want" } as never);
        await c.confirm(id, { stage_id: "PREPROCESS", action: "edit", plan_json: plan });
        const approved = p.bus.eventsSince(seq).find((e) => e.event.name === EV.PLAN_APPROVED)!;
        assert.ok((approved.event.payload as { plan_json?: unknown }).plan_json, "the edited plan is recorded");
        assert.ok(!p.work.prepared().featureNames.includes("b"), "the edit took effect");
      } else if (waiting.stage_id === "MODEL_SELECT") {
        await assert.rejects(
          c.confirm(id, { action: "edit", plan_json: { models: [{ id: "gaussian_nb" }], metric_primary: "rmse" } }),
          /cannot train regression/,
        );
        // a setting of the wrong kind, or one the model does not have, is refused before anything runs
        await assert.rejects(
          c.confirm(id, { action: "edit", plan_json: { models: [{ id: "ridge", params: { alpha: "lots" } }], metric_primary: "mae" } }),
          /ridge's alpha must be a number, not "lots"/,
        );
        await assert.rejects(
          c.confirm(id, { action: "edit", plan_json: { models: [{ id: "ridge", params: { alhpa: 3 } }], metric_primary: "mae" } }),
          /ridge has no setting "alhpa"; its settings are alpha/,
        );
        await c.confirm(id, { action: "edit", plan_json: { models: [{ id: "ridge", params: { alpha: 3 } }], metric_primary: "mae" } });
      } else {
        await c.confirm(id, { stage_id: waiting.stage_id });
      }
    }
    await c.idle(id);
    assert.deepEqual(gatesSeen, ["PARSE_INTENT", "DATA_SOURCE", "PROFILE_DATA", "PREPROCESS", "MODEL_SELECT", "TRAIN", "REVIEW_EDIT"]);
    assert.equal(p.snapshot.stages.EXPORT.status, "completed");
    assert.deepEqual(
      p.snapshot.leaderboard.map((r) => r.model),
      ["ridge"],
    );
    assert.equal(p.snapshot.leaderboard[0]!.metric?.name, "mae");
    // the report (and the zip's copy) describes what was approved, not what was proposed
    const report = fs.readFileSync(p.assets.absolute("report.md"), "utf8");
    assert.match(report, /The approved plan, as edited before approval:\n\n- drop_column \(b\): not a feature I want/);
    assert.match(report, /Trained: ridge \(alpha 3\); ranked by validation mae/);
    const zipped = unzipSync(new Uint8Array(fs.readFileSync(p.assets.absolute(`export/${id}.zip`))));
    assert.equal(Buffer.from(zipped["report.md"]!).toString("utf8"), report);
    const events = p.bus.eventsSince(0);
    for (const stage of STAGE_IDS.slice(0, 7)) {
      const planned = stage === "PREPROCESS" || stage === "MODEL_SELECT";
      assert.deepEqual(statusEvents(events, stage), planned ? ["running", "waiting", "running", "completed"] : ["running", "waiting", "completed"], stage);
    }
    assert.deepEqual(statusEvents(events, "EXPORT"), ["running", "completed"]);
    await c.close();
  });

  it("runs all eight stages by itself in auto mode", async () => {
    const c = open(tempWorkspace());
    const p = await c.createProject({ prompt: "classify penguin species", pacing: false, auto: true });
    await c.idle(p.meta.id);
    const events = p.bus.eventsSince(0);
    assert.ok(!names(events).includes(EV.WAITING_CONFIRMATION));
    for (const s of STAGE_IDS) assert.deepEqual(statusEvents(events, s), ["running", "completed"], s);
    assert.ok(names(events).includes(EV.PLAN_PROPOSED) && names(events).includes(EV.PLAN_APPROVED));
    // penguins have missing values and text columns: the plan imputes and encodes them
    assert.ok(p.snapshot.preprocess_steps.some((s) => s.op === "impute"));
    assert.ok(p.snapshot.preprocess_steps.some((s) => s.op === "encode_categorical"));
    assert.equal(p.snapshot.intent?.target, "Species");
    assert.ok(names(events).includes(EV.CONFUSION_MATRIX_READY));
    assert.ok(names(events).includes(EV.ROC_CURVE_READY), "one-vs-rest ROC curves for the three species");
    assert.ok(names(events).includes(EV.FEATURE_IMPORTANCE_READY));
    await c.close();
  });

  it("reports a failed stage with its reason and retries it without redoing the stages before", async () => {
    const ws = tempWorkspace();
    const c = open(ws);
    const p = await c.createProject({ prompt: "predict house prices", pacing: false, auto: true, data_path: BOSTON_CSV });
    const dataFile = path.join(p.dir, "data", "data.csv");
    const aside = `${dataFile}.aside`;
    fs.renameSync(dataFile, aside); // the data vanishes before DATA_SOURCE reads it
    await c.idle(p.meta.id);
    assert.equal(p.snapshot.stages.DATA_SOURCE.status, "failed");
    assert.match(p.snapshot.stages.DATA_SOURCE.message, /does not exist/);
    assert.equal(p.snapshot.stages.PARSE_INTENT.status, "completed");
    const parseRuns = statusEvents(p.bus.eventsSince(0), "PARSE_INTENT").length;
    fs.renameSync(aside, dataFile);
    await c.retry(p.meta.id);
    await c.idle(p.meta.id);
    assert.equal(p.snapshot.stages.EXPORT.status, "completed");
    assert.equal(statusEvents(p.bus.eventsSince(0), "PARSE_INTENT").length, parseRuns, "PARSE_INTENT did not run again");
    await c.close();
  });

  it("asks for the target at a gate when it is not in the data, offering the columns, and continues once one is picked", async () => {
    const c = open(tempWorkspace());
    const p = await c.createProject({ prompt: "predict price", target: "price", pacing: false, auto: true, data_path: BOSTON_CSV });
    await c.idle(p.meta.id);
    assert.equal(p.snapshot.stages.DATA_SOURCE.status, "waiting", "even in auto mode: only the person can say");
    assert.match(p.snapshot.waiting!.summary, /"price" is not in the data. Columns are: crim, zn, .*medv/);
    assert.doesNotMatch(p.snapshot.waiting!.summary, /--target|POST/, "no advice that only fits one client");
    const choose = p.snapshot.waiting!.next_actions.find((a) => a.id === GATE_ACTIONS.chooseTarget)!;
    assert.equal(choose.choices?.[0]?.value, "medv", "the last column, a usable target, is offered first");
    assert.match(choose.choices![0]!.description!, /numbers, \d+ distinct; would be regression/);
    assert.match(choose.choices!.find((ch) => ch.value === "chas")!.description!, /whole numbers, 2 distinct; would be classification/);
    assert.ok(p.snapshot.waiting!.next_actions.some((a) => a.id === GATE_ACTIONS.editPrompt));
    await assert.rejects(c.confirm(p.meta.id, { action: GATE_ACTIONS.chooseTarget, target: "nope" }), /not one of the target columns offered/);
    await assert.rejects(c.confirm(p.meta.id, {}), /Say which target column/);
    const before = p.snapshot.stages.PARSE_INTENT;
    await c.confirm(p.meta.id, { action: GATE_ACTIONS.chooseTarget, target: "medv" });
    await c.idle(p.meta.id);
    assert.deepEqual(p.snapshot.stages.PARSE_INTENT, before, "the parse stands; only the stages from DATA_SOURCE ran again");
    assert.equal(p.snapshot.stages.EXPORT.status, "completed");
    assert.equal(p.snapshot.intent?.target, "medv");
    await c.close();
  });

  it("waits for a reworded request when nothing in it says what to predict (even in auto mode), and takes a better prompt", async () => {
    const c = open(tempWorkspace());
    const p = await c.createProject({ prompt: "hello there", pacing: false, auto: true });
    await c.idle(p.meta.id);
    assert.equal(p.snapshot.stages.PARSE_INTENT.status, "waiting");
    assert.match(p.snapshot.waiting!.summary, /could not tell what to predict.*e\.g\./);
    assert.deepEqual(
      p.snapshot.waiting!.next_actions.map((a) => a.id),
      [GATE_ACTIONS.editPrompt],
    );
    await c.parse(p.meta.id, { prompt: "predict house prices" });
    await c.idle(p.meta.id);
    assert.equal(p.snapshot.stages.EXPORT.status, "completed");
    await c.close();
  });

  it("resumes projects from their logs after a restart, and fails a stage the restart interrupted", async () => {
    const ws = tempWorkspace();
    let c = open(ws);
    const waiting = await c.createProject({ prompt: "predict house prices", pacing: false });
    const interrupted = await c.createProject({ prompt: "predict house prices", pacing: false });
    await c.idle(waiting.meta.id);
    await c.idle(interrupted.meta.id);
    await c.confirm(waiting.meta.id, {});
    await c.idle(waiting.meta.id);
    const before = JSON.stringify(waiting.snapshot);
    // a crash while DATA_SOURCE runs: its log ends with "running"
    interrupted.bus.emit("DATA_SOURCE", EV.STAGE_STATUS, { stage_id: "DATA_SOURCE", status: "running", message: "x" });
    await c.close();

    c = open(ws);
    const again = c.get(waiting.meta.id);
    await c.idle(again.meta.id);
    assert.equal(JSON.stringify(again.snapshot), before, "the same state, folded from the log");
    const crashed = c.get(interrupted.meta.id);
    assert.equal(crashed.snapshot.stages.DATA_SOURCE.status, "failed");
    assert.match(crashed.snapshot.stages.DATA_SOURCE.message, /interrupted/);

    for (let guard = 0; guard < 10 && again.snapshot.waiting; guard++) {
      await c.confirm(again.meta.id, {});
      await c.idle(again.meta.id);
    }
    assert.equal(again.snapshot.stages.EXPORT.status, "completed", `a restarted project carries on to the end: ${JSON.stringify(again.snapshot.stages)}`);
    await c.close();
  });
});
