/**
 * A project's state is a fold over its events. The conductor answers GET /state with it and
 * panels rebuild it from the stream, so both always agree.
 */
import type { AnyEventEnvelope } from "./envelope";
import { EV, type AgentSource, type EventPayload, type FinalMetrics, type MetricValue, type NextAction, type TaskType } from "./events";
import { isPlanStage, parsePlan, type PlanOf } from "./plans";
import { STAGE_IDS, wasInterrupted, type StageId, type StageStatus } from "./stages";

export interface StageSnapshot {
  status: StageStatus;
  message: string;
  /** its results come from its notebook cell as the person edited it (until the stage runs again otherwise) */
  edited_cell?: boolean;
}

export interface RunSnapshot {
  run_id: string;
  model_id: string;
  metric_primary: string;
  status: "running" | "success" | "failed" | "cancelled";
  step: number;
  steps: number;
  simulated: boolean;
  final_metrics: FinalMetrics | null;
  reason: string | null;
}

/** A stage's newest plan: as sent (JSON), and as its schema reads it. */
export interface PlanEntry<P> {
  plan_json: Record<string, unknown>;
  /** the plan parsed once, by the reducer; null when it does not fit its stage's schema */
  plan: P | null;
  approved: boolean;
  /** approved with changes made by the person */
  edited: boolean;
}

export interface ProjectSnapshot {
  project_id: string;
  last_seq: number;
  /** the stage that is running, waiting or failed, or the last one that completed */
  current_stage: StageId;
  stages: Record<StageId, StageSnapshot>;
  waiting: { stage_id: StageId; summary: string; next_actions: NextAction[] } | null;
  intent: EventPayload<"PROMPT_PARSED"> | null;
  dataset_candidates: EventPayload<"DATASET_CANDIDATES">["datasets"];
  dataset_id: string | null;
  /** the selected dataset's file in the project folder, once it is there */
  dataset_file: string | null;
  /** the source's revision of the selected dataset (the Hub's commit, Kaggle's version), when it has one */
  dataset_revision: string | null;
  sample: EventPayload<"DATASET_SAMPLE_READY"> | null;
  profile: EventPayload<"PROFILE_SUMMARY"> | null;
  split: EventPayload<"SPLIT_SUMMARY"> | null;
  preprocess_steps: EventPayload<"PREPROCESS_PLAN">["steps"];
  /** the newest plan per stage, and whether it was approved */
  plans: { [S in StageId]?: PlanEntry<PlanOf<S>> };
  model_candidates: EventPayload<"MODEL_CANDIDATES">["models"];
  /** who made each agent's latest decision: the language model or the rules */
  decided_by: Partial<Record<"intent" | "datasets" | "preprocess" | "models" | "report", AgentSource>>;
  selected_models: string[];
  runs: Record<string, RunSnapshot>;
  leaderboard: EventPayload<"LEADERBOARD_UPDATED">["rows"];
  best: { run_id: string; model_id: string; metric: MetricValue } | null;
  artifacts: Array<EventPayload<"ARTIFACT_ADDED">["artifact"]>;
  assets: Partial<Record<"missingness" | "target_distribution" | "notebook" | "report", string>>;
  files: EventPayload<"FILE_TREE_UPDATE">["files"];
  suggestions: EventPayload<"EDIT_SUGGESTIONS">["suggestions"];
  export: { pct: number; message: string; ready: EventPayload<"EXPORT_READY"> | null };
  task_type: TaskType | null;
}

export function emptySnapshot(projectId: string): ProjectSnapshot {
  const stages = Object.fromEntries(STAGE_IDS.map((id) => [id, { status: "pending", message: "" }])) as Record<StageId, StageSnapshot>;
  return {
    project_id: projectId,
    last_seq: 0,
    current_stage: STAGE_IDS[0],
    stages,
    waiting: null,
    intent: null,
    dataset_candidates: [],
    dataset_id: null,
    dataset_file: null,
    dataset_revision: null,
    sample: null,
    profile: null,
    split: null,
    preprocess_steps: [],
    plans: {},
    model_candidates: [],
    decided_by: {},
    selected_models: [],
    runs: {},
    leaderboard: [],
    best: null,
    artifacts: [],
    assets: {},
    files: [],
    suggestions: [],
    export: { pct: 0, message: "", ready: null },
    task_type: null,
  };
}

/** Applies one event. Mutates and returns `s` so that a replay of 100,000 events stays cheap. */
export function applyEvent(s: ProjectSnapshot, env: AnyEventEnvelope): ProjectSnapshot {
  s.last_seq = env.seq;
  switch (env.event.name) {
    case EV.STAGE_STATUS: {
      const p = env.event.payload;
      // an edited cell's results stand while they are only stale; any other run replaces them
      const edited = p.edited_cell ?? (p.status === "stale" && s.stages[p.stage_id].edited_cell === true);
      s.stages[p.stage_id] = edited ? { status: p.status, message: p.message, edited_cell: true } : { status: p.status, message: p.message };
      if (p.status !== "pending" && p.status !== "stale") s.current_stage = p.stage_id;
      if (s.waiting && s.waiting.stage_id === p.stage_id && p.status !== "waiting") s.waiting = null;
      break;
    }
    case EV.WAITING_CONFIRMATION:
      s.waiting = { ...env.event.payload };
      break;
    case EV.PLAN_PROPOSED:
      setPlan(s, env.event.payload.stage_id, env.event.payload.plan_json, false, false);
      break;
    case EV.PLAN_APPROVED: {
      const p = env.event.payload;
      const prior = s.plans[p.stage_id];
      const edited = p.plan_json !== undefined && JSON.stringify(p.plan_json) !== JSON.stringify(prior?.plan_json);
      setPlan(s, p.stage_id, p.plan_json ?? prior?.plan_json ?? {}, true, edited);
      break;
    }
    case EV.PROMPT_PARSED:
      s.intent = env.event.payload;
      s.task_type = env.event.payload.task_type;
      s.decided_by = { ...s.decided_by, intent: env.event.payload.source ?? (env.event.payload.parser?.startsWith("llm") ? "llm" : "rules") };
      break;
    case EV.DATASET_CANDIDATES:
      s.dataset_candidates = env.event.payload.datasets;
      s.decided_by = { ...s.decided_by, datasets: env.event.payload.source ?? "rules" };
      break;
    case EV.DATASET_SELECTED:
      s.dataset_id = env.event.payload.dataset_id;
      s.dataset_file = env.event.payload.file ?? null;
      s.dataset_revision = env.event.payload.revision ?? null;
      break;
    case EV.DATASET_SAMPLE_READY:
      s.sample = env.event.payload;
      break;
    case EV.PROFILE_SUMMARY:
      s.profile = env.event.payload;
      break;
    case EV.MISSINGNESS_TABLE_READY:
      s.assets.missingness = env.event.payload.asset_url;
      break;
    case EV.TARGET_DISTRIBUTION_READY:
      s.assets.target_distribution = env.event.payload.asset_url;
      break;
    case EV.SPLIT_SUMMARY:
      s.split = env.event.payload;
      break;
    case EV.PREPROCESS_PLAN:
      s.preprocess_steps = env.event.payload.steps;
      s.decided_by = { ...s.decided_by, preprocess: env.event.payload.source ?? "rules" };
      break;
    case EV.MODEL_CANDIDATES:
      s.model_candidates = env.event.payload.models;
      s.decided_by = { ...s.decided_by, models: env.event.payload.source ?? "rules" };
      break;
    case EV.MODEL_SELECTED:
      s.selected_models = env.event.payload.model_ids ?? [env.event.payload.model_id];
      break;
    case EV.TRAIN_RUN_STARTED: {
      const p = env.event.payload;
      s.runs[p.run_id] = {
        run_id: p.run_id,
        model_id: p.model_id,
        metric_primary: p.metric_primary,
        status: "running",
        step: 0,
        steps: p.config.train.steps,
        simulated: p.config.train.simulated ?? false,
        final_metrics: null,
        reason: null,
      };
      break;
    }
    case EV.TRAIN_PROGRESS: {
      const run = s.runs[env.event.payload.run_id];
      if (run) {
        run.step = env.event.payload.step;
        run.steps = env.event.payload.steps;
      }
      break;
    }
    case EV.TRAIN_RUN_FINISHED: {
      const p = env.event.payload;
      const run = s.runs[p.run_id];
      if (run) {
        run.status = p.status;
        run.final_metrics = p.final_metrics;
        run.reason = p.reason ?? null;
      }
      break;
    }
    case EV.LEADERBOARD_UPDATED:
      s.leaderboard = env.event.payload.rows;
      break;
    case EV.BEST_MODEL_UPDATED:
      s.best = { ...env.event.payload };
      break;
    case EV.ARTIFACT_ADDED: {
      const artifact = env.event.payload.artifact;
      s.artifacts = [...s.artifacts.filter((a) => a.id !== artifact.id), artifact];
      break;
    }
    case EV.NOTEBOOK_READY:
      s.assets.notebook = env.event.payload.asset_url;
      break;
    case EV.REPORT_READY:
      s.assets.report = env.event.payload.asset_url;
      s.decided_by = { ...s.decided_by, report: env.event.payload.source ?? "rules" };
      break;
    case EV.FILE_TREE_UPDATE:
      s.files = mergeFiles(s.files, env.event.payload.files);
      break;
    case EV.EDIT_SUGGESTIONS:
      s.suggestions = env.event.payload.suggestions;
      break;
    case EV.EXPORT_PROGRESS:
      s.export = { ...s.export, pct: env.event.payload.pct, message: env.event.payload.message };
      break;
    case EV.EXPORT_READY:
      s.export = { pct: 100, message: "ready", ready: env.event.payload };
      break;
    default:
      break;
  }
  return s;
}

function mergeFiles(known: ProjectSnapshot["files"], update: ProjectSnapshot["files"]): ProjectSnapshot["files"] {
  const byPath = new Map(known.map((f) => [f.path, f]));
  for (const f of update) byPath.set(f.path, f);
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

function setPlan(s: ProjectSnapshot, stage: StageId, planJson: Record<string, unknown>, approved: boolean, edited: boolean): void {
  const parsed = isPlanStage(stage) ? parsePlan(stage, planJson) : { ok: true as const, plan: planJson };
  (s.plans as Partial<Record<StageId, PlanEntry<unknown>>>)[stage] = { plan_json: planJson, plan: parsed.ok ? parsed.plan : null, approved, edited };
}

/** The approved plan of PREPROCESS or MODEL_SELECT, typed; null before approval (or when it does not parse). */
export function approvedPlan<S extends "PREPROCESS" | "MODEL_SELECT">(s: ProjectSnapshot, stage: S): PlanOf<S> | null {
  const entry = s.plans[stage] as PlanEntry<PlanOf<S>> | undefined;
  return entry?.approved ? entry.plan : null;
}

export function snapshotFromEvents(projectId: string, events: Iterable<AnyEventEnvelope>): ProjectSnapshot {
  const s = emptySnapshot(projectId);
  for (const e of events) applyEvent(s, e);
  return s;
}

/** A search (a time-budgeted TRAIN) that a stop cut short: it can carry on instead of starting over. */
export function canResumeSearch(s: ProjectSnapshot): boolean {
  const budget = s.plans.MODEL_SELECT?.plan?.time_budget_s;
  return wasInterrupted(s.stages.TRAIN) && typeof budget === "number" && budget > 0;
}

/**
 * For leaderboard rows of the same model, the settings that tell them apart ("alpha 0.1"), by
 * run id; a model with one row gets none. Shared by the dashboard and the report.
 */
export function distinguishingSettings(rows: ReadonlyArray<{ model: string; params: Record<string, unknown>; run_id?: string }>): Map<string, string> {
  const out = new Map<string, string>();
  const byModel = new Map<string, (typeof rows)[number][]>();
  for (const r of rows) (byModel.get(r.model) ?? byModel.set(r.model, []).get(r.model)!).push(r);
  for (const group of byModel.values()) {
    if (group.length < 2) continue;
    const keys = [...new Set(group.flatMap((r) => Object.keys(r.params)))]
      .filter((k) => new Set(group.map((r) => JSON.stringify(r.params[k]))).size > 1)
      .sort();
    for (const r of group) {
      if (!r.run_id) continue;
      out.set(
        r.run_id,
        keys.map((k) => `${k} ${typeof r.params[k] === "number" ? Number((r.params[k] as number).toPrecision(3)) : String(r.params[k])}`).join(", "),
      );
    }
  }
  return out;
}
