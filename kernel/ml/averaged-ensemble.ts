/**
 * The mean of a search's best models: their predicted values (regression) or class
 * probabilities averaged. The search offers it only when it beats the best single model on
 * the validation rows; it is then trained, evaluated and exported like any other run.
 * Members are restored through the zoo, so an exported ensemble predicts like its members.
 */
import type { FitInput, FittedModel, Learner, LearningTask, Params, SavedModel } from "./learner";
import type { Matrix } from "../data/matrix";

export const AVERAGED_ENSEMBLE_ID = "averaged_ensemble";

/** The mean prediction of `members` (all for the same task and shape of output). */
function averagePredictions(members: readonly FittedModel[], x: Matrix): Float64Array {
  const sum = members[0]!.predict(x).slice();
  for (const m of members.slice(1)) {
    const p = m.predict(x);
    for (let i = 0; i < sum.length; i++) sum[i]! += p[i]!;
  }
  return sum.map((v) => v / members.length);
}

/** The averaging learner with its members, so it can be sent to a trial worker (as saved models) and rebuilt there. */
export interface AveragedLearner extends Learner {
  readonly members: readonly FittedModel[];
  readonly memberRunIds: readonly string[];
}

export function isAveragedLearner(learner: Learner): learner is AveragedLearner {
  return learner.id === AVERAGED_ENSEMBLE_ID && "members" in learner;
}

/**
 * A learner whose "fit" averages already fitted members (a one-shot model: its steps are
 * paced and marked simulated). `restoreMember` revives a saved member (the zoo's restore).
 */
export function averagedEnsemble(
  members: readonly FittedModel[],
  memberRunIds: readonly string[],
  restoreMember: (saved: SavedModel) => FittedModel,
): AveragedLearner {
  const tasks: LearningTask[] = ["regression", "classification"];
  return {
    id: AVERAGED_ENSEMBLE_ID,
    members,
    memberRunIds,
    name: `Average of ${members.map((m) => m.modelId).join(", ")}`,
    family: "ensemble",
    iterative: false,
    tasks,
    proposed: false,
    why: "The mean of the search's best models; kept only when it beats the best one on validation.",
    defaults: { members: memberRunIds.join(",") },
    async fit(input: FitInput, params: Params) {
      if (members.length < 2) throw new Error(`${AVERAGED_ENSEMBLE_ID} is built by a model search from its best trials; it cannot be trained on its own`);
      return fittedEnsemble({ ...this.defaults, ...params }, members, input.task, input.nClasses);
    },
    restore(saved: SavedModel) {
      const state = saved.state as { members: SavedModel[] };
      return fittedEnsemble(saved.params, state.members.map(restoreMember), saved.task, saved.n_classes);
    },
  };
}

function fittedEnsemble(params: Params, members: readonly FittedModel[], task: LearningTask, nClasses: number): FittedModel {
  return {
    modelId: AVERAGED_ENSEMBLE_ID,
    params,
    stepsRun: 1,
    stopReason: "fitted",
    predict: (x: Matrix) => averagePredictions(members, x),
    save(): SavedModel {
      const saved = members.map((m) => m.save());
      return {
        model_id: AVERAGED_ENSEMBLE_ID,
        params,
        task,
        n_features: saved[0]!.n_features,
        n_classes: task === "classification" ? nClasses : 0,
        state: { members: saved },
      };
    },
  };
}
