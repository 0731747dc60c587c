/**
 * Training text classifiers on TF-IDF rows: each model (or each setting a time-budgeted search
 * tries) is one run, epoch by epoch where the model is fitted by gradient descent (each epoch's
 * training loss and validation accuracy are real events; never paced). A run ends scored on the
 * test rows, with its model file (the vectorizer and the weights: everything a prediction
 * needs) and its artifacts: the confusion matrix, each class's precision and recall, the
 * misclassified test texts, and the terms that weigh most for each class.
 */
import { EV } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import { InputError } from "../errors/input-error";
import type { EventSink } from "../events/event-sink";
import { confusionMatrixBody, perClassBody } from "../ml/evaluation-artifacts";
import type { Params } from "../ml/learner";
import { argmaxRows } from "../ml/metrics";
import { encodeModelFile, modelFileOf } from "../ml/model-file";
import { newRunId, type RunResult } from "../ml/training-run";
import { findTextLearner, TEXT_LEARNERS, textScores, type TextLearner, type TextModelState } from "../ml/text/text-classifiers";
import type { TextData } from "../ml/text/text-data";
import type { BestRun, LeaderboardRow } from "./leaderboard";
import { classifierMetrics, round4, RunReporter, runSignal, sayIfNearChance, searchInTurns, type ArtifactReady } from "./run-board";

export interface TextOutcome {
  runs: RunResult[];
  leaderboard: LeaderboardRow[];
  best: BestRun;
}

/** What a text model's file holds: the document `automl predict` and the export's predict.mjs read. */
export interface TextModelDocument {
  run_id: string;
  task: "text_classification";
  target: string;
  final_metrics: NonNullable<RunResult["finalMetrics"]>;
  text: {
    model_id: string;
    params: Params;
    column: string;
    classes: string[];
    vectorizer: { settings: TextData["vectorizer"]["settings"]; words: string[]; bucket_feature: Int32Array; idf: Float32Array };
    model: TextModelState;
  };
}

const VL = "https://vega.github.io/schema/vega-lite/v5.json";
const MISCLASSIFIED_SHOWN = 25;
const TEXT_SHOWN_CHARS = 300;
const TOP_TERMS = 15;

export class TextTraining {
  private readonly report: RunReporter;

  constructor(
    private readonly events: EventSink,
    private readonly assets: AssetStore,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.report = new RunReporter(events, assets, signal);
  }

  async train(models: Array<{ id: string; params?: Params }>, data: TextData, metric: string, board: TextOutcome): Promise<TextOutcome> {
    for (const m of models) {
      const learner = textLearnerFor(m.id);
      board.runs.push(await this.run(learner, { ...learner.defaults, ...(m.params ?? {}) }, data, metric, board));
      if (this.signal?.aborted) break;
    }
    sayIfNearChance(this.events, board, data.val.y, data.classes);
    return board;
  }

  /** Every model's defaults first, then each one's next setting in turn, until the budget is spent (run-board.ts searchInTurns). */
  async search(
    models: string[],
    data: TextData,
    metric: string,
    budgetSeconds: number,
    board: TextOutcome,
  ): Promise<TextOutcome & { overrunSeconds: number; trials: number }> {
    const entries = [...new Set(models)].map(textLearnerFor).map((l) => ({ model: l, id: l.id, defaults: l.defaults, space: l.searchSpace() }));
    const out = await searchInTurns(entries, budgetSeconds, "text", this.events, this.signal, board, (learner, params, deadline) =>
      this.run(learner, params, data, metric, board, deadline),
    );
    sayIfNearChance(this.events, out, data.val.y, data.classes);
    return out;
  }

  private async run(learner: TextLearner, params: Params, data: TextData, metric: string, board: TextOutcome, deadline?: number): Promise<RunResult> {
    const runId = newRunId(learner.id);
    const started = performance.now();
    const k = data.classes.length;
    const total = data.train.rows.length + data.val.rows.length + data.test.rows.length;
    const plannedEpochs = Math.max(1, Math.round(Number(params["epochs"] ?? 1)));
    this.events.emit(EV.TRAIN_RUN_STARTED, {
      run_id: runId,
      model_id: learner.id,
      metric_primary: metric,
      config: {
        task_type: "text_classification",
        target: data.target,
        split: { seed: data.seed, test_size: round4(data.test.rows.length / total), val_size: round4(data.val.rows.length / total) },
        preprocess: { text_column: data.textColumn, features: data.vectorizer.idf.length, words: data.vectorizer.words.length, ...data.vectorizer.settings },
        train: { steps: plannedEpochs, epochs: plannedEpochs, rows: data.train.rows.length },
        params,
      },
    });
    const signal = runSignal(this.signal, deadline);
    const progress = (epoch: number, epochs: number, phase: "fit" | "eval" | "finalize") =>
      this.events.emit(EV.TRAIN_PROGRESS, {
        run_id: runId,
        epoch,
        epochs,
        step: epoch,
        steps: epochs,
        eta_s: epoch > 0 ? (((performance.now() - started) / 1000) * (epochs - epoch)) / epoch : null,
        phase,
      });
    progress(0, plannedEpochs, "fit");
    let lastEpoch = 0;
    try {
      const fitted = await learner.fit(data.train.x, data.train.y, k, params, {
        seed: data.seed,
        val: data.val,
        signal,
        onEpoch: async (e) => {
          lastEpoch = e.epoch;
          progress(e.epoch, e.epochs, "fit");
          this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: "loss", split: "train", step: e.epoch, value: e.train_loss });
          if (e.val_accuracy !== null)
            this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: "accuracy", split: "val", step: e.epoch, value: e.val_accuracy });
          if (e.val_loss !== null) this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: "log_loss", split: "val", step: e.epoch, value: e.val_loss });
          // the conductor's server answers between epochs
          await new Promise((r) => setImmediate(r));
          signal?.throwIfAborted();
        },
      });
      // a fit in one pass (naive Bayes) reports no epochs of its own: its one step is the pass
      if (lastEpoch < fitted.epochs) progress(fitted.epochs, fitted.epochs, "fit");
      progress(fitted.epochs, fitted.epochs, "eval");
      const valScores = textScores(fitted.state, data.val.x, k);
      const testStart = performance.now();
      const testScores = textScores(fitted.state, data.test.x, k);
      const predictUs = ((performance.now() - testStart) * 1000) / Math.max(1, data.test.rows.length);
      const { valMetric, finalMetrics } = classifierMetrics(
        "text_classification",
        metric,
        { y: data.val.y, proba: valScores },
        { y: data.test.y, proba: testScores },
        k,
      );
      const v = data.vectorizer;
      const document: TextModelDocument = {
        run_id: runId,
        task: "text_classification",
        target: data.target,
        final_metrics: finalMetrics,
        text: {
          model_id: learner.id,
          params,
          column: data.textColumn,
          classes: data.classes,
          vectorizer: { settings: v.settings, words: v.words, bucket_feature: v.bucketFeature, idf: v.idf },
          model: fitted.state,
        },
      };
      this.assets.write(modelFileOf(runId), encodeModelFile(document));
      progress(fitted.epochs, fitted.epochs, "finalize");
      this.writeArtifacts(runId, data, fitted.state, testScores);
      const runtimeS = (performance.now() - started) / 1000;
      this.events.emit(EV.TRAIN_RUN_FINISHED, { run_id: runId, status: "success", final_metrics: finalMetrics });
      this.report.rank(board, {
        model: learner.id,
        params: { ...params, ...(fitted.epochs !== plannedEpochs && "epochs" in params ? { epochs_run: fitted.epochs } : {}) },
        metric: valMetric,
        runtime_s: round4(runtimeS),
        run_id: runId,
        status: "success",
        test_metric: finalMetrics.primary,
        validation: "split",
        predict_us_per_row: round4(predictUs),
        train_rows: data.train.rows.length,
      });
      return { runId, modelId: learner.id, status: "success", model: null, valMetric, finalMetrics, runtimeS, predictUsPerRow: predictUs };
    } catch (err) {
      return this.report.failed(err, signal, board, { runId, modelId: learner.id, params, started, validation: "split" });
    }
  }

  private writeArtifacts(runId: string, data: TextData, state: TextModelState, testScores: Float64Array): void {
    const k = data.classes.length;
    const predicted = argmaxRows(testScores, data.test.rows.length, k);
    this.announce(runId, "confusion_matrix", "Confusion matrix (test)", confusionMatrixBody(data.test.y, predicted, data.classes), EV.CONFUSION_MATRIX_READY);
    this.announce(runId, "per_class", "Precision and recall per class (test)", perClassBody(data.test.y, predicted, data.classes));
    const wrong: Array<Record<string, string | number>> = [];
    for (let i = 0; i < predicted.length && wrong.length < MISCLASSIFIED_SHOWN; i++) {
      if (predicted[i] === data.test.y[i]) continue;
      const row = data.test.rows[i]!;
      const text = data.test.texts[i]!.replace(/\s+/g, " ").trim();
      wrong.push({
        row,
        actual: data.classes[data.test.y[i]!]!,
        predicted: data.classes[predicted[i]!]!,
        confidence: round4(testScores[i * k + predicted[i]!]!),
        text: text.length > TEXT_SHOWN_CHARS ? `${text.slice(0, TEXT_SHOWN_CHARS)}…` : text,
      });
    }
    const misclassifiedCount = predicted.reduce((n, p, i) => n + (p === data.test.y[i] ? 0 : 1), 0);
    this.announce(runId, "misclassified", `Misclassified texts (test: ${misclassifiedCount} of ${predicted.length})`, {
      misclassified: misclassifiedCount,
      test_rows: predicted.length,
      shown: wrong,
      vega_lite: {
        $schema: VL,
        description: `The first ${wrong.length} misclassified test texts: true and predicted label, and the model's confidence in its prediction`,
        data: { values: wrong.map((w) => ({ ...w, text: String(w["text"]).slice(0, 90) })) },
        mark: { type: "text", align: "left", limit: 620, tooltip: true },
        encoding: { y: { field: "row", type: "ordinal", title: "row" }, text: { field: "line", type: "nominal" } },
        transform: [{ calculate: "datum.actual + ' → ' + datum.predicted + ' (' + format(datum.confidence, '.2f') + '): ' + datum.text", as: "line" }],
        width: 640,
      },
    });
    const terms = topTerms(state, data);
    this.announce(runId, "top_terms", "Terms that weigh most per class", {
      classes: terms,
      vega_lite: {
        $schema: VL,
        description: "The words and word pairs whose weights point most to each class (character n-grams are left out: they do not read as words)",
        data: { values: terms.flatMap((t) => t.terms.map((x) => ({ class: t.class, term: x.term, weight: x.weight }))) },
        facet: { column: { field: "class", type: "nominal", title: null } },
        spec: {
          width: 180,
          mark: { type: "bar", tooltip: true },
          encoding: { y: { field: "term", type: "nominal", sort: "-x", title: null }, x: { field: "weight", type: "quantitative" } },
        },
        resolve: { scale: { y: "independent" } },
      },
    });
  }

  private announce(runId: string, kind: string, name: string, body: Record<string, unknown>, ready?: ArtifactReady): void {
    this.report.announce(runId, kind, name, body, ready);
  }
}

/** The word features whose weights point most to each class: a linear model's weights (for two classes, positive toward the second), naive Bayes' log-probability against the other classes'. */
function topTerms(state: TextModelState, data: TextData): Array<{ class: string; terms: Array<{ term: string; weight: number }> }> {
  const words = data.vectorizer.words;
  const d = data.vectorizer.idf.length;
  const k = data.classes.length;
  const weightOf = (c: number, f: number): number => {
    if (state.kind === "naive_bayes") {
      let others = 0;
      for (let o = 0; o < k; o++) if (o !== c) others += state.logProb[o * d + f]!;
      return state.logProb[c * d + f]! - others / Math.max(1, k - 1);
    }
    if (state.outputs === 1) return c === 1 ? state.weights[f]! : -state.weights[f]!;
    return state.weights[c * d + f]!;
  };
  return data.classes.map((label, c) => {
    const scored = words.map((term, f) => ({ term, weight: weightOf(c, f) })).sort((a, b) => b.weight - a.weight);
    return { class: label, terms: scored.slice(0, TOP_TERMS).map((t) => ({ term: t.term, weight: round4(t.weight) })) };
  });
}

export function textLearnerFor(id: string): TextLearner {
  const l = findTextLearner(id);
  if (!l) throw new InputError(`Model ${JSON.stringify(id)} cannot classify texts. Choose from: ${TEXT_LEARNERS.map((x) => x.id).join(", ")}.`);
  return l;
}
