/**
 * An OpenAI-compatible chat-completions server on 127.0.0.1, answering as OpenRouter, vLLM or
 * Ollama's /v1 do for what the product's LLM client sends: `POST /v1/chat/completions` with a
 * bearer key (401 without the right one), tools and `tool_choice` or `response_format`,
 * streamed (server-sent events, tool-call arguments in pieces, usage last) or not, and
 * `GET /v1/models`. What it answers, the test decides per request (`respond`): a tool call,
 * text, malformed JSON, an HTTP error with Retry-After, an answer that never comes, a dropped
 * connection. Every request is kept, so a test can read what the model was sent.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  tools?: Array<{ type: "function"; function: { name: string; description?: string; parameters: Record<string, unknown> } }>;
  tool_choice?: unknown;
  response_format?: { type: string };
  stream?: boolean;
  authorization: string | null;
}

export type ChatReply =
  /** the function called with these arguments (a string is sent as it is: malformed JSON too) */
  | { tool?: string; args: unknown }
  | { content: string }
  | { status: number; retryAfter?: string; message?: string }
  /** no answer at all (the client's timeout must end it) */
  | { hang: true }
  /** the connection closed before any answer */
  | { drop: true };

export interface TestLlm {
  /** the base URL (AUTOML_LLM_BASE_URL): the root before /chat/completions */
  url: string;
  apiKey: string;
  requests: ChatRequest[];
  /** what to answer; the default answers every request with a 500 */
  respond: (request: ChatRequest, index: number) => ChatReply | Promise<ChatReply>;
  /** false: a request with tools is refused with 400, as servers without tool calling do */
  toolsSupported: boolean;
  /** the environment that points the product at this server */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startTestLlm(options: { apiKey?: string; respond?: TestLlm["respond"] } = {}): Promise<TestLlm> {
  const open = new Set<import("node:net").Socket>();
  const llm: TestLlm = {
    url: "",
    apiKey: options.apiKey ?? "sk-test-0123456789abcdefghij",
    requests: [],
    respond: options.respond ?? (() => ({ status: 500, message: "no answer scripted" })),
    toolsSupported: true,
    env: () => ({ AUTOML_LLM_BASE_URL: llm.url, AUTOML_LLM_API_KEY: llm.apiKey, AUTOML_LLM_MODEL: "test/model-7b" }),
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void answer(req, res, Buffer.concat(chunks).toString("utf8")).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: { message: String(err) } });
        else res.destroy();
      });
    });
  });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const authorization = req.headers.authorization ?? null;
    if (authorization !== `Bearer ${llm.apiKey}`)
      return json(res, 401, { error: { message: "Invalid API key provided", type: "invalid_request_error", code: "invalid_api_key" } });
    if (req.method === "GET" && url.pathname === "/v1/models") return json(res, 200, { object: "list", data: [{ id: "test/model-7b", object: "model" }] });
    if (req.method !== "POST" || url.pathname !== "/v1/chat/completions")
      return json(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
    const parsed = JSON.parse(body) as Omit<ChatRequest, "authorization">;
    const request: ChatRequest = { ...parsed, authorization };
    const index = llm.requests.push(request) - 1;
    if (request.tools && !llm.toolsSupported)
      return json(res, 400, { error: { message: "tools is not supported by this model", type: "invalid_request_error" } });
    const reply = await llm.respond(request, index);
    if ("hang" in reply) return; // the socket stays open until the client gives up (or close())
    if ("drop" in reply) return void req.socket.destroy();
    if ("status" in reply) {
      if (reply.retryAfter !== undefined) res.setHeader("Retry-After", reply.retryAfter);
      return json(res, reply.status, { error: { message: reply.message ?? http.STATUS_CODES[reply.status], type: "server_error" } });
    }
    const toolName = "args" in reply ? (reply.tool ?? request.tools?.[0]?.function.name ?? "answer") : null;
    const argsText = "args" in reply ? (typeof reply.args === "string" ? reply.args : JSON.stringify(reply.args)) : null;
    const content = "content" in reply ? reply.content : null;
    const promptTokens = Math.ceil(body.length / 4);
    const completionTokens = Math.ceil((argsText ?? content ?? "").length / 4);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const id = `chatcmpl-${index}`;
    const created = Math.floor(Date.now() / 1000);
    const toolCall = toolName !== null ? { id: `call_${index}`, type: "function", function: { name: toolName, arguments: argsText } } : null;
    if (!request.stream) {
      return json(res, 200, {
        id,
        object: "chat.completion",
        created,
        model: request.model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content, ...(toolCall ? { tool_calls: [toolCall] } : {}) },
            finish_reason: toolCall ? "tool_calls" : "stop",
          },
        ],
        usage,
      });
    }
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    const send = (delta: Record<string, unknown>, finish: string | null = null) =>
      res.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: request.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    send({ role: "assistant", content: toolCall ? null : "" });
    const text = argsText ?? content ?? "";
    const pieces = text.match(/[\s\S]{1,12}/g) ?? [];
    pieces.forEach((piece, k) => {
      if (toolCall) {
        send({
          tool_calls: [
            {
              index: 0,
              ...(k === 0 ? { id: toolCall.id, type: "function", function: { name: toolName, arguments: piece } } : { function: { arguments: piece } }),
            },
          ],
        });
      } else send({ content: piece });
    });
    send({}, toolCall ? "tool_calls" : "stop");
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: request.model, choices: [], usage })}\n\n`);
    res.end("data: [DONE]\n\n");
  }

  server.on("connection", (s) => {
    open.add(s);
    s.on("close", () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  llm.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return llm;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** The DATA block the product sent in a request's last user message, parsed. */
export function sentData(request: ChatRequest): unknown {
  const user = [...request.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const m = /<<<DATA\n([\s\S]*?)\nDATA>>>/.exec(user);
  if (!m) throw new Error(`no DATA block in ${user.slice(0, 200)}`);
  return JSON.parse(m[1]!);
}

/** The function a request asks the model to call (its tool_choice, else its one tool). */
export function askedTool(request: ChatRequest): string | null {
  const choice = request.tool_choice as { function?: { name?: string } } | undefined;
  if (choice?.function?.name) return choice.function.name;
  if (request.tools?.[0]) return request.tools[0].function.name;
  // JSON mode names it in the instructions
  const m = /Answer with one JSON object for (\w+)/.exec(request.messages.at(-1)?.content ?? "");
  return m?.[1] ?? null;
}
