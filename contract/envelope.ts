/**
 * The wire envelope of 003_…: every event a project produces travels in one of these,
 * on the WebSocket and in `events.jsonl` alike.
 */
import { z } from "zod";
import { EVENT_SCHEMAS, isEventName, type EventName, type EventPayload } from "./events";
import { STAGE_IDS, STAGE_STATUSES, type StageId, type StageStatus } from "./stages";

export const ENVELOPE_VERSION = 1;

export interface StageRef {
  id: StageId;
  index: number;
  status: StageStatus;
}

export interface EventEnvelope<N extends EventName = EventName> {
  v: typeof ENVELOPE_VERSION;
  type: "EVENT";
  project_id: string;
  /** per project: starts at 1, rises by one, no gaps */
  seq: number;
  /** seconds since the epoch, with millisecond precision */
  ts: number;
  stage: StageRef;
  event: { name: N; payload: EventPayload<N> };
}

/** Any envelope, narrowed by `event.name`. */
export type AnyEventEnvelope = { [N in EventName]: EventEnvelope<N> }[EventName];

/**
 * Sent once per WebSocket connection before any event: where the replay starts and
 * where the log ends now. It carries no `seq` because it is not part of the log.
 */
export interface HelloMessage {
  v: typeof ENVELOPE_VERSION;
  type: "HELLO";
  project_id: string;
  ts: number;
  /** the client's `since`: events with seq > since follow */
  since: number;
  /** the newest seq in the log when the connection opened */
  last_seq: number;
}

export type StreamMessage = AnyEventEnvelope | HelloMessage;

const envelopeShape = z.strictObject({
  v: z.literal(ENVELOPE_VERSION),
  type: z.literal("EVENT"),
  project_id: z.string().min(1),
  seq: z.number().int().min(1),
  ts: z.number().positive(),
  stage: z.strictObject({
    id: z.enum(STAGE_IDS),
    index: z
      .number()
      .int()
      .min(0)
      .max(STAGE_IDS.length - 1),
    status: z.enum(STAGE_STATUSES),
  }),
  event: z.strictObject({ name: z.string(), payload: z.unknown() }),
});

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: string };

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}

/** Checks a payload against its event's schema. */
export function validatePayload<N extends EventName>(name: N, payload: unknown): ValidationResult<EventPayload<N>> {
  const result = EVENT_SCHEMAS[name].safeParse(payload);
  if (result.success) return { ok: true, value: result.data as EventPayload<N> };
  return { ok: false, error: `${name} payload invalid: ${describe(result.error)}` };
}

/** Checks a whole envelope: its shape, its stage index, its event name and payload. */
export function validateEnvelope(value: unknown): ValidationResult<AnyEventEnvelope> {
  const shape = envelopeShape.safeParse(value);
  if (!shape.success) return { ok: false, error: `envelope invalid: ${describe(shape.error)}` };
  const env = shape.data;
  if (STAGE_IDS[env.stage.index] !== env.stage.id) {
    return { ok: false, error: `envelope invalid: stage.index ${env.stage.index} does not match stage.id ${env.stage.id}` };
  }
  if (!isEventName(env.event.name)) return { ok: false, error: `unknown event name ${JSON.stringify(env.event.name)}` };
  const payload = validatePayload(env.event.name, env.event.payload);
  if (!payload.ok) return payload;
  return { ok: true, value: env as AnyEventEnvelope };
}

export function isHello(message: StreamMessage): message is HelloMessage {
  return message.type === "HELLO";
}
