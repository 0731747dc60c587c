/**
 * The notebook kernel over the conductor's API: execute a cell (outputs stream back as
 * NDJSON, one ExecutionMessage per line), interrupt, restart, complete, inspect, variables.
 * Outputs have nbformat's shapes, so a client can put them into a notebook as they are.
 */
import { z } from "zod";
import { STAGE_IDS } from "./stages";

export const kernelPaths = {
  execute: (id: string) => `/api/projects/${id}/kernel/execute`,
  interrupt: (id: string) => `/api/projects/${id}/kernel/interrupt`,
  restart: (id: string) => `/api/projects/${id}/kernel/restart`,
  complete: (id: string) => `/api/projects/${id}/kernel/complete`,
  inspect: (id: string) => `/api/projects/${id}/kernel/inspect`,
  variables: (id: string) => `/api/projects/${id}/kernel/variables`,
  status: (id: string) => `/api/projects/${id}/kernel`,
  rerunStale: (id: string) => `/api/projects/${id}/rerun-stale`,
} as const;

export const executeRequest = z.strictObject({
  code: z.string(),
  /** the stage the cell belongs to (its metadata.automl.stage_id), when it belongs to one */
  stage_id: z.enum(STAGE_IDS).optional(),
});
export type ExecuteRequest = z.infer<typeof executeRequest>;

export const cursorRequest = z.strictObject({ code: z.string(), cursor: z.number().int().min(0) });
export type CursorRequest = z.infer<typeof cursorRequest>;

export const restartRequest = z.strictObject({
  /** run the notebook's code cells again, in order, in the fresh kernel */
  replay: z.boolean().optional(),
});
export type RestartRequest = z.infer<typeof restartRequest>;

export type MimeBundle = Record<string, unknown>;

export type CellOutput =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "display_data"; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: "execute_result"; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export type ExecutionStatus = "ok" | "error" | "interrupted" | "kernel_died";

export type ExecutionMessage =
  | { type: "output"; output: CellOutput }
  | {
      type: "done";
      status: ExecutionStatus;
      execution_count: number;
      /** stages this run made stale (an edited stage cell ran) */
      stale_stages: string[];
      duration_ms: number;
    };

export interface VariableInfo {
  name: string;
  type: string;
  preview: string;
  /** DataFrames and tables */
  shape?: number[];
  columns?: string[];
}

export interface KernelStatus {
  state: "not_started" | "starting" | "idle" | "busy" | "dead";
  execution_count: number;
  pid: number | null;
  restarts: number;
  /** added: why the conductor stopped the last kernel (idle for too long, or making room under the cap), while none runs */
  stopped_because?: string;
}

/** Most text a cell's streams may send before the rest is cut with a note. */
export const MAX_STREAM_BYTES_PER_CELL = 1024 * 1024;

/** The MIME type of vega-lite charts in cell outputs (rendered by the extension's notebook renderer). */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";
