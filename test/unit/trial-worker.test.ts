/**
 * Training in a worker thread: a trial's events arrive in order before its outcome, its model
 * comes back usable, a trial whose thread runs out of memory is a failed run (said so, and the
 * next trial gets a fresh thread), and one still running past its deadline is ended with its
 * thread, on time.
 */
import { strict as assert } from "node:assert";
import { AssetStore } from "../../kernel/assets/asset-store";
import type { EventSink } from "../../kernel/events/event-sink";
import { findLearner } from "../../kernel/ml/model-zoo";
import type { Trial } from "../../kernel/ml/trial";
import { GRACE_MS, TrialWorker } from "../../kernel/ml/trial-worker";
import { EV, validatePayload, type EventName } from "../../contract";
import { table } from "../support/synthetic-table";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

function recorder() {
  const events: Array<{ name: EventName; payload: Record<string, unknown> }> = [];
  const sink: EventSink = {
    emit(name, payload) {
      const checked = validatePayload(name, payload);
      assert.ok(checked.ok, checked.ok ? "" : checked.error);
      events.push({ name, payload: payload as Record<string, unknown> });
    },
  };
  return { events, sink };
}

function trial(model: string, params: Record<string, number>, rows: number, deadline?: number): Trial {
  const make = (x: number[]) => (x[0]! + x[1]! * x[2]! > 0 ? 1 : 0);
  return {
    run: {
      learner: findLearner(model)!,
      params,
      data: { task: "classification", train: table(rows, 1, make, 8), val: table(rows / 4, 2, make, 8), nClasses: 2 },
      test: table(rows / 4, 3, make, 8),
      classes: ["no", "yes"],
      featureNames: Array.from({ length: 8 }, (_, i) => `f${i}`),
      metricPrimary: "accuracy",
      config: { task_type: "classification", target: "y", split: { seed: 1, test_size: 0.2 }, preprocess: {} },
      pacing: false,
      ...(deadline !== undefined ? { deadline } : {}),
    },
  };
}

describe("training in a worker thread", function () {
  this.timeout(120_000);
  after(removeTempWorkspaces);
  const assets = () => new AssetStore("p", tempWorkspace("trial-worker"));

  it("sends a trial's events in order before its outcome, and its model back usable", async () => {
    const worker = new TrialWorker();
    const { events, sink } = recorder();
    const t = trial("random_forest", { n_estimators: 20 }, 2000);
    const { result } = await worker.run(t, sink, assets());
    await worker.close();
    assert.equal(result!.status, "success");
    assert.equal(events[0]!.name, EV.TRAIN_RUN_STARTED);
    assert.equal(events.at(-1)!.name, EV.TRAIN_RUN_FINISHED);
    const predictions = result!.model!.predict(t.run.test.x);
    assert.equal(predictions.length, t.run.test.x.rows * 2, "class probabilities for every test row");
  });

  it("fails a trial whose thread dies (here: out of memory), says so, and trains the next one in a fresh thread", async () => {
    const worker = new TrialWorker(64);
    const { sink } = recorder();
    // three million feature names are more than a 64 MB heap holds: the thread dies taking the trial in
    const hog = trial("logistic_gd", {}, 400);
    hog.run.featureNames = Array.from({ length: 3_000_000 }, (_, i) => `feature number ${i}`);
    const { result } = await worker.run(hog, sink, assets());
    assert.equal(result!.status, "failed");
    assert.match(result!.reason ?? "", /its training thread died/);
    const next = await worker.run(trial("logistic_gd", {}, 400), recorder().sink, assets());
    await worker.close();
    assert.equal(next.result!.status, "success", "the next trial gets a fresh thread");
  });

  it("ends a trial still running past its deadline with its thread, within the grace period", async () => {
    const worker = new TrialWorker();
    const { events, sink } = recorder();
    const deadline = performance.now() + 1500;
    const { result } = await worker.run(trial("random_forest", { n_estimators: 100_000, max_depth: 30 }, 20_000, deadline), sink, assets());
    const late = performance.now() - deadline;
    await worker.close();
    assert.equal(result!.status, "cancelled");
    assert.ok(late < GRACE_MS + 400, `answered ${late.toFixed(0)} ms after the deadline`);
    assert.equal(events.at(-1)!.name, EV.TRAIN_RUN_FINISHED);
    assert.equal(events.at(-1)!.payload["status"], "cancelled");
  });
});
