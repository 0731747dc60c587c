/**
 * The typed plans of the contract (parsed once by the reducer, checked before the dashboard
 * sends an edit) and the stage-step descriptions both the conductor and the notebook use.
 */
import { strict as assert } from "node:assert";
import {
  EV,
  applyEvent,
  approvedPlan,
  checkPlanEdit,
  emptySnapshot,
  parsePlan,
  type AnyEventEnvelope,
  type EventName,
  type EventPayload,
  type StageId,
} from "../../contract";
import { executeStatements, ref, renderCell, renderValue, type Statement, type StepScope } from "../../kernel/tasks/pipeline-step";
import type { PipelineRuntime } from "../../kernel/runtime/pipeline-runtime";

const PREPROCESS_PLAN = {
  steps: [{ id: "impute", op: "impute", columns: ["a"], params: { strategy: "median" }, why: "fill" }],
  split: { seed: 42, test_size: 0.2, val_size: 0.2 },
};

let seq = 0;
function envelope<N extends EventName>(stage: StageId, name: N, payload: EventPayload<N>): AnyEventEnvelope {
  return {
    v: 1,
    type: "EVENT",
    project_id: "p",
    seq: ++seq,
    ts: 0,
    stage: { id: stage, index: 0, status: "running" },
    event: { name, payload },
  } as AnyEventEnvelope;
}

describe("typed plans", () => {
  it("are parsed once by the reducer: typed when they fit their schema, null when they do not", () => {
    const s = emptySnapshot("p");
    applyEvent(s, envelope("PREPROCESS", EV.PLAN_PROPOSED, { stage_id: "PREPROCESS", plan_json: PREPROCESS_PLAN }));
    assert.equal(s.plans.PREPROCESS?.plan?.split.seed, 42);
    assert.equal(approvedPlan(s, "PREPROCESS"), null, "not approved yet");
    applyEvent(
      s,
      envelope("PREPROCESS", EV.PLAN_APPROVED, { stage_id: "PREPROCESS", plan_json: { ...PREPROCESS_PLAN, split: { ...PREPROCESS_PLAN.split, seed: 7 } } }),
    );
    assert.equal(approvedPlan(s, "PREPROCESS")?.split.seed, 7);
    assert.equal(s.plans.PREPROCESS?.edited, true);
    applyEvent(s, envelope("MODEL_SELECT", EV.PLAN_PROPOSED, { stage_id: "MODEL_SELECT", plan_json: { models: [], metric_primary: "rmse" } }));
    assert.equal(s.plans.MODEL_SELECT?.plan, null, "a plan with no model does not fit the schema");
  });

  it("say what is wrong with an edit, by path, before the dashboard sends it", () => {
    const bad = parsePlan("PREPROCESS", { ...PREPROCESS_PLAN, split: { seed: 1.5, test_size: 2, val_size: 0.2 } });
    assert.ok(!bad.ok);
    assert.match(bad.error, /split\.seed: .*; split\.test_size: /);
    assert.match(
      checkPlanEdit("MODEL_SELECT", { models: [{ id: "ridge" }], metric_primary: "accuracy" }, "regression") ?? "",
      /accuracy.*does not fit regression; choose from rmse, mae, r2/,
    );
    assert.match(checkPlanEdit("MODEL_SELECT", { models: [], metric_primary: "rmse" }, "regression") ?? "", /^models: /);
    assert.equal(checkPlanEdit("MODEL_SELECT", { models: [{ id: "ridge", params: { alpha: 2 } }], metric_primary: "rmse" }, "regression"), null);
    assert.equal(checkPlanEdit("TRAIN", { anything: true }, "regression"), null, "stages without a plan schema are not checked here");
    const defaults: Record<string, Record<string, unknown>> = { random_forest: { n_estimators: 100, max_features: "auto", bootstrap: true } };
    const check = (params: Record<string, number | string | boolean>) =>
      checkPlanEdit("MODEL_SELECT", { models: [{ id: "random_forest", params }], metric_primary: "rmse" }, "regression", (id) => defaults[id]);
    assert.match(check({ n_estimators: "many" }) ?? "", /random_forest's n_estimators must be a number, not "many"/);
    assert.match(check({ bootstrap: 1 }) ?? "", /bootstrap must be true or false/);
    assert.match(check({ n_estimators: -5 }) ?? "", /n_estimators must be 0 or more, not -5/);
    assert.match(check({ n_estimator: 10 }) ?? "", /has no setting "n_estimator"; its settings are n_estimators, max_features, bootstrap/);
    assert.equal(check({ max_features: 0.5, n_estimators: 10 }), null, "a text default also takes a number");
  });

  it("mark a stage whose edited notebook cell made its results, until it runs otherwise", () => {
    const s = emptySnapshot("p");
    applyEvent(s, envelope("MODEL_SELECT", EV.STAGE_STATUS, { stage_id: "MODEL_SELECT", status: "completed", message: "ran", edited_cell: true }));
    applyEvent(s, envelope("MODEL_SELECT", EV.STAGE_STATUS, { stage_id: "MODEL_SELECT", status: "stale", message: "later" }));
    assert.equal(s.stages.MODEL_SELECT.edited_cell, true, "still the edited cell's results");
    applyEvent(s, envelope("MODEL_SELECT", EV.STAGE_STATUS, { stage_id: "MODEL_SELECT", status: "running", message: "again" }));
    assert.equal(s.stages.MODEL_SELECT.edited_cell, undefined);
  });
});

describe("stage step descriptions", () => {
  it("render as TypeScript: bare identifier keys, quoted others, references as their paths, a guard around work re-run only on purpose", () => {
    assert.equal(
      renderCell({
        conductor: "notebook",
        statements: [{ kind: "call", method: "train", args: [ref("models"), ref("data"), {}], bind: "outcome", orUse: "found" }],
      }),
      "const outcome = found ?? (await rt.train(models, data, {}));",
    );
    assert.equal(renderValue({ a: 1, "b c": "x", target: ref("intent.target") }), '{ a: 1, "b c": "x", target: intent.target }');
    const source = renderCell({
      conductor: "runs",
      guard: { name: "again", comment: "only on purpose" },
      statements: [
        { kind: "call", method: "search", args: [ref("models"), ref("data"), { metric: ref("metric"), seed: 3 }], bind: "found", show: "found.best" },
      ],
    });
    assert.equal(
      source,
      "// only on purpose\nconst again = false;\nconst found = again ? await rt.search(models, data, { metric: metric, seed: 3 }) : null;\nif (found) automl.display(found.best);",
    );
  });

  it("execute the calls they render, with the values they name, and keep a value the same call made", async () => {
    const calls: unknown[][] = [];
    const runtime = { split: (...args: unknown[]) => (calls.push(args), { made: calls.length }) } as unknown as PipelineRuntime;
    const values = new Map<string, { value: unknown; madeBy?: string }>([
      ["table", { value: "T" }],
      ["intent", { value: { target: "y", task: "regression" } }],
    ]);
    const scope: StepScope = {
      get: (name) => values.get(name)!.value,
      set: (name, value, madeBy) => void values.set(name, { value, madeBy }),
      madeBy: (name) => values.get(name)?.madeBy,
    };
    const split: Statement = { kind: "call", method: "split", args: [ref("table"), { target: ref("intent.target"), seed: 1 }], bind: "split", reuse: true };
    await executeStatements([split, { kind: "const", name: "steps", value: [1] }], runtime, scope);
    assert.deepEqual(calls, [["T", { target: "y", seed: 1 }]]);
    assert.deepEqual(scope.get("steps"), [1]);
    await executeStatements([split], runtime, scope);
    assert.equal(calls.length, 1, "the same call with the same arguments is not made again");
    await executeStatements([{ ...split, args: [ref("table"), { target: ref("intent.target"), seed: 2 }] }], runtime, scope);
    assert.equal(calls.length, 2, "another seed is another split");
    assert.deepEqual(scope.get("split"), { made: 2 });
  });
});
