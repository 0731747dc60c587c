/**
 * A typed client for the conductor's REST API, on `fetch` (Node 20 and browsers), used by the
 * CLI, the extension and the tests. Errors carry the server's message and status.
 */
import {
  SINCE_QUERY_PARAM,
  TOKEN_QUERY_PARAM,
  apiPaths,
  type ApiError,
  type ConfirmRequest,
  type CreateProjectRequest,
  type ParseRequest,
  type ProjectMeta,
} from "./api";
import type { AnyEventEnvelope } from "./envelope";
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
  listProjects(): Promise<{ projects: Array<ProjectStateResponse["meta"] & { busy: boolean; current_stage: string; status: string }> }> {
    return this.call("GET", apiPaths.projects());
  }
  state(id: string): Promise<ProjectStateResponse> {
    return this.call("GET", apiPaths.state(id));
  }
  events(id: string, since = 0): Promise<{ events: AnyEventEnvelope[] }> {
    return this.call("GET", `${apiPaths.events(id)}?${SINCE_QUERY_PARAM}=${since}`);
  }
  confirm(id: string, req: ConfirmRequest = {}): Promise<ProjectStateResponse> {
    return this.call("POST", apiPaths.confirm(id), req);
  }
  parse(id: string, req: ParseRequest): Promise<ProjectStateResponse> {
    return this.call("POST", apiPaths.parse(id), req);
  }
  retry(id: string): Promise<ProjectStateResponse> {
    return this.call("POST", apiPaths.retry(id), {});
  }
  upload(id: string, fileName: string, content: string | Uint8Array): Promise<ProjectStateResponse> {
    return this.call("POST", `${apiPaths.upload(id)}?filename=${encodeURIComponent(fileName)}`, content, { "content-type": "text/csv" });
  }
  async asset(assetUrl: string): Promise<Uint8Array> {
    const res = await fetch(this.baseUrl + assetUrl, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new ConductorRequestError(res.status, await res.text());
    return new Uint8Array(await res.arrayBuffer());
  }
  /** The WebSocket URL for a project's stream (the token goes in the query: browsers cannot set headers). */
  streamUrl(id: string, since: number): string {
    const ws = this.baseUrl.replace(/^http/, "ws");
    return `${ws}${apiPaths.stream(id)}?${SINCE_QUERY_PARAM}=${since}&${TOKEN_QUERY_PARAM}=${encodeURIComponent(this.token)}`;
  }
}
