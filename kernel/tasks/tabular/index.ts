/**
 * The tabular task: regression and classification on a table. One column is the target; the
 * rest become features through a fitted preprocessing plan (imputation, encoding, scaling);
 * the zoo's learners train on them, ranked by a validation metric.
 */
import { METRICS_BY_TASK, approvedPlan, type PreprocessPlan, type PreprocessStep, type TaskType } from "../../../contract";
import { selectModels } from "../../agents/model-selector-agent";
import { planSteps } from "../../agents/preprocess-planner-agent";
import { planPreprocessing } from "../../data/preprocess-plan";
import { prepareData } from "../../data/prepared-data";
import { checkPlan, fitPreprocessor } from "../../data/preprocessor";
import { DEFAULT_SPLIT } from "../../data/row-split";
import type { Table } from "../../data/table";
import { profileTable, type TableProfile } from "../../data/table-profile";
import { findLearner, learnersFor } from "../../ml/model-zoo";
import type { SplitData } from "../../runtime/pipeline-runtime";
import { ref, type CodeCell } from "../pipeline-step";
import type { PipelineTask, RebuildSource } from "../task";
import { profileCells, rebuildRowSplit, rebuildTable, rowSplitInWords, rowSplitStatement, settledIntent } from "../table-steps";
import { tabularIdeas } from "./ideas";

type TabularType = "regression" | "classification";
const TYPES: readonly TabularType[] = ["regression", "classification"];

/** The settled intent, as the DATA_SOURCE cell binds it. */
interface Intent {
  target: string;
  task: TabularType;
}

function tabular(taskType: TaskType): TabularType {
  if (taskType !== "regression" && taskType !== "classification") throw new Error(`task ${taskType} is not tabular`);
  return taskType;
}

export const tabularTask: PipelineTask = {
  id: "tabular",
  taskTypes: TYPES,
  builds: "regression and classification models on tables",

  alternatives(current) {
    return TYPES.filter((t) => t !== current).map((t) => ({
      value: t,
      label: t,
      description: t === "regression" ? "predict a number" : "predict one of a few labels",
    }));
  },

  profileCode: profileCells,

  proposedSplit(seed) {
    return { seed, test_size: DEFAULT_SPLIT.testSize, val_size: DEFAULT_SPLIT.valSize };
  },

  splitInWords(scope) {
    return rowSplitInWords(scope.get("split") as SplitData, "rows");
  },

  splitStatement: rowSplitStatement,

  async proposeSteps(runtime, scope, agents) {
    const profile = scope.get("profile") as TableProfile;
    const { target } = scope.get("intent") as Intent;
    const table = scope.get("table") as Table;
    // the runtime's own checks, and a fit on a few training rows: a plan it could not apply never reaches the gate
    const trainRows = (scope.get("split") as SplitData).split.train.slice(0, 500);
    const validate = (steps: PreprocessStep[]) => {
      tabularTask.checkSteps(steps, scope);
      fitPreprocessor(steps, table, trainRows, target);
    };
    const decided = await planSteps(profile, target, planPreprocessing(profile, target), validate, agents.model, agents.call);
    return runtime.planPreprocessing(profile, target, { steps: decided.value, source: decided.source });
  },

  checkSteps(steps, scope) {
    checkPlan(steps, scope.get("table") as Table, (scope.get("intent") as Intent).target);
  },

  preprocessCode(plan: PreprocessPlan): CodeCell[] {
    return [
      {
        conductor: "runs",
        statements: [
          this.splitStatement(plan.split),
          { kind: "const", name: "steps", type: "automl.PreprocessStep[]", value: plan.steps },
          { kind: "call", method: "preprocess", args: [ref("steps"), ref("table"), ref("split")], bind: "data", show: "data.featureNames" },
        ],
      },
    ];
  },

  metrics(taskType) {
    return METRICS_BY_TASK[tabular(taskType)];
  },

  async proposeModels(runtime, taskType, scope, agents) {
    const task = tabular(taskType);
    const rows = (scope.get("split") as SplitData).split.train.length;
    const profile = scope.get("profile") as TableProfile;
    const { target } = scope.get("intent") as Intent;
    const classes = profile.target?.kind === "classes" ? profile.target.classes : null;
    const facts = {
      task,
      training_rows: rows,
      feature_columns: profile.n_cols - 1,
      column_kinds: profile.types_breakdown,
      missing_pct: profile.missing_pct,
      ...(classes ? { classes: classes.length, rarest_class_pct: Math.min(...classes.map((c) => c.pct)) } : {}),
      time_budget_s: agents.timeBudgetSeconds,
      interpretable: agents.interpretable,
      target,
    };
    const offers = learnersFor(task, rows).map((l) => ({ id: l.id, name: l.name, family: l.family, why: l.why }));
    const decided = await selectModels(facts, offers, agents.model, agents.call);
    const candidates = runtime.modelCandidates(task, rows, { models: decided.value, source: decided.source });
    return candidates.map((c) => ({ id: c.id, params: findLearner(c.id)!.defaults }));
  },

  learnerIds(taskType) {
    return learnersFor(tabular(taskType)).map((l) => l.id);
  },

  ideas: tabularIdeas,

  rebuild(name: string, { snapshot, assets, get }: RebuildSource): unknown {
    const intent = () => get("intent") as Intent;
    switch (name) {
      case "table":
        return rebuildTable(snapshot, assets);
      case "intent":
        return settledIntent(snapshot, TYPES) satisfies Intent;
      case "profile":
        return profileTable(get("table") as Table, intent().target, intent().task);
      case "split":
        return rebuildRowSplit(snapshot, get("table") as Table, intent());
      case "steps":
        return approvedPreprocessing(snapshot).steps;
      case "data":
        return prepareData(approvedPreprocessing(snapshot).steps, get("table") as Table, get("split") as SplitData);
      default:
        return undefined;
    }
  },
};

function approvedPreprocessing(snapshot: RebuildSource["snapshot"]): PreprocessPlan {
  const plan = approvedPlan(snapshot, "PREPROCESS");
  if (!plan) throw new Error("the preprocessing plan has not been approved yet");
  return plan;
}
