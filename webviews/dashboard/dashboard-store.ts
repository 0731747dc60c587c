/**
 * What a dashboard knows: the project snapshot (the contract's fold) plus what the snapshot
 * leaves out because it is long: every metric point of every run, log lines, resource stats,
 * the gradient-descent path and surface. Nothing is truncated; charts downsample for drawing.
 */
import { EV, applyEvent, emptySnapshot, type AnyEventEnvelope, type EventPayload, type ProjectSnapshot } from "../../contract";

export interface MetricPoint {
  step: number;
  value: number;
  /** seconds since the epoch */
  ts: number;
  simulated: boolean;
}

export interface GradientPath {
  domainHalf: number;
  points: Array<{ x: number; y: number }>;
  finished: EventPayload<"GD_PATH_FINISHED"> | null;
}

export class DashboardStore {
  snapshot: ProjectSnapshot;
  /** run → "name/split" → points in arrival order */
  readonly series = new Map<string, Map<string, MetricPoint[]>>();
  readonly runStarted = new Map<string, number>();
  readonly progress = new Map<string, EventPayload<"TRAIN_PROGRESS">>();
  readonly resources = new Map<string, EventPayload<"RESOURCE_STATS">>();
  readonly diagnostics = new Map<string, EventPayload<"GD_DIAGNOSTIC">>();
  readonly logs: Array<{ ts: number; level: string; text: string; run: string | null }> = [];
  readonly surfaces = new Map<string, EventPayload<"LOSS_SURFACE_GRID_READY"> | EventPayload<"LOSS_SURFACE_SPEC_READY">>();
  readonly paths = new Map<string, GradientPath>();
  readonly gdHyper = new Map<string, EventPayload<"GD_HYPERPARAMS">>();
  /** artifact URLs per kind, newest last */
  readonly artifactUrls: Array<{ kind: string; url: string; run: string | null }> = [];
  version = 0;

  constructor(projectId: string) {
    this.snapshot = emptySnapshot(projectId);
  }

  apply(e: AnyEventEnvelope): void {
    if (e.seq <= this.snapshot.last_seq) return; // a replay overlapping what we hold
    if (e.seq !== this.snapshot.last_seq + 1) throw new Error(`event ${e.seq} arrived after ${this.snapshot.last_seq}: the relay lost order`);
    applyEvent(this.snapshot, e);
    this.version++;
    switch (e.event.name) {
      case EV.TRAIN_RUN_STARTED:
        this.runStarted.set(e.event.payload.run_id, e.ts);
        break;
      case EV.METRIC_SCALAR: {
        const p = e.event.payload;
        const byRun = this.series.get(p.run_id) ?? this.series.set(p.run_id, new Map()).get(p.run_id)!;
        const key = `${p.name}/${p.split}`;
        (byRun.get(key) ?? byRun.set(key, []).get(key)!).push({ step: p.step, value: p.value, ts: e.ts, simulated: p.simulated ?? false });
        break;
      }
      case EV.TRAIN_PROGRESS:
        this.progress.set(e.event.payload.run_id, e.event.payload);
        break;
      case EV.RESOURCE_STATS:
        this.resources.set(e.event.payload.run_id, e.event.payload);
        break;
      case EV.GD_DIAGNOSTIC:
        this.diagnostics.set(e.event.payload.run_id, e.event.payload);
        break;
      case EV.LOG_LINE:
        this.logs.push({ ts: e.ts, level: e.event.payload.level, text: e.event.payload.text, run: e.event.payload.run_id });
        break;
      case EV.LOSS_SURFACE_GRID_READY:
      case EV.LOSS_SURFACE_SPEC_READY:
        this.surfaces.set(e.event.payload.run_id, e.event.payload);
        break;
      case EV.GD_PATH_STARTED:
        this.paths.set(e.event.payload.run_id, { domainHalf: e.event.payload.domainHalf, points: [e.event.payload.point0], finished: null });
        break;
      case EV.GD_PATH_UPDATE: {
        const path = this.paths.get(e.event.payload.run_id);
        if (path) path.points.push(...e.event.payload.points);
        break;
      }
      case EV.GD_PATH_FINISHED: {
        const path = this.paths.get(e.event.payload.run_id);
        if (path) path.finished = e.event.payload;
        break;
      }
      case EV.GD_HYPERPARAMS:
        this.gdHyper.set(e.event.payload.run_id, e.event.payload);
        break;
      case EV.ARTIFACT_ADDED: {
        // a classifier's artifacts without a READY event of their own (003_… names none for them)
        const a = e.event.payload.artifact;
        if (["per_class", "misclassified", "top_terms"].includes(a.type))
          this.artifactUrls.push({ kind: a.type, url: a.url, run: typeof a.meta["run_id"] === "string" ? a.meta["run_id"] : null });
        break;
      }
      case EV.CONFUSION_MATRIX_READY:
      case EV.ROC_CURVE_READY:
      case EV.RESIDUALS_PLOT_READY:
      case EV.FEATURE_IMPORTANCE_READY:
        this.artifactUrls.push({ kind: e.event.name, url: e.event.payload.asset_url, run: e.event.payload.run_id ?? null });
        break;
      default:
        break;
    }
  }

  /** Runs in start order, each with its model. */
  runs(): Array<{ runId: string; modelId: string }> {
    return Object.values(this.snapshot.runs).map((r) => ({ runId: r.run_id, modelId: r.model_id }));
  }
}
