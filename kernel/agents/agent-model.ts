/**
 * The language model as a project's agents see it: each agent asks for its decision and gets
 * it from the model or from its rules, told which (`source`). Everything around one call is
 * here, once: the project's token budget, its audit log record (model, latency, tokens,
 * outcome; redacted), and what the person is told. A model that is not set up, down, refusing
 * the key, rate-limited past waiting or out of budget is said once, in one LOG_LINE, and the
 * rules decide for the rest of the run; an answer that fails its schema or the agent's checks
 * is said for that decision alone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EV, type AgentSource, type StageId } from "../../contract";
import type { AuditRecord } from "../assets/audit-log";
import type { EventSink } from "../events/event-sink";
import type { LlmClient } from "./llm-client";
import { isLlmFailure, type LlmOff, type LlmRequest, type LlmSettings } from "./llm-types";
import { redact } from "../logging/redaction";

export type { AgentSource };

export interface Decided<T> {
  value: T;
  source: AgentSource;
}

/** Where a decision is made: the stage, its events, the run's stop signal. */
export interface AgentCall {
  stage: StageId;
  events: EventSink;
  signal?: AbortSignal;
}

export interface AgentQuestion<T> extends Omit<LlmRequest<T>, "signal"> {
  /** the agent's own checks of a well-formed answer (a target that is a column…): why it is refused, or null */
  check?: (value: T) => string | null;
}

export interface AgentModelOptions {
  audit: (records: AuditRecord[]) => void;
  /** tokens this project spent before (read from its audit log) */
  spentTokens?: number;
}

export class AgentModel {
  private readonly settings: LlmSettings | null;
  /** made on the first question: LangChain loads only then */
  private client: LlmClient | null = null;
  /** why the rules decide for the rest of the run (said once), when they do */
  private standDown: string | null = null;
  private said = false;
  /** the person set a model up and something in it is wrong: said as a warning, not as news */
  private misconfigured = false;
  private spent: number;

  constructor(
    settings: LlmSettings | LlmOff,
    private readonly options: AgentModelOptions,
  ) {
    this.settings = "off" in settings ? null : settings;
    if ("off" in settings) {
      this.standDown = settings.misconfigured
        ? `The language model is not used: ${settings.off}. The agents decide by their rules.`
        : `No language model is set up (${settings.off}): the agents decide by their rules.`;
      this.misconfigured = settings.misconfigured === true;
    }
    this.spent = options.spentTokens ?? 0;
  }

  /** "model at host", or null when none is set up */
  get label(): string | null {
    return this.settings ? `${this.settings.model} at ${new URL(this.settings.baseUrl).host}` : null;
  }

  /** The model's validated answer, or null when the rules must decide (said as this file's comment says). */
  async ask<T>(call: AgentCall, question: AgentQuestion<T>): Promise<T | null> {
    if (!this.settings || this.standDown !== null) {
      this.sayStandDownOnce(call);
      return null;
    }
    const settings = this.settings;
    const budget = settings.tokenBudget;
    // what this question would cost at least (about four characters a token, the answer at most a quarter of it): a
    // question that would pass the budget is not asked
    const estimate = Math.ceil((question.instructions.length + JSON.stringify(question.data ?? null).length) / 4) * 1.25;
    if (this.spent + estimate > budget) {
      this.standDown = `The language model's token budget for this project (${budget} tokens, AUTOML_LLM_TOKEN_BUDGET) is spent: the rules decide for the rest of the run.`;
      this.sayStandDownOnce(call);
      return null;
    }
    const started = Date.now();
    const record = (outcome: string, extra: Record<string, unknown>) =>
      this.options.audit([
        {
          stage: call.stage,
          kind: "llm",
          agent: question.agent,
          model: settings.model,
          endpoint: new URL(settings.baseUrl).host,
          outcome,
          ...extra,
        },
      ]);
    try {
      this.client ??= new (loadClientModule().LlmClient)(settings);
      const answer = await this.client.ask({ ...question, signal: call.signal });
      this.spent += answer.usage.input + answer.usage.output;
      const refused = question.check?.(answer.value) ?? null;
      record(refused ? "refused by its checks" : "ok", {
        latency_ms: answer.latencyMs,
        tokens_in: answer.usage.input,
        tokens_out: answer.usage.output,
        attempts: answer.attempts,
        mode: answer.mode,
        ...(refused ? { reason: redact(refused).text } : {}),
      });
      if (refused) {
        say(call, "warn", `The ${question.agent}'s answer from the language model was not used (${refused}); its rules decided instead.`);
        return null;
      }
      return answer.value;
    } catch (err) {
      if (!isLlmFailure(err)) throw err;
      this.spent += err.usage.input + err.usage.output;
      record(err.kind, { latency_ms: Date.now() - started, tokens_in: err.usage.input, tokens_out: err.usage.output, reason: redact(err.message).text });
      if (err.kind === "aborted") return null;
      if (err.kind === "throttled") {
        say(call, "warn", `The language model was still rate-limiting after every attempt (${err.message}); the ${question.agent}'s rules decided this one.`);
        return null;
      }
      if (err.kind === "invalid") {
        say(call, "warn", `The ${question.agent}'s answer from the language model was not usable: ${err.message}. Its rules decided instead.`);
        return null;
      }
      this.standDown = `The language model (${this.label}) is not usable: ${err.message}. The rules decide for the rest of this run.`;
      this.sayStandDownOnce(call);
      return null;
    }
  }

  private sayStandDownOnce(call: AgentCall): void {
    if (this.said || this.standDown === null) return;
    this.said = true;
    say(call, this.settings || this.misconfigured ? "warn" : "info", this.standDown);
  }
}

/**
 * The client's module: from source under tsx (the tests), else its own bundle beside this one
 * (scripts/bundles.mjs), required by a path the bundler does not follow, so LangChain loads only
 * when a model is asked.
 */
function loadClientModule(): typeof import("./llm-client") {
  const file = path.join(__dirname, __filename.endsWith(".ts") ? "llm-client.ts" : "llm-client.js");
  if (!fs.existsSync(file)) throw new Error(`The language-model client ${file} is missing: rebuild with \`npm run build\`.`);
  return (module.require as (id: string) => unknown).call(module, file) as typeof import("./llm-client");
}

function say(call: AgentCall, level: "info" | "warn", text: string): void {
  call.events.emit(EV.LOG_LINE, { run_id: null, level, text: redact(text).text });
}

/** Tokens the project's agents spent, from its audit log's records. */
export function tokensSpent(records: Iterable<Record<string, unknown>>): number {
  let total = 0;
  for (const r of records) if (r["kind"] === "llm") total += Number(r["tokens_in"] ?? 0) + Number(r["tokens_out"] ?? 0);
  return total;
}
