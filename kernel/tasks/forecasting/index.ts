/**
 * The forecasting task: a numeric column over time, forecast `horizon` steps ahead. The table
 * is framed as series (a time column, a frequency, a season, a series id when it holds
 * several); the split is by time (each series' last `horizon` steps are its test window, the
 * backtests' windows come before it); the models are forecasters (baselines every other model
 * must beat, exponential smoothing, the tree engine on lags), ranked by their backtests.
 */
import { approvedPlan, METRICS_BY_TASK, type ForecastFraming, type PreprocessPlan, type ProjectSnapshot, type TaskType } from "../../../contract";
import { selectModels, type SeriesFacts } from "../../agents/model-selector-agent";
import type { Table } from "../../data/table";
import { profileTable } from "../../data/table-profile";
import { InputError } from "../../errors/input-error";
import { forecastData, isHorizonAsked, proposeFraming, type ForecastData } from "../../ml/forecast/forecast-data";
import { FORECASTERS } from "../../ml/forecast/forecast-zoo";
import { ref, type CodeCell, type Statement } from "../pipeline-step";
import type { Idea, PipelineTask, RebuildSource } from "../task";
import { profileCells, rebuildTable, settledIntent } from "../table-steps";

const TYPE = "time_series_forecasting" as const;
/** what proposing the framing changed from the request (a horizon cut to what the history allows), for the plan's summary */
const FRAMING_NOTES = "framingNotes";

interface Intent {
  target: string;
  task: typeof TYPE;
}

export const forecastingTask: PipelineTask = {
  id: "forecasting",
  taskTypes: [TYPE],
  builds: "forecasts of a numeric series over time",

  alternatives() {
    return [
      { value: "regression", label: "regression", description: "predict a number from the other columns (rows shuffled, not by time)" },
      { value: "classification", label: "classification", description: "predict one of a few labels" },
    ];
  },

  profileCode: profileCells,

  proposedSplit(seed, scope) {
    const table = scope.get("table") as Table;
    const { target } = scope.get("intent") as Intent;
    const horizon = (scope.get("constraints") as Record<string, unknown> | undefined)?.["horizon"];
    const { framing, notes } = proposeFraming(table, target, isHorizonAsked(horizon) ? horizon : null);
    scope.set(FRAMING_NOTES, notes);
    const n = table.nRows;
    const share = (k: number) => Math.min(0.9, Math.max(0.01, Math.round(((k * framing.horizon) / Math.max(1, n)) * 1e4) / 1e4));
    return { seed, test_size: share(1), val_size: share(framing.backtest_folds), forecast: framing };
  },

  splitStatement(split): Statement {
    const framing = framingOf(split);
    return {
      kind: "call",
      method: "frameSeries",
      args: [ref("table"), { target: ref("intent.target"), seed: split.seed, framing }],
      bind: "split",
      reuse: true,
    };
  },

  checkSplit(split, scope) {
    const framing = framingOf(split);
    // framed and cut as applying would: every refusal (a horizon past the history, a column that is not there, a frequency typo) before the plan is taken
    forecastData(scope.get("table") as Table, (scope.get("intent") as Intent).target, framing, split.seed);
  },

  splitInWords(scope) {
    const data = scope.get("split") as ForecastData;
    const f = data.framing;
    const series = data.frame.series.length;
    return `${[...forecastingTask.proposalWarnings!(scope), ""].join(" ")}${f.frequency} steps${f.seasonality > 1 ? `, a season of ${f.seasonality}` : ", no season found"}; the last ${f.horizon} steps of ${series > 1 ? `each of ${series} series (by ${f.series_id})` : "the series"} are the test window, ${data.folds} backtest(s) before it.${data.notes.length ? ` ${data.notes.join(" ")}` : ""}`;
  },

  proposalWarnings(scope) {
    return (scope.get(FRAMING_NOTES) as string[] | undefined) ?? [];
  },

  async proposeSteps(runtime, scope) {
    const profile = scope.get("profile") as ReturnType<typeof profileTable>;
    const { target } = scope.get("intent") as Intent;
    // the framing is the plan: no feature steps (the forecasters make their own lags)
    return runtime.planPreprocessing(profile, target, { steps: [], source: "rules" });
  },

  checkSteps(steps) {
    if (steps.length > 0)
      throw new InputError(
        `A forecast takes no preprocessing steps (${steps.map((s) => s.op).join(", ")}): edit split.forecast instead (time_column, frequency, horizon, series_id, seasonality, backtest_folds, aggregate).`,
      );
  },

  preprocessCode(plan: PreprocessPlan): CodeCell[] {
    return [
      {
        conductor: "runs",
        comment:
          "The series, framed and cut by time: edit split.forecast below (horizon, frequency, seasonality, backtest_folds, aggregate) and run the cell.\nThe last `horizon` steps of each series are the test window; nothing is shuffled.",
        statements: [
          forecastingTask.splitStatement(plan.split),
          { kind: "const", name: "steps", type: "automl.PreprocessStep[]", value: plan.steps },
          { kind: "call", method: "preprocess", args: [ref("steps"), ref("table"), ref("split")], bind: "data", show: "data.framing" },
        ],
      },
    ];
  },

  metrics() {
    return METRICS_BY_TASK[TYPE];
  },

  async proposeModels(runtime, _taskType, scope, agents) {
    const data = scope.get("split") as ForecastData;
    const offers = FORECASTERS.filter((f) => !f.baseline).map((f) => ({ id: f.id, name: f.name, family: f.family, why: f.why }));
    const facts: SeriesFacts = {
      task: TYPE,
      frequency: data.framing.frequency,
      seasonality: data.framing.seasonality,
      horizon: data.horizon,
      series: data.frame.series.length,
      points_per_series: Math.min(...data.frame.series.map((s) => s.values.length)),
      time_budget_s: agents.timeBudgetSeconds,
      interpretable: agents.interpretable,
      target: data.frame.target,
    };
    const decided = await selectModels(facts, offers, agents.model, agents.call);
    const candidates = runtime.forecastCandidates({ models: decided.value, source: decided.source });
    return candidates.map((c) => ({ id: c.id, params: FORECASTERS.find((f) => f.id === c.id)!.defaults }));
  },

  learnerIds() {
    return FORECASTERS.map((f) => f.id);
  },

  ideas: forecastingIdeas,

  rebuild(name: string, { snapshot, assets, get }: RebuildSource): unknown {
    const intent = () => get("intent") as Intent;
    switch (name) {
      case "table":
        return rebuildTable(snapshot, assets);
      case "intent":
        return settledIntent(snapshot, [TYPE]) satisfies Intent;
      case "constraints":
        return snapshot.intent?.constraints ?? {};
      case FRAMING_NOTES:
        return [];
      case "profile":
        return profileTable(get("table") as Table, intent().target, TYPE);
      case "split":
      case "data": {
        const split = snapshot.plans.PREPROCESS?.plan?.split;
        if (!snapshot.split || !split?.forecast) throw new Error("the series have not been framed yet");
        return forecastData(get("table") as Table, intent().target, split.forecast, split.seed);
      }
      case "steps": {
        const plan = approvedPlan(snapshot, "PREPROCESS");
        if (!plan) throw new Error("the preprocessing plan has not been approved yet");
        return plan.steps;
      }
      default:
        return undefined;
    }
  },
};

/** A forecast's split's framing, or what is missing. */
function framingOf(split: PreprocessPlan["split"]): ForecastFraming {
  if (!split.forecast) throw new InputError("A forecast's split needs its framing (split.forecast: time column, frequency, horizon, series id, seasonality).");
  return split.forecast;
}

/** Edits worth trying after the forecasters ran. */
function forecastingIdeas(s: ProjectSnapshot): Idea[] {
  const out: Idea[] = [];
  const plan = s.plans.PREPROCESS?.plan;
  const framing = plan?.split.forecast;
  const best = s.best;
  if (framing && best && FORECASTERS.find((f) => f.id === best.model_id)?.baseline) {
    out.push({
      suggestion: {
        id: "forecast-shorter-horizon",
        stage_id: "PREPROCESS",
        title: `Forecast ${Math.max(1, Math.floor(framing.horizon / 2))} steps instead of ${framing.horizon}`,
        detail: "A baseline won the backtests: nearer steps are easier to forecast than far ones, and a shorter horizon leaves more history to backtest on.",
      },
      patch: {
        stage: "PREPROCESS",
        change: (p) => ({ ...p, split: { ...p.split, forecast: { ...p.split.forecast!, horizon: Math.max(1, Math.floor(framing.horizon / 2)) } } }),
      },
    });
  }
  if (framing && framing.backtest_folds < 5) {
    out.push({
      suggestion: {
        id: "forecast-more-backtests",
        stage_id: "PREPROCESS",
        title: `Backtest at ${framing.backtest_folds + 2} cut-offs`,
        detail: `The models are ranked by ${framing.backtest_folds} backtest window(s); more windows make the ranking steadier where the history allows.`,
      },
      patch: {
        stage: "PREPROCESS",
        change: (p) => ({ ...p, split: { ...p.split, forecast: { ...p.split.forecast!, backtest_folds: framing.backtest_folds + 2 } } }),
      },
    });
  }
  return out;
}

export function isForecastTask(taskType: TaskType | null | undefined): boolean {
  return taskType === TYPE;
}
