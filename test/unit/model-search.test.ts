import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { throughModelFile } from "../support/model-file-round-trip";
import { AssetStore } from "../../kernel/assets/asset-store";
import { prepareData, splitForTask } from "../../kernel/data/prepared-data";
import { planPreprocessing } from "../../kernel/data/preprocess-plan";
import { loadTableFile } from "../../kernel/data/table-loader";
import { profileTable } from "../../kernel/data/table-profile";
import type { EventSink } from "../../kernel/events/event-sink";
import { averagedEnsemble } from "../../kernel/ml/averaged-ensemble";
import { settingsKey } from "../../kernel/ml/budgeted-search";
import type { Params } from "../../kernel/ml/learner";
import { isBetter } from "../../kernel/ml/metrics";
import { findLearner, restoreModel } from "../../kernel/ml/model-zoo";
import { PipelineRuntime } from "../../kernel/runtime/pipeline-runtime";
import { DEFAULT_KEEP_MODELS, EV, validatePayload, type EventName } from "../../contract";
import { BOSTON_CSV, removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

async function runtime(file = BOSTON_CSV, target = "medv", task: "regression" | "classification" = "regression") {
  const events: Array<{ name: EventName; payload: unknown }> = [];
  const sink: EventSink = {
    emit(name, payload) {
      const checked = validatePayload(name, payload);
      assert.ok(checked.ok, checked.ok ? "" : checked.error);
      events.push({ name, payload });
    },
  };
  const dir = tempWorkspace("search");
  const rt = new PipelineRuntime({ sinkFor: () => sink, assets: new AssetStore("p", dir), pacing: false });
  const { table } = await loadTableFile(file);
  const split = splitForTask(table, { target, task, seed: 42, testSize: 0.2, valSize: 0.2 });
  const data = prepareData(planPreprocessing(profileTable(table, target, task), target), table, split);
  return { rt, data, events, dir };
}

describe("model search under a time budget", function () {
  this.timeout(60_000);
  after(removeTempWorkspaces);

  it("keeps to its budget, records every trial and ranks them on validation", async () => {
    const { rt, data, events } = await runtime();
    const out = await rt.search(["hist_gbdt", "linear_gd", "ridge"], data, { metric: "rmse", budgetSeconds: 3, leaderboard: [], best: null });
    assert.ok(out.trials > 3, `${out.trials} trials: the search went past the starting configurations`);
    assert.ok(out.overrunSeconds < 0.5, `overrun ${out.overrunSeconds} s`);
    assert.equal(out.leaderboard.length, out.trials);
    const ok = out.leaderboard.filter((r) => r.metric);
    for (const r of ok) assert.ok(!isBetter("rmse", r.metric!.value, out.best!.metric.value), "no row beats the best");
    for (const r of ok) assert.ok(r.predict_us_per_row! > 0 && r.predict_us_per_row! < 1e5, `prediction time per row ${r.predict_us_per_row}`);
    assert.equal(out.leaderboard[0]!.run_id, out.best!.run_id);
    assert.equal(events.filter((e) => e.name === "LEADERBOARD_UPDATED").length, out.trials);
    assert.ok(
      events.some((e) => e.name === "LOG_LINE" && /search: \d+ trial\(s\) in [\d.]+ s of a 3 s budget \(overrun/.test((e.payload as { text: string }).text)),
    );
  });

  it("keeps the model files of the leaderboard's best runs only, and says which it removed", async () => {
    const { rt, data, events, dir } = await runtime();
    const alphas = [0.01, 0.1, 1, 3, 10, 30, 100, 300];
    const out = await rt.train(
      alphas.map((alpha) => ({ id: "ridge", params: { alpha } })),
      data,
      { metric: "rmse", leaderboard: [], best: null },
    );
    const successes = out.leaderboard.filter((r) => r.status === "success");
    assert.ok(successes.length > DEFAULT_KEEP_MODELS, `${successes.length} successful trials: more than the files kept`);
    const files = fs.readdirSync(path.join(dir, "models")).sort();
    const kept = out.leaderboard.slice(0, DEFAULT_KEEP_MODELS).map((r) => `${r.run_id}.model`);
    assert.deepEqual(files, kept.filter((f) => files.includes(f)).sort());
    assert.equal(files.length, Math.min(DEFAULT_KEEP_MODELS, successes.length));
    assert.ok(files.includes(`${out.best!.run_id}.model`), "the best run keeps its model");
    const said = events.filter((e) => e.name === "LOG_LINE" && /^model files: /.test((e.payload as { text: string }).text));
    assert.equal(said.length, 1, "said once, when the training call ends");
    assert.match((said[0]!.payload as { text: string }).text, new RegExp(`${successes.length - files.length} other run\\(s\\) had theirs removed`));
  });

  it("tries the plain run's settings first, so on the cars table a budget no longer ends worse than no budget", async () => {
    // the case: --time-budget 20 gave RMSE 2.825 where training without a budget gave 2.462
    const cars = path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", "cars.json");
    const { rt, data, events } = await runtime(cars, "Miles_per_Gallon");
    const models = rt.modelCandidates("regression", data.fit.train.x.rows).map((m) => m.id);
    const plain = await rt.train(
      models.map((id) => ({ id })),
      data,
      { metric: "rmse", leaderboard: [], best: null },
    );
    const searched = await rt.search(models, data, { metric: "rmse", budgetSeconds: 10, leaderboard: [], best: null });
    // each learner's first trial is its defaults, the plain run's settings
    for (const id of models) {
      const first = searched.runs.find((r) => r.modelId === id);
      assert.ok(first, `${id} was tried`);
      const row = searched.leaderboard.find((r) => r.run_id === first.runId)!;
      assert.deepEqual(row.params, findLearner(id)!.defaults, `${id}'s first trial is its defaults`);
    }
    const testOf = (o: typeof plain) => o.leaderboard.find((r) => r.run_id === o.best!.run_id)!.test_metric!.value;
    assert.ok(testOf(searched) <= testOf(plain) + 1e-9, `searched test RMSE ${testOf(searched)} against ${testOf(plain)} without a budget`);
    assert.ok(events.some((e) => e.name === "LOG_LINE" && /search: \d+ trial\(s\)/.test((e.payload as { text: string }).text)));
  });

  const vega = (name: string) => path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", name);
  const bundled: Array<[string, string, string, "regression" | "classification", string]> = [
    ["Boston housing", BOSTON_CSV, "medv", "regression", "rmse"],
    ["cars", vega("cars.json"), "Miles_per_Gallon", "regression", "rmse"],
    ["penguins", vega("penguins.json"), "Species", "classification", "accuracy"],
    ["Seattle weather", vega("seattle-weather.csv"), "weather", "classification", "accuracy"],
  ];
  for (const [name, file, target, task, metric] of bundled) {
    it(`ends no worse than the plain run on the bundled ${name} table: the plain run's every model is among its trials, and its leader ranks at least as well`, async () => {
      const { rt, data } = await runtime(file, target, task);
      const models = rt.modelCandidates(task, data.fit.train.x.rows).map((m) => m.id);
      const t0 = performance.now();
      const plain = await rt.train(
        models.map((id) => ({ id })),
        data,
        { metric, leaderboard: [], best: null },
      );
      // the guarantee holds when the budget has room for the plain run's models: three times what they took here, at least 8 s
      const budgetSeconds = Math.max(8, (3 * (performance.now() - t0)) / 1000);
      const searched = await rt.search(models, data, { metric, budgetSeconds, leaderboard: [], best: null });
      for (const id of models) {
        const plainRow = plain.leaderboard.find((r) => r.model === id && r.status === "success")!;
        const defaultsRow = searched.leaderboard.find(
          (r) => r.model === id && settingsKey(id, r.params as Params) === settingsKey(id, plainRow.params as Params),
        );
        assert.ok(defaultsRow, `${id}'s plain settings were tried by the search`);
        // the same fit (same settings, same seed): the same model and test score
        assert.equal(defaultsRow.test_metric?.value, plainRow.test_metric?.value, `${id}: the search's defaults trial is the plain run's model`);
        assert.ok(!isBetter(metric, defaultsRow.metric!.value, searched.best!.metric.value), `${id}'s plain settings rank no better than the search's leader`);
      }
    });
  }

  it("searches a table too large for its budget on a stated, seeded sample, then refits the winner on all the rows", async function () {
    this.timeout(120_000);
    const rows = ["a,b,c,y"];
    let s = 3;
    const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let i = 0; i < 40_000; i++) {
      const [a, b, c] = [r(), r(), r()];
      rows.push(`${a},${b},${c},${(3 * a - 2 * b * c + 0.1 * r()).toFixed(5)}`);
    }
    const file = path.join(tempWorkspace("sampled"), "big.csv");
    fs.writeFileSync(file, rows.join("\n"));
    const { rt, data, events } = await runtime(file, "y");
    const trainRows = data.fit.train.x.rows;
    const searched = await rt.search(["ridge", "hist_gbdt"], data, {
      metric: "rmse",
      budgetSeconds: 12,
      seed: 5,
      sampleRows: 5000,
      leaderboard: [],
      best: null,
    });
    const texts = events.filter((e) => e.name === EV.LOG_LINE).map((e) => (e.payload as { text: string }).text);
    assert.ok(
      texts.some((t) => new RegExp(`trials train on a seeded sample of 5,000 of them \\(seed 5\\)`).test(t)),
      texts.join("\n"),
    );
    const trained = events.filter((e) => e.name === EV.TRAIN_RUN_STARTED).map((e) => (e.payload as { config: { train: { rows: number } } }).config.train.rows);
    assert.ok(
      trained.slice(0, -1).every((n) => n === 5000),
      `trials on the sample: ${trained.join(", ")}`,
    );
    assert.ok(
      texts.some((t) =>
        /refitting the winner \((ridge|hist_gbdt)\) on (all [\d,]+ training rows|a seeded sample of [\d,]+ of the [\d,]+ training rows, as many as)/.test(t),
      ),
      texts.join("\n"),
    );
    // on every training row, or (a slower machine) as many as the time kept for it allows: more than the sample either way
    assert.ok(trained.at(-1)! > 5000 * 1.25 && trained.at(-1)! <= trainRows, `the refit trained on ${trained.at(-1)} rows`);
    const refit = searched.leaderboard.find((r) => r.run_id === searched.runs.at(-1)!.runId)!;
    assert.equal(refit.train_rows, trained.at(-1));
    assert.ok(
      searched.leaderboard.some(
        (r) =>
          r.model === refit.model && r.train_rows === 5000 && settingsKey(r.model, r.params as Params) === settingsKey(refit.model, refit.params as Params),
      ),
      "the trial the refit repeats keeps its own row: the better of the two leads",
    );
    assert.ok(searched.runs.at(-1)!.status === "success");
  });

  it("ranks a screened wide table's trials on the validation rows the screening never saw, not by cross-validation", async () => {
    let seed = 5;
    const r = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
    const lines = [[...Array.from({ length: 200 }, (_, j) => `c${j}`), "y"].join(",")];
    for (let i = 0; i < 60; i++) {
      const x = Array.from({ length: 200 }, r);
      lines.push([...x.map((v) => v.toFixed(4)), (3 * x[3]! - 3 * x[7]!).toFixed(4)].join(","));
    }
    const file = path.join(tempWorkspace("screened"), "wide.csv");
    fs.writeFileSync(file, lines.join("\n"));
    const { rt, data, events } = await runtime(file, "y");
    assert.ok(data.prep.steps.some((s) => s.op === "select_features"));
    const searched = await rt.search(["ridge"], data, { metric: "rmse", budgetSeconds: 2, leaderboard: [], best: null });
    const texts = events.filter((e) => e.name === EV.LOG_LINE).map((e) => (e.payload as { text: string }).text);
    assert.ok(texts.some((t) => /the features were screened on the training rows, so trials are ranked by the \d+ validation rows/.test(t)));
    assert.ok(searched.leaderboard.every((row) => row.validation === "split"));
  });

  it("says so when the budget is too small for any trial to finish", async () => {
    const { rt, data } = await runtime();
    await assert.rejects(
      rt.search(["hist_gbdt"], data, { metric: "rmse", budgetSeconds: 0.001, leaderboard: [], best: null }),
      /No trial finished within the 0.001 s budget\. Give the search more time\./,
    );
  });

  it("records a trial that throws as failed and goes on", async () => {
    const { rt, data } = await runtime();
    const out = await rt.train([{ id: "ridge", params: { alpha: -1e9 } }, { id: "linear_gd" }], data, { metric: "rmse", leaderboard: [], best: null });
    assert.deepEqual(
      out.runs.map((r) => r.status),
      ["failed", "success"],
    );
    assert.match(out.runs[0]!.reason ?? "", /positive definite/);
    assert.equal(out.leaderboard.length, 2);
    assert.equal(out.leaderboard[1]!.status, "failed");
    assert.equal(out.leaderboard[1]!.metric, null);
    assert.equal(out.best?.model_id, "linear_gd");
  });

  it("trains the average of its best models as a run only when it wins on validation, and it restores through the zoo", async () => {
    const { rt, data, events } = await runtime();
    const out = await rt.search(["random_forest", "extra_trees", "hist_gbdt", "ridge"], data, {
      metric: "rmse",
      budgetSeconds: 6,
      leaderboard: [],
      best: null,
      crossValidation: false,
    });
    const verdict = events.map((e) => (e.payload as { text?: string }).text ?? "").find((t) => t.startsWith("search: the average of"));
    assert.ok(verdict, "the search says whether the average was kept");
    const [, score, best] = /validation rmse ([\d.]+) against ([\d.]+)/.exec(verdict)!;
    const ensemble = out.runs.find((r) => r.modelId === "averaged_ensemble");
    assert.equal(Boolean(ensemble), Number(score) < Number(best), verdict);
    assert.ok(out.overrunSeconds < 0.5, `overrun ${out.overrunSeconds} s`);
    if (ensemble) {
      assert.equal(ensemble.status, "success");
      assert.ok(Math.abs(ensemble.valMetric!.value - Number(score)) < 1e-4);
      const restored = restoreModel(throughModelFile(ensemble.model!.save()));
      assert.deepEqual(restored.predict(data.test.x), ensemble.model!.predict(data.test.x));
    }
  });

  it("refuses to train an average on its own, and averages the members' predictions", async () => {
    const { rt, data } = await runtime();
    const out = await rt.train([{ id: "averaged_ensemble" }, { id: "ridge" }, { id: "linear_gd" }], data, { metric: "rmse", leaderboard: [], best: null });
    assert.equal(out.runs[0]!.status, "failed");
    assert.match(out.runs[0]!.reason ?? "", /built by a model search from its best trials/);
    const members = out.runs.slice(1).map((r) => r.model!);
    const mean = averagedEnsemble(members, ["a", "b"], restoreModel);
    const fitted = await mean.fit(data.fit, {}, {});
    const p = fitted.predict(data.test.x);
    const [a, b] = members.map((m) => m.predict(data.test.x));
    for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i]! - (a![i]! + b![i]!) / 2) < 1e-12);
  });

  it("re-trains an average from its members' settings (as a notebook reproduces a searched average): the same test score", async () => {
    const { rt, data } = await runtime();
    const members: Array<{ id: string; params: Params }> = [
      { id: "ridge", params: { alpha: 3 } },
      { id: "random_forest", params: { n_estimators: 20, seed: 5 } },
    ];
    const first = await rt.trainAverage(members, data, { metric: "rmse", newBoard: true });
    const again = await rt.trainAverage(members, data, { metric: "rmse", newBoard: true });
    const average = (o: typeof first) => o.runs.find((r) => r.modelId === "averaged_ensemble")!;
    assert.deepEqual(
      first.runs.map((r) => r.modelId),
      ["ridge", "random_forest", "averaged_ensemble"],
    );
    assert.equal(average(again).finalMetrics!.primary.value, average(first).finalMetrics!.primary.value);
    const [a, b] = first.runs.slice(0, 2).map((r) => r.model!.predict(data.test.x));
    const p = average(first).model!.predict(data.test.x);
    for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i]! - (a![i]! + b![i]!) / 2) < 1e-12);
    await assert.rejects(rt.trainAverage(members.slice(0, 1), data, { metric: "rmse" }), /at least two models/);
  });

  it("fails a run whose settings make it predict NaN, with the reason, instead of leaving it running", async () => {
    const { rt, data, events } = await runtime();
    const out = await rt.train([{ id: "ridge", params: { alpha: "lots" } }], data, { metric: "rmse", newBoard: true });
    assert.equal(out.runs[0]!.status, "failed");
    assert.match(out.runs[0]!.reason ?? "", /predictions are not finite numbers .*check its settings/);
    const finished = events.filter((e) => e.name === EV.TRAIN_RUN_FINISHED);
    assert.equal(finished.length, 1, "the run's story ends");
  });

  it("does not rank runs by a new metric against a leaderboard ranked by another", async () => {
    const { rt, data, events } = await runtime();
    const first = await rt.train([{ id: "ridge" }], data, { metric: "rmse", leaderboard: [], best: null });
    const again = await rt.train([{ id: "ridge" }], data, { metric: "mae", leaderboard: first.leaderboard, best: first.best });
    assert.deepEqual(
      again.leaderboard.map((r) => r.metric?.name),
      ["mae"],
      "only the runs ranked by mae",
    );
    assert.equal(again.best?.metric.name, "mae");
    const texts = events.filter((e) => e.name === "LOG_LINE").map((e) => (e.payload as { text: string }).text);
    assert.ok(texts.some((t) => /ranks by rmse; these runs rank by mae, so it starts again/.test(t)));
  });

  it("resumed from its finished trials, goes on from them instead of repeating them", async () => {
    const { rt, data } = await runtime();
    const first = await rt.search(["ridge", "hist_gbdt"], data, { metric: "rmse", budgetSeconds: 1.5, leaderboard: [], best: null, crossValidation: false });
    const kept = first.leaderboard.filter((r) => r.status === "success");
    const resumed = await rt.search(["ridge", "hist_gbdt"], data, {
      metric: "rmse",
      budgetSeconds: 1.5,
      leaderboard: kept,
      best: first.best,
      crossValidation: false,
      resumeFrom: true,
      seed: 7,
    });
    const key = (r: { model: string; params: Record<string, unknown> }) => `${r.model} ${JSON.stringify(Object.entries(r.params).sort())}`;
    for (const row of kept)
      assert.ok(
        resumed.leaderboard.some((r) => r.run_id === row.run_id),
        `${row.run_id} is kept`,
      );
    const settings = resumed.leaderboard.map(key);
    assert.equal(new Set(settings).size, settings.length, "no setting is tried twice, before the stop or after");
  });

  it("searches a model named twice as one learner, trying the others too", async () => {
    const { rt, data } = await runtime();
    const out = await rt.search(["ridge", "ridge", "hist_gbdt"], data, {
      metric: "rmse",
      budgetSeconds: 2,
      leaderboard: [],
      best: null,
      crossValidation: false,
    });
    const ridgeAlphas = out.runs.filter((r) => r.modelId === "ridge").map((r) => out.leaderboard.find((row) => row.run_id === r.runId)?.params["alpha"]);
    assert.ok(
      out.runs.some((r) => r.modelId === "hist_gbdt"),
      "the other model was tried",
    );
    assert.equal(new Set(ridgeAlphas).size, ridgeAlphas.length, `no ridge setting tried twice: ${ridgeAlphas.join(", ")}`);
  });

  it("ranks the trials of a small table by 5-fold cross-validation, and says so", async () => {
    const { rt, data, events } = await runtime();
    const out = await rt.search(["ridge", "hist_gbdt"], data, { metric: "rmse", budgetSeconds: 3, leaderboard: [], best: null });
    const texts = events.filter((e) => e.name === "LOG_LINE").map((e) => (e.payload as { text: string }).text);
    assert.ok(
      texts.some((t) => /\d+ training and validation rows, too few .* ranked by 5-fold cross-validation/.test(t)),
      texts.slice(0, 3).join(" | "),
    );
    const cvLines = texts.filter((t) => /5-fold cross-validated rmse/.test(t));
    assert.ok(cvLines.length >= 2, `${cvLines.length} cross-validated trials`);
    // the leaderboard's validation score of a cross-validated run is its cross-validated score
    for (const run of out.runs.filter((r) => r.status === "success")) {
      const line = texts.find((t) => t.startsWith(`${run.modelId} (${run.runId}): 5-fold cross-validated rmse ${run.valMetric!.value.toFixed(4)}`));
      const fallback = texts.some((t) => t.startsWith(`${run.modelId} (${run.runId}): `) && /ranked by the validation split/.test(t));
      assert.ok(line || fallback, `run ${run.runId} has a cross-validated score or says why not`);
    }
    assert.ok(!texts.some((t) => t.startsWith("search: the average of")), "no average is scored against cross-validated trials");
    assert.ok(out.overrunSeconds < 0.5);
  });
});
