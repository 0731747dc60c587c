/**
 * The client side of a project's event stream, for every consumer (CLI, extension, webviews,
 * tests): it connects with `since`, drops anything it has already seen, reconnects from its
 * last seq when the socket closes or a gap shows, and hands on each event exactly once, in order.
 * It takes a socket factory so that it runs on `ws` in Node and on WebSocket in a browser.
 */
import { CLOSE_CODES } from "./api";
import type { AnyEventEnvelope, HelloMessage, StreamMessage } from "./envelope";

/** The part of the WebSocket interface both browsers and `ws` offer. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface SubscriptionOptions {
  /** the stream URL for a given `since` (token included) */
  url(since: number): string;
  createSocket(url: string): SocketLike;
  onEvent(event: AnyEventEnvelope): void;
  onHello?(hello: HelloMessage): void;
  /** told of every reconnect, with the close code that caused it */
  onReconnect?(info: { attempt: number; code: number; reason: string; since: number }): void;
  /** the first seq already held (0 for a fresh client) */
  since?: number;
  /** delay before reconnect attempt n (default: 0 for a slow-consumer close, else 250 ms doubling to 5 s) */
  backoffMs?(attempt: number, code: number): number;
  maxAttempts?: number;
  onGiveUp?(info: { code: number; reason: string }): void;
}

export interface Subscription {
  readonly lastSeq: number;
  close(): void;
}

export function subscribe(options: SubscriptionOptions): Subscription {
  let lastSeq = options.since ?? 0;
  let socket: SocketLike | null = null;
  let attempt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const backoff = options.backoffMs ?? ((n: number, code: number) => (code === CLOSE_CODES.SLOW_CONSUMER ? 0 : Math.min(5000, 250 * 2 ** (n - 1))));
  const maxAttempts = options.maxAttempts ?? Infinity;

  const connect = () => {
    if (stopped) return;
    const s = options.createSocket(options.url(lastSeq));
    socket = s;
    s.onmessage = (ev) => {
      const msg = JSON.parse(typeof ev.data === "string" ? ev.data : String(ev.data)) as StreamMessage;
      if (msg.type === "HELLO") {
        attempt = 0;
        options.onHello?.(msg);
        return;
      }
      if (msg.seq <= lastSeq) return; // already seen
      if (msg.seq !== lastSeq + 1) {
        s.close(CLOSE_CODES.NORMAL, "gap"); // reconnect from what we hold
        return;
      }
      lastSeq = msg.seq;
      options.onEvent(msg);
    };
    s.onerror = () => undefined;
    s.onclose = (ev) => {
      if (socket !== s) return;
      socket = null;
      if (stopped) return;
      attempt++;
      if (attempt > maxAttempts) {
        options.onGiveUp?.({ code: ev.code, reason: ev.reason });
        return;
      }
      options.onReconnect?.({ attempt, code: ev.code, reason: ev.reason, since: lastSeq });
      timer = setTimeout(connect, backoff(attempt, ev.code));
    };
  };
  connect();

  return {
    get lastSeq() {
      return lastSeq;
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close(CLOSE_CODES.NORMAL, "client closed");
      socket = null;
    },
  };
}
