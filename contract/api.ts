/**
 * The conductor's HTTP and WebSocket surface: paths, request bodies, close codes and the
 * ready line. The server routes by these and every client builds URLs with them.
 */
import { z } from "zod";
import { TASK_TYPES, type TaskType } from "./events";
import { STAGE_IDS } from "./stages";

export const TOKEN_QUERY_PARAM = "token";
export const SINCE_QUERY_PARAM = "since";
/** GET events answers at most this many per request (`limit`, default and most): a long history is read in pages */
export const LIMIT_QUERY_PARAM = "limit";
export const MAX_EVENTS_PER_PAGE = 10_000;

/** GET /api/projects/{id}/events?since=N&limit=M */
export interface EventsPage<E> {
  /** the events after `since`, at most `limit` of them, in order */
  events: E[];
  /** the project's last seq now: more to read while the last event returned is before it */
  last_seq: number;
}

/** Project ids are also folder names under `.automl/projects/`. */
export const PROJECT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,79}$/;

export const apiPaths = {
  health: () => "/api/health",
  projects: () => "/api/projects",
  state: (id: string) => `/api/projects/${id}/state`,
  events: (id: string) => `/api/projects/${id}/events`,
  confirm: (id: string) => `/api/projects/${id}/confirm`,
  parse: (id: string) => `/api/projects/${id}/parse`,
  upload: (id: string) => `/api/projects/${id}/upload`,
  retry: (id: string) => `/api/projects/${id}/retry`,
  exportZip: (id: string) => `/api/projects/${id}/export`,
  predict: (id: string) => `/api/projects/${id}/predict`,
  predictFile: (id: string) => `/api/projects/${id}/predict-file`,
  asset: (id: string, assetPath: string) => `/api/projects/${id}/assets/${assetPath.split("/").map(encodeURIComponent).join("/")}`,
  stream: (id: string) => `/ws/projects/${id}`,
} as const;

/** The one line the conductor prints on stdout once it listens. */
export const readyLineSchema = z.strictObject({
  port: z.number().int().min(1).max(65535),
  token: z.string().min(32),
  pid: z.number().int().positive(),
  /** `serve --attach` found another conductor holding the workspace: this is its line, and no new process serves */
  attached: z.boolean().optional(),
});
export type ReadyLine = z.infer<typeof readyLineSchema>;

/**
 * WebSocket close codes (4000-4999 is the application range).
 * A client that sees SLOW_CONSUMER reconnects with `since` = the last seq it received.
 */
export const CLOSE_CODES = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  SLOW_CONSUMER: 4008,
  PROJECT_DELETED: 4004,
} as const;

/**
 * The ids of a gate's next_actions. `continue`, `approve` and `edit` are sent to POST /confirm
 * as `action`; `upload` means POST /upload (a gate that needs data cannot be confirmed).
 */
export const GATE_ACTIONS = {
  continue: "continue",
  approve: "approve",
  edit: "edit",
  upload: "upload",
  /** name the target column (`target`); the stages from DATA_SOURCE on run again */
  chooseTarget: "choose_target",
  /** change the task (`task_type`); the stages from DATA_SOURCE on run again */
  setTask: "set_task",
  /** reword the request (`prompt`); the project runs again from PARSE_INTENT */
  editPrompt: "edit_prompt",
  /** take one of the found datasets (`dataset_id`); DATA_SOURCE runs again with it */
  chooseDataset: "choose_dataset",
} as const;

/**
 * A dataset named directly (`--source`, `source` in the API, a gate's choice): where it comes
 * from, then its name there. `bundled:` is the catalog's name in projects made before there
 * were sources.
 */
export const DATASET_SOURCE_PATTERN = /^(hf:[\w.-]+\/[\w.-]+|kaggle:[\w-]+\/[\w.-]+|(catalog|bundled):[\w.-]+|workspace:[^\0]+)$/;
const datasetSource = z
  .string()
  .regex(
    DATASET_SOURCE_PATTERN,
    "source names a dataset as hf:OWNER/NAME (the Hugging Face Hub), kaggle:OWNER/SLUG (Kaggle), catalog:NAME (the bundled catalog) or workspace:PATH (a file in the workspace)",
  );

/**
 * The data files a project takes, by their name's ending (the loader tells the format from the
 * bytes; the name keeps it for people, and for text: .tsv means tabs, .ndjson one record a line).
 */
export const DATA_FILE_EXTENSIONS = [
  "csv",
  "tsv",
  "tab",
  "txt",
  "json",
  "ndjson",
  "jsonl",
  "parquet",
  "arrow",
  "arrows",
  "ipc",
  "feather",
  "xlsx",
  "gz",
  "zip",
] as const;

/** The pipeline's notebook, in the project's folder: the conductor writes it, the extension opens it. */
export const PROJECT_NOTEBOOK_FILE = "notebook.ipynb";

/** model files kept per project by default, and at most (a search can try thousands of settings) */
export const DEFAULT_KEEP_MODELS = 5;
export const MAX_KEEP_MODELS = 1000;

/** A project's request as it is stored (`project.json`) and answered in GET /state. */
export const projectMetaSchema = z.object({
  id: z.string(),
  prompt: z.string(),
  /** a target named by the person; null lets the parser and the data decide */
  target: z.string().nullable(),
  /** the person's data file, copied into the project (relative to its folder) */
  data_file: z.string().nullable(),
  auto: z.boolean(),
  pacing: z.boolean(),
  seed: z.number().int(),
  /** seconds for the model search; null trains each chosen model once */
  time_budget_s: z.number().positive().nullable().default(null),
  /** how many of the leaderboard's best runs keep their model file (the best run's is always kept) */
  keep_models: z.number().int().min(1).default(DEFAULT_KEEP_MODELS),
  /** a task the person chose; null lets the parser and the data decide */
  task_type: z.enum(TASK_TYPES).nullable().default(null),
  /** a dataset the person chose (--source, or at the DATA_SOURCE gate); null lets the finder rank the candidates */
  dataset_source: z.string().nullable().default(null),
  created_at: z.string(),
});
export type ProjectMeta = z.infer<typeof projectMetaSchema>;

/** A request is a sentence or two; data comes as a file. Longer text (a pasted table or token) is refused before any parsing. */
export const PROMPT_MAX_CHARS = 2000;
const promptText = z
  .string()
  .trim()
  .min(1, 'prompt is empty: say what you want to predict, e.g. "predict house prices"')
  .max(
    PROMPT_MAX_CHARS,
    `prompt is longer than ${PROMPT_MAX_CHARS.toLocaleString("en")} characters: say what to predict in a sentence or two, and give the data as a file (--data on the command line, data_path in the API, or an upload in VS Code)`,
  );

export const createProjectRequest = z.strictObject({
  prompt: promptText,
  /** name a target column now instead of letting the parser guess */
  target: z.string().min(1).optional(),
  /** a CSV or JSON-records file on the conductor's machine; it is copied into the project */
  data_path: z.string().min(1).optional(),
  /** a dataset to take instead of searching: hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME, workspace:PATH */
  source: datasetSource.optional(),
  /** confirm every gate automatically */
  auto: z.boolean().optional(),
  /** pace training steps so a person can follow them (default true) */
  pacing: z.boolean().optional(),
  seed: z.number().int().optional(),
  /** search the models' hyperparameters for this many seconds (a hard limit) */
  time_budget_s: z.number().positive().max(86_400).optional(),
  /** keep the model files of this many of the leaderboard's best runs (default 5; the best run's is always kept) */
  keep_models: z.number().int().min(1, "keep_models is at least 1 (the best run's model is always kept)").max(MAX_KEEP_MODELS).optional(),
});
export type CreateProjectRequest = z.infer<typeof createProjectRequest>;

export const confirmRequest = z.strictObject({
  /** the gate being confirmed; refused when it is not the gate the project waits at */
  stage_id: z.enum(STAGE_IDS).optional(),
  /** one of the gate's next_actions ids (default "confirm") */
  action: z.string().min(1).optional(),
  /** an edited plan to approve instead of the proposed one */
  plan_json: z.record(z.string(), z.unknown()).optional(),
  /** with action choose_target */
  target: z.string().min(1).optional(),
  /** with action set_task */
  task_type: z.enum(TASK_TYPES).optional(),
  /** with action edit_prompt */
  prompt: promptText.optional(),
  /** with action choose_dataset: one of its choices' ids */
  dataset_id: datasetSource.optional(),
});
export type ConfirmRequest = z.infer<typeof confirmRequest>;

export const parseRequest = z.strictObject({
  prompt: promptText.optional(),
  target: z.string().min(1).optional(),
  /** the task, when the person settles it rather than the parser */
  task_type: z.enum(TASK_TYPES).optional(),
});
export type ParseRequest = z.infer<typeof parseRequest>;

export const retryRequest = z.strictObject({
  target: z.string().min(1).optional(),
  /** a search cut short by a stop carries on (its finished runs kept, the rest of its budget) instead of starting over */
  resume: z.boolean().optional(),
});
export type RetryRequest = z.infer<typeof retryRequest>;

/** rows one predict request may carry: more is a file for `automl predict` */
export const MAX_PREDICT_ROWS = 10_000;

/** POST /api/projects/{id}/predict: rows as JSON records, column name → value (null or absent: missing). */
export const predictRequest = z.strictObject({
  rows: z
    .array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])))
    .min(1, 'rows is empty: give at least one record like {"column": value}')
    .max(MAX_PREDICT_ROWS, `rows holds more than ${MAX_PREDICT_ROWS.toLocaleString("en")} records: send them in parts, or predict a file with automl predict`),
});
export type PredictRequest = z.infer<typeof predictRequest>;

/** A row's prediction: the value (regression), the most probable class with every class's probability (classification), or null (the row was refused: see problems). */
export type PredictedRow = { value: number } | { label: string; probabilities: Record<string, number> } | null;

/** What was unlike the training data in one row, and what was done (refused: the row has no prediction). */
export interface PredictProblem {
  /** the row in the request, from 1 */
  row: number;
  column: string;
  value: string;
  problem: string;
  refused: boolean;
}

export interface PredictResponse {
  model: { run_id: string | null; model_id: string; task: TaskType; target: string; classes: string[] | null };
  predictions: PredictedRow[];
  /** per row and column; at most MAX_PREDICT_ROWS × the model's columns */
  problems: PredictProblem[];
  /** a line per column and kind of problem */
  summary: string[];
  /** columns given that the model does not read (ignored) */
  ignored_columns: string[];
}

/** POST /api/projects/{id}/predict-file: a data file on the conductor's machine, predicted in batches (any length). */
export const predictFileRequest = z.strictObject({
  /** absolute (a relative path is read from the conductor's working folder) */
  data_path: z.string().min(1),
  /** default: beside the data, NAME.predictions.csv */
  out_path: z.string().min(1).optional(),
  /** columns of the data copied into the predictions, first (an id to join them back on) */
  keep: z.array(z.string().min(1)).max(100).optional(),
});
export type PredictFileRequest = z.infer<typeof predictFileRequest>;

export interface PredictFileResponse {
  model: PredictResponse["model"];
  rows: number;
  /** rows without a prediction (their lines left empty) */
  refused: number;
  out_path: string;
  /** the per-row report (row, column, value, problem, action), or null when no row had a problem */
  report_path: string | null;
  summary: string[];
  ignored_columns: string[];
  /** how the file was read, as the loader said it */
  warnings: string[];
}

/** Every error response has this body. */
export interface ApiError {
  error: string;
}
