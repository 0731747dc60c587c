/**
 * Checks a whole event log against the contract: every envelope validates, seq is gapless,
 * and each training run follows the TRAIN section's order and step rules.
 */
import { strict as assert } from "node:assert";
import { EV, validateEnvelope, type AnyEventEnvelope } from "../../contract";

/** `trained`: the log must hold training runs (false for a project that stopped before TRAIN). */
export function assertValidLog(events: readonly unknown[], projectId: string, trained = true): AnyEventEnvelope[] {
  const checked = events.map((e, i) => {
    const r = validateEnvelope(e);
    assert.ok(r.ok, `event ${i + 1}: ${r.ok ? "" : r.error}`);
    return r.value;
  });
  checked.forEach((e, i) => {
    assert.equal(e.seq, i + 1, "seq starts at 1 and has no gaps");
    assert.equal(e.project_id, projectId);
  });
  if (trained) assertTrainOrder(checked);
  return checked;
}

const IN_STEP = new Set<string>([EV.METRIC_SCALAR, EV.GD_DIAGNOSTIC, EV.RESOURCE_STATS, EV.LOG_LINE]);
/** 003_…'s gradient-descent view: between the steps and the artifacts */
const DESCENT = new Set<string>([
  EV.GD_HYPERPARAMS,
  EV.LOSS_SURFACE_GRID_READY,
  EV.LOSS_SURFACE_SPEC_READY,
  EV.GD_PATH_STARTED,
  EV.GD_PATH_UPDATE,
  EV.GD_PATH_FINISHED,
]);
const ARTIFACTS = new Set<string>([EV.CONFUSION_MATRIX_READY, EV.ROC_CURVE_READY, EV.RESIDUALS_PLOT_READY, EV.FEATURE_IMPORTANCE_READY, EV.ARTIFACT_ADDED]);

/** 000_… "Required ordering (per run_id)" and the TRAIN_PROGRESS step rules. */
export function assertTrainOrder(events: readonly AnyEventEnvelope[]): void {
  const runs = new Map<string, AnyEventEnvelope[]>();
  for (const e of events) {
    if (e.event.name === EV.BEST_MODEL_UPDATED) continue; // about the leaderboard, sent after a run ends
    const p = e.event.payload as { run_id?: unknown; artifact?: { meta: { run_id?: unknown } } };
    const runId = typeof p.run_id === "string" ? p.run_id : typeof p.artifact?.meta.run_id === "string" ? p.artifact.meta.run_id : null;
    if (runId) (runs.get(runId) ?? runs.set(runId, []).get(runId)!).push(e);
  }
  assert.ok(runs.size > 0, "the log has training runs");
  for (const [runId, evs] of runs) {
    assert.equal(evs[0]!.event.name, EV.TRAIN_RUN_STARTED, `${runId} starts with TRAIN_RUN_STARTED`);
    assert.equal(evs[evs.length - 1]!.event.name, EV.TRAIN_RUN_FINISHED, `${runId} ends with TRAIN_RUN_FINISHED`);
    let phase: "steps" | "artifacts" = "steps";
    let lastStep = -1;
    let sawProgress = false;
    for (const e of evs.slice(1, -1)) {
      const name = e.event.name;
      if (name === EV.TRAIN_PROGRESS) {
        assert.equal(phase, "steps", `${runId}: TRAIN_PROGRESS after artifacts`);
        const p = e.event.payload;
        if (!sawProgress) assert.ok(p.step === 0 || p.step === 1, `${runId}: steps start at 0 or 1`);
        else if (p.phase === "eval" || p.phase === "finalize") assert.equal(p.step, lastStep, `${runId}: ${p.phase} stays at the last step`);
        else assert.equal(p.step, lastStep + 1, `${runId}: steps rise by one`);
        assert.ok(p.step <= p.steps, `${runId}: step ${p.step} within ${p.steps}`);
        lastStep = p.step;
        sawProgress = true;
      } else if (IN_STEP.has(name)) {
        assert.equal(phase, "steps", `${runId}: ${name} after artifacts`);
        if (name === EV.METRIC_SCALAR) {
          assert.ok(sawProgress, `${runId}: METRIC_SCALAR before any TRAIN_PROGRESS`);
          assert.equal((e.event.payload as { step: number }).step, lastStep, `${runId}: METRIC_SCALAR aligned with TRAIN_PROGRESS.step`);
        }
      } else if (DESCENT.has(name)) {
        assert.equal(phase, "steps", `${runId}: ${name} after artifacts`);
      } else if (ARTIFACTS.has(name)) {
        phase = "artifacts";
      } else {
        assert.fail(`${runId}: unexpected ${name} inside a run`);
      }
    }
    const finished = evs[evs.length - 1]!.event.payload as { status: string; final_metrics: { primary: { split: string } } | null };
    if (finished.status === "success") {
      assert.equal(finished.final_metrics?.primary.split, "test", `${runId}: final metrics are on the test split`);
      const lastProgress = [...evs].reverse().find((e) => e.event.name === EV.TRAIN_PROGRESS)!.event.payload as { step: number; steps: number };
      assert.equal(lastProgress.step, lastProgress.steps, `${runId}: the last progress reaches steps`);
    }
  }
}
