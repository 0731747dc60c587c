import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV, type AnyEventEnvelope, type CellOutput, type ExecutionMessage } from "../../contract";
import { assertValidLog } from "../support/contract-rules";
import {
  confirmGatesUntil,
  notebookOf,
  openStream,
  stageCellSources,
  startConductor,
  waitFor,
  type NotebookCell,
  type RunningConductor,
} from "../support/running-conductor";
import { removeTempWorkspaces } from "../support/temp-workspace";

async function finishedProject(rc: RunningConductor, prompt: string, pacing = false): Promise<string> {
  const { project_id } = await rc.client.createProject({ prompt, auto: true, pacing });
  await rc.conductor.idle(project_id);
  assert.equal((await rc.client.state(project_id)).snapshot.stages.EXPORT.status, "completed");
  return project_id;
}

async function run(rc: RunningConductor, id: string, code: string, stage_id?: string) {
  const outputs: CellOutput[] = [];
  const arrivals: number[] = [];
  const done = await rc.client.execute(id, { code, stage_id: stage_id as never }, (m: ExecutionMessage) => {
    if (m.type === "output") (outputs.push(m.output), arrivals.push(Date.now()));
  });
  const text = outputs
    .map((o) =>
      o.output_type === "stream"
        ? o.text
        : o.output_type === "error"
          ? `${o.ename}: ${o.evalue}\n${o.traceback.join("\n")}`
          : String(o.data["text/plain"] ?? ""),
    )
    .join("\n");
  return { done, outputs, text, arrivals, finishedAt: Date.now() };
}

async function runNotebook(rc: RunningConductor, id: string): Promise<void> {
  for (const cell of notebookOf(rc, id).cells.filter((c) => c.cell_type === "code")) {
    const r = await run(rc, id, cell.source.join(""), cell.metadata.automl?.stage_id);
    assert.equal(r.done.status, "ok", `${cell.metadata.automl?.stage_id}: ${r.text}`);
  }
}

describe("the notebook kernel", function () {
  this.timeout(120_000);
  let rc: RunningConductor;
  before(async () => (rc = await startConductor()));
  after(async () => (await rc.stop(), removeTempWorkspaces()));

  it("runs the generated notebook cell by cell and reaches the conductor's own test metric", async () => {
    const id = await finishedProject(rc, "predict house prices");
    const before = await rc.client.state(id);
    const conductorRuns = Object.keys(before.snapshot.runs);
    await runNotebook(rc, id);
    const after = await rc.client.state(id);
    const notebookRuns = Object.values(after.snapshot.runs).filter((r) => !conductorRuns.includes(r.run_id));
    assert.equal(notebookRuns.length, conductorRuns.length, "the TRAIN cell trained every model again");
    for (const r of notebookRuns) {
      const twin = before.snapshot.runs[conductorRuns.find((c) => before.snapshot.runs[c]!.model_id === r.model_id)!]!;
      assert.equal(r.final_metrics!.primary.value, twin.final_metrics!.primary.value, `${r.model_id} reaches the same test ${r.final_metrics!.primary.name}`);
    }
    // the TRAIN cell made REVIEW_EDIT and EXPORT stale; their cells, run after it, brought them back
    assert.deepEqual(
      [after.snapshot.stages.TRAIN.status, after.snapshot.stages.REVIEW_EDIT.status, after.snapshot.stages.EXPORT.status],
      ["completed", "completed", "completed"],
    );
    assertValidLog((await rc.client.events(id)).events, id);

    const vars = (await rc.client.variables(id)).variables;
    const df = vars.find((v) => v.name === "df")!;
    assert.equal(df.type, "DataFrame");
    assert.deepEqual(df.shape, [506, 14]);
    assert.ok(df.columns!.includes("medv"));
    assert.equal(vars.find((v) => v.name === "table")?.preview, "Table 506 × 14");

    const rerun = await rc.client.rerunStale(id);
    assert.deepEqual(rerun.reran, [], "nothing is left stale");
  });

  it("applies a suggested edit: its cell, as written in the notebook, runs edited and the stages after it follow", async () => {
    const id = await finishedProject(rc, "predict house prices");
    const suggestions = (await rc.client.state(id)).snapshot.suggestions;
    const ridge = suggestions.find((s) => s.id === "tune-ridge-alpha")!;
    assert.ok(ridge.cell_edit, JSON.stringify(suggestions));
    const cell = notebookOf(rc, id).cells.find((c) => c.metadata.automl?.stage_id === "MODEL_SELECT" && c.cell_type === "code")!;
    assert.equal(cell.source.join("").trim(), ridge.cell_edit.before.trim(), "the edit finds its cell as the stage wrote it");
    assert.match(ridge.cell_edit.after, /alpha: 0.1[\s\S]*alpha: 10/);
    // as the extension does: the edit goes into the notebook, which is saved, then the cell runs
    const file = path.join(rc.conductor.projectsDir, id, "notebook.ipynb");
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: NotebookCell[] };
    nb.cells.find((c) => c.metadata.automl?.stage_id === "MODEL_SELECT" && c.cell_type === "code")!.source = [ridge.cell_edit.after];
    fs.writeFileSync(file, JSON.stringify(nb, null, 1));
    const r = await run(rc, id, ridge.cell_edit.after, "MODEL_SELECT");
    assert.equal(r.done.status, "ok", r.text);
    assert.deepEqual(r.done.stale_stages, ["TRAIN", "REVIEW_EDIT", "EXPORT"]);
    const rerun = await rc.client.rerunStale(id);
    assert.deepEqual(rerun.reran, ["TRAIN", "REVIEW_EDIT", "EXPORT"]);
    const after = rerun.state.snapshot;
    const alphas = after.leaderboard.filter((row) => row.model === "ridge").map((row) => row.params["alpha"]);
    for (const alpha of [0.1, 10]) assert.ok(alphas.includes(alpha), `a ridge run with alpha ${alpha}: ${alphas.join(", ")}`);
    // the review ran again on the new result: the edit made is not offered again
    assert.ok(!after.suggestions.some((s) => s.id === "tune-ridge-alpha"), after.suggestions.map((s) => s.id).join(", "));
    const report = fs.readFileSync(path.join(rc.conductor.projectsDir, id, "report.md"), "utf8");
    assert.match(report, /## Models\n\nThe approved plan:\n\n.*\n\nIts cell was then edited in the notebook and run/);
  });

  it("applied at the review gate, a suggested edit sends the project back to that gate with a new report", async () => {
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    await confirmGatesUntil(rc, id, "REVIEW_EDIT");
    const atGate = (await rc.client.state(id)).snapshot;
    assert.equal(atGate.waiting?.stage_id, "REVIEW_EDIT");
    const ridge = atGate.suggestions.find((s) => s.id === "tune-ridge-alpha")!;
    const file = path.join(rc.conductor.projectsDir, id, "notebook.ipynb");
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: NotebookCell[] };
    nb.cells.find((c) => c.metadata.automl?.stage_id === "MODEL_SELECT" && c.cell_type === "code")!.source = [ridge.cell_edit!.after];
    fs.writeFileSync(file, JSON.stringify(nb, null, 1));
    const running = run(rc, id, ridge.cell_edit!.after, "MODEL_SELECT");
    // while the cell (and the earlier cells it needs) runs, the gate is not answered: 409 with what runs
    await waitFor(() => rc.conductor.get(id).running !== null, 10_000, "the cell to start");
    await assert.rejects(
      rc.client.confirm(id, { stage_id: "REVIEW_EDIT" }),
      (err: Error & { status?: number }) => err.status === 409 && /running the Choose models cell from the notebook/.test(err.message),
    );
    const r = await running;
    assert.deepEqual(r.done.stale_stages, ["TRAIN", "REVIEW_EDIT"], "the gate's results no longer hold");
    assert.equal((await rc.client.state(id)).snapshot.waiting, null, "the old gate cannot be answered meanwhile");
    await rc.client.rerunStale(id);
    await rc.conductor.idle(id);
    const after = (await rc.client.state(id)).snapshot;
    assert.equal(after.waiting?.stage_id, "REVIEW_EDIT", "it waits at the review again");
    assert.equal(after.stages.EXPORT.status, "pending");
    const events = (await rc.client.events(id)).events;
    assert.equal(events.filter((e) => e.event.name === EV.REPORT_READY).length, 2, "a new report");
    const report = fs.readFileSync(path.join(rc.conductor.projectsDir, id, "report.md"), "utf8");
    for (const alpha of ["0.1", "1", "10"]) assert.match(report, new RegExp(`^\\| ridge \\| alpha ${alpha} \\|`, "m"), "each ridge row says its alpha");
    assert.equal(
      (report.match(/^\| ridge \|/gm) ?? []).length,
      3,
      `the report's leaderboard has the three ridge runs:\n${report}\n${JSON.stringify(after.leaderboard.map((r) => [r.model, r.params, r.run_id]))}`,
    );
  });

  it("exports what follows from the notebook: a stale review is written again first, stale training is refused with what to do", async () => {
    const id = await finishedProject(rc, "predict house prices");
    const cellOf = (stage: "TRAIN" | "MODEL_SELECT") => stageCellSources(rc, id, stage);
    const trained = await run(rc, id, cellOf("TRAIN")[0]!, "TRAIN");
    assert.deepEqual(trained.done.stale_stages, ["REVIEW_EDIT", "EXPORT"]);
    const reports = () =>
      rc.conductor
        .get(id)
        .bus.eventsSince(0)
        .filter((e) => e.event.name === EV.REPORT_READY).length;
    const before = reports();
    const zip = await rc.client.exportZip(id);
    const { snapshot } = await rc.client.state(id);
    assert.equal(reports(), before + 1, "the review was written again before the zip");
    assert.deepEqual([snapshot.stages.REVIEW_EDIT.status, snapshot.stages.EXPORT.status], ["completed", "completed"]);
    const report = fs.readFileSync(path.join(rc.conductor.projectsDir, id, "report.md"), "utf8");
    assert.ok(report.includes(`${snapshot.runs[snapshot.best!.run_id]!.model_id}:`), "the report names the best model the zip holds");
    assert.ok(zip.contents.some((c) => c.path === "report.md"));

    const edited = await run(rc, id, `${cellOf("MODEL_SELECT")[0]!}\n// edited`, "MODEL_SELECT");
    assert.ok(edited.done.stale_stages.includes("TRAIN"));
    await assert.rejects(rc.client.exportZip(id), (err: Error & { status?: number }) => {
      assert.equal(err.status, 409);
      assert.match(err.message, /Train and evaluate is stale .*Re-run the stale stages first/);
      return true;
    });
  });

  it("re-runs an edited TRAIN cell as a new run whose events reach a WebSocket client live", async () => {
    const id = await finishedProject(rc, "predict house prices");
    const stream = await openStream(rc.client.streamUrl(id, (await rc.client.state(id)).snapshot.last_seq));
    const cells = notebookOf(rc, id).cells;
    const train = cells.find((c) => c.metadata.automl?.stage_id === "TRAIN" && c.cell_type === "code")!;
    const edited = `const outcome = await rt.train([{ id: "ridge", params: { alpha: 25 } }], data, { metric: metric });\nautoml.leaderboard(outcome.leaderboard);`;
    assert.notEqual(edited, train.source.join(""));
    const r = await run(rc, id, edited, "TRAIN");
    assert.equal(r.done.status, "ok", r.text);
    assert.match(r.text, /\[this kernel had not run the cells of PARSE_INTENT, DATA_SOURCE, PROFILE_DATA, PREPROCESS, MODEL_SELECT; running them first\]/);
    assert.match(r.text, /Leaderboard/);
    assert.deepEqual(r.done.stale_stages, ["REVIEW_EDIT", "EXPORT"]);
    const staleExport = (e: AnyEventEnvelope) =>
      e.event.name === EV.STAGE_STATUS && e.event.payload.stage_id === "EXPORT" && e.event.payload.status === "stale";
    await waitFor(() => stream.events.some(staleExport), 5000, "the run's events on the socket");
    const started = stream.events.filter((e) => e.event.name === EV.TRAIN_RUN_STARTED) as Array<
      AnyEventEnvelope & { event: { payload: { run_id: string; model_id: string; config: { params?: Record<string, unknown> } } } }
    >;
    assert.equal(started.length, 1);
    assert.equal(started[0]!.event.payload.model_id, "ridge");
    assert.equal(started[0]!.event.payload.config.params?.["alpha"], 25);
    const statuses = stream.events
      .filter((e) => e.event.name === EV.STAGE_STATUS)
      .map((e) => `${(e.event.payload as { stage_id: string }).stage_id}:${(e.event.payload as { status: string }).status}`);
    assert.ok(statuses.includes("TRAIN:running") && statuses.includes("TRAIN:completed") && statuses.includes("EXPORT:stale"), statuses.join(" "));
    const after = (await rc.client.state(id)).snapshot;
    const pipelineRuns = Object.keys(after.runs).length - 1;
    assert.equal(after.leaderboard.length, pipelineRuns + 1, "the new run joins the pipeline's");
    stream.ws.close();
  });

  it("interrupts a runaway loop and a long training call, keeping what earlier cells defined", async () => {
    const id = await finishedProject(rc, "predict house prices", true);
    assert.equal((await run(rc, id, "const x = 41;")).done.status, "ok");
    const loop = run(rc, id, "while (true) {}");
    await new Promise((r) => setTimeout(r, 800)); // let the loop spin
    assert.equal((await rc.client.interrupt(id)).interrupted, true);
    const stopped = await loop;
    assert.equal(stopped.done.status, "interrupted");
    assert.match(stopped.text, /KeyboardInterrupt/);
    const after = await run(rc, id, "x * 2");
    assert.equal(after.done.status, "ok");
    assert.equal(after.text.trim(), "82");

    // a paced training run: interrupt it mid-way
    const setup = notebookOf(rc, id).cells.filter((c) => c.cell_type === "code" && c.metadata.automl?.stage_id === "PARSE_INTENT")[0]!;
    assert.equal((await run(rc, id, setup.source.join(""))).done.status, "ok");
    const longTrain = run(
      rc,
      id,
      `const long = await rt.train([{ id: "linear_gd", params: { max_epochs: 100000, patience: 100000, tol: 0 } }], data, { metric: "rmse" });`,
      "TRAIN",
    );
    await waitFor(
      () => Object.values(rc.conductor.get(id).snapshot.runs).some((r) => r.status === "running" && r.step > 3),
      30_000,
      "the long run to be under way",
    );
    await rc.client.interrupt(id);
    const cut = await longTrain;
    assert.equal(cut.done.status, "interrupted");
    const cancelled = Object.values(rc.conductor.get(id).snapshot.runs)
      .filter((r) => r.model_id === "linear_gd")
      .at(-1)!;
    assert.equal(cancelled.status, "cancelled", "TRAIN_RUN_FINISHED says cancelled");
    assert.equal((await run(rc, id, "x + 1")).text.trim(), "42", "the kernel kept its state");
  });

  it("restarts fresh, replays the notebook on request, and survives a kernel crash", async () => {
    const id = await finishedProject(rc, "classify penguin species");
    const other = await finishedProject(rc, "predict house prices");
    assert.equal((await run(rc, id, "const y = 5;")).done.status, "ok");
    assert.equal((await run(rc, other, "const z = 7;")).done.status, "ok");
    const restarted = await rc.client.restartKernel(id);
    assert.equal(restarted.kernel.state, "idle");
    const gone = await run(rc, id, "y");
    assert.equal(gone.done.status, "error");
    assert.match(gone.text, /Cannot find name 'y'/);

    const crash = await run(rc, id, "process.kill(process.pid, 'SIGKILL');");
    assert.equal(crash.done.status, "kernel_died");
    assert.match(crash.text, /The kernel died \(signal SIGKILL\)/);
    assert.equal((await run(rc, id, "1 + 1")).text.trim(), "2", "the next cell gets a fresh kernel");
    assert.equal((await run(rc, other, "z")).text.trim(), "7", "another project's kernel is untouched");
    assert.equal((await fetch(`http://127.0.0.1:${rc.server.port}/api/health?token=${rc.server.token}`)).status, 200);

    const replay = await rc.client.restartKernel(id, { replay: true });
    assert.equal(replay.failed_at, null);
    assert.equal(replay.replayed, notebookOf(rc, id).cells.filter((c) => c.cell_type === "code").length);
    const vars = (await rc.client.variables(id)).variables.map((v) => v.name);
    for (const name of ["rt", "df", "table", "data", "outcome"]) assert.ok(vars.includes(name), name);
  });

  it("reports syntax, type and runtime errors with the cell's lines, truncates floods, and streams while a cell runs", async () => {
    const id = await finishedProject(rc, "predict house prices");
    const syntax = await run(rc, id, "const = ;");
    assert.equal(syntax.done.status, "error");
    assert.match(syntax.text, /line 1, column \d+: /);
    const type = await run(rc, id, "const n: number = 1;\nconst s: string = n;");
    assert.match(type.text, /line 2, column 7: Type 'number' is not assignable to type 'string'/);
    const thrown = await run(rc, id, "function f(v: number) {\n  if (v > 0) throw new RangeError(`too big: ${v}`);\n}\nf(3);");
    assert.equal(thrown.done.status, "error");
    const err = thrown.outputs.find((o) => o.output_type === "error")!;
    assert.equal(err.output_type === "error" && err.ename, "RangeError");
    assert.match(thrown.text, /too big: 3\n\s+at line 2 of the cell: if \(v > 0\) throw new RangeError/);
    assert.equal((await run(rc, id, "1 + 1")).text.trim(), "2", "usable after errors");

    const flood = await run(rc, id, `for (let i = 0; i < 20000; i++) console.log("x".repeat(200));`);
    const printed = flood.outputs
      .filter((o) => o.output_type === "stream")
      .map((o) => (o as { text: string }).text)
      .join("");
    assert.ok(printed.length < 1.1 * 1024 * 1024, `${printed.length} bytes reached the client`);
    assert.match(printed, /\[output truncated: this cell printed more than 1 MB/);

    const slow = await run(rc, id, `console.log("first");\nawait new Promise((r) => setTimeout(r, 600));\nconsole.log("second");`);
    assert.equal(slow.outputs.length, 2);
    assert.ok(slow.finishedAt - slow.arrivals[0]! >= 400, "the first line arrived while the cell still ran");

    const chart = await run(
      rc,
      id,
      `import * as automl from "automl-builder/runtime";\nautoml.display(automl.vegaLite({ mark: "bar", data: { values: [{ a: 1 }] }, encoding: { x: { field: "a" } } }));`,
    );
    const display = chart.outputs.find((o) => o.output_type === "display_data");
    assert.ok(display && display.output_type === "display_data" && display.data["application/vnd.vegalite.v5+json"], chart.text);
  });

  it("completes and inspects code", async () => {
    const id = await finishedProject(rc, "predict house prices");
    await run(rc, id, "const houses = [1, 2, 3];");
    const c = await rc.client.complete(id, { code: "houses.fil", cursor: 10 });
    assert.ok(c.candidates.includes("filter"), c.candidates.slice(0, 10).join(","));
    const i = await rc.client.inspect(id, { code: "houses", cursor: 3 });
    assert.match(i.text, /const houses: number\[\]/);
  });

  it("never overwrites a notebook edited into invalid JSON, and says so", async () => {
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", pacing: false });
    await rc.conductor.idle(id);
    await rc.client.confirm(id); // PARSE_INTENT completes and writes its cells
    await rc.conductor.idle(id);
    const file = path.join(rc.conductor.projectsDir, id, "notebook.ipynb");
    fs.writeFileSync(file, '{"cells": [ oops');
    await rc.client.confirm(id);
    await rc.conductor.idle(id);
    assert.equal(fs.readFileSync(file, "utf8"), '{"cells": [ oops', "left as it was");
    const logs = (await rc.client.events(id)).events.filter((e) => e.event.name === EV.LOG_LINE).map((e) => (e.event.payload as { text: string }).text);
    assert.ok(
      logs.some((t) => /notebook\.ipynb is not valid notebook JSON .* left as it is/.test(t)),
      logs.join("\n"),
    );
  });
});
