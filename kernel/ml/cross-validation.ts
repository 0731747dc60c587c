/**
 * K-fold cross-validation of a learner's settings: what a search ranks trials by when one
 * validation split is too small to be trusted. The folds are made once per search.
 */
import type { MetricValue } from "../../contract";
import type { FitInput, LabelledSet, Learner, Params } from "./learner";
import { concatRows, selectRows } from "./row-selection";
import { evaluate } from "./training-run";

export const CV_FOLDS = 5;

export interface Fold {
  train: LabelledSet;
  heldOut: LabelledSet;
}

/** CV_FOLDS folds of the training + validation rows (row r held out in fold r mod CV_FOLDS). */
export function crossValidationFolds(fit: FitInput): Fold[] {
  const all = concatRows(fit.train, fit.val);
  return Array.from({ length: CV_FOLDS }, (_, fold) => {
    const held: number[] = [];
    const kept: number[] = [];
    for (let r = 0; r < all.x.rows; r++) (r % CV_FOLDS === fold ? held : kept).push(r);
    return { train: selectRows(all, kept), heldOut: selectRows(all, held) };
  });
}

/** The mean held-out score of `learner` over the folds (fitted without events), or why there is none. */
export async function crossValidated(
  learner: Learner,
  params: Params,
  folds: readonly Fold[],
  fit: FitInput,
  metric: string,
  deadline: number,
  stop?: AbortSignal,
): Promise<MetricValue | { reason: string }> {
  const scores: number[] = [];
  for (const fold of folds) {
    const left = deadline - performance.now();
    if (left <= 0) return { reason: "no time left to cross-validate" };
    try {
      const signals = [...(Number.isFinite(left) ? [AbortSignal.timeout(Math.ceil(left))] : []), ...(stop ? [stop] : [])];
      const model = await learner.fit({ task: fit.task, train: fold.train, val: fold.heldOut, nClasses: fit.nClasses }, params, {
        signal: signals.length ? anySignal(signals) : undefined,
      });
      const score = evaluate(fit.task, model, fold.heldOut, fit.nClasses, "val").find((m) => m.name === metric);
      if (!score) return { reason: `no ${metric} on a fold` };
      scores.push(score.value);
    } catch (error) {
      // cancelled at the deadline, or a fold the learner cannot fit: ranked by the split, and said so
      return { reason: `cross-validation stopped: ${(error as Error).message}` };
    }
  }
  return { name: metric, split: "val", value: scores.reduce((a, b) => a + b, 0) / scores.length };
}

/** AbortSignal.any: in Node since 20.3; this TypeScript lib does not declare it yet. */
export function anySignal(signals: AbortSignal[]): AbortSignal {
  return (AbortSignal as unknown as { any(signals: AbortSignal[]): AbortSignal }).any(signals);
}
