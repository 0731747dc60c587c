/**
 * Every event of the seeds (000_… the contract, 003_… gradient descent, 004_… live data),
 * as runtime schemas. Field names are the contract's; fields the contract leaves open
 * (`[...]` arrays, `meta`, `config`) get a concrete shape here, and the few added fields
 * are optional and commented.
 */
import { z } from "zod";
import { STAGE_IDS, STAGE_STATUSES } from "./stages";

const stageId = z.enum(STAGE_IDS);
const stageStatus = z.enum(STAGE_STATUSES);
const finite = z.number().refine(Number.isFinite, "must be a finite number");
const nonNegInt = z.number().int().min(0);
const jsonObject = z.record(z.string(), z.unknown());

export const TASK_TYPES = ["regression", "classification", "time_series_forecasting", "image_classification", "text_classification"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const DATA_SPLITS = ["train", "val", "test"] as const;
export const TRAIN_PHASES = ["init", "fit", "eval", "finalize"] as const;
export const RUN_STATUSES = ["success", "failed", "cancelled"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** who made an agent's decision: the language model, or the agent's deterministic rules */
export const AGENT_SOURCES = ["llm", "rules"] as const;
export type AgentSource = (typeof AGENT_SOURCES)[number];
/** added to every event an agent's decision makes */
const agentSource = z.enum(AGENT_SOURCES).optional();

const metricValue = z.strictObject({ name: z.string().min(1), split: z.enum(DATA_SPLITS), value: finite });
export type MetricValue = z.infer<typeof metricValue>;

const fileEntry = z.strictObject({
  path: z.string().min(1),
  type: z.enum(["file", "directory"]),
  size: nonNegInt,
  sha: z.string().nullable(),
});
export type FileEntry = z.infer<typeof fileEntry>;

/** A gate's choice, drawn as a button. `id` is what POST /confirm takes as `action`. */
const nextAction = z.strictObject({
  id: z.string().min(1),
  label: z.string().min(1),
  description: z.string().optional(),
  /** added: the values this action takes (a target column, a task), each with what is known of it */
  choices: z.array(z.strictObject({ value: z.string().min(1), label: z.string().min(1), description: z.string().optional() })).optional(),
});
export type NextAction = z.infer<typeof nextAction>;

/** The operations a preprocessing plan's steps may name. */
export const PREPROCESS_OPS = [
  "drop_rows_missing_target",
  "drop_column",
  "parse_datetime",
  "impute",
  "encode_categorical",
  "scale",
  "add_missing_indicator",
  "select_features",
  /** text tasks: a text column into TF-IDF weights of word and character n-grams */
  "text_tfidf",
  /** image tasks: every image decoded and resized to one size and channel count (params width, height, channels) */
  "image_pixels",
] as const;

export const preprocessStepSchema = z.strictObject({
  id: z.string().min(1),
  op: z.enum(PREPROCESS_OPS),
  columns: z.array(z.string()),
  params: jsonObject,
  why: z.string(),
});
export type PreprocessStep = z.infer<typeof preprocessStepSchema>;

const runConfig = z.strictObject({
  task_type: z.enum(TASK_TYPES),
  target: z.string(),
  split: z.strictObject({ seed: z.number().int(), test_size: finite, val_size: finite.optional() }),
  preprocess: jsonObject,
  train: z
    .strictObject({
      steps: nonNegInt,
      epochs: nonNegInt,
      /** added: true when the steps are paced stand-ins for a one-shot fit (000_… simulation rules) */
      simulated: z.boolean().optional(),
      /** added: milliseconds slept per step so the UI can follow; 0 with --no-pacing */
      pacing_ms: nonNegInt.optional(),
      /**
       * added: an unpaced run sends TRAIN_PROGRESS every step but its scalars (METRIC_SCALAR,
       * GD_DIAGNOSTIC) for at most one step per this many milliseconds, its first and last steps
       * always (000_…: 0..K METRIC_SCALAR per step); absent: every step's scalars
       */
      scalars_every_ms: nonNegInt.optional(),
      /** added: the training rows this run fit on (a search on a sample trains fewer than the split holds) */
      rows: nonNegInt.optional(),
    })
    .catchall(z.unknown()),
  params: jsonObject.optional(),
});

const finalMetrics = z.strictObject({
  task_type: z.enum(TASK_TYPES),
  primary: metricValue,
  metrics: z.array(metricValue),
});
export type FinalMetrics = z.infer<typeof finalMetrics>;

const assetOnly = z.strictObject({
  asset_url: z.string().min(1),
  /** added: the run an artifact belongs to, when it belongs to one */
  run_id: z.string().optional(),
});

const point2 = z.strictObject({ x: finite, y: finite });

export const EVENT_SCHEMAS = {
  // ---- global ----
  STAGE_STATUS: z.strictObject({
    stage_id: stageId,
    status: stageStatus,
    message: z.string(),
    /** added: completed by running its notebook cell as the person edited it (not as the stage wrote it) */
    edited_cell: z.boolean().optional(),
  }),
  WAITING_CONFIRMATION: z.strictObject({
    stage_id: stageId,
    summary: z.string(),
    next_actions: z.array(nextAction).min(1),
  }),
  PLAN_PROPOSED: z.strictObject({ stage_id: stageId, plan_json: jsonObject }),
  PLAN_APPROVED: z.strictObject({
    stage_id: stageId,
    /** added: the approved plan when the person edited it before approving */
    plan_json: jsonObject.optional(),
  }),
  FILE_TREE_UPDATE: z.strictObject({ files: z.array(fileEntry) }),
  ARTIFACT_ADDED: z.strictObject({
    artifact: z.strictObject({
      id: z.string().min(1),
      type: z.string().min(1),
      name: z.string().min(1),
      url: z.string().min(1),
      meta: jsonObject,
    }),
  }),

  // ---- stage 1: data collection / model choice ----
  PROMPT_PARSED: z.strictObject({
    task_type: z.enum(TASK_TYPES),
    target: z.string().nullable(),
    dataset_hint: z.string().nullable(),
    constraints: jsonObject,
    /** added: which parser produced this (old logs; `source` since) */
    parser: z.string().optional(),
    /** added: who decided: the language model or the rules */
    source: agentSource,
    /** added: the request as it was read (it changes when the person rewords it) */
    prompt: z.string().optional(),
  }),
  DATASET_CANDIDATES: z.strictObject({
    datasets: z.array(
      z.strictObject({
        id: z.string().min(1),
        name: z.string().min(1),
        source: z.string().min(1),
        desc: z.string(),
        meta: jsonObject,
      }),
    ),
    /** added: who ordered the candidates */
    source: agentSource,
  }),
  DATASET_SELECTED: z.strictObject({
    dataset_id: z.string().min(1),
    /** added: the data file in the project's folder (relative to it) that the pipeline reads */
    file: z.string().optional(),
    /** added: the source's revision of the data (the Hub's commit, Kaggle's version), when it has one */
    revision: z.string().nullable().optional(),
  }),
  MODEL_CANDIDATES: z.strictObject({
    models: z.array(
      z.strictObject({
        id: z.string().min(1),
        name: z.string().min(1),
        family: z.string().min(1),
        why: z.string(),
        requirements: jsonObject,
      }),
    ),
    /** added: who chose the candidates */
    source: agentSource,
  }),
  MODEL_SELECTED: z.strictObject({
    model_id: z.string().min(1),
    /** added: every model the approved plan trains, in order (model_id is the first) */
    model_ids: z.array(z.string()).optional(),
  }),
  DATASET_SAMPLE_READY: z.strictObject({
    asset_url: z.string().min(1),
    columns: z.array(z.string()),
    n_rows: nonNegInt,
    /** 004_…: the first rows, for a preview table */
    sample_rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))).optional(),
    /** 004_…: sample image URLs for image datasets */
    images: z.array(z.string()).optional(),
    /** added: each sample image's class, in the order of `images` */
    image_labels: z.array(z.string()).optional(),
  }),

  // ---- stage 2: profiling / preprocessing ----
  PROFILE_PROGRESS: z.strictObject({ phase: z.string().min(1), pct: z.number().min(0).max(100) }),
  PROFILE_SUMMARY: z.strictObject({
    n_rows: nonNegInt,
    n_cols: nonNegInt,
    missing_pct: z.number().min(0).max(100),
    types_breakdown: z.record(z.string(), nonNegInt),
    warnings: z.array(z.string()),
    /** added: how the data file was read (format, delimiter, encoding) where that was found, not guessed; guesses (an encoding, decimal commas, day-first dates) are in warnings */
    read_as: z.array(z.string()).optional(),
  }),
  MISSINGNESS_TABLE_READY: assetOnly,
  TARGET_DISTRIBUTION_READY: assetOnly,
  SPLIT_SUMMARY: z.strictObject({
    train_rows: nonNegInt,
    val_rows: nonNegInt,
    test_rows: nonNegInt,
    stratified: z.boolean(),
    seed: z.number().int(),
    /**
     * added: how the rows were split: at random (seeded), or by time (a series' last steps are its test window, never
     * shuffled). By time, train_rows counts the points before the test windows (the final fit's), val_rows the points the
     * backtests forecast, which lie among them: the three do not add up to the rows
     */
    kind: z.enum(["random", "time_ordered"]).optional(),
    /** added, time-ordered splits: the steps forecast from each cut-off */
    horizon: nonNegInt.optional(),
    /** added, time-ordered splits: the backtests' cut-offs (each the first forecast time), oldest first, and where the test window starts (ISO 8601) */
    cutoffs: z.array(z.string()).optional(),
    test_from: z.string().optional(),
  }),
  PREPROCESS_PLAN: z.strictObject({
    steps: z.array(preprocessStepSchema),
    /** added: who planned the steps */
    source: agentSource,
  }),

  // ---- stage 3: training ----
  TRAIN_RUN_STARTED: z.strictObject({
    run_id: z.string().min(1),
    model_id: z.string().min(1),
    metric_primary: z.string().min(1),
    config: runConfig,
  }),
  TRAIN_PROGRESS: z.strictObject({
    run_id: z.string().min(1),
    epoch: nonNegInt,
    epochs: nonNegInt,
    step: nonNegInt,
    steps: nonNegInt,
    eta_s: z.number().min(0).nullable(),
    phase: z.enum(TRAIN_PHASES),
    /** added: true when this step is a paced stand-in, not a real optimisation step */
    simulated: z.boolean().optional(),
  }),
  METRIC_SCALAR: z.strictObject({
    run_id: z.string().min(1),
    name: z.string().min(1),
    split: z.enum(DATA_SPLITS),
    step: nonNegInt,
    value: finite,
    /** added: true for the synthetic mid-run curve the simulation rules allow */
    simulated: z.boolean().optional(),
  }),
  LEADERBOARD_UPDATED: z.strictObject({
    rows: z.array(
      z.strictObject({
        model: z.string().min(1),
        params: jsonObject,
        /** the validation score the ranking uses; null for a failed or cancelled run */
        metric: metricValue.nullable(),
        runtime_s: z.number().min(0),
        /** added */
        run_id: z.string().optional(),
        /** added */
        status: z.enum(RUN_STATUSES).optional(),
        /** added: the held-out test score of the same run (kept for audit; panels show it for the chosen model only) */
        test_metric: metricValue.nullable().optional(),
        /** added: which validation `metric` is: the validation split, k-fold cross-validation over train + validation rows, or a forecast's rolling-origin backtests */
        validation: z.enum(["split", "5-fold", "backtest"]).optional(),
        /** added: the model's prediction time per row, in microseconds, measured on the test rows */
        predict_us_per_row: z.number().min(0).optional(),
        /** added: the training rows the run fit on (a search on a big table fits its trials on a sample of them) */
        train_rows: nonNegInt.optional(),
      }),
    ),
  }),
  BEST_MODEL_UPDATED: z.strictObject({ run_id: z.string().min(1), model_id: z.string().min(1), metric: metricValue }),
  CONFUSION_MATRIX_READY: assetOnly,
  ROC_CURVE_READY: assetOnly,
  RESIDUALS_PLOT_READY: assetOnly,
  FEATURE_IMPORTANCE_READY: assetOnly,
  RESOURCE_STATS: z.strictObject({
    run_id: z.string().min(1),
    cpu_pct: z.number().min(0),
    ram_mb: z.number().min(0),
    gpu_pct: z.number().min(0).nullable(),
    vram_mb: z.number().min(0).nullable(),
    step_per_sec: z.number().min(0),
  }),
  LOG_LINE: z.strictObject({ run_id: z.string().nullable(), level: z.enum(LOG_LEVELS), text: z.string() }),
  TRAIN_RUN_FINISHED: z.strictObject({
    run_id: z.string().min(1),
    status: z.enum(RUN_STATUSES),
    final_metrics: finalMetrics.nullable(),
    /** added: why a run failed or was cancelled */
    reason: z.string().optional(),
  }),

  // ---- stage 3: gradient descent view (003_…) ----
  GD_DIAGNOSTIC: z.strictObject({
    run_id: z.string().min(1),
    step: nonNegInt,
    diagnostics: z.strictObject({ lr: finite, weight_l2: finite, grad_l2: finite, update_l2: finite, batch_size: nonNegInt }).partial(),
  }),
  LOSS_SURFACE_SPEC_READY: z.strictObject({
    run_id: z.string().min(1),
    surface_spec: z.strictObject({
      kind: z.enum(["fixed_example", "bowl", "multi_hill", "ripples"]),
      params: jsonObject,
      domainHalf: finite,
      zScale: finite,
    }),
    /** added: a parametric surface is a picture, not this model's loss */
    illustrative: z.boolean().optional(),
  }),
  LOSS_SURFACE_GRID_READY: z.strictObject({
    run_id: z.string().min(1),
    asset_url: z.string().min(1),
    grid_format: z.literal("float32"),
    resolution: z.number().int().min(2),
    domainHalf: finite,
    zScale: finite,
  }),
  GD_PATH_STARTED: z.strictObject({
    run_id: z.string().min(1),
    space: z.literal("normalized"),
    domainHalf: finite,
    point0: point2,
  }),
  GD_PATH_UPDATE: z.strictObject({
    run_id: z.string().min(1),
    space: z.literal("normalized"),
    step_start: nonNegInt,
    points: z.array(point2).min(1),
  }),
  GD_PATH_FINISHED: z.strictObject({
    run_id: z.string().min(1),
    final_step: nonNegInt,
    reason: z.enum(["converged", "max_steps", "cancelled", "error"]),
  }),
  GD_HYPERPARAMS: z.strictObject({
    run_id: z.string().min(1),
    eta: finite,
    steps: nonNegInt,
    tolGrad: finite,
    tolStep: finite,
  }),

  // ---- stage 4: review / edit ----
  REPORT_READY: z.strictObject({
    asset_url: z.string().min(1),
    /** added: the same report as HTML */
    html_url: z.string().min(1).optional(),
    /** added: who wrote its narrative (the summary and the limitations); its numbers come from the events either way */
    source: agentSource,
  }),
  NOTEBOOK_READY: assetOnly,
  CODE_WORKSPACE_READY: z.strictObject({ files: z.array(fileEntry) }),
  EDIT_SUGGESTIONS: z.strictObject({
    suggestions: z.array(
      z.strictObject({
        id: z.string().min(1),
        stage_id: stageId,
        title: z.string().min(1),
        detail: z.string(),
        /**
         * added: the stage's code cell as generated and with the edit made; applying the
         * suggestion puts `after` in place of `before` and runs the cell
         */
        cell_edit: z.strictObject({ before: z.string(), after: z.string() }).optional(),
        /** added: who suggested it */
        source: agentSource,
      }),
    ),
  }),

  // ---- stage 5: export ----
  EXPORT_PROGRESS: z.strictObject({ pct: z.number().min(0).max(100), message: z.string() }),
  EXPORT_READY: z.strictObject({
    asset_url: z.string().min(1),
    contents: z.array(z.strictObject({ path: z.string().min(1), size: nonNegInt, sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
    /** "sha256:<hex>" of the zip file */
    checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  }),
} as const;

export type EventName = keyof typeof EVENT_SCHEMAS;
export type EventPayloads = { [N in EventName]: z.infer<(typeof EVENT_SCHEMAS)[N]> };
export type EventPayload<N extends EventName> = EventPayloads[N];

export const EVENT_NAMES = Object.keys(EVENT_SCHEMAS) as EventName[];

/** The names as constants, so code never spells an event name as a bare string. */
export const EV = Object.fromEntries(EVENT_NAMES.map((n) => [n, n])) as { readonly [N in EventName]: N };

export function isEventName(value: unknown): value is EventName {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(EVENT_SCHEMAS, value);
}
