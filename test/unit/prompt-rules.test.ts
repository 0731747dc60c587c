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

  it("an index of image files beside one other column: that column is the label, whatever it is called", () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ image: `data/shapes/${i}.png`, category: i % 2 ? "circle" : "square" }));
    const resolved = resolveIntent(parseIntentByRules("classify these pictures"), tableFromRecords(rows, "images.csv").table);
    assert.deepEqual([resolved.intent.task_type, resolved.intent.target], ["image_classification", "category"]);
    assert.ok(
      resolved.notes.some((n) => /Target category: the one column beside the image files \(image\)/.test(n)),
      resolved.notes.join("; "),
    );
  });

  it("refuse, before anything trains, a class target with too few rows per class, saying why", () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ city: `City${i % 200}`, amount: i }));
    const table = tableFromRecords(rows, "cities.json").table;
    assert.throws(
      () => resolveIntent(parseIntentByRules("classify the city"), table),
      /city has 200 classes in 300 rows \(100 of them with a single row\): a model cannot learn a class from one example/,
    );
  });

  it("read what a new user's trial missed: free text, 'the number of X', 'X analysis of Y', the rows' subject, words for deaths and earnings", () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({
      review_id: `R${i}`,
      review_text: `the parcel arrived ${i % 2 ? "late and damaged" : "on time and fine"} in week ${i % 10}`,
      machine: `M${i % 4}`,
      outcome: i % 2 ? "negative" : "positive",
      Deaths: 100 + i,
      Entity: i % 3 ? "Flood" : "Drought",
      monthly_salary: 2000 + i * 10,
      people: 1000 + i,
    }));
    const table = tableFromRecords(rows, "trial.json").table;
    const read = (prompt: string) => {
      const r = resolveIntent(parseIntentByRules(prompt), table);
      return `${r.intent.task_type} ${r.intent.target}`;
    };
    assert.equal(read("sentiment analysis of customer review text"), "text_classification outcome");
    // a ticket export: the description beside a priority and a date, the team named after "by"
    const tickets = tableFromRecords(
      Array.from({ length: 60 }, (_, i) => ({
        description: `the ${i % 2 ? "invoice was charged twice this month" : "login page fails after the update"} (ticket ${i})`,
        priority: ["low", "high"][i % 2]!,
        created: `2024-01-${String((i % 28) + 1).padStart(2, "0")}`,
        team: i % 2 ? "billing" : "accounts",
      })),
      "tickets.json",
    ).table;
    const ticket = resolveIntent(parseIntentByRules("classify the support tickets by team"), tickets);
    assert.equal(`${ticket.intent.task_type} ${ticket.intent.target}`, "text_classification team");
    assert.match(ticket.notes.join(" "), /A text model reads description alone: priority, created are not used/);
    assert.equal(read("predict the number of deaths"), "regression Deaths");
    assert.equal(read("how many people die in floods"), "regression Deaths");
    assert.equal(read("predict how much an employee earns"), "regression monthly_salary");
    assert.throws(
      () => read("predict the review_text"),
      /review_text holds free text \(about \d+ words a value\), not labels, so it cannot be learned as a target/,
    );
    // a request about the machines, naming nothing else: the conventional target, not the machine column
    const sensors = tableFromRecords(
      rows.map(({ machine, Deaths }, i) => ({ machine, temperature: Deaths, label: i % 5 === 0 ? "fault" : "ok" })),
      "sensors.json",
    ).table;
    assert.equal(resolveIntent(parseIntentByRules("détecter les pannes des machines"), sensors).intent.target, "label");
  });
});
