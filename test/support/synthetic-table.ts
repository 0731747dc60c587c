import { seededRandom } from "../../kernel/data/seeded-random";
import type { LabelledSet } from "../../kernel/ml/learner";

/** n rows of `cols` features uniform in [-1, 1) and a target made from them (seeded). */
export function table(n: number, seed: number, make: (x: number[], r: () => number) => number, cols = 4, classification = true): LabelledSet {
  const r = seededRandom(seed);
  const data = new Float64Array(n * cols);
  const y = classification ? new Int32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: cols }, () => r() * 2 - 1);
    y[i] = make(row, r);
    row.forEach((v, j) => (data[i * cols + j] = v));
  }
  return { x: { data, rows: n, cols }, y };
}
