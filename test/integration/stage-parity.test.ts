/**
 * The notebook is the pipeline: every stage's cells, rendered from the same description the
 * conductor executed, do what the stage did. For a plain TRAIN and a time-budgeted one, the
 * generated notebook runs through our kernel and under Jupyter (nbconvert + tslab), and each
 * stage's cells reach the stage's own results: the same dataset, profile, split, features
 * and selected models, a report and an export, and the leader's test metric to 1e-9 (the
 * searched leader re-trained with the settings the search found). The cells also
 * type-check for each task type and both TRAIN paths. A forecast's notebook (its series framed
 * and cut by time, its forecasters), a text classifier's (TF-IDF features, its text models) and
 * an image classifier's (a labelled folder's images resized, the CNN) are held to the same.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV, type AnyEventEnvelope, type EventName, type EventPayload, type ProjectSnapshot, type StageId } from "../../contract";
import { cellText, exec, installJupyter, type Jupyter } from "../support/jupyter";
import { startConductor, type NotebookCell, type RunningConductor } from "../support/running-conductor";
import { csvCell, writePackagedDigits, writeSpamAssassinCsv } from "../../kernel/data/packaged-corpora";
import { loadTableBlocking } from "../../kernel/data/table-load";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

type StageEvent = { [N in EventName]: { stage: StageId; name: N; payload: EventPayload<N> } }[EventName];

const fromLog = (events: readonly AnyEventEnvelope[]): StageEvent[] =>
  events.map((e) => ({ stage: e.stage.id, name: e.event.name, payload: e.event.payload }) as StageEvent);

/** What each stage's work produced, in the terms both sides share (ids and timings aside). */
function stageFacts(events: readonly StageEvent[]) {
  const last = <N extends EventName>(name: N): EventPayload<N> | undefined =>
    [...events].reverse().find((e) => e.name === name)?.payload as EventPayload<N> | undefined;
  const sample = last(EV.DATASET_SAMPLE_READY);
  const selected = last(EV.DATASET_SELECTED);
  const split = last(EV.SPLIT_SUMMARY);
  const runs = new Map<string, { model: string; params: unknown; test: number | null }>();
  for (const e of events) {
    if (e.name === EV.TRAIN_RUN_STARTED) runs.set(e.payload.run_id, { model: e.payload.model_id, params: e.payload.config.params, test: null });
    if (e.name === EV.TRAIN_RUN_FINISHED && e.payload.final_metrics) runs.get(e.payload.run_id)!.test = e.payload.final_metrics.primary.value;
  }
  return {
    // undefined when the stage's events are missing, so a stage that did nothing on both sides cannot pass as equal
    DATA_SOURCE: selected && sample ? { dataset: selected.dataset_id, rows: sample.n_rows, columns: sample.columns } : undefined,
    PROFILE_DATA: last(EV.PROFILE_SUMMARY),
    PREPROCESS: split
      ? {
          split,
          features: events
            .filter((e) => e.name === EV.ARTIFACT_ADDED && e.payload.artifact.type === "preprocessor")
            .map((e) => (e.payload as EventPayload<"ARTIFACT_ADDED">).artifact.meta["features"])
            .pop(),
        }
      : undefined,
    MODEL_SELECT: last(EV.MODEL_SELECTED),
    TRAIN: [...runs.values()],
    REVIEW_EDIT: new Set(events.filter((e) => e.stage === "REVIEW_EDIT").map((e) => e.name)),
    EXPORT: last(EV.EXPORT_READY)?.contents.map((c) => c.path),
  };
}

/** Asserts that the notebook's pass (`notebook`) did each stage's work as the conductor's pass did. */
function assertSameWork(snapshot: ProjectSnapshot, conductor: ReturnType<typeof stageFacts>, notebook: ReturnType<typeof stageFacts>, where: string): void {
  for (const stage of ["DATA_SOURCE", "PROFILE_DATA", "PREPROCESS", "MODEL_SELECT"] as const) {
    assert.ok(conductor[stage] !== undefined, `${stage} did its work in the conductor`);
    assert.ok(notebook[stage] !== undefined, `${where}: ${stage}'s cells did its work`);
    assert.deepEqual(notebook[stage], conductor[stage], `${where}: ${stage}'s cells reach the stage's results`);
  }
  const best = snapshot.best!;
  const leaderRow = snapshot.leaderboard.find((r) => r.run_id === best.run_id)!;
  const leaderTest = snapshot.runs[best.run_id]!.final_metrics!.primary.value;
  const searched = Boolean(snapshot.plans.MODEL_SELECT?.plan?.time_budget_s);
  // a search's notebook re-trains its leader; plain training trains every model again
  const expected = searched ? [{ model: leaderRow.model, test: leaderTest }] : conductor.TRAIN.map((r) => ({ model: r.model, test: r.test }));
  for (const want of expected) {
    const got = notebook.TRAIN.find((r) => r.model === want.model);
    assert.ok(got?.test != null, `${where}: the TRAIN cells trained ${want.model}: ${JSON.stringify(notebook.TRAIN)}`);
    assert.ok(Math.abs(got.test - want.test!) <= 1e-9, `${where}: ${want.model} reaches test ${want.test} (got ${got.test})`);
    if (searched) assert.deepEqual(got.params, leaderRow.params, `${where}: the leader is re-trained with the settings the search found`);
  }
  assert.ok(Math.abs(notebook.TRAIN.find((r) => r.model === leaderRow.model)!.test! - leaderTest) <= 1e-9, `${where}: the leader's test metric`);
  for (const name of [EV.REPORT_READY, EV.NOTEBOOK_READY, EV.CODE_WORKSPACE_READY])
    assert.ok(notebook.REVIEW_EDIT.has(name), `${where}: the Review cell emits ${name}`);
  for (const file of ["notebook.ipynb", "report.md", "events.jsonl"])
    assert.ok(notebook.EXPORT?.includes(file), `${where}: the export cell zips ${file}: ${notebook.EXPORT?.join(", ")}`);
}

const CASES = [
  { what: "plain TRAIN", prompt: "predict house prices", budget: undefined },
  { what: "time-budgeted TRAIN", prompt: "classify penguin species", budget: 4 },
  { what: "forecasting (a time-ordered split, forecasters ranked by backtests)", prompt: "forecast CO2 for the next 12 months", budget: undefined },
  // 600 of the SpamAssassin e-mails (the whole corpus runs in text-image-run.test.ts): three runs of it here cost a minute
  { what: "text classification (TF-IDF, three text models)", prompt: "detect spam e-mails", budget: undefined, data: "mails.csv" },
  {
    what: "image classification (a labelled folder in the workspace, the small CNN)",
    prompt: "classify the handwritten digit images in the digits folder",
    budget: undefined,
  },
] as const;

describe("stage and notebook parity", function () {
  this.timeout(300_000);
  let rc: RunningConductor;
  let jupyter: Jupyter;
  const notebooks: string[] = [];

  before(async () => {
    jupyter = await installJupyter();
    rc = await startConductor();
    // 600 e-mails (the first 300 of each class), and a small labelled folder in the workspace: 30 of each MNIST digit
    const spam = path.join(tempWorkspace("spam"), "spam.csv");
    writeSpamAssassinCsv(spam);
    const mails = loadTableBlocking(spam).table.records();
    const first = (label: string) => mails.filter((m) => m["label"] === label).slice(0, 300);
    fs.writeFileSync(
      path.join(rc.workspace, "mails.csv"),
      `text,label\n${[...first("ham"), ...first("spam")].map((m) => `${csvCell(String(m["text"]))},${String(m["label"])}`).join("\n")}\n`,
    );
    const mnist = path.join(tempWorkspace("mnist"), "mnist");
    writePackagedDigits("mnist", mnist, "data/mnist");
    for (const d of fs.readdirSync(mnist).filter((f) => /^\d$/.test(f))) {
      fs.mkdirSync(path.join(rc.workspace, "digits", d), { recursive: true });
      for (const f of fs.readdirSync(path.join(mnist, d)).sort().slice(0, 30)) fs.copyFileSync(path.join(mnist, d, f), path.join(rc.workspace, "digits", d, f));
    }
  });
  after(async () => (await rc?.stop(), removeTempWorkspaces()));

  async function finished(prompt: string, budget: number | undefined, data?: string): Promise<{ id: string; dir: string; snapshot: ProjectSnapshot }> {
    const { project_id: id } = await rc.client.createProject({
      prompt,
      auto: true,
      pacing: false,
      ...(budget ? { time_budget_s: budget } : {}),
      ...(data ? { data_path: path.join(rc.workspace, data) } : {}),
    });
    await rc.conductor.idle(id);
    const { snapshot } = await rc.client.state(id);
    assert.equal(snapshot.stages.EXPORT.status, "completed", JSON.stringify(snapshot.stages));
    const dir = path.join(rc.conductor.projectsDir, id);
    notebooks.push(path.join(dir, "notebook.ipynb"));
    return { id, dir, snapshot };
  }

  for (const c of CASES) {
    it(`${c.what}: every stage's cells reach the stage's results, under Jupyter and in our kernel (${c.prompt})`, async () => {
      const { id, dir, snapshot } = await finished(c.prompt, c.budget, "data" in c ? c.data : undefined);
      const conductor = stageFacts(fromLog((await rc.client.events(id)).events));
      const notebook = JSON.parse(fs.readFileSync(path.join(dir, "notebook.ipynb"), "utf8")) as { cells: NotebookCell[] };
      await jupyter.validate(path.join(dir, "notebook.ipynb"));

      // under Jupyter, standalone: the events the cells emitted are read back from a last cell the test adds
      const probe: NotebookCell = { cell_type: "code", source: ['console.log("EVENTS " + JSON.stringify(rt.standaloneEvents));'], metadata: {} };
      fs.writeFileSync(
        path.join(dir, "parity.ipynb"),
        JSON.stringify({ ...notebook, cells: [...notebook.cells, { ...probe, outputs: [], execution_count: null }] }),
      );
      const executed = await jupyter.execute(path.join(dir, "parity.ipynb"), "parity-executed.ipynb");
      const errors = executed.cells.flatMap((cell) => cell.outputs ?? []).filter((o) => o.output_type === "error");
      assert.deepEqual(errors, []);
      const line = cellText(executed.cells[executed.cells.length - 1]!)
        .split("\n")
        .find((l) => l.startsWith("EVENTS "));
      assert.ok(line, "the probe cell printed the standalone events");
      assertSameWork(snapshot, conductor, stageFacts(JSON.parse(line.slice("EVENTS ".length)) as StageEvent[]), "under Jupyter");

      if (c.budget) {
        // searching again on purpose: the search cell shows its leaderboard, and its outcome stands instead of re-training the old leader
        const again = notebook.cells.map((cell) => ({
          ...cell,
          source: cell.source.map((l) => l.replace("const searchAgain = false;", "const searchAgain = true;")),
        }));
        const check: NotebookCell = { cell_type: "code", source: ['console.log("STANDS " + String(outcome === searched));'], metadata: {} };
        fs.writeFileSync(path.join(dir, "again.ipynb"), JSON.stringify({ ...notebook, cells: [...again, { ...check, outputs: [], execution_count: null }] }));
        const ran = await jupyter.execute(path.join(dir, "again.ipynb"), "again-executed.ipynb");
        const searchCell = ran.cells.find((cell) => cell.metadata.automl?.stage_id === "TRAIN" && [cell.source].flat().join("").includes("rt.search("))!;
        assert.ok(JSON.stringify(searchCell.outputs).includes("Leaderboard (ranked on validation)"), "the search run again shows its leaderboard");
        assert.match(cellText(ran.cells[ran.cells.length - 1]!), /STANDS true/);
      }

      // in our kernel: each stage cell re-runs its stage, with the project's live events
      const from = (await rc.client.events(id)).events.length;
      for (const cell of notebook.cells.filter((cell) => cell.cell_type === "code")) {
        const outputs: string[] = [];
        const done = await rc.client.execute(id, { code: cell.source.join(""), stage_id: cell.metadata.automl?.stage_id }, (o) =>
          outputs.push(JSON.stringify(o)),
        );
        assert.equal(done.status, "ok", `${cell.metadata.automl?.stage_id}: ${outputs.join("\n")}`);
        // the search cell left at searchAgain = false trains nothing, so nothing after it goes stale
        if (cell.source.join("").includes("const searchAgain = false;")) assert.deepEqual(done.stale_stages, [], "the unrun search changes nothing");
      }
      const after = await rc.client.state(id);
      assertSameWork(snapshot, conductor, stageFacts(fromLog((await rc.client.events(id)).events.slice(from))), "in our kernel");
      assert.ok(
        ["REVIEW_EDIT", "EXPORT"].every((s) => after.snapshot.stages[s as StageId].status === "completed"),
        "the notebook's run leaves no stage stale",
      );
    });
  }

  it("every stage's cells type-check, for each task type and both TRAIN paths", async () => {
    // the two cases above made regression/plain and classification/searched; these make the other two
    await finished("classify penguin species", undefined);
    await finished("predict house prices", 3);
    const files = notebooks.map((file, i) => {
      const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: NotebookCell[] };
      const code = nb.cells.filter((cell) => cell.cell_type === "code").map((cell) => `// ${cell.metadata.automl?.stage_id}\n${cell.source.join("")}`);
      const ts = path.join(path.dirname(file), `cells-${i}.ts`);
      fs.writeFileSync(ts, `${code.join("\n\n")}\nexport {};\n`);
      return ts;
    });
    const args = [
      "--noEmit",
      "--strict",
      "--target",
      "es2022",
      "--module",
      "esnext",
      "--moduleResolution",
      "bundler",
      "--skipLibCheck",
      "--types",
      "node",
      ...files,
    ];
    const tsc = path.join(__dirname, "..", "..", "node_modules", "typescript", "bin", "tsc");
    await exec(process.execPath, [tsc, ...args], { cwd: path.dirname(files[0]!) }).catch((err: { stdout?: string }) =>
      assert.fail(`the generated cells do not type-check:\n${err.stdout}`),
    );
    assert.equal(files.length, 7);
  });
});
