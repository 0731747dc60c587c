/** Every forecasting model, by id: the baselines first, then the models that must beat them. */
import { driftForecaster, naiveForecaster, seasonalNaiveForecaster } from "./baseline-forecasters";
import { exponentialSmoothing } from "./exponential-smoothing";
import type { FittedForecaster, Forecaster, SavedForecaster } from "./forecaster";
import { lagTreeForecaster } from "./lag-tree-forecaster";

export const FORECASTERS: readonly Forecaster[] = [naiveForecaster, seasonalNaiveForecaster, driftForecaster, exponentialSmoothing, lagTreeForecaster];

export function findForecaster(id: string): Forecaster | undefined {
  return FORECASTERS.find((f) => f.id === id);
}

export function restoreForecaster(saved: SavedForecaster): FittedForecaster {
  const f = findForecaster(saved.model_id);
  if (!f) throw new Error(`no forecaster ${saved.model_id} to restore the saved model with`);
  return f.restore(saved);
}
