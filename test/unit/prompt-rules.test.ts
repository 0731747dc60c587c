import assert from "node:assert/strict";
import { parseIntentByRules } from "../../kernel/agents/intent-rules";
import { resolveIntent } from "../../kernel/agents/target-resolver";
import { tableFromRecords } from "../../kernel/data/table-loader";
import { PROMPT_SET, tableFor, type PromptCase } from "../fixtures/prompt-set";

/** The rules' reading of a request with its data: task and target, or why they could not. */
export function readByRules(c: PromptCase): { task: string; target: string | null } | { error: string } {
  try {
    const resolved = resolveIntent(parseIntentByRules(c.prompt), tableFor(c.data));
    return { task: resolved.intent.task_type, target: resolved.intent.target };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe("prompt rules on a set of realistic requests with their data", function () {
  this.timeout(60_000);

  it(`read the task and the target of at least 90% of ${PROMPT_SET.length} requests (English, German, Spanish, typos, synonyms)`, () => {
    assert.ok(PROMPT_SET.length >= 40);
    const misses: string[] = [];
    for (const c of PROMPT_SET) {
      const got = readByRules(c);
      if ("error" in got || got.task !== c.task || got.target !== c.target)
        misses.push(`${JSON.stringify(c.prompt)} on ${c.data}: expected ${c.task} of ${c.target}, got ${JSON.stringify(got)}`);
    }
    const accuracy = 1 - misses.length / PROMPT_SET.length;
    console.log(
      `      rules: ${PROMPT_SET.length - misses.length}/${PROMPT_SET.length} (${(100 * accuracy).toFixed(1)}%)${misses.map((m) => `\n        miss: ${m}`).join("")}`,
    );
    assert.ok(accuracy >= 0.9, misses.join("\n"));
  });

  it("never take an identifier as the target: the churn table's e-mail column, ids, names", () => {
    const got = readByRules({ prompt: "predict which customers will churn", data: "telco-churn", task: "classification", target: "churned" });
    assert.deepEqual(got, { task: "classification", target: "churned" });
    const asked = readByRules({ prompt: 'predict "customer_email"', data: "telco-churn", task: "classification", target: "x" });
    assert.ok("error" in asked);
    assert.match(asked.error, /customer_email has a distinct value in 240 of 240 rows: it identifies rows, so it cannot be learned as a target/);
    const name = readByRules({ prompt: "predict Name", data: "titanic", task: "classification", target: "x" });
    assert.ok("error" in name && /identifies rows/.test(name.error));
  });

  it("refuse, before anything trains, a class target with too few rows per class, saying why", () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ city: `City${i % 200}`, amount: i }));
    const table = tableFromRecords(rows, "cities.json").table;
    assert.throws(
      () => resolveIntent(parseIntentByRules("classify the city"), table),
      /city has 200 classes in 300 rows \(100 of them with a single row\): a model cannot learn a class from one example/,
    );
  });
});
