// The data steps at 10,000,000 rows, in memory: split, profile, fit a preprocessing plan and
// transform the test rows into a feature matrix, sample the training rows as a search would.
// Shows each works at this size (no recursion limit, no array spread, no row objects) and what
// it costs. The table is generated (3 numbers, a 50-level category, a date column, a numeric
// target), seeded.
//   node bench/ten-million-rows.mjs [ROWS=10000000]
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { Table } = require("../kernel/data/table.ts");
const { splitForTask, prepareData } = require("../kernel/data/prepared-data.ts");
const { profileTable } = require("../kernel/data/table-profile.ts");
const { planPreprocessing } = require("../kernel/data/preprocess-plan.ts");
const { seededSample } = require("../kernel/data/seeded-random.ts");

const n = Number(process.argv[2] ?? 10_000_000);
let s = 42;
const random = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const t = (label, f) => {
  const t0 = performance.now();
  const out = f();
  console.log(`${label.padEnd(44)} ${((performance.now() - t0) / 1000).toFixed(2)} s   rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`);
  return out;
};
const table = t(`generate ${n.toLocaleString("en")} rows × 6 columns`, () => {
  const a = new Float64Array(n),
    b = new Float64Array(n),
    c = new Float64Array(n),
    y = new Float64Array(n);
  const codes = new Int32Array(n),
    day = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = random();
    b[i] = random() < 0.05 ? NaN : random() * 10;
    c[i] = Math.floor(random() * 100);
    codes[i] = Math.floor(random() * 50);
    day[i] = Date.UTC(2015, 0, 1) + Math.floor(random() * 3650) * 86_400_000;
    y[i] = 3 * a[i] + (Number.isNaN(b[i]) ? 0 : b[i]) * 0.2 + (codes[i] % 5) + random();
  }
  return new Table([
    { name: "a", kind: "numeric", values: a },
    { name: "b", kind: "numeric", values: b },
    { name: "c", kind: "numeric", values: c },
    { name: "cat", kind: "categorical", codes, levels: Array.from({ length: 50 }, (_, k) => `level-${k}`) },
    { name: "day", kind: "datetime", values: day, dateOnly: true },
    { name: "y", kind: "numeric", values: y },
  ]);
});
const profile = t("profile (one pass per column)", () => profileTable(table, "y", "regression"));
const split = t("split (seeded, 20% test, 20% validation)", () =>
  splitForTask(table, { target: "y", task: "regression", seed: 42, testSize: 0.2, valSize: 0.2 }),
);
const steps = planPreprocessing(profile, "y");
const data = t("fit the plan, transform train/validation/test", () => prepareData(steps, table, split));
t("a search's seeded sample of 240,000 training rows", () => seededSample(data.fit.train.x.rows, 240_000, 42));
console.log(
  `features: ${data.featureNames.length}; rows: ${data.fit.train.x.rows.toLocaleString("en")} train, ${data.fit.val.x.rows.toLocaleString("en")} validation, ${data.test.x.rows.toLocaleString("en")} test; quartiles of a approximate: ${profile.columns[0].quantiles_approx === true}`,
);
