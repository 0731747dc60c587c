/** Every learner the product can train, by id. Later engines register here too. */
import { gaussianNaiveBayes } from "./gaussian-naive-bayes";
import type { Learner, LearningTask } from "./learner";
import { linearRegressionGd, logisticRegressionGd } from "./linear-gradient-descent";
import { ridgeRegression } from "./ridge-regression";
import { histGradientBoosting } from "./trees/gradient-boosting";

const LEARNERS: readonly Learner[] = [histGradientBoosting, linearRegressionGd, ridgeRegression, logisticRegressionGd, gaussianNaiveBayes];

export function learnersFor(task: LearningTask): Learner[] {
  return LEARNERS.filter((l) => l.tasks.includes(task));
}

export function findLearner(id: string): Learner | undefined {
  return LEARNERS.find((l) => l.id === id);
}
