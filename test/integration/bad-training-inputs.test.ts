import { strict as assert } from "node:assert";
import { EV, type AnyEventEnvelope } from "../../contract";
import { Conductor } from "../../kernel/conductor/conductor";
import { createMemoryLogger } from "../../kernel/logging/logger";
import { removeTempWorkspaces, tempWorkspace, writeFile } from "../support/temp-workspace";

function open(workspace: string) {
  return Conductor.open({ workspace, logger: createMemoryLogger(), strictContract: true });
}

const payloads = <T>(events: readonly AnyEventEnvelope[], name: string) => events.filter((e) => e.event.name === name).map((e) => e.event.payload as T);

/** n rows: two numeric features and a label that depends on the first. */
function csv(n: number, row: (i: number, a: number, b: number) => [string | number, string | number, string | number]): string {
  const lines = ["a,b,y"];
  for (let i = 0; i < n; i++) {
    const a = ((i * 37) % 101) / 101;
    const b = ((i * 53) % 97) / 97;
    lines.push(row(i, a, b).join(","));
  }
  return lines.join("\n") + "\n";
}

describe("training on bad inputs", function () {
  this.timeout(120_000);
  after(removeTempWorkspaces);

  it("stops at PREPROCESS on a constant target, saying what to do, with the earlier stages kept", async () => {
    const ws = tempWorkspace();
    const data = writeFile(
      ws,
      "constant.csv",
      csv(120, (_i, a, b) => [a, b, 7]),
    );
    const c = open(ws);
    const p = await c.createProject({ prompt: "predict y", target: "y", pacing: false, auto: true, data_path: data, time_budget_s: 2 });
    await c.idle(p.meta.id);
    const stages = p.snapshot.stages;
    assert.equal(stages.PREPROCESS.status, "failed");
    assert.match(stages.PREPROCESS.message, /y .*(constant|single class).*Choose another target/);
    for (const s of ["PARSE_INTENT", "DATA_SOURCE", "PROFILE_DATA"] as const) assert.equal(stages[s].status, "completed");
    assert.equal(payloads(p.bus.eventsSince(0), EV.TRAIN_RUN_STARTED).length, 0);
    await c.close();
  });

  it("trains past infinities and a class with one row, warning about both, with real test metrics", async () => {
    const ws = tempWorkspace();
    const data = writeFile(
      ws,
      "messy.csv",
      csv(300, (i, a, b) => [i % 11 === 0 ? "inf" : a, i % 13 === 0 ? "-Infinity" : b, i === 299 ? "rare" : a > 0.5 ? "high" : "low"]),
    );
    const c = open(ws);
    const p = await c.createProject({ prompt: "classify y", target: "y", pacing: false, auto: true, data_path: data, time_budget_s: 3 });
    await c.idle(p.meta.id);
    const events = p.bus.eventsSince(0);
    assert.equal(p.snapshot.stages.EXPORT.status, "completed", JSON.stringify(p.snapshot.stages));
    const warnings = payloads<{ warnings: string[] }>(events, EV.PROFILE_SUMMARY).flatMap((s) => s.warnings);
    assert.ok(
      warnings.some((w) => /^a has 28 infinite value\(s\); they are treated as missing/.test(w)),
      warnings.join(" | "),
    );
    assert.ok(
      warnings.some((w) => /^b has 24 infinite value/.test(w)),
      warnings.join(" | "),
    );
    assert.ok(
      warnings.some((w) => /Class "rare" has a single row/.test(w)),
      warnings.join(" | "),
    );
    type Finished = { status: string; final_metrics: { primary: { name: string; value: number }; metrics: Array<{ name: string; value: number }> } | null };
    const finished = payloads<Finished>(events, EV.TRAIN_RUN_FINISHED).filter((f) => f.status === "success");
    assert.ok(finished.length > 0);
    for (const f of finished) for (const m of f.final_metrics!.metrics) assert.ok(Number.isFinite(m.value), JSON.stringify(f.final_metrics));
    // the label follows a, and a tree model sees a's missing values: nearly every test row is right
    const accuracies = finished.map((f) => f.final_metrics!.metrics.find((m) => m.name === "accuracy")!.value);
    assert.ok(Math.max(...accuracies) > 0.85, `best test accuracy ${Math.max(...accuracies)}`);
    await c.close();
  });
});
