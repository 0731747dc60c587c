/**
 * One WebSocket subscriber of a project's events. It keeps only a cursor into the project's
 * log (the log is the buffer), sends HELLO, then everything after `since`, then live events,
 * and never lets more than `highWaterBytes` wait in its socket. A client whose socket stays
 * full while more than `maxBacklog` live events pile up is closed with SLOW_CONSUMER; it
 * reconnects with `since` = its last seq and misses nothing. Emitting never waits on it.
 */
import type { WebSocket } from "ws";
import { CLOSE_CODES, ENVELOPE_VERSION, type AnyEventEnvelope, type HelloMessage } from "../../contract";
import type { ProjectEventBus } from "../events/project-event-bus";

export interface StreamLimits {
  highWaterBytes: number;
  maxBacklog: number;
  /** how long a closing slow client may take to read its close frame */
  closeTimeoutMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { highWaterBytes: 1 << 20, maxBacklog: 5000, closeTimeoutMs: 10_000 };

/** Each envelope is serialised once, whatever the number of clients. */
const serialised = new WeakMap<AnyEventEnvelope, string>();
function wire(e: AnyEventEnvelope): string {
  let s = serialised.get(e);
  if (s === undefined) serialised.set(e, (s = JSON.stringify(e)));
  return s;
}

export class EventStreamClient {
  private cursor: number;
  private readonly liveFrom: number;
  private pumping = false;
  private closed = false;
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly bus: ProjectEventBus,
    since: number,
    private readonly limits: StreamLimits,
    private readonly onClose: () => void,
  ) {
    this.cursor = Math.min(since, bus.lastSeq);
    this.liveFrom = bus.lastSeq;
  }

  start(): void {
    const hello: HelloMessage = {
      v: ENVELOPE_VERSION,
      type: "HELLO",
      project_id: this.bus.projectId,
      ts: Date.now() / 1000,
      since: this.cursor,
      last_seq: this.bus.lastSeq,
    };
    this.ws.send(JSON.stringify(hello));
    this.unsubscribe = this.bus.subscribe(() => this.schedule());
    this.ws.on("close", () => this.stop());
    this.ws.on("error", () => this.stop());
    this.schedule();
  }

  /** Sends from the cursor while the socket has room. */
  private schedule(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    setImmediate(() => {
      this.pumping = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    while (this.cursor < this.bus.lastSeq) {
      if (this.ws.bufferedAmount >= this.limits.highWaterBytes) {
        if (this.bus.lastSeq - Math.max(this.cursor, this.liveFrom) > this.limits.maxBacklog) this.closeSlow();
        return; // a send callback resumes the pump once the socket drains
      }
      const event = this.bus.eventAt(++this.cursor)!;
      this.ws.send(wire(event), () => this.schedule());
    }
  }

  private closeSlow(): void {
    const reason = `slow consumer: reconnect with since=${this.cursor}`;
    this.stop();
    this.ws.close(CLOSE_CODES.SLOW_CONSUMER, reason);
    setTimeout(() => this.ws.terminate(), this.limits.closeTimeoutMs).unref();
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.onClose();
  }

  /** For shutdown. */
  close(code: number, reason: string): void {
    this.stop();
    this.ws.close(code, reason);
  }
}
