/**
 * Where the runtime library sends contract events. A stage hands it a sink bound to the
 * project's bus and the stage's id; a notebook cell gets one bound to its project the same way.
 */
import type { EventName, EventPayload, StageId } from "../../contract";
import type { ProjectEventBus } from "./project-event-bus";

export interface EventSink {
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void;
}

export function stageSink(bus: ProjectEventBus, stage: StageId): EventSink {
  return { emit: (name, payload) => void bus.emit(stage, name, payload) };
}
