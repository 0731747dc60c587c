/**
 * Each agent against an OpenAI-compatible server on 127.0.0.1: a good answer is used and says
 * so (`source: "llm"`), an answer that breaks its schema or its checks leaves the rules' result
 * with one LOG_LINE; the project's model itself: off said once, a token budget that stands it
 * down, one audit record per call, nothing secret in them.
 */
import assert from "node:assert/strict";
import { AgentModel, type AgentCall } from "../../kernel/agents/agent-model";
import { rankDatasets } from "../../kernel/agents/dataset-ranker-agent";
import { suggestEdits } from "../../kernel/agents/edit-suggester-agent";
import { llmSettingsFromEnv } from "../../kernel/agents/llm-types";
import { selectModels } from "../../kernel/agents/model-selector-agent";
import { parsePrompt } from "../../kernel/agents/prompt-parser-agent";
import { statedNumber, writeNarrative } from "../../kernel/agents/reporter-agent";
import { settleTarget } from "../../kernel/agents/target-agent";
import type { AuditRecord } from "../../kernel/assets/audit-log";
import type { EventSink } from "../../kernel/events/event-sink";
import { tableFor } from "../fixtures/prompt-set";
import { startTestLlm, type ChatReply, type TestLlm } from "../support/test-llm-server";

function harness(llm: TestLlm | null, env: Record<string, string> = {}) {
  const logs: Array<{ level: string; text: string }> = [];
  const audit: AuditRecord[] = [];
  const events: EventSink = { emit: (_name, payload) => logs.push(payload as { level: string; text: string }) };
  const model = new AgentModel(llmSettingsFromEnv({ ...(llm ? llm.env() : {}), AUTOML_LLM_TIMEOUT_S: "2", AUTOML_LLM_ATTEMPTS: "1", ...env }), {
    audit: (r) => audit.push(...r),
  });
  const call: AgentCall = { stage: "PARSE_INTENT", events };
  return { model, call, logs, audit };
}

describe("the agents (against an OpenAI-compatible server on 127.0.0.1)", function () {
  this.timeout(30_000);
  let llm: TestLlm;
  beforeEach(async () => (llm = await startTestLlm()));
  afterEach(() => llm.close());
  const answer = (reply: ChatReply) => (llm.respond = () => reply);

  it("without a model: the rules decide, said once for the whole run, and nothing is sent", async () => {
    const h = harness(null);
    const first = await parsePrompt("predict house prices", undefined, h.model, h.call);
    const second = await parsePrompt("classify penguin species", undefined, h.model, h.call);
    assert.deepEqual([first.source, second.source], ["rules", "rules"]);
    assert.equal(second.value.task_type, "classification");
    assert.equal(h.logs.length, 1);
    assert.match(h.logs[0]!.text, /^No language model is set up \(no API key for openrouter\.ai/);
    assert.equal(h.audit.length, 0);
  });

  it("prompt parser: reads a request in another language; a malformed answer leaves the rules'", async () => {
    answer({
      args: {
        understood: true,
        task_type: "regression",
        target_words: "Preis der Häuser",
        dataset_hint: null,
        metric: "mae",
        time_budget_s: 60,
        interpretable: true,
      },
    });
    const h = harness(llm);
    const read = await parsePrompt("Wie teuer werden die Häuser? Schnell und erklärbar, bitte", undefined, h.model, h.call);
    assert.equal(read.source, "llm");
    assert.deepEqual(read.value.constraints, { task_source: "llm", target_hint: "Preis der Häuser", metric: "mae", time_budget_s: 60, interpretable: true });
    answer({ args: "{not json" });
    const rules = await parsePrompt("predict house prices", undefined, h.model, h.call);
    assert.equal(rules.source, "rules");
    assert.equal(rules.value.constraints["target_hint"], "house prices");
    assert.match(h.logs.at(-1)!.text, /prompt parser's answer .* not usable: its read_request call's arguments were not JSON/);
    assert.deepEqual(
      h.audit.map((a) => a["outcome"]),
      ["ok", "invalid"],
    );
  });

  it("target chooser: takes a synonym the rules miss; a column that is not there, or an identifier, is refused", async () => {
    const h = harness(llm);
    const table = tableFor("bank-churn");
    const intent = { task_type: "classification" as const, target: null, dataset_hint: null, constraints: { target_hint: "quitters" }, parser: "llm" };
    answer({ args: { target: "Exited", task_type: "classification", reason: "Exited marks the customers who left" } });
    const chosen = await settleTarget("who are the quitters?", intent, table, {}, h.model, h.call);
    assert.equal(chosen.source, "llm");
    assert.equal(chosen.value.intent.target, "Exited");
    assert.match(chosen.value.notes[0]!, /^Target Exited chosen by the language model: Exited marks the customers who left/);
    answer({ args: { target: "Surname", task_type: "classification", reason: "asked" } });
    const afterIdentifier = await settleTarget("who are the quitters?", intent, table, {}, h.model, h.call);
    assert.match(
      h.logs.at(-1)!.text,
      /target chooser's answer .* not used \(it chose Surname, but Surname has a distinct value in 240 of 240 rows: it identifies rows\)/,
    );
    // the rules read the request themselves ("quitters": quit, a word for churn), not the model's words
    assert.deepEqual([afterIdentifier.source, afterIdentifier.value.intent.target], ["rules", "Exited"]);
    answer({ args: { target: "left_bank", task_type: "classification", reason: "asked" } });
    assert.equal((await settleTarget("who are the quitters?", intent, table, {}, h.model, h.call)).source, "rules");
    assert.match(h.logs.at(-1)!.text, /it named "left_bank", which is not a column/);
  });

  it("dataset ranker: reorders the usable candidates with its reasons; an id it makes up leaves the rules' order", async () => {
    const h = harness(llm);
    const candidate = (id: string, score: number) => ({
      id,
      source: "catalog" as const,
      name: id,
      desc: "",
      license: null,
      size_bytes: null,
      downloads: null,
      columns: ["price"],
      task: null,
      keywords: [],
      score,
      reasons: [`rules ${score}`],
      usable: true,
      relevant: true,
    });
    const usable = [candidate("catalog:a", 3), candidate("catalog:b", 2)];
    const query = { prompt: "predict prices", task: "regression" as const, targetHint: "prices" };
    answer({ args: { order: [{ id: "catalog:b", reason: "b has the sale price itself" }] } });
    const ranked = await rankDatasets(query, usable, h.model, h.call);
    assert.equal(ranked.source, "llm");
    assert.deepEqual(
      ranked.value.map((c) => [c.id, c.reasons[0]]),
      [
        ["catalog:b", "language model: b has the sale price itself"],
        ["catalog:a", "rules 3"],
      ],
    );
    answer({ args: { order: [{ id: "hf:evil/gpl-data", reason: "more downloads" }] } });
    const kept = await rankDatasets(query, usable, h.model, h.call);
    assert.equal(kept.source, "rules");
    assert.deepEqual(
      kept.value.map((c) => c.id),
      ["catalog:a", "catalog:b"],
    );
  });

  it("model selector: only learners offered, each once", async () => {
    const h = harness(llm);
    const offers = [
      { id: "hist_gbdt", name: "Histogram gradient boosting", family: "trees", why: "rules' why" },
      { id: "ridge", name: "Ridge", family: "linear", why: "rules' why" },
    ];
    const facts = {
      task: "regression",
      training_rows: 400,
      feature_columns: 5,
      column_kinds: { numeric: 5 },
      missing_pct: 0,
      time_budget_s: null,
      interpretable: true,
    };
    answer({ args: { models: [{ id: "ridge", why: "the person asked for an interpretable model" }] } });
    assert.deepEqual(await selectModels(facts, offers, h.model, h.call), {
      value: [{ id: "ridge", why: "the person asked for an interpretable model" }],
      source: "llm",
    });
    answer({
      args: {
        models: [
          { id: "ridge", why: "a" },
          { id: "ridge", why: "b" },
        ],
      },
    });
    const twice = await selectModels(facts, offers, h.model, h.call);
    assert.equal(twice.source, "rules");
    assert.equal(twice.value.length, 2);
    assert.match(h.logs.at(-1)!.text, /named a learner twice/);
  });

  it("reporter: prose only, a number of its own refuses the answer (names holding digits pass)", async () => {
    const h = harness(llm);
    assert.equal(statedNumber("pixel_12 and x2 matter most", ["pixel_12", "x2"]), null);
    assert.equal(statedNumber("It reached 97% accuracy.", []), "97%");
    answer({ args: { summary: "The forest did best, reaching 0.97 accuracy.", limitations: ["Few rows."] } });
    assert.equal(await writeNarrative({}, [], h.model, h.call), null);
    assert.match(
      h.logs.at(-1)!.text,
      /reporter's answer .* not used \(it wrote the number "0\.97", and the report's numbers come only from the project's events\)/,
    );
    answer({ args: { summary: "The forest did best; pixel_12 matters most.", limitations: ["Few rows."] } });
    assert.deepEqual(await writeNarrative({}, ["pixel_12"], h.model, h.call), {
      value: { summary: "The forest did best; pixel_12 matters most.", limitations: ["Few rows."] },
      source: "llm",
    });
  });

  it("reporter: numbers written as words are numbers too", async () => {
    const h = harness(llm);
    assert.equal(statedNumber("It got seventy-nine percent right, about four in five.", []), "seventy-nine");
    assert.equal(statedNumber("Only six hundred employees were seen.", []), "six");
    assert.equal(statedNumber("One seeded split decides the score; the one that won is a forest.", []), null);
    answer({ args: { summary: "The forest did best.", limitations: ["Only six hundred employees were seen."] } });
    assert.equal(await writeNarrative({}, [], h.model, h.call), null);
  });

  it("a model rate-limiting through every attempt: this question falls back, the next is asked again", async () => {
    const h = harness(llm, { AUTOML_LLM_ATTEMPTS: "2" });
    llm.respond = (_r, i) =>
      i < 2
        ? { status: 429, retryAfter: "0" }
        : {
            args: {
              understood: true,
              task_type: "regression",
              target_words: "prices",
              dataset_hint: null,
              metric: null,
              time_budget_s: null,
              interpretable: false,
            },
          };
    assert.equal((await parsePrompt("predict house prices", undefined, h.model, h.call)).source, "rules");
    assert.match(h.logs.at(-1)!.text, /still rate-limiting after every attempt .*rules decided this one/);
    assert.equal((await parsePrompt("predict house prices", undefined, h.model, h.call)).source, "llm");
  });

  it("a model set up wrongly is said as a warning: a plain-http remote endpoint with a key", async () => {
    const h = harness(null, { AUTOML_LLM_BASE_URL: "http://192.0.2.1:8080/v1", AUTOML_LLM_API_KEY: "sk-abcdefghijklmnopqrstu" });
    await parsePrompt("predict house prices", undefined, h.model, h.call);
    assert.equal(h.logs.length, 1);
    assert.equal(h.logs[0]!.level, "warn");
    assert.match(h.logs[0]!.text, /^The language model is not used: AUTOML_LLM_BASE_URL http:\/\/192\.0\.2\.1:8080 is plain http to another machine/);
  });

  it("edit suggester: a change outside its closed set is refused whole", async () => {
    const h = harness(llm);
    answer({ args: { suggestions: [{ title: "Clean up", expected_effect: "frees space", change: { kind: "run_shell", command: "rm -rf ~" } }] } });
    assert.equal(await suggestEdits({}, h.model, h.call), null);
    assert.match(h.logs.at(-1)!.text, /edit suggester's answer .* not usable: the answer did not match its schema \(suggestions\.0\.change/);
    answer({ args: { suggestions: [{ title: "Rank by F1", expected_effect: "the rare class counts", change: { kind: "set_metric", metric: "f1" } }] } });
    assert.deepEqual((await suggestEdits({}, h.model, h.call))?.value[0]?.change, { kind: "set_metric", metric: "f1" });
  });

  it("the project's token budget: spent, the model is asked no more, said once; every call audited without secrets", async () => {
    answer({
      args: { understood: true, task_type: "regression", target_words: "prices", dataset_hint: null, metric: null, time_budget_s: null, interpretable: false },
    });
    const h = harness(llm, { AUTOML_LLM_TOKEN_BUDGET: "300" });
    const sources: string[] = [];
    for (let i = 0; i < 4; i++) sources.push((await parsePrompt("predict house prices; contact me at ann@example.com", undefined, h.model, h.call)).source);
    assert.deepEqual(sources, ["llm", "rules", "rules", "rules"], "one request's tokens pass the budget of 300");
    assert.equal(llm.requests.length, 1);
    const said = h.logs.filter((l) => /token budget/.test(l.text));
    assert.equal(said.length, 1);
    assert.match(said[0]!.text, /token budget for this project \(300 tokens, AUTOML_LLM_TOKEN_BUDGET\) is spent/);
    const [record] = h.audit;
    assert.equal(record!["agent"], "prompt parser");
    assert.equal(record!["model"], "test/model-7b");
    assert.match(String(record!["endpoint"]), /^127\.0\.0\.1:\d+$/);
    assert.ok(Number(record!["tokens_in"]) > 0);
    const text = JSON.stringify(h.audit) + JSON.stringify(h.logs);
    assert.ok(!text.includes(llm.apiKey) && !text.includes("ann@example.com"));
  });
});
