/** A training call's leaderboard: its runs ranked by validation score, and the best run announced whenever the leader changes. */
import { EV, type EventPayload, type MetricValue } from "../../contract";
import type { EventSink } from "../events/event-sink";
import { isBetter } from "../ml/metrics";

export type LeaderboardRow = EventPayload<"LEADERBOARD_UPDATED">["rows"][number];
export type BestRun = { run_id: string; model_id: string; metric: MetricValue } | null;

/** Successful runs by validation score (best first), then failed and cancelled runs. */
export function rankRows(rows: LeaderboardRow[]): LeaderboardRow[] {
  return [...rows].sort((a, b) => {
    if (!a.metric || !b.metric) return a.metric ? -1 : b.metric ? 1 : 0;
    if (a.metric.value === b.metric.value) return 0;
    return isBetter(a.metric.name, a.metric.value, b.metric.value) ? -1 : 1;
  });
}

/** Emits the ranked board, and BEST_MODEL_UPDATED when its leader is not `best`; returns the best run now. */
export function announceBoard(rows: LeaderboardRow[], best: BestRun, events: EventSink): BestRun {
  events.emit(EV.LEADERBOARD_UPDATED, { rows });
  const leader = rows[0];
  if (!leader?.metric || !leader.run_id || leader.run_id === best?.run_id) return best;
  const next = { run_id: leader.run_id, model_id: leader.model, metric: leader.metric };
  events.emit(EV.BEST_MODEL_UPDATED, next);
  return next;
}
