/**
 * Cost-aware hyperparameter search under a time budget, in the spirit of FLAML: every
 * candidate is first trained with its defaults (what training without a budget runs, so a
 * search never ranks below the plain run), cheapest learners first; after that the search
 * mostly spends its time near the best configuration of the learner that is winning (a local
 * random step whose size grows on success and shrinks on failure, and more boosting rounds for
 * a winning booster), now and then trying another learner, and never starts a trial its own
 * past trials say cannot finish in the time left.
 */
import { seededRandom } from "../data/seeded-random";
import type { Learner, Params } from "./learner";
import { isBetter } from "./metrics";
import type { RunResult } from "./training-run";

export interface Dimension {
  low: number;
  high: number;
  log?: boolean;
  int?: boolean;
}

/** The parameter that buys a learner more rounds (boosting) or trees (forests). */
const ROUNDS_PARAM: Record<string, { name: string; max: number }> = {
  hist_gbdt: { name: "max_iter", max: 2000 },
  random_forest: { name: "n_estimators", max: 500 },
  extra_trees: { name: "n_estimators", max: 500 },
};

/** Where each learner may search, and the cheap configuration it starts from. */
export const SEARCH_SPACES: Record<string, { start: Params; space: Record<string, Dimension> }> = {
  hist_gbdt: {
    start: { max_iter: 50, learning_rate: 0.2, max_leaf_nodes: 15, min_samples_leaf: 20 },
    space: {
      learning_rate: { low: 0.02, high: 0.5, log: true },
      max_leaf_nodes: { low: 4, high: 128, log: true, int: true },
      min_samples_leaf: { low: 2, high: 100, log: true, int: true },
      l2_regularization: { low: 1e-4, high: 10, log: true },
      subsample: { low: 0.5, high: 1 },
      colsample: { low: 0.5, high: 1 },
    },
  },
  linear_gd: { start: {}, space: { learning_rate: { low: 0.005, high: 0.5, log: true }, l2: { low: 1e-6, high: 1, log: true } } },
  logistic_gd: { start: {}, space: { learning_rate: { low: 0.005, high: 0.5, log: true }, l2: { low: 1e-6, high: 1, log: true } } },
  ridge: { start: { alpha: 1 }, space: { alpha: { low: 1e-3, high: 100, log: true } } },
  random_forest: { start: { n_estimators: 30 }, space: { max_features: { low: 0.1, high: 1 }, min_samples_leaf: { low: 1, high: 20, log: true, int: true } } },
  extra_trees: { start: { n_estimators: 30 }, space: { max_features: { low: 0.1, high: 1 }, min_samples_leaf: { low: 1, high: 20, log: true, int: true } } },
  mlp: { start: { max_epochs: 30 }, space: { learning_rate: { low: 1e-4, high: 1e-2, log: true }, l2: { low: 1e-7, high: 1e-2, log: true } } },
  ml_random_forest: { start: { n_estimators: 20 }, space: { max_features: { low: 0.3, high: 1 } } },
  gaussian_nb: { start: {}, space: { var_smoothing: { low: 1e-12, high: 1e-3, log: true } } },
};

/**
 * Training rows a search's trials can afford per second of budget: at this rate the defaults of
 * every learner and a few dozen trials fit (on this 2-core machine boosting's default fit takes
 * about 1 s per 20,000 rows of 100 features; a budget is shared by a dozen trials and a refit).
 */
export const SEARCH_ROWS_PER_SECOND = 2000;
/** the smallest sample worth searching on */
const MIN_SEARCH_SAMPLE = 20_000;

/** The seeded sample a search's trials train on for a table too large for its budget, or null for all the rows. */
export function searchSampleRows(trainRows: number, budgetSeconds: number): number | null {
  const affordable = Math.max(MIN_SEARCH_SAMPLE, Math.round(budgetSeconds * SEARCH_ROWS_PER_SECOND));
  return trainRows > affordable ? affordable : null;
}

/** a refit on all the rows is expected to take its time on the sample, scaled, and this much more */
export const REFIT_MARGIN = 1.2;

interface Finished {
  proposal: Proposal;
  score: number;
  seconds: number;
}

export interface Proposal {
  learner: Learner;
  params: Params;
}

interface LearnerState {
  learner: Learner;
  best: { score: number; params: Params } | null;
  seconds: number[];
  step: number;
  tried: number;
  /** the scores of its trials, in order */
  scores: number[];
  /** why the search stopped proposing it while others remain */
  retired?: string;
}

/** the reason a first trial stopped at its learner's share of the budget gives (the runtime stops it with this) */
export const SHARE_SPENT = "stopped at its learner's share of the search budget";

/** trials in a row within this relative distance of a learner's best, none better: its settings do not matter here */
const FLAT_TRIALS = 3;
const FLAT_TOLERANCE = 1e-4;

export class BudgetedSearch {
  private readonly states: LearnerState[];
  private readonly random: () => number;
  private metricName = "";
  /** what the search decided that the person should hear (a learner it stopped trying, and why) */
  private notes: string[] = [];

  constructor(learners: Learner[], rows: number, seed: number) {
    this.random = seededRandom(seed + 17);
    // cheapest first: one-shot fits, then gradient descent, then boosting (its cost grows with rows)
    const cost = (l: Learner) => (l.iterative ? (l.family === "linear" ? 1 : 2 + rows / 1e5) : 0);
    this.states = [...learners].sort((a, b) => cost(a) - cost(b)).map((learner) => ({ learner, best: null, seconds: [], step: 0.5, tried: 0, scores: [] }));
  }

  /** Each learner's share of the budget: what one learner's cross-validation may take. */
  shareSeconds(budgetSeconds: number): number {
    return budgetSeconds / Math.max(1, this.states.length);
  }

  /** What the search decided since last asked, for the log. */
  takeNotes(): string[] {
    return this.notes.splice(0);
  }

  /** Whether a learner has been tried yet (its first trial is its defaults, held to its share of the budget). */
  isFirstTrial(p: Proposal): boolean {
    return this.states.find((x) => x.learner === p.learner)?.tried === 0;
  }

  /**
   * The best trial, for a refit on all the rows of a sample's trials: its proposal, and how long
   * the refit should take when it costs `scale` times the trial's own time; null before any
   * trial scored. (A lesser trial is never refit instead: it would spend the time on a model the
   * winner beats.)
   */
  winner(scale: number): { proposal: Proposal; seconds: number } | null {
    const top = this.finished.reduce<Finished | null>((w, t) => (!w || isBetter(this.metricName, t.score, w.score) ? t : w), null);
    return top ? { proposal: top.proposal, seconds: top.seconds * scale * REFIT_MARGIN } : null;
  }

  /** the most a trial should take: a sample's winner must stay refittable on all the rows (see limitTrialSeconds) */
  private trialSecondsLimit = Number.POSITIVE_INFINITY;

  /**
   * Keeps the rounds a winning booster or forest grows to within `seconds` a trial: on a
   * sample, the winner is refit on all the rows in the time kept for it, and a winner grown
   * past that could not be.
   */
  limitTrialSeconds(seconds: number): void {
    this.trialSecondsLimit = seconds;
  }

  /** every scored trial of this search */
  private readonly finished: Finished[] = [];

  next(secondsLeft: number): Proposal | null {
    if (secondsLeft <= 0) return null;
    // the defaults first: the plain run's settings (an empty params is the learner's defaults)
    const untried = this.states.find((s) => s.tried === 0);
    if (untried) return { learner: untried.learner, params: {} };
    const open = this.states.filter((s) => !s.retired);
    const fits = (open.length > 0 ? open : this.states).filter((s) => expectedSeconds(s) <= secondsLeft);
    if (fits.length === 0) return null;
    const ranked = fits.filter((s) => s.best).sort((a, b) => (isBetter(this.metricName, a.best!.score, b.best!.score) ? -1 : 1));
    const first = ranked.length && this.random() < 0.75 ? ranked[0]! : fits[Math.floor(this.random() * fits.length)]!;
    // a setting already tried (a step clamped at a bound lands on it again) would only repeat a known score
    for (const pick of [first, ...fits.filter((s) => s !== first)]) {
      for (let attempt = 0; attempt < 8; attempt++) {
        const params = this.neighbour(pick, pick === ranked[0], secondsLeft);
        if (!this.triedSettings.has(settingsKey(pick.learner.id, params))) return { learner: pick.learner, params };
      }
    }
    return null;
  }

  /** every model and settings tried, so none is proposed twice */
  private readonly triedSettings = new Set<string>();

  /**
   * Trials this search finished before (a resume after a stop): their learners count as tried,
   * their settings and scores as known, so the search goes on from them instead of repeating them.
   */
  remember(trials: ReadonlyArray<{ model: string; params: Params; score: number; seconds: number }>, metricName: string): void {
    this.metricName = metricName;
    for (const t of trials) {
      const s = this.states.find((x) => x.learner.id === t.model);
      if (!s) continue;
      s.tried++;
      s.seconds.push(t.seconds);
      this.triedSettings.add(settingsKey(t.model, t.params));
      if (!s.best || isBetter(metricName, t.score, s.best.score)) s.best = { score: t.score, params: t.params };
    }
  }

  record(p: Proposal, result: RunResult, seconds: number, metricName: string): void {
    this.metricName = metricName;
    const s = this.states.find((x) => x.learner === p.learner)!;
    s.tried++;
    this.triedSettings.add(settingsKey(p.learner.id, { ...(p.learner.defaults ?? {}), ...p.params }));
    s.seconds.push(seconds);
    const score = result.valMetric?.value;
    if (result.status === "cancelled" && s.tried === 1 && !s.retired && result.reason === SHARE_SPENT) {
      s.retired = `its default settings did not finish within its share of the budget (${seconds.toFixed(1)} s): too slow for this table's size`;
      this.notes.push(`${s.learner.id}: ${s.retired}; not tried again`);
    }
    if (score === undefined) return;
    this.finished.push({ proposal: p, score, seconds });
    s.scores.push(score);
    this.retireIfFlat(s, score);
    if (!s.best || isBetter(metricName, score, s.best.score)) {
      s.best = { score, params: p.params };
      s.step = Math.min(2, s.step * 1.3);
    } else s.step = Math.max(0.05, s.step * 0.8);
  }

  /**
   * A learner whose last FLAT_TRIALS settings all scored within FLAT_TOLERANCE of its best,
   * without beating it, is not proposed again while others remain: more near-identical trials
   * (a dozen naive Bayes smoothings, ridge alphas that change nothing) would only spend time.
   */
  private retireIfFlat(s: LearnerState, score: number): void {
    if (s.retired || !s.best || s.scores.length <= FLAT_TRIALS) return;
    const recent = s.scores.slice(-FLAT_TRIALS);
    const near = (v: number) => Math.abs(v - s.best!.score) <= FLAT_TOLERANCE * Math.max(1e-12, Math.abs(s.best!.score));
    if (recent.every(near) && !isBetter(this.metricName, score, s.best.score)) {
      s.retired = `its last ${FLAT_TRIALS} settings scored within ${FLAT_TOLERANCE * 100}% of its best`;
      this.notes.push(`${s.learner.id}: ${s.retired}; not tried again while other models remain`);
    }
  }

  /** A random step from the learner's best configuration, in log space where the dimension is. */
  private neighbour(s: LearnerState, winning: boolean, secondsLeft: number): Params {
    const spec = SEARCH_SPACES[s.learner.id];
    const base = { ...(s.learner.defaults ?? {}), ...(s.best?.params ?? spec?.start ?? {}) };
    const out: Params = { ...base };
    for (const [name, dim] of Object.entries(spec?.space ?? {})) {
      // a setting that is not a number yet ("auto", "sqrt") starts from the middle
      const given = Number(base[name]);
      const current = Number.isFinite(given) ? given : (dim.low + dim.high) / 2;
      const z = gaussian(this.random) * s.step;
      let v = dim.log ? Math.exp(Math.log(Math.max(current, dim.low)) + z * Math.log(dim.high / dim.low) * 0.25) : current + z * (dim.high - dim.low) * 0.25;
      v = Math.min(dim.high, Math.max(dim.low, v));
      out[name] = dim.int ? Math.round(v) : v;
    }
    const roundsParam = ROUNDS_PARAM[s.learner.id];
    if (roundsParam) {
      // spend more on what is winning: more boosting rounds or trees, as far as the time left allows
      const rounds = Number(base[roundsParam.name] ?? 100);
      const perRound = expectedSeconds(s) / Math.max(1, rounds);
      const affordable = perRound > 0 ? Math.floor(Math.min(0.5 * secondsLeft, this.trialSecondsLimit) / perRound) : rounds;
      out[roundsParam.name] = Math.max(10, Math.min(roundsParam.max, winning ? Math.round(rounds * 1.5) : rounds, affordable));
    }
    return out;
  }
}

function expectedSeconds(s: LearnerState): number {
  if (s.seconds.length === 0) return 0;
  return s.seconds.reduce((a, b) => a + b, 0) / s.seconds.length;
}

function gaussian(random: () => number): number {
  const u = Math.max(1e-12, random());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A model and its settings as one comparable string (keys sorted; defaults are filled by the caller alike). */
export function settingsKey(model: string, params: Params): string {
  return `${model} ${JSON.stringify(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)))}`;
}
