/**
 * The eight stages of a project, in the order the conductor runs them (000_… "Stage IDs").
 */
export const STAGE_IDS = ["PARSE_INTENT", "DATA_SOURCE", "PROFILE_DATA", "PREPROCESS", "MODEL_SELECT", "TRAIN", "REVIEW_EDIT", "EXPORT"] as const;

export type StageId = (typeof STAGE_IDS)[number];

/**
 * A stage's lifecycle. `waiting` is a gate (WAITING_CONFIRMATION was sent);
 * `stale` marks a stage whose inputs changed after it completed (REVIEW_EDIT re-runs).
 */
export const STAGE_STATUSES = ["pending", "running", "waiting", "completed", "failed", "stale"] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/**
 * The envelope's `stage.index`: the 0-based position in STAGE_IDS. (003_…'s example shows
 * `"index": 3` for TRAIN, which follows the contract's five headline groups rather than the
 * eight stages; a position in the one stage list is what a timeline can use.)
 */
export function stageIndex(id: StageId): number {
  return STAGE_IDS.indexOf(id);
}

export function isStageId(value: unknown): value is StageId {
  return typeof value === "string" && (STAGE_IDS as readonly string[]).includes(value);
}

export const STAGE_TITLES: Record<StageId, string> = {
  PARSE_INTENT: "Understand the request",
  DATA_SOURCE: "Find and load the data",
  PROFILE_DATA: "Profile the data",
  PREPROCESS: "Split and preprocess",
  MODEL_SELECT: "Choose models",
  TRAIN: "Train and evaluate",
  REVIEW_EDIT: "Review and edit",
  EXPORT: "Export",
};

/** A stage's message when the conductor stopped while it ran (a stop, a crash): it can be retried. */
export const INTERRUPTED_MESSAGE = "interrupted: the conductor stopped while this stage ran; retry it";

export function wasInterrupted(stage: { status: StageStatus; message: string }): boolean {
  return stage.status === "failed" && stage.message === INTERRUPTED_MESSAGE;
}

/** How people tell projects apart in titles, pickers and toasts: the request, and the id's random tail. */
export function projectDisplayName(meta: { id: string; prompt: string }): string {
  const prompt = meta.prompt.length > 36 ? `${meta.prompt.slice(0, 35).trimEnd()}…` : meta.prompt;
  return `${prompt} (${meta.id.slice(-6)})`;
}
