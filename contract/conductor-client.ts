/**
 * A typed client for the conductor's REST API, on `fetch` (Node 20 and browsers), used by the
 * CLI, the extension and the tests. Errors carry the server's message and status.
 */
import {
  SINCE_QUERY_PARAM,
  LIMIT_QUERY_PARAM,
  MAX_EVENTS_PER_PAGE,
  type EventsPage,
  TOKEN_QUERY_PARAM,
  apiPaths,
  type ApiError,
  type ConfirmRequest,
  type CreateProjectRequest,
  type ParseRequest,
  type RetryRequest,
  type PredictRequest,
  type PredictResponse,
  type PredictFileRequest,
  type PredictFileResponse,
  type ProjectMeta,
} from "./api";
import type { AnyEventEnvelope } from "./envelope";
import type { EventPayload } from "./events";
import {
  kernelPaths,
  type CursorRequest,
  type ExecuteRequest,
  type ExecutionMessage,
  type KernelStatus,
  type RestartRequest,
  type VariableInfo,
} from "./kernel-api";
import type { ProjectSnapshot } from "./project-state";

export class ConductorRequestError extends Error {
  override name = "ConductorRequestError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What GET /state answers. `meta` is the project's request (prompt, target, options). */
export interface ProjectStateResponse {
  meta: ProjectMeta;
  busy: boolean;
  snapshot: ProjectSnapshot;
}

export class ConductorClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}`, ...headers } };
    if (body !== undefined) {
      if (typeof body === "string" || body instanceof Uint8Array) init.body = body as BodyInit;
      else {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
    }
    const res = await fetch(this.baseUrl + path, init);
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as ApiError).error ?? text;
      } catch {
        /* not JSON: keep the text */
      }
      throw new ConductorRequestError(res.status, message);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  createProject(req: CreateProjectRequest): Promise<{ project_id: string; state: ProjectStateResponse }> {
    return this.call("POST", apiPaths.projects(), req);
  }
  listProjects(): Promise<{
    projects: Array<ProjectStateResponse["meta"] & { busy: boolean; current_stage: string; status: string; best_model: ProjectSnapshot["best"] }>;
  }> {
    return this.call("GET", apiPaths.projects());
  }
  state(id: string): Promise<ProjectStateResponse> {
    return this.call("GET", apiPaths.state(id));
  }
  /** One page of the events after `since` (see EventsPage). */
  eventsPage(id: string, since = 0, limit = MAX_EVENTS_PER_PAGE): Promise<EventsPage<AnyEventEnvelope>> {
    return this.call("GET", `${apiPaths.events(id)}?${SINCE_QUERY_PARAM}=${since}&${LIMIT_QUERY_PARAM}=${limit}`);
  }

  /** Every event after `since`, read page by page. */
  async events(id: string, since = 0): Promise<{ events: AnyEventEnvelope[] }> {
    const events: AnyEventEnvelope[] = [];
    for (;;) {
      const page = await this.eventsPage(id, since);
      events.push(...page.events);
      const last = page.events.at(-1)?.seq ?? since;
      if (page.events.length === 0 || last >= page.last_seq) return { events };
      since = last;
    }
  }
  confirm(id: string, req: ConfirmRequest = {}): Promise<ProjectStateResponse> {
    return this.call("POST", apiPaths.confirm(id), req);
  }
  parse(id: string, req: ParseRequest): Promise<ProjectStateResponse> {
    return this.call("POST", apiPaths.parse(id), req);
  }
  retry(id: string, req: RetryRequest = {}): Promise<ProjectStateResponse> {
    return this.call("POST", apiPaths.retry(id), req);
  }
  exportZip(id: string): Promise<EventPayload<"EXPORT_READY">> {
    return this.call("POST", apiPaths.exportZip(id), {});
  }
  /** The project's best model's predictions for a data file on the conductor's machine, written beside it (see PredictFileResponse). */
  predictFile(id: string, req: PredictFileRequest): Promise<PredictFileResponse> {
    return this.call("POST", apiPaths.predictFile(id), req);
  }
  /** The project's best model's predictions for the rows (see PredictResponse). */
  predict(id: string, req: PredictRequest): Promise<PredictResponse> {
    return this.call("POST", apiPaths.predict(id), req);
  }
  health(): Promise<{ ok: boolean; pid: number; projects: number }> {
    return this.call("GET", apiPaths.health());
  }
  upload(id: string, fileName: string, content: string | Uint8Array): Promise<ProjectStateResponse> {
    return this.call("POST", `${apiPaths.upload(id)}?filename=${encodeURIComponent(fileName)}`, content, { "content-type": "text/csv" });
  }
  async asset(assetUrl: string): Promise<Uint8Array> {
    const res = await fetch(this.baseUrl + assetUrl, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new ConductorRequestError(res.status, await res.text());
    return new Uint8Array(await res.arrayBuffer());
  }
  /** Runs a cell in the project's kernel; `onMessage` sees each output as it arrives, then the final "done". */
  async execute(
    id: string,
    req: ExecuteRequest,
    onMessage: (m: ExecutionMessage) => void = () => undefined,
  ): Promise<Extract<ExecutionMessage, { type: "done" }>> {
    const res = await fetch(this.baseUrl + kernelPaths.execute(id), {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: JSON.stringify(req),
    });
    if (!res.ok || !res.body) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as ApiError).error ?? text;
      } catch {
        /* not JSON */
      }
      throw new ConductorRequestError(res.status, message);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    let done: Extract<ExecutionMessage, { type: "done" }> | null = null;
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (value) buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const m = JSON.parse(line) as ExecutionMessage;
        if (m.type === "done") done = m;
        onMessage(m);
      }
      if (finished) break;
    }
    if (!done) throw new ConductorRequestError(502, "The execution stream ended without a result.");
    return done;
  }
  interrupt(id: string): Promise<{ interrupted: boolean }> {
    return this.call("POST", kernelPaths.interrupt(id), {});
  }
  restartKernel(id: string, req: RestartRequest = {}): Promise<{ replayed: number; failed_at: number | null; kernel: KernelStatus }> {
    return this.call("POST", kernelPaths.restart(id), req);
  }
  complete(id: string, req: CursorRequest): Promise<{ start: number; end: number; candidates: string[] }> {
    return this.call("POST", kernelPaths.complete(id), req);
  }
  inspect(id: string, req: CursorRequest): Promise<{ text: string }> {
    return this.call("POST", kernelPaths.inspect(id), req);
  }
  variables(id: string): Promise<{ variables: VariableInfo[] }> {
    return this.call("GET", kernelPaths.variables(id));
  }
  kernelStatus(id: string): Promise<KernelStatus> {
    return this.call("GET", kernelPaths.status(id));
  }
  rerunStale(id: string): Promise<{ reran: string[]; failed: string | null; state: ProjectStateResponse }> {
    return this.call("POST", kernelPaths.rerunStale(id), {});
  }
  /** The WebSocket URL for a project's stream (the token goes in the query: browsers cannot set headers). */
  streamUrl(id: string, since: number): string {
    const ws = this.baseUrl.replace(/^http/, "ws");
    return `${ws}${apiPaths.stream(id)}?${SINCE_QUERY_PARAM}=${since}&${TOKEN_QUERY_PARAM}=${encodeURIComponent(this.token)}`;
  }
}
