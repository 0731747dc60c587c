/**
 * The export zip: the notebook, the report, the best model with its preprocessing, the
 * metrics, the event log and the data the license allows to travel, with a sha256 per file
 * and for the zip itself.
 */
import { zipSync } from "fflate";
import { EV, type EventPayload } from "../../contract";
import { sha256, type AssetStore } from "../assets/asset-store";
import type { EventSink } from "../events/event-sink";

export interface ExportEntry {
  /** path inside the zip */
  path: string;
  /** path inside the project folder */
  source: string;
}

export function exportProjectZip(
  assets: AssetStore,
  events: EventSink,
  entries: ExportEntry[],
  extra: Record<string, string>,
  zipRelPath: string,
): EventPayload<"EXPORT_READY"> {
  const files: Record<string, Uint8Array> = {};
  const contents: EventPayload<"EXPORT_READY">["contents"] = [];
  const total = entries.length + Object.keys(extra).length;
  let done = 0;
  const add = (zipPath: string, bytes: Uint8Array) => {
    files[zipPath] = bytes;
    contents.push({ path: zipPath, size: bytes.length, sha256: sha256(bytes) });
    done++;
    events.emit(EV.EXPORT_PROGRESS, { pct: Math.round((90 * done) / total), message: `added ${zipPath}` });
  };
  events.emit(EV.EXPORT_PROGRESS, { pct: 0, message: `collecting ${total} files` });
  for (const e of entries) add(e.path, new Uint8Array(assets.read(e.source)));
  for (const [zipPath, text] of Object.entries(extra)) add(zipPath, new TextEncoder().encode(text));
  // a fixed timestamp keeps the zip byte-identical for identical contents
  const zipped = zipSync(
    Object.fromEntries(Object.entries(files).map(([p, b]) => [p, [b, { mtime: new Date("2020-01-01T00:00:00Z") }]])),
    { level: 6 },
  );
  events.emit(EV.EXPORT_PROGRESS, { pct: 95, message: "compressed" });
  const written = assets.write(zipRelPath, zipped);
  const ready = { asset_url: written.url, contents, checksum: `sha256:${written.sha256}` };
  events.emit(EV.EXPORT_PROGRESS, { pct: 100, message: `wrote ${zipRelPath}` });
  events.emit(EV.EXPORT_READY, ready);
  return ready;
}
