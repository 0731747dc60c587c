/**
 * What differs from one kind of learning task to another sits behind this interface: how a
 * request is framed, how the data is profiled, split and made into features, which learners
 * and metrics fit, what to suggest next, and the code of the stages that do it. The stages
 * are the same for every task; they ask the project's task. A new task (forecasting, images,
 * text) is a new folder here with one of these, registered in ./index.ts.
 */
import type { EventPayload, PreprocessPlan, ProjectSnapshot, TaskType, TrainingPlan } from "../../contract";
import type { AgentCall, AgentModel } from "../agents/agent-model";
import type { AssetStore } from "../assets/asset-store";
import type { PipelineRuntime } from "../runtime/pipeline-runtime";
import type { CodeCell, Statement, StepScope } from "./pipeline-step";

export type Suggestion = EventPayload<"EDIT_SUGGESTIONS">["suggestions"][number];

/** A change to an approved plan, typed by its stage. */
export type PlanPatch =
  { stage: "PREPROCESS"; change: (plan: PreprocessPlan) => PreprocessPlan } | { stage: "MODEL_SELECT"; change: (plan: TrainingPlan) => TrainingPlan };

/** An edit to suggest after a run and, when it is a change to a plan, that change. */
export interface Idea {
  suggestion: Suggestion;
  patch?: PlanPatch;
}

/** The agents' language model, and where a decision is asked from (a task's agents decide through it). */
export interface AgentAccess {
  model: AgentModel;
  call: AgentCall;
  /** the time budget and the person's wish for an interpretable model, for the model selector */
  timeBudgetSeconds: number | null;
  interpretable: boolean;
}

/** What a task reads to rebuild a value after a restart (no events: they are in the log). */
export interface RebuildSource {
  snapshot: ProjectSnapshot;
  assets: AssetStore;
  /** another value of the working set (rebuilt in turn when missing) */
  get(name: string): unknown;
}

export interface PipelineTask {
  /** the task's folder name */
  readonly id: string;
  /** the task types (as the intent names them) this task trains */
  readonly taskTypes: readonly TaskType[];
  /** what it builds, in words, for messages ("regression and classification models on tables") */
  readonly builds: string;

  /** the other task types a person may switch to at the data gate, each with what it predicts */
  alternatives(current: TaskType): Array<{ value: TaskType; label: string; description: string }>;

  /** PROFILE_DATA's code (it reads `table` and `intent`, binds `profile`) */
  profileCode(): CodeCell[];

  /** PREPROCESS: the split a new plan proposes (a forecast's reads the table and the request for its framing) */
  proposedSplit(seed: number, scope: StepScope): PreprocessPlan["split"];
  /** the split made, in words, for the plan's summary ("split 600/200/200 rows") */
  splitInWords(scope: StepScope): string;
  /** what proposing the split changed from the request (a forecast's horizon cut to what the history allows), to warn of */
  proposalWarnings?(scope: StepScope): string[];
  /** refuses a split that cannot be made on this data (InputError), before anything is applied */
  checkSplit?(split: PreprocessPlan["split"], scope: StepScope): void;
  /** the split as a statement (binds `split`; made before the plan's gate, kept after it when unchanged) */
  splitStatement(split: PreprocessPlan["split"]): Statement;
  /** the preprocessing steps proposed for this data, by the preprocess planner (announced by the runtime) */
  proposeSteps(runtime: PipelineRuntime, scope: StepScope, agents: AgentAccess): Promise<PreprocessPlan["steps"]>;
  /** refuses steps that cannot work on this data (InputError), before anything is applied */
  checkSteps(steps: PreprocessPlan["steps"], scope: StepScope): void;
  /** PREPROCESS's code for a plan (binds `split`, `steps`, `data`) */
  preprocessCode(plan: PreprocessPlan): CodeCell[];

  /** MODEL_SELECT: the metrics a training plan may rank by, the default first */
  metrics(taskType: TaskType): readonly string[];
  /** the learners offered for this data, with why, by the model selector (announced by the runtime) */
  proposeModels(
    runtime: PipelineRuntime,
    taskType: TaskType,
    scope: StepScope,
    agents: AgentAccess,
  ): Promise<Array<{ id: string; params: Record<string, number | string | boolean> }>>;
  /** every learner a plan may name for this task type */
  learnerIds(taskType: TaskType): string[];

  /** REVIEW_EDIT: edits worth trying, from what the runs showed */
  ideas(s: ProjectSnapshot): Idea[];

  /** a working-set value (`table`, `profile`, `split`, `data`, …) rebuilt from the log and the files */
  rebuild(name: string, from: RebuildSource): unknown;
}
