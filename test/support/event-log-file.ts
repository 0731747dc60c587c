/** A run's events.jsonl as tests read it: every envelope, and the payloads of one event. */
import * as fs from "node:fs";
import type { AnyEventEnvelope, EventName, EventPayload } from "../../contract";

export function eventsOf(file: string): AnyEventEnvelope[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AnyEventEnvelope);
}

export function payloads<N extends EventName>(events: readonly AnyEventEnvelope[], name: N): Array<EventPayload<N>> {
  return events.filter((e) => e.event.name === name).map((e) => e.event.payload as EventPayload<N>);
}
