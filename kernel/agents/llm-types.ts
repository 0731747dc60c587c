/**
 * What the agents and the language-model client agree on (settings, a request, an answer, a
 * failure), without the client: LangChain is loaded only when a model is set up (agent-model.ts
 * imports llm-client.ts on first use), so commands that never ask one do not pay for it.
 */
import type { z } from "zod";
import { withoutTrailingSlash } from "./source-http";

export interface LlmSettings {
  /** the endpoint's root, ending before /chat/completions (".../v1") */
  baseUrl: string;
  model: string;
  apiKey: string | null;
  /** per request, headers to the last byte */
  timeoutMs: number;
  /** attempts per call, the first included, for 429, 5xx, timeouts and dropped connections */
  attempts: number;
  /** the longest wait for a Retry-After this client honours; a longer one fails the call */
  maxRetryAfterMs: number;
  /** tokens a project may spend on its agents' calls in all */
  tokenBudget: number;
  /** ask for the answer streamed (some local servers answer tools only so) */
  stream: boolean;
}

export const DEFAULT_LLM_BASE_URL = "https://openrouter.ai/api/v1";
export const DEFAULT_LLM_MODEL = "meta-llama/llama-3.1-8b-instruct";

/**
 * The settings from the environment (the extension sets these from its settings and secret
 * store; the CLI reads the same), or why there is no model to ask. No key and a remote
 * endpoint is "off": a local server needs no key.
 */
/** Why no model is asked; `misconfigured`: the person set one up and something in it is wrong (said as a warning). */
export interface LlmOff {
  off: string;
  misconfigured?: boolean;
}

export function llmSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LlmSettings | LlmOff {
  if (/^(off|none|false|0)$/i.test(env["AUTOML_LLM"] ?? "")) return { off: "AUTOML_LLM is off" };
  const baseUrl = withoutTrailingSlash(env["AUTOML_LLM_BASE_URL"]?.trim() || DEFAULT_LLM_BASE_URL);
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return {
      off: `AUTOML_LLM_BASE_URL ${JSON.stringify(baseUrl)} is not a URL (e.g. https://openrouter.ai/api/v1 or http://127.0.0.1:11434/v1)`,
      misconfigured: true,
    };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { off: `AUTOML_LLM_BASE_URL must be an http(s) URL, not ${url.protocol}`, misconfigured: true };
  const apiKey = env["AUTOML_LLM_API_KEY"]?.trim() || null;
  const local = isLoopback(url.hostname);
  if (!apiKey && !local) {
    return {
      off: `no API key for ${url.host} (set AUTOML_LLM_API_KEY, or the AutoML: Set LLM API Key command; a local server's URL needs none)`,
      // an endpoint chosen without its key is a set-up half done
      misconfigured: Boolean(env["AUTOML_LLM_BASE_URL"]?.trim()),
    };
  }
  // a key goes only where nobody on the way can read it
  if (apiKey && url.protocol === "http:" && !local) {
    return {
      off: `AUTOML_LLM_BASE_URL ${url.origin} is plain http to another machine: the API key would cross the network readable. Use https`,
      misconfigured: true,
    };
  }
  const number = (name: string, fallback: number) => {
    const v = Number(env[name]);
    return env[name] !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    baseUrl,
    model: env["AUTOML_LLM_MODEL"]?.trim() || DEFAULT_LLM_MODEL,
    apiKey,
    timeoutMs: number("AUTOML_LLM_TIMEOUT_S", 45) * 1000,
    attempts: Math.round(number("AUTOML_LLM_ATTEMPTS", 3)),
    maxRetryAfterMs: number("AUTOML_LLM_MAX_RETRY_AFTER_S", 30) * 1000,
    tokenBudget: Math.round(number("AUTOML_LLM_TOKEN_BUDGET", 200_000)),
    stream: /^(1|true|yes)$/i.test(env["AUTOML_LLM_STREAM"] ?? ""),
  };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** What an agent asks: its instruction, and the data it reasons about (sent quoted, redacted). */
export interface LlmRequest<T> {
  /** the agent's name, for the log and the audit ("prompt parser") */
  agent: string;
  /** the tool (function) the answer fills, a JavaScript identifier */
  tool: string;
  /** what the tool's answer is, for the model */
  description: string;
  schema: z.ZodType<T>;
  /** the agent's instructions: what to decide and the rules it must keep */
  instructions: string;
  /** the facts to decide from: the request, column names, a profile, candidates… */
  data: unknown;
  signal?: AbortSignal;
}

export type LlmFailureKind =
  /** the endpoint does not answer, times out, or keeps failing: nothing more will be asked this run */
  | "down"
  /** the key was refused, or the model is unknown: nothing more will be asked this run */
  | "refused"
  /** rate-limited longer than this client waits (Retry-After past its limit): nothing more will be asked this run */
  | "busy"
  /** still rate-limited after every attempt: this question falls back, the next one tries again */
  | "throttled"
  /** an answer came, but not one of the schema */
  | "invalid"
  /** the project spent its token budget */
  | "budget"
  /** the run was stopped */
  | "aborted";

export class LlmFailure extends Error {
  override name = "LlmFailure";
  constructor(
    readonly kind: LlmFailureKind,
    message: string,
    readonly usage: TokenUsage = { input: 0, output: 0 },
  ) {
    super(message);
  }
}

/**
 * Whether an error is the client's failure. By name, not instanceof: in the product the client
 * is a bundle of its own (see agent-model.ts), with its own copy of the class.
 */
export function isLlmFailure(err: unknown): err is LlmFailure {
  return err instanceof Error && err.name === "LlmFailure" && typeof (err as { kind?: unknown }).kind === "string";
}

export interface TokenUsage {
  input: number;
  output: number;
}

export interface LlmAnswer<T> {
  value: T;
  usage: TokenUsage;
  latencyMs: number;
  attempts: number;
  /** how the structured answer was asked for */
  mode: "tools" | "json";
}
