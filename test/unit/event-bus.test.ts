import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV, type AnyEventEnvelope } from "../../contract";
import { ContractViolation, ProjectEventBus } from "../../kernel/events/project-event-bus";
import { createMemoryLogger } from "../../kernel/logging/logger";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

function openBus(dir: string, strict = true) {
  const logger = createMemoryLogger();
  const bus = ProjectEventBus.open("p1", path.join(dir, "events.jsonl"), { strictContract: strict, logger });
  return { bus, logger };
}

function emitLogs(bus: ProjectEventBus, n: number) {
  for (let i = 0; i < n; i++) bus.emit("TRAIN", EV.LOG_LINE, { run_id: null, level: "info", text: `line ${i}` });
}

describe("event bus", () => {
  after(removeTempWorkspaces);

  it("numbers events from 1 with no gaps and stamps the stage", () => {
    const { bus } = openBus(tempWorkspace());
    bus.emit("TRAIN", EV.STAGE_STATUS, { stage_id: "TRAIN", status: "running", message: "go" });
    emitLogs(bus, 4);
    const seqs = bus.eventsSince(0).map((e) => e.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    assert.deepEqual(bus.eventAt(2)!.stage, { id: "TRAIN", index: 5, status: "running" });
    assert.deepEqual(
      bus.eventsSince(3).map((e) => e.seq),
      [4, 5],
    );
    bus.close();
  });

  it("writes each event to events.jsonl before subscribers see it", () => {
    const dir = tempWorkspace();
    const { bus } = openBus(dir);
    const seenOnDisk: number[] = [];
    bus.subscribe((e) => {
      const lines = fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").trim().split("\n");
      seenOnDisk.push(JSON.parse(lines[lines.length - 1]!).seq === e.seq ? e.seq : -1);
    });
    emitLogs(bus, 3);
    assert.deepEqual(seenOnDisk, [1, 2, 3]);
    bus.close();
  });

  it("serves the same history after a restart and continues the numbering", () => {
    const dir = tempWorkspace();
    const first = openBus(dir).bus;
    emitLogs(first, 10);
    const before = JSON.stringify(first.eventsSince(0));
    first.close();
    const second = openBus(dir).bus;
    assert.equal(JSON.stringify(second.eventsSince(0)), before);
    emitLogs(second, 1);
    assert.equal(second.lastSeq, 11);
    second.close();
  });

  it("recovers the valid prefix of a log with a torn last line and keeps the torn bytes", () => {
    const dir = tempWorkspace();
    const first = openBus(dir).bus;
    emitLogs(first, 5);
    first.close();
    const file = path.join(dir, "events.jsonl");
    const full = fs.readFileSync(file, "utf8");
    const torn = '{"v":1,"type":"EVENT","project_id":"p1","seq":6,"ts":17';
    fs.writeFileSync(file, full + torn);
    const { bus, logger } = openBus(dir);
    assert.equal(bus.lastSeq, 5);
    assert.equal(bus.recovery?.line, 6);
    assert.match(bus.recovery!.reason, /cut short/);
    assert.equal(fs.readFileSync(file, "utf8"), full, "the file is truncated to the valid prefix");
    assert.equal(fs.readFileSync(bus.recovery!.savedTo, "utf8"), torn, "the torn bytes are kept aside");
    assert.ok(logger.lines.some((l) => l.includes("WARN") && l.includes("bad line 6")));
    emitLogs(bus, 1);
    assert.equal(bus.lastSeq, 6);
    bus.close();
    assert.equal(openBus(dir).bus.lastSeq, 6);
  });

  it("stops at a corrupt line in the middle and at a seq gap", () => {
    const dir = tempWorkspace();
    const first = openBus(dir).bus;
    emitLogs(first, 4);
    first.close();
    const file = path.join(dir, "events.jsonl");
    const lines = fs.readFileSync(file, "utf8").trim().split("\n");
    const gap = JSON.parse(lines[3]!) as AnyEventEnvelope;
    gap.seq = 9;
    fs.writeFileSync(file, [lines[0], lines[1], lines[2], JSON.stringify(gap)].join("\n") + "\n");
    const { bus } = openBus(dir);
    assert.equal(bus.lastSeq, 3);
    assert.match(bus.recovery!.reason, /seq 9 where 4 was expected/);
    bus.close();
  });

  it("keeps a complete last line that only lost its newline", () => {
    const dir = tempWorkspace();
    const first = openBus(dir).bus;
    emitLogs(first, 2);
    first.close();
    const file = path.join(dir, "events.jsonl");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/\n$/, ""));
    const { bus } = openBus(dir);
    assert.equal(bus.lastSeq, 2);
    assert.equal(bus.recovery, null);
    emitLogs(bus, 1);
    bus.close();
    assert.equal(openBus(dir).bus.lastSeq, 3);
  });

  it("refuses an invalid event in strict mode and writes nothing", () => {
    const dir = tempWorkspace();
    const { bus } = openBus(dir, true);
    emitLogs(bus, 1);
    assert.throws(
      () => bus.emit("TRAIN", EV.METRIC_SCALAR, { run_id: "r", name: "loss", split: "train", step: 1, value: Number.NaN }),
      (err: unknown) => err instanceof ContractViolation && /value/.test((err as Error).message),
    );
    assert.equal(bus.lastSeq, 1);
    assert.equal(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").trim().split("\n").length, 1);
    bus.close();
  });

  it("logs an invalid event loudly in production mode", () => {
    const { bus, logger } = openBus(tempWorkspace(), false);
    bus.emit("TRAIN", EV.METRIC_SCALAR, { run_id: "r", name: "loss", split: "train", step: 1, value: Number.NaN });
    assert.ok(logger.lines.some((l) => l.includes("ERROR") && l.includes("CONTRACT VIOLATION") && l.includes("METRIC_SCALAR")));
    bus.close();
  });
});
