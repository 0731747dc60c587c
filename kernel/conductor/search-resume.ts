/**
 * What an interrupted search had done when it was cut short: the runs it finished (their
 * models are saved, so they stay candidates), the best of them, and how much of its budget it
 * had spent. Read from the event log, the one record that survives the stop: the pass is
 * everything after TRAIN's last "running" status.
 */
import { EV, type AnyEventEnvelope, type EventPayload } from "../../contract";
import type { SearchSoFar } from "../stages/stage";

type Row = EventPayload<"LEADERBOARD_UPDATED">["rows"][number];

export function searchSoFar(events: readonly AnyEventEnvelope[]): SearchSoFar {
  let start = -1;
  events.forEach((e, i) => {
    if (e.event.name === EV.STAGE_STATUS && e.event.payload.stage_id === "TRAIN" && e.event.payload.status === "running") start = i;
  });
  const pass = start >= 0 ? events.slice(start) : [];
  const finished = new Set<string>();
  let rows: Row[] = [];
  let best: SearchSoFar["best"] = null;
  let lastTs = pass[0]?.ts ?? 0;
  for (const e of pass.slice(1)) {
    // what the restart wrote about the cut-off run and the stage is not time the search spent
    const fromRecovery = (e.event.name === EV.TRAIN_RUN_FINISHED && e.event.payload.reason?.startsWith("interrupted")) || e.event.name === EV.STAGE_STATUS;
    if (!fromRecovery) lastTs = e.ts;
    if (e.event.name === EV.TRAIN_RUN_FINISHED && e.event.payload.status === "success") finished.add(e.event.payload.run_id);
    if (e.event.name === EV.LEADERBOARD_UPDATED) rows = e.event.payload.rows;
    if (e.event.name === EV.BEST_MODEL_UPDATED) best = e.event.payload;
  }
  const kept = rows.filter((r) => r.run_id && finished.has(r.run_id) && r.status === "success");
  return {
    leaderboard: kept,
    best: best && finished.has(best.run_id) ? best : null,
    elapsedSeconds: Math.max(0, lastTs - (pass[0]?.ts ?? lastTs)), // envelope times are in seconds
  };
}
