import assert from "node:assert/strict";
import { z } from "zod";
import { LlmClient } from "../../kernel/agents/llm-client";
import { LlmFailure, llmSettingsFromEnv, type LlmSettings } from "../../kernel/agents/llm-types";
import { startTestLlm, sentData, type TestLlm } from "../support/test-llm-server";

const answerSchema = z.strictObject({ task_type: z.enum(["regression", "classification"]), target: z.string().nullable() });

function settingsFor(llm: TestLlm, over: Partial<LlmSettings> = {}): LlmSettings {
  const s = llmSettingsFromEnv({ ...llm.env(), AUTOML_LLM_TIMEOUT_S: "2" });
  if ("off" in s) throw new Error(s.off);
  return { ...s, ...over };
}

const request = (data: unknown = { prompt: "predict house prices", columns: ["rooms", "price"] }) => ({
  agent: "prompt parser",
  tool: "read_request",
  description: "what the request asks for",
  schema: answerSchema,
  instructions: "Read the request.",
  data,
});

async function failureOf(p: Promise<unknown>): Promise<LlmFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof LlmFailure, String(err));
    return err;
  }
  assert.fail("expected a failure");
}

describe("LLM client (against an OpenAI-compatible server on 127.0.0.1)", function () {
  this.timeout(30_000);
  let llm: TestLlm;
  beforeEach(async () => (llm = await startTestLlm()));
  afterEach(async () => llm.close());

  it("reads its settings from the environment: off without a key for a remote endpoint, on for a local one, never a key over plain http", () => {
    assert.match((llmSettingsFromEnv({}) as { off: string }).off, /no API key for openrouter\.ai/);
    const local = llmSettingsFromEnv({ AUTOML_LLM_BASE_URL: "http://127.0.0.1:11434/v1/" });
    assert.ok(!("off" in local));
    assert.equal(local.baseUrl, "http://127.0.0.1:11434/v1");
    assert.equal(local.apiKey, null);
    assert.match((llmSettingsFromEnv({ AUTOML_LLM_BASE_URL: "http://10.0.0.5/v1", AUTOML_LLM_API_KEY: "k" }) as { off: string }).off, /plain http/);
    assert.match((llmSettingsFromEnv({ AUTOML_LLM_BASE_URL: "not a url" }) as { off: string }).off, /not a URL/);
    assert.match((llmSettingsFromEnv({ AUTOML_LLM: "off", AUTOML_LLM_API_KEY: "k" }) as { off: string }).off, /off/);
  });

  for (const stream of [false, true]) {
    it(`gets a validated tool-call answer (${stream ? "streamed" : "not streamed"}), with the key, the tool forced, and its token count`, async () => {
      llm.respond = () => ({ args: { task_type: "regression", target: "price" } });
      const answer = await new LlmClient(settingsFor(llm, { stream })).ask(request());
      assert.deepEqual(answer.value, { task_type: "regression", target: "price" });
      assert.equal(answer.mode, "tools");
      assert.ok(answer.usage.input > 0 && answer.usage.output > 0, JSON.stringify(answer.usage));
      const sent = llm.requests[0]!;
      assert.equal(sent.authorization, `Bearer ${llm.apiKey}`);
      assert.equal(sent.model, "test/model-7b");
      assert.equal(sent.stream ?? false, stream);
      assert.deepEqual(sent.tool_choice, { type: "function", function: { name: "read_request" } });
      assert.deepEqual(sentData(sent), { prompt: "predict house prices", columns: ["rooms", "price"] });
    });
  }

  it("falls back to JSON mode, once and remembered, when the endpoint refuses tools; reads JSON in a fence", async () => {
    llm.toolsSupported = false;
    llm.respond = () => ({ content: 'Here it is:\n```json\n{"task_type": "classification", "target": "species"}\n```' });
    const client = new LlmClient(settingsFor(llm));
    assert.deepEqual((await client.ask(request())).value, { task_type: "classification", target: "species" });
    const second = await client.ask(request());
    assert.equal(second.mode, "json");
    assert.equal(llm.requests.length, 3, "tools asked once, then JSON mode twice");
    assert.deepEqual(llm.requests[2]!.response_format, { type: "json_object" });
    assert.equal(llm.requests[2]!.tools, undefined);
  });

  it("says an answer is invalid when its JSON is malformed or breaks the schema, without retrying", async () => {
    llm.respond = () => ({ args: '{"task_type": "regression", "target": ' });
    const malformed = await failureOf(new LlmClient(settingsFor(llm)).ask(request()));
    assert.equal(malformed.kind, "invalid");
    assert.match(malformed.message, /not JSON/);
    llm.respond = () => ({ args: { task_type: "clustering", target: 3 } });
    const wrong = await failureOf(new LlmClient(settingsFor(llm)).ask(request()));
    assert.equal(wrong.kind, "invalid");
    assert.match(wrong.message, /did not match its schema \(task_type: .*target: /);
    assert.equal(llm.requests.length, 2);
  });

  it("waits out a 429 for as long as Retry-After says, and retries 500s with backoff", async () => {
    llm.respond = (_r, i) => (i === 0 ? { status: 429, retryAfter: "1" } : i === 1 ? { status: 503 } : { args: { task_type: "regression", target: null } });
    const started = Date.now();
    const answer = await new LlmClient(settingsFor(llm)).ask(request());
    const took = Date.now() - started;
    assert.equal(answer.attempts, 3);
    assert.ok(took >= 1000 + 1000, `waited ${took} ms: Retry-After 1 s, then the backoff`);
  });

  it("gives up on a Retry-After longer than it waits, and on a server failing every attempt (down)", async () => {
    llm.respond = () => ({ status: 429, retryAfter: "600" });
    const busy = await failureOf(new LlmClient(settingsFor(llm)).ask(request()));
    assert.equal(busy.kind, "busy");
    assert.match(busy.message, /wait 600 s/);
    llm.respond = () => ({ status: 500 });
    const down = await failureOf(new LlmClient(settingsFor(llm, { attempts: 2 })).ask(request()));
    assert.equal(down.kind, "down");
    assert.match(down.message, /HTTP 500/);
  });

  it("times out an answer that never comes, and a dropped connection is down", async () => {
    llm.respond = () => ({ hang: true });
    const started = Date.now();
    const slow = await failureOf(new LlmClient(settingsFor(llm, { attempts: 1, timeoutMs: 800 })).ask(request()));
    assert.equal(slow.kind, "down");
    assert.ok(Date.now() - started < 5000);
    llm.respond = () => ({ drop: true });
    assert.equal((await failureOf(new LlmClient(settingsFor(llm, { attempts: 1 })).ask(request()))).kind, "down");
  });

  it("a refused key is not retried; an endpoint not listening is down", async () => {
    const wrongKey = await failureOf(new LlmClient({ ...settingsFor(llm), apiKey: "sk-wrong-key-000000000000" }).ask(request()));
    assert.equal(wrongKey.kind, "refused");
    assert.match(wrongKey.message, /HTTP 401/);
    assert.equal(llm.requests.length, 0);
    const url = llm.url;
    await llm.close();
    const gone = await failureOf(new LlmClient({ ...settingsFor(llm), baseUrl: url, attempts: 1 }).ask(request()));
    assert.equal(gone.kind, "down");
    llm = await startTestLlm();
  });

  it("takes the key out of what an endpoint echoes back (OpenAI's 401 names the key it got), whatever the key's shape", async () => {
    llm.respond = () => ({ status: 401, message: "Incorrect API key provided: token-abc123-plain. You can find your key at …" });
    const settings = { ...settingsFor(llm), apiKey: "token-abc123-plain" };
    // the server's own key check would answer before `respond`: this one has the same key as the client
    llm.apiKey = "token-abc123-plain";
    const refused = await failureOf(new LlmClient(settings).ask(request()));
    assert.equal(refused.kind, "refused");
    assert.ok(!refused.message.includes("token-abc123-plain"), refused.message);
    assert.match(refused.message, /Incorrect API key provided: \[secret\]/);
  });

  it("redacts personal data and secrets from what it sends", async () => {
    llm.respond = () => ({ args: { task_type: "classification", target: "churned" } });
    await new LlmClient(settingsFor(llm)).ask(
      request({ prompt: "predict churn; my key is sk-live-abcdefghijklmnop1234", sample: [{ email: "ann.smith@example.com", phone: "+1 415 555 0123" }] }),
    );
    const body = JSON.stringify(llm.requests[0]!.messages);
    for (const secret of ["sk-live-abcdefghijklmnop1234", "ann.smith@example.com", "555 0123"]) assert.ok(!body.includes(secret), `${secret} was sent`);
    assert.match(body, /\[email\]/);
    assert.match(body, /\[secret\]/);
  });
});
