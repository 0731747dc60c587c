// What the TRAIN events cost while a model fits: each learner is fitted twice on the same
// table, once bare (learner.fit, no hooks) and once through runTraining with the project's
// real event bus (every event checked against the contract, events.jsonl written before
// subscribers) after a warm-up fit; the time
// inside emit() during the fit phase is summed too. Goal (issue 5): under 5% of training time.
// Usage: node bench/event-cost.mjs [reps=3]   (runs TypeScript through tsx)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { EV } = require("../contract/index.ts");
const { ProjectEventBus } = require("../kernel/events/project-event-bus.ts");
const { stageSink } = require("../kernel/events/event-sink.ts");
const { AssetStore } = require("../kernel/assets/asset-store.ts");
const { createMemoryLogger } = require("../kernel/logging/logger.ts");
const { runTraining } = require("../kernel/ml/training-run.ts");
const { findLearner } = require("../kernel/ml/model-zoo.ts");
const { seededRandom } = require("../kernel/data/seeded-random.ts");

const reps = Number(process.argv[2] ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 20,000 × 20: a non-linear rule of six features plus label noise
function table(n, seed) {
  const r = seededRandom(seed);
  const cols = 20;
  const data = new Float64Array(n * cols);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cols; j++) data[i * cols + j] = r() * 2 - 1;
    const x = data.subarray(i * cols, (i + 1) * cols);
    const s = x[0] * x[1] + Math.sin(3 * x[2]) + x[3] - 0.5 * x[4] * x[5];
    y[i] = s > 0 !== r() < 0.05 ? 1 : 0;
  }
  return { x: { data, rows: n, cols }, y };
}
const data = { task: "classification", train: table(16000, 1), val: table(2000, 2), nClasses: 2 };
const test = table(2000, 3);

const cases = [
  ["hist_gbdt", { max_iter: 200, n_iter_no_change: 1e9 }],
  ["random_forest", { n_estimators: 100 }],
  ["mlp", { max_epochs: 20, patience: 1e9 }],
  ["logistic_gd", { max_epochs: 400, patience: 1e9 }],
];
const dir = mkdtempSync(path.join(tmpdir(), "automl-event-cost-"));
console.log(`16,000 × 20 training rows; medians of ${reps}; events through a real ProjectEventBus writing events.jsonl`);
console.log(["model", "steps", "bare fit s", "fit with events s", "overhead", "time in emit s", "emit share", "events"].join(" | "));
for (const [id, params] of cases) {
  const learner = findLearner(id);
  const bare = [];
  const withEvents = [];
  const emitTimes = [];
  let steps = 0;
  let count = 0;
  await learner.fit(data, params, {}); // warm-up: JIT, worker threads, the wasm backend
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    const m = await learner.fit(data, params, {});
    bare.push((performance.now() - t) / 1000);
    steps = m.stepsRun;

    const bus = ProjectEventBus.open(`bench-${id}-${r}`, path.join(dir, `${id}-${r}.jsonl`), { strictContract: true, logger: createMemoryLogger() });
    const sink = stageSink(bus, "TRAIN");
    let inEmit = 0;
    let fitStart = 0;
    let fitEnd = 0;
    let n = 0;
    const timed = {
      emit(name, payload) {
        const t0 = performance.now();
        if (name === EV.TRAIN_RUN_STARTED) fitStart = t0;
        sink.emit(name, payload);
        if (fitStart && !fitEnd) ((inEmit += performance.now() - t0), n++);
      },
    };
    const assets = new AssetStore(`bench-${id}-${r}`, path.join(dir, `${id}-${r}-assets`));
    // the fit phase ends when fit() returns (the loss landscape, evaluation and artifacts follow, untimed)
    const timedLearner = { ...learner, fit: (...args) => learner.fit(...args).then((m) => ((fitEnd = performance.now()), m)) };
    const result = await runTraining(
      {
        learner: timedLearner,
        params,
        data,
        test,
        classes: ["0", "1"],
        featureNames: Array.from({ length: 20 }, (_, j) => `x${j}`),
        metricPrimary: "accuracy",
        config: { task_type: "classification", target: "y", split: { seed: 0, test_size: 0.1, val_size: 0.1 }, preprocess: {} },
        pacing: false,
      },
      timed,
      assets,
    );
    if (result.status !== "success") throw new Error(`${id}: ${result.status} ${result.reason}`);
    withEvents.push((fitEnd - fitStart) / 1000);
    emitTimes.push(inEmit / 1000);
    count = n;
    bus.close?.();
  }
  const b = median(bare);
  const w = median(withEvents);
  const e = median(emitTimes);
  console.log(
    [id, steps, b.toFixed(3), w.toFixed(3), `${(((w - b) / b) * 100).toFixed(1)}%`, e.toFixed(4), `${((e / w) * 100).toFixed(2)}%`, count].join(" | "),
  );
}
rmSync(dir, { recursive: true, force: true });
