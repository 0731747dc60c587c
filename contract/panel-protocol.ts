/**
 * Messages between the extension and its webview panels. The extension relays the project's
 * stream and fetches assets, so a panel never holds the conductor's token or address.
 */
import type { StageId } from "./stages";
import type { AnyEventEnvelope } from "./envelope";

export type HostToPanel =
  | { type: "init"; projectId: string; prompt: string }
  /** `replay` is the history a panel gets when it opens; later batches are live */
  | { type: "events"; events: AnyEventEnvelope[]; replay: boolean }
  | { type: "connection"; state: "connected" | "reconnecting" }
  | { type: "asset"; url: string; json: unknown }
  | { type: "assetError"; url: string; error: string }
  | { type: "actionResult"; action: string; ok: boolean; error?: string };

export type PanelToHost =
  | { type: "ready" }
  | { type: "confirm"; stage_id: StageId; action: string; plan_json?: Record<string, unknown> }
  | { type: "fetchAsset"; url: string }
  | { type: "openNotebook" }
  | { type: "exportZip" };
