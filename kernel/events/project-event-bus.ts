/**
 * One project's event stream: numbers each event, checks it against the contract, appends it
 * to `events.jsonl`, then tells subscribers. Emitting never waits for a subscriber, so a
 * slow WebSocket client can never hold up the stage that emits.
 */
import {
  ENVELOPE_VERSION,
  EV,
  STAGE_IDS,
  stageIndex,
  validatePayload,
  type AnyEventEnvelope,
  type EventEnvelope,
  type EventName,
  type EventPayload,
  type StageId,
  type StageStatus,
} from "../../contract";
import { EventLogFile, type LogRecovery } from "./event-log-file";
import type { Logger } from "../logging/logger";

export class ContractViolation extends Error {
  override name = "ContractViolation";
}

export type EventListener = (envelope: AnyEventEnvelope) => void;

export interface EventBusOptions {
  /** refuse invalid events (tests); otherwise they are logged loudly and still sent */
  strictContract: boolean;
  logger: Logger;
}

export class ProjectEventBus {
  private readonly history: AnyEventEnvelope[];
  private readonly listeners = new Set<EventListener>();
  private readonly stageStatus = new Map<StageId, StageStatus>();
  private closed = false;

  private constructor(
    readonly projectId: string,
    private readonly log: EventLogFile,
    history: AnyEventEnvelope[],
    readonly recovery: LogRecovery | null,
    private readonly options: EventBusOptions,
  ) {
    this.history = history;
    for (const id of STAGE_IDS) this.stageStatus.set(id, "pending");
    for (const e of history) if (e.event.name === EV.STAGE_STATUS) this.stageStatus.set(e.event.payload.stage_id, e.event.payload.status);
  }

  static open(projectId: string, logPath: string, options: EventBusOptions): ProjectEventBus {
    const opened = EventLogFile.open(logPath, projectId);
    if (opened.recovery) {
      const r = opened.recovery;
      options.logger.warn(
        `project ${projectId}: event log had a bad line ${r.line} (${r.reason}); kept ${r.keptEvents} events, moved ${r.droppedBytes} bytes to ${r.savedTo}`,
      );
    }
    return new ProjectEventBus(projectId, opened.file, opened.events, opened.recovery, options);
  }

  get lastSeq(): number {
    return this.history.length;
  }

  /** Events with seq > `since`, in order. The array is shared: do not mutate it. */
  eventsSince(since: number): readonly AnyEventEnvelope[] {
    return since <= 0 ? this.history : this.history.slice(since);
  }

  /** At most `limit` events with seq > `since`, in order (a copy). */
  eventsPage(since: number, limit: number): AnyEventEnvelope[] {
    return this.history.slice(Math.max(0, since), Math.max(0, since) + limit);
  }

  eventAt(seq: number): AnyEventEnvelope | undefined {
    return this.history[seq - 1];
  }

  statusOf(stage: StageId): StageStatus {
    return this.stageStatus.get(stage) ?? "pending";
  }

  emit<N extends EventName>(stage: StageId, name: N, payload: EventPayload<N>): EventEnvelope<N> {
    if (this.closed) throw new Error(`event bus for ${this.projectId} is closed`);
    const checked = validatePayload(name, payload);
    if (!checked.ok) {
      if (this.options.strictContract) throw new ContractViolation(checked.error);
      this.options.logger.error(`CONTRACT VIOLATION in project ${this.projectId}: ${checked.error}`);
    }
    if (name === EV.STAGE_STATUS) {
      const p = payload as EventPayload<"STAGE_STATUS">;
      this.stageStatus.set(p.stage_id, p.status);
    }
    const envelope: EventEnvelope<N> = {
      v: ENVELOPE_VERSION,
      type: "EVENT",
      project_id: this.projectId,
      seq: this.history.length + 1,
      ts: Date.now() / 1000,
      stage: { id: stage, index: stageIndex(stage), status: this.statusOf(stage) },
      event: { name, payload },
    };
    const any = envelope as unknown as AnyEventEnvelope;
    this.log.append(any);
    this.history.push(any);
    for (const listener of this.listeners) {
      try {
        listener(any);
      } catch (err) {
        this.options.logger.error(`event listener failed in project ${this.projectId}: ${String(err)}`);
      }
    }
    return envelope;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.log.close();
  }
}
