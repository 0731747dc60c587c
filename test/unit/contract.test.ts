import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EVENT_NAMES, STAGE_IDS, applyEvent, emptySnapshot, validateEnvelope, validatePayload, type AnyEventEnvelope, type EventName } from "../../contract";

const SEEDS = path.join(__dirname, "..", "fixtures", "seeds");
const contractDoc = fs.readFileSync(path.join(SEEDS, "000-frontend-backend-contract.md"), "utf8");
const gdDoc = fs.readFileSync(path.join(SEEDS, "003-gradient-descent-events.md"), "utf8");

/** The seed's JSON examples that follow "### Event: NAME" headings. */
function examples(doc: string): Array<{ name: string; payload: unknown }> {
  const out: Array<{ name: string; payload: unknown }> = [];
  const re = /### Event: `?([A-Z_]+)`?[^\n]*\n[\s\S]*?```json\n([\s\S]*?)```/g;
  for (const m of doc.matchAll(re)) out.push({ name: m[1]!, payload: firstOptions(JSON.parse(m[2]!)) });
  return out;
}

/** The seeds write enums as "a | b | c" placeholders; an instance takes one of them. */
function firstOptions(value: unknown): unknown {
  if (typeof value === "string" && value.includes(" | ")) return value.split(" | ")[0];
  if (Array.isArray(value)) return value.map(firstOptions);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, firstOptions(v)]));
  return value;
}

describe("contract", () => {
  it("names every stage and every event of the seeds", () => {
    const stagesInDoc = [...contractDoc.split("## Event Protocol")[0]!.matchAll(/^- ([A-Z_]+)$/gm)].map((m) => m[1]);
    assert.deepEqual(stagesInDoc, [...STAGE_IDS]);
    const namesInDocs = new Set([
      ...[...contractDoc.matchAll(/\*\*([A-Z_]+)\*\*: \{/g)].map((m) => m[1]!),
      ...[...contractDoc.matchAll(/### Event: ([A-Z_]+)/g)].map((m) => m[1]!),
      ...[...gdDoc.matchAll(/### (?:\(Optional alternative\) )?Event: `([A-Z_]+)`/g)].map((m) => m[1]!),
    ]);
    assert.deepEqual([...namesInDocs].sort(), [...EVENT_NAMES].sort(), "the contract has exactly the seeds' events");
  });

  it("accepts the seeds' own example payloads", () => {
    const all = [...examples(contractDoc), ...examples(gdDoc)];
    assert.ok(all.length >= 10, `found ${all.length} examples`);
    for (const { name, payload } of all) {
      const r = validatePayload(name as EventName, payload);
      assert.ok(r.ok, `${name}: ${r.ok ? "" : r.error}`);
    }
  });

  it("refuses payloads that break the contract, naming the field", () => {
    const bad = validatePayload("TRAIN_PROGRESS", { run_id: "r", epoch: 1, epochs: 1, step: -1, steps: 5, eta_s: null, phase: "fit" });
    assert.ok(!bad.ok && /step/.test(bad.error));
    const phase = validatePayload("TRAIN_PROGRESS", { run_id: "r", epoch: 1, epochs: 1, step: 1, steps: 5, eta_s: null, phase: "warmup" });
    assert.ok(!phase.ok && /phase/.test(phase.error));
    const extra = validatePayload("STAGE_STATUS", { stage_id: "TRAIN", status: "running", message: "", surprise: 1 });
    assert.ok(!extra.ok, "unknown fields are refused");
    const nan = validatePayload("METRIC_SCALAR", { run_id: "r", name: "loss", split: "train", step: 1, value: NaN });
    assert.ok(!nan.ok, "NaN is not a metric value");
  });

  it("checks the envelope of 003, including stage index and event name", () => {
    const env = {
      v: 1,
      type: "EVENT",
      project_id: "p",
      seq: 1,
      ts: 1730000000,
      stage: { id: "TRAIN", index: 5, status: "running" },
      event: { name: "LOG_LINE", payload: { run_id: null, level: "info", text: "hi" } },
    };
    assert.ok(validateEnvelope(env).ok);
    assert.ok(!validateEnvelope({ ...env, stage: { id: "TRAIN", index: 3, status: "running" } }).ok);
    assert.ok(!validateEnvelope({ ...env, seq: 0 }).ok);
    assert.ok(!validateEnvelope({ ...env, event: { name: "NOPE", payload: {} } }).ok);
  });

  it("folds events into a snapshot", () => {
    const s = emptySnapshot("p");
    const mk = (seq: number, name: string, payload: unknown): AnyEventEnvelope =>
      ({
        v: 1,
        type: "EVENT",
        project_id: "p",
        seq,
        ts: 1,
        stage: { id: "PREPROCESS", index: 3, status: "running" },
        event: { name, payload },
      }) as AnyEventEnvelope;
    applyEvent(s, mk(1, "STAGE_STATUS", { stage_id: "PREPROCESS", status: "waiting", message: "m" }));
    applyEvent(s, mk(2, "WAITING_CONFIRMATION", { stage_id: "PREPROCESS", summary: "x", next_actions: [{ id: "approve", label: "A" }] }));
    applyEvent(s, mk(3, "PLAN_PROPOSED", { stage_id: "PREPROCESS", plan_json: { steps: [] } }));
    assert.equal(s.waiting?.stage_id, "PREPROCESS");
    assert.equal(s.plans.PREPROCESS?.approved, false);
    applyEvent(s, mk(4, "PLAN_APPROVED", { stage_id: "PREPROCESS" }));
    applyEvent(s, mk(5, "STAGE_STATUS", { stage_id: "PREPROCESS", status: "completed", message: "" }));
    assert.equal(s.waiting, null);
    assert.equal(s.plans.PREPROCESS?.approved, true);
    assert.equal(s.last_seq, 5);
    assert.equal(s.current_stage, "PREPROCESS");
  });
});
