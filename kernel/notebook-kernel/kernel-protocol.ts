/** Messages between the conductor and a notebook kernel process, over Node's IPC channel. */
import type { CellOutput, EventName, ExecutionStatus, ProjectSnapshot, StageId, VariableInfo } from "../../contract";

export type ToKernel =
  | { type: "execute"; id: string; code: string }
  | { type: "interrupt" }
  | { type: "complete"; id: string; code: string; cursor: number }
  | { type: "inspect"; id: string; code: string; cursor: number }
  | { type: "variables"; id: string }
  | { type: "state"; id: string; snapshot: ProjectSnapshot };

export type KernelEvent = { stage: StageId; name: EventName; payload: unknown };

export type FromKernel =
  | { type: "ready"; startup_ms: number }
  | { type: "output"; id: string; output: CellOutput }
  | { type: "done"; id: string; status: ExecutionStatus; execution_count: number }
  | { type: "events"; items: KernelEvent[] }
  | { type: "state-request"; id: string }
  | { type: "reply"; id: string; result: unknown }
  | { type: "variables"; id: string; variables: VariableInfo[] };

export const KERNEL_ENV = {
  projectId: "AUTOML_PROJECT_ID",
  projectDir: "AUTOML_PROJECT_DIR",
  pacing: "AUTOML_PACING",
} as const;
