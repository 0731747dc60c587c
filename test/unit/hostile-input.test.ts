/**
 * One long input must not freeze the conductor: the intent rules read a prompt in time linear
 * in its length (a pasted token of a megabyte once blocked every request for minutes), and
 * still read ordinary requests as before.
 */
import { strict as assert } from "node:assert";
import { parseIntentByRules } from "../../kernel/agents/intent-rules";

function timed<T>(work: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = work();
  return { value, ms: performance.now() - t0 };
}

describe("hostile input", () => {
  it("reads a one-megabyte prompt of word characters within a second, however it ends", () => {
    const run = "a".repeat(1_000_000);
    for (const prompt of [`predict ${run}`, `${run}.cs predict`, `predict prices from ${run}`, `target ${run}`, `predict ${"x ".repeat(500_000)}`]) {
      const { ms } = timed(() => parseIntentByRules(prompt));
      assert.ok(ms < 1000, `${prompt.slice(0, 24)}… took ${ms.toFixed(0)} ms`);
    }
  });

  it("still reads what to predict and the data named in ordinary requests", () => {
    const cases: Array<[string, string | null, string | null]> = [
      ["predict house prices from housing.csv", "house prices", "housing.csv"],
      ["classify the penguin species.", "penguin species", null],
      ["forecast sales in 2024", "sales", null],
      ["Predict the price using data/homes.csv.", "price", "data/homes.csv"],
      ["model churn, please", "churn", null],
      ["predict.", null, null],
      ["predict  the   median value of homes in boston", "median value", null],
      ["estimate the number of bikes rented per hour from bikes.json", "bikes rented per hour", "bikes.json"],
    ];
    for (const [prompt, hint, data] of cases) {
      const intent = parseIntentByRules(prompt, prompt === "predict." ? "y" : undefined);
      assert.equal(intent.constraints["target_hint"] ?? null, hint, prompt);
      if (data) assert.equal(intent.dataset_hint, data, prompt);
    }
  });
});
