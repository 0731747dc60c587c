/**
 * Every HTTP request and WebSocket upgrade must carry the per-launch token, as
 * `Authorization: Bearer <token>` or `?token=<token>` (browsers cannot set headers on a
 * WebSocket). Compared in constant time.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { TOKEN_QUERY_PARAM } from "../../contract";

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return m ? m[1]! : null;
  }
  return url.searchParams.get(TOKEN_QUERY_PARAM);
}

export function tokenMatches(expected: string, presented: string | null): boolean {
  if (presented === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * A second line behind the token (against DNS rebinding, and pages that guessed a port): the
 * Host must name this loopback server, and an Origin, when a browser sends one, must be a
 * loopback origin. Nothing legitimate breaks: the extension, the CLI and the tests send no
 * Origin, and VS Code's webviews never talk to the conductor themselves. Returns what is wrong, or null.
 */
export function notLoopback(req: IncomingMessage, port: number): string | null {
  const host = req.headers.host;
  if (!host || !isLoopbackHost(host, port)) return `Host ${JSON.stringify(host ?? "")} is not this server (127.0.0.1:${port}).`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      /* "null" and other opaque origins */
    }
    if (!parsed || !LOOPBACK_HOSTS.has(parsed.hostname === "::1" ? "[::1]" : parsed.hostname)) {
      return `Origin ${JSON.stringify(origin)} is not a loopback origin: the conductor answers only this machine's own clients.`;
    }
  }
  return null;
}

function isLoopbackHost(host: string, port: number): boolean {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  if (!m) return false;
  return LOOPBACK_HOSTS.has(m[1]!) && (m[2] === undefined || Number(m[2]) === port);
}
