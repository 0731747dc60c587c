/** Every learner the product can train, by id. Later engines register here too. */
import { averagedEnsemble } from "./averaged-ensemble";
import { gaussianNaiveBayes } from "./gaussian-naive-bayes";
import type { FittedModel, Learner, LearningTask, SavedModel } from "./learner";
import { linearRegressionGd, logisticRegressionGd } from "./linear-gradient-descent";
import { mlRandomForest } from "./ml-random-forest-learner";
import { ridgeRegression } from "./ridge-regression";
import { histGradientBoosting } from "./trees/gradient-boosting";
import { mlp, tfjsLinearRegression, tfjsLogisticRegression } from "./tfjs/dense-network";
import { extraTrees, randomForest } from "./trees/random-forest";

const LEARNERS: readonly Learner[] = [
  histGradientBoosting,
  randomForest,
  extraTrees,
  mlp,
  linearRegressionGd,
  ridgeRegression,
  logisticRegressionGd,
  gaussianNaiveBayes,
  mlRandomForest,
  tfjsLinearRegression,
  tfjsLogisticRegression,
  // restores saved ensembles; the search builds the ones it trains from its own best runs
  averagedEnsemble([], [], (saved) => restoreModel(saved)),
];

/** A saved model of any learner, revived. */
export function restoreModel(saved: SavedModel): FittedModel {
  const learner = findLearner(saved.model_id);
  if (!learner) throw new Error(`no learner ${saved.model_id} to restore the saved model with`);
  return learner.restore(saved);
}

/** The learners for a task; with `rows`, only those fast enough for that many training rows. */
export function learnersFor(task: LearningTask, rows?: number): Learner[] {
  return LEARNERS.filter((l) => l.proposed !== false && l.tasks.includes(task) && (rows === undefined || l.maxRows === undefined || rows <= l.maxRows));
}

/** Every learner's id, proposed or not: every model a file can hold. */
export function learnerIds(): string[] {
  return LEARNERS.map((l) => l.id);
}

export function findLearner(id: string): Learner | undefined {
  return LEARNERS.find((l) => l.id === id);
}
