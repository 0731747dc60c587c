/**
 * The shape every stage module has: it decides (the agents' part, announced as events), does
 * its work by executing its code (statements through the runtime) up to its gate, optionally
 * applies an approved plan after the gate the same way, and renders its notebook cells from
 * that same code. What differs per kind of task it asks the project's task (ctx.task()). The
 * stage machine owns STAGE_STATUS and the gates; the notebook writer owns the file.
 */
import { GATE_ACTIONS, type EventPayload, type NextAction, type ProjectMeta, type ProjectSnapshot, type StageId } from "../../contract";
import type { AgentModel } from "../agents/agent-model";
import type { AssetStore } from "../assets/asset-store";
import type { WorkingSet } from "./working-set";
import type { EventSink } from "../events/event-sink";
import type { Logger } from "../logging/logger";
import type { CellDraft } from "../notebook/pipeline-notebook";
import type { PipelineRuntime } from "../runtime/pipeline-runtime";
import { renderCell, type CodeCell } from "../tasks/pipeline-step";
import type { AgentAccess, PipelineTask } from "../tasks/task";

/** What an interrupted search had done when a stop cut it short (read from the log by the conductor). */
export interface SearchSoFar {
  leaderboard: EventPayload<"LEADERBOARD_UPDATED">["rows"];
  best: EventPayload<"BEST_MODEL_UPDATED"> | null;
  /** seconds from the pass's start to its last event before the stop */
  elapsedSeconds: number;
}

export interface StageContext {
  meta: ProjectMeta;
  /** the project's state as of now (a live view: it changes as events are emitted) */
  snapshot: ProjectSnapshot;
  /** contract events stamped with this stage */
  events: EventSink;
  runtime: PipelineRuntime;
  assets: AssetStore;
  /** the agents' language model (each agent falls back to its rules through it) */
  agents: AgentModel;
  work: WorkingSet;
  logger: Logger;
  signal: AbortSignal;
  /** TRAIN only: an interrupted search to carry on rather than start over */
  resume: SearchSoFar | null;
  /** the project's task, by its intent's task type (throws when no task here trains it) */
  task(): PipelineTask;
}

/** How a stage ends its run. */
export type StageGate =
  /**
   * results to look at; confirming continues. `more_actions`: the gate's other choices, made
   * only when a person will see the gate (auto mode passes it), as some scan the whole table
   */
  | { kind: "review"; summary: string; more_actions?: () => NextAction[] }
  /** a plan to approve, possibly edited, before `approve` applies it */
  | { kind: "plan"; summary: string; plan: Record<string, unknown> }
  /** something only the person can give (a data file); auto mode cannot pass it */
  | { kind: "input"; summary: string; next_actions: NextAction[] }
  /** nothing to confirm: the stage is done */
  | { kind: "done" };

export interface StageModule {
  readonly id: StageId;
  /**
   * Decides (the agents' part, announced as events), then does the stage's work by executing
   * its code cells (see `code`), up to its gate.
   */
  run(ctx: StageContext): Promise<StageGate>;
  /** refuses an edited plan that cannot work (InputError), before anything is applied */
  checkPlan?(ctx: StageContext, plan: Record<string, unknown>): void;
  /** applies the approved plan (by executing `code` for it); an InputError sends the stage back to its gate */
  approve?(ctx: StageContext, plan: Record<string, unknown>): Promise<void>;
  /**
   * The stage's code, described once, from what it decided (the project's state): the
   * conductor executes its "runs" cells, and the notebook shows every cell rendered from it.
   */
  code(ctx: StageContext): CodeCell[];
  /** the markdown above the code: what the stage did and why */
  describe(ctx: StageContext): string;
  /** what the stage makes holds the notebook (EXPORT's bundle): its own cells are written into the notebook before it runs */
  readonly notebookBeforeRun?: boolean;
  /**
   * What the stage proposes from the results its code made (REVIEW_EDIT: suggested edits),
   * announced after its code ran, in the conductor or from the notebook alike.
   */
  propose?(ctx: StageContext): Promise<void>;
}

/** The notebook cells of a stage: its markdown, then its code cells rendered from the one description. */
export function stageCells(stage: StageModule, ctx: StageContext): CellDraft[] {
  return [{ kind: "markdown", source: stage.describe(ctx) }, ...stage.code(ctx).map((cell) => ({ kind: "code" as const, source: renderCell(cell) }))];
}

/** A JSON literal for generated code. */
export function literal(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** A gate's choice to reword the request (the project runs again from PARSE_INTENT). */
export const editPromptAction: NextAction = {
  id: GATE_ACTIONS.editPrompt,
  label: "Edit the request",
  description: "reword what to predict; the project runs again from the start",
};

/** What a task's agents need from a stage: the model, where they are asked from, and the person's constraints. */
export function agentAccess(ctx: StageContext, stage: StageId): AgentAccess {
  const constraints = ctx.snapshot.intent?.constraints ?? {};
  const asked = constraints["time_budget_s"];
  return {
    model: ctx.agents,
    call: { stage, events: ctx.events, signal: ctx.signal },
    timeBudgetSeconds: ctx.meta.time_budget_s ?? (typeof asked === "number" ? asked : null),
    interpretable: constraints["interpretable"] === true,
  };
}
