// The agents: the rules' accuracy on the prompt set (test/fixtures/prompt-set.ts: realistic
// requests with their data, each with the task and target a person means), and the time the
// language-model path adds per stage, side by side in one run: the churn scenario
// (test/support/churn-scenario.ts, 600 rows) through the real CLI (`automl run … --auto
// --no-pacing`), on the rules (no model set up) and on an OpenAI-compatible server on 127.0.0.1
// (test/support/test-llm-server.ts, real HTTP, answering each agent's tool at once), its answers
// not streamed and streamed. The server answers instantly, so the added time is this product's
// own (LangChain, HTTP, validation, the audit log); a real model adds its inference on top.
// Each stage's time is from its STAGE_STATUS running to its completed (envelope ts, seconds), read from the run's
// events.jsonl; medians over REPS runs per mode.
// Usage: node bench/agents.mjs [REPS=5]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
require("tsx/cjs");
const { PROMPT_SET, tableFor } = require("../test/fixtures/prompt-set.ts");
const { parseIntentByRules } = require("../kernel/agents/intent-rules.ts");
const { resolveIntent } = require("../kernel/agents/target-resolver.ts");
const { startTestLlm } = require("../test/support/test-llm-server.ts");
const { churnCsv, churnModel } = require("../test/support/churn-scenario.ts");

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, "..", "bin", "automl.js");
const reps = Number(process.argv[2] ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const STAGES = ["PARSE_INTENT", "DATA_SOURCE", "PROFILE_DATA", "PREPROCESS", "MODEL_SELECT", "TRAIN", "REVIEW_EDIT", "EXPORT"];

// ---- the rules on the prompt set ----
let right = 0;
const misses = [];
const t0 = performance.now();
for (const c of PROMPT_SET) {
  try {
    const r = resolveIntent(parseIntentByRules(c.prompt), tableFor(c.data));
    if (r.intent.task_type === c.task && r.intent.target === c.target) right++;
    else misses.push(`${c.prompt} → ${r.intent.task_type} of ${r.intent.target}`);
  } catch (err) {
    misses.push(`${c.prompt} → ${err.message.slice(0, 80)}`);
  }
}
const perPrompt = (performance.now() - t0) / PROMPT_SET.length;
console.log(
  `rules on the prompt set: ${right}/${PROMPT_SET.length} (${((100 * right) / PROMPT_SET.length).toFixed(1)}%), ${perPrompt.toFixed(2)} ms a request (tables loaded once)`,
);
for (const m of misses) console.log(`  miss: ${m}`);

// ---- the LLM path's added time per stage ----
function runCli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.resume();
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}: ${err.slice(-2000)}`))));
  });
}

function stageSeconds(eventsFile) {
  const started = {};
  const took = {};
  for (const line of fs.readFileSync(eventsFile, "utf8").split("\n")) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.event.name !== "STAGE_STATUS") continue;
    const { stage_id, status } = e.event.payload;
    if (status === "running") started[stage_id] = e.ts;
    if (status === "completed" && started[stage_id] !== undefined) took[stage_id] = (took[stage_id] ?? 0) + (e.ts - started[stage_id]);
  }
  return took;
}

const base = fs.mkdtempSync(path.join(tmpdir(), "automl-agents-bench-"));
const data = path.join(base, "churn.csv");
fs.writeFileSync(data, churnCsv(600));
const clean = { ...process.env };
for (const k of ["AUTOML_LLM_API_KEY", "AUTOML_LLM_BASE_URL", "AUTOML_LLM_MODEL"]) delete clean[k];
const llm = await startTestLlm({ respond: churnModel });
const modes = {
  rules: {},
  "llm (not streamed)": llm.env(),
  "llm (streamed)": { ...llm.env(), AUTOML_LLM_STREAM: "1" },
};
const times = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
for (let rep = 0; rep < reps; rep++) {
  // the modes interleaved, so a slower moment of the machine falls on all of them
  for (const [mode, env] of Object.entries(modes)) {
    const ws = fs.mkdtempSync(path.join(base, "ws-"));
    const out = path.join(ws, "out");
    const requestsBefore = llm.requests.length;
    await runCli(["run", "predict which customers will churn", "--data", data, "--auto", "--no-pacing", "--out", out, "--workspace", ws], {
      ...clean,
      AUTOML_DATASET_SOURCES: "workspace,catalog",
      ...env,
    });
    if (mode !== "rules" && llm.requests.length - requestsBefore !== 6)
      throw new Error(`${mode}: ${llm.requests.length - requestsBefore} model calls, expected 6`);
    times[mode].push(stageSeconds(path.join(out, "events.jsonl")));
  }
}
await llm.close();

console.log(`\nseconds per stage, median of ${reps} runs (churn scenario, 600 rows, --auto --no-pacing):`);
const header = ["stage", ...Object.keys(modes), "added (not streamed)", "added (streamed)"];
console.log(header.join(" | "));
for (const stage of STAGES) {
  const med = Object.fromEntries(Object.keys(modes).map((m) => [m, median(times[m].map((t) => t[stage] ?? 0))]));
  console.log(
    [
      stage,
      ...Object.keys(modes).map((m) => med[m].toFixed(3)),
      (med["llm (not streamed)"] - med.rules).toFixed(3),
      (med["llm (streamed)"] - med.rules).toFixed(3),
    ].join(" | "),
  );
}
fs.rmSync(base, { recursive: true, force: true });
