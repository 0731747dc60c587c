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
