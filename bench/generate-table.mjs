#!/usr/bin/env node
/**
 * Writes a generated table for the real-size benchmarks: N rows (default 1,000,000) of 20
 * columns — 9 numbers, 5 categories (5 to 10,000 levels), 2 dates (ISO days, and times), a
 * yes/no column, an id-like code, a ratio, and the target `y` (a noisy function of the others,
 * so a model has something to learn) — with 5% of each feature's cells missing. Seeded
 * (xoshiro128**), so every run writes the same bytes. `--with-ids` adds a first column
 * `order_id`: a distinct 36-character UUID-shaped text per row (what an export from a shop or
 * a log holds, and what the loader must keep without holding the file's text).
 *
 *   node bench/generate-table.mjs OUT.csv [ROWS] [SEED] [--with-ids]
 */
import * as fs from "node:fs";

const withIds = process.argv.includes("--with-ids");
const [out, rowsArg = "1000000", seedArg = "7"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (!out) {
  console.error("usage: node bench/generate-table.mjs OUT.csv [ROWS] [SEED]");
  process.exit(2);
}
const rows = Number(rowsArg);

/** xoshiro128**: a fast generator with no visible structure across columns (unlike an LCG's low bits). */
function xoshiro(seed) {
  let a = 0x9e3779b9 ^ seed,
    b = 0x243f6a88,
    c = 0xb7e15162 ^ (seed << 7),
    d = 0x7f4a7c15;
  const next = () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  return next;
}
const rotl = (x, k) => (x << k) | (x >>> (32 - k));
const random = xoshiro(Number(seedArg));
const normal = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const pick = (n) => Math.floor(random() * n);
const maybe = (text) => (random() < 0.05 ? "" : text);

const CITIES = ["Berlin", "Paris", "Madrid", "Roma", "Wien"];
const header = [
  "x1",
  "x2",
  "x3",
  "x4",
  "x5",
  "count",
  "age",
  "price",
  "score",
  "city",
  "segment",
  "product",
  "store",
  "customer",
  "day",
  "time",
  "member",
  "code",
  "ratio",
  "y",
];
const stream = fs.createWriteStream(out);
stream.write((withIds ? ["order_id", ...header] : header).join(",") + "\n");
const hex = (n) =>
  Math.floor(random() * 16 ** n)
    .toString(16)
    .padStart(n, "0");
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(6)}${hex(6)}`;
const day0 = Date.UTC(2015, 0, 1);
let buffer = "";
for (let i = 0; i < rows; i++) {
  const x = Array.from({ length: 5 }, normal);
  const count = pick(50);
  const age = 18 + pick(70);
  const price = Math.exp(2 + normal());
  const city = pick(5);
  const segment = pick(20);
  const product = pick(100);
  const store = pick(1000);
  const customer = pick(10000);
  const dayMs = day0 + pick(3650) * 86_400_000;
  const date = new Date(dayMs);
  const member = random() < 0.3;
  const y =
    3 * x[0] -
    2 * x[1] * x[2] +
    Math.sin(x[3] * 2) +
    0.05 * age +
    0.3 * Math.log(price) +
    city * 0.7 +
    (segment % 4) * 0.5 +
    (member ? 1.5 : 0) +
    (date.getUTCMonth() >= 5 && date.getUTCMonth() <= 7 ? 1 : 0) +
    normal() * 0.5;
  const fields = [
    ...x.map((v) => maybe(v.toFixed(4))),
    maybe(String(count)),
    maybe(String(age)),
    maybe(price.toFixed(2)),
    maybe((random() * 100).toFixed(1)),
    maybe(CITIES[city]),
    maybe(`seg-${segment}`),
    maybe(`P${String(product).padStart(3, "0")}`),
    maybe(`store_${store}`),
    maybe(`C${customer}`),
    maybe(date.toISOString().slice(0, 10)),
    maybe(new Date(dayMs + pick(86400) * 1000).toISOString().slice(0, 19).replace("T", " ")),
    maybe(member ? "yes" : "no"),
    maybe(`K-${pick(1_000_000)}`),
    maybe(random().toFixed(6)),
    y.toFixed(4),
  ];
  buffer += (withIds ? [uuid(), ...fields] : fields).join(",") + "\n";
  if (buffer.length > 1 << 20) {
    if (!stream.write(buffer)) await new Promise((r) => stream.once("drain", r));
    buffer = "";
  }
}
stream.end(buffer);
await new Promise((r) => stream.on("finish", r));
console.log(`${out}: ${rows} rows, ${(fs.statSync(out).size / 1024 / 1024).toFixed(0)} MB`);
