/**
 * Messages between the extension and its webview panels. The extension relays the project's
 * stream and fetches assets, so a panel never holds the conductor's token or address.
 */
import type { StageId } from "./stages";
import type { AnyEventEnvelope } from "./envelope";
import type { TaskType } from "./events";

/** "stopped": the conductor was stopped on purpose (Stop Conductor); nothing reconnects until it starts again */
export type PanelConnection = "connected" | "reconnecting" | "stopped";

export type HostToPanel =
  | { type: "init"; projectId: string; prompt: string; name: string }
  /** `replay` is the history a panel gets when it opens; later batches are live */
  | { type: "events"; events: AnyEventEnvelope[]; replay: boolean }
  | { type: "connection"; state: PanelConnection }
  | { type: "asset"; url: string; json: unknown }
  | { type: "assetError"; url: string; error: string }
  | { type: "actionResult"; action: string; ok: boolean; error?: string };

export type PanelToHost =
  | { type: "ready" }
  | {
      type: "confirm";
      stage_id: StageId;
      action: string;
      plan_json?: Record<string, unknown>;
      target?: string;
      task_type?: TaskType;
      prompt?: string;
      dataset_id?: string;
    }
  | { type: "fetchAsset"; url: string }
  | { type: "openNotebook" }
  | { type: "exportZip" }
  /** run the failed stage again; `resume`: an interrupted search carries on instead */
  | { type: "retry"; resume?: boolean }
  /** bring the stale stages up to date, in order */
  | { type: "rerunStale" }
  /** pick a data file on this machine and make it the project's data */
  | { type: "upload" }
  /** read the request again (a failed PARSE_INTENT or DATA_SOURCE has no gate to answer) */
  | { type: "reparse"; prompt?: string; target?: string }
  /** put a suggested edit in its stage's notebook cell and run it (the stages after it follow) */
  | { type: "applySuggestion"; id: string }
  /** open the project's report, or show its export zip in the explorer */
  | { type: "openReport" }
  | { type: "revealZip" };
