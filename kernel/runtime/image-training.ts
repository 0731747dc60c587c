/**
 * Training image classifiers: each model (or each setting a time-budgeted search tries) is one
 * run, batch by batch and epoch by epoch with real events (TRAIN_PROGRESS per batch, the
 * training loss as it goes, validation accuracy and loss per epoch; never paced). A run ends
 * scored on the test images, with its model file (the network's weights and the size it
 * reads) and its artifacts: the confusion matrix, each class's precision and recall, and the
 * misclassified test images (a grid PNG, and JSON naming each file with its true and
 * predicted class).
 */
import { EV } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import { renderChartPng } from "../assets/chart-png";
import { decodeImage, encodePng, resizePixels } from "../data/image-files";
import { InputError } from "../errors/input-error";
import type { EventSink } from "../events/event-sink";
import { confusionMatrixBody, perClassBody } from "../ml/evaluation-artifacts";
import type { ImageData } from "../ml/image/image-data";
import { findImageLearner, IMAGE_LEARNERS, type ImageLearner, type ImageModelState } from "../ml/image/image-learners";
import type { Params } from "../ml/learner";
import { networkInput, type TransferState } from "../ml/image/transfer-model";
import { transferProbabilities } from "../predict/network-forward";
import { argmaxRows } from "../ml/metrics";
import { encodeModelFile, modelFileOf } from "../ml/model-file";
import { emitDescent, newRunId, type RunResult } from "../ml/training-run";
import type { BestRun, LeaderboardRow } from "./leaderboard";
import { classifierMetrics, round4, RunReporter, runSignal, sayIfNearChance, searchInTurns, type ArtifactReady } from "./run-board";

export interface ImageOutcome {
  runs: RunResult[];
  leaderboard: LeaderboardRow[];
  best: BestRun;
}

/** What an image model's file holds: the document `automl predict` and the export's predict.mjs read. */
export interface ImageModelDocument {
  run_id: string;
  task: "image_classification";
  target: string;
  final_metrics: NonNullable<RunResult["finalMetrics"]>;
  image: {
    model_id: string;
    params: Params;
    column: string;
    classes: string[];
    size: ImageData["size"];
    model: ImageModelState;
  };
}

const VL = "https://vega.github.io/schema/vega-lite/v5.json";
const MISCLASSIFIED_SHOWN = 24;
/** the grid's thumbnails are drawn at least this many pixels a side */
const THUMB_SIDE = 56;
/** training loss scalars at most this often (each batch has its progress event) */
const LOSS_EVERY_MS = 250;

export class ImageTraining {
  private readonly report: RunReporter;

  constructor(
    private readonly events: EventSink,
    private readonly assets: AssetStore,
    /** where the images are read from (the misclassified grid draws them at a readable size) */
    private readonly files: AssetStore,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.report = new RunReporter(events, assets, signal);
  }

  async train(models: Array<{ id: string; params?: Params }>, data: ImageData, metric: string, board: ImageOutcome): Promise<ImageOutcome> {
    for (const m of models) {
      const learner = imageLearnerFor(m.id);
      board.runs.push(await this.run(learner, { ...learner.defaults, ...(m.params ?? {}) }, data, metric, board));
      if (this.signal?.aborted) break;
    }
    sayIfNearChance(this.events, board, data.val.labels, data.classes);
    return board;
  }

  /** Every model's defaults first, then each one's next setting in turn, until the budget is spent (run-board.ts searchInTurns). */
  async search(
    models: string[],
    data: ImageData,
    metric: string,
    budgetSeconds: number,
    board: ImageOutcome,
  ): Promise<ImageOutcome & { overrunSeconds: number; trials: number }> {
    const entries = [...new Set(models)].map(imageLearnerFor).map((l) => ({ model: l, id: l.id, defaults: l.defaults, space: l.searchSpace() }));
    const out = await searchInTurns(entries, budgetSeconds, "image", this.events, this.signal, board, (learner, params, deadline) =>
      this.run(learner, params, data, metric, board, deadline),
    );
    sayIfNearChance(this.events, out, data.val.labels, data.classes);
    return out;
  }

  private async run(learner: ImageLearner, params: Params, data: ImageData, metric: string, board: ImageOutcome, deadline?: number): Promise<RunResult> {
    const runId = newRunId(learner.id);
    const started = performance.now();
    const k = data.classes.length;
    const total = data.train.n + data.val.n + data.test.n;
    const epochs = Math.max(1, Math.round(Number(params["epochs"] ?? 1)));
    const batches = Math.ceil(data.train.n / Math.max(1, Math.round(Number(params["batch_size"] ?? 64))));
    const steps = epochs * batches;
    this.events.emit(EV.TRAIN_RUN_STARTED, {
      run_id: runId,
      model_id: learner.id,
      metric_primary: metric,
      config: {
        task_type: "image_classification",
        target: data.target,
        split: { seed: data.seed, test_size: round4(data.test.n / total), val_size: round4(data.val.n / total) },
        preprocess: { image_column: data.imageColumn, ...data.size },
        train: { steps, epochs, rows: data.train.n, scalars_every_ms: LOSS_EVERY_MS },
        params,
      },
    });
    const signal = runSignal(this.signal, deadline);
    let epoch = 1;
    let lastScalar = 0;
    let step = 0;
    // the planned steps; once early stopping has ended the fit, the steps it ran (the last progress reaches its total)
    let totalSteps = steps;
    const progress = (phase: "fit" | "eval" | "finalize", e: number, of: number) =>
      this.events.emit(EV.TRAIN_PROGRESS, {
        run_id: runId,
        epoch: e,
        epochs: of,
        step,
        steps: totalSteps,
        eta_s: step > 0 ? (((performance.now() - started) / 1000) * (totalSteps - step)) / step : null,
        phase,
      });
    progress("fit", 0, epochs);
    let trained: Awaited<ReturnType<ImageLearner["fit"]>> | null = null;
    // the best epoch by validation accuracy, as the trainer keeps it (for saying why it stopped)
    const best = { epoch: 0, accuracy: -Infinity };
    try {
      trained = await learner.fit(data.train, k, params, {
        seed: data.seed,
        val: data.val,
        signal,
        onBatch: async (batch, of, loss) => {
          step = (epoch - 1) * of + batch;
          progress("fit", epoch, epochs);
          if (performance.now() - lastScalar >= LOSS_EVERY_MS || batch === of) {
            lastScalar = performance.now();
            this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: "loss", split: "train", step, value: loss });
          }
          // the conductor's server answers between batches
          await new Promise((r) => setImmediate(r));
        },
        onNote: (text) => this.events.emit(EV.LOG_LINE, { run_id: runId, level: "info", text }),
        onEpoch: async (e) => {
          this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: "accuracy", split: "train", step, value: e.train_accuracy });
          if (e.val_accuracy !== null) this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: "accuracy", split: "val", step, value: e.val_accuracy });
          if (e.val_loss !== null) this.events.emit(EV.METRIC_SCALAR, { run_id: runId, name: "loss", split: "val", step, value: e.val_loss });
          this.events.emit(EV.LOG_LINE, {
            run_id: runId,
            level: "info",
            text: `epoch ${e.epoch}/${e.epochs}: loss ${e.train_loss.toFixed(4)}, val accuracy ${e.val_accuracy?.toFixed(4) ?? "-"}, ${Math.round(e.images_per_s)} images/s`,
          });
          if (e.val_accuracy !== null && e.val_accuracy > best.accuracy) Object.assign(best, { epoch: e.epoch, accuracy: e.val_accuracy });
          epoch = e.epoch + 1;
        },
      });
      // the gradient-descent view: the output layer's real path over the loss of its weights
      await emitDescent(this.events, this.assets, runId, trained.descent, {
        eta: Number(params["learning_rate"] ?? 0),
        steps,
        finalStep: step,
        converged: trained.epochs < epochs,
        pacingMs: 0,
        what: "the output layer's weights, on the kept network's features of the first 512 training images",
      });
      totalSteps = step;
      if (trained.epochs < epochs && best.epoch > 0)
        this.events.emit(EV.LOG_LINE, {
          run_id: runId,
          level: "info",
          text: `stopped early after epoch ${trained.epochs} of ${epochs}: validation accuracy had not passed epoch ${best.epoch}'s ${best.accuracy.toFixed(4)} for ${trained.epochs - best.epoch} epochs; epoch ${best.epoch}'s weights are kept`,
        });
      progress("eval", trained.epochs, trained.epochs);
      const valProba = Float64Array.from(await trained.predict(data.val));
      const testStart = performance.now();
      const testProba = Float64Array.from(await trained.predict(data.test));
      const predictUs = ((performance.now() - testStart) * 1000) / Math.max(1, data.test.n);
      if (trained.model.kind === "pretrained_transfer") checkForwardPass(trained.model.transfer, data, testProba);
      const { valMetric, finalMetrics } = classifierMetrics(
        "image_classification",
        metric,
        { y: data.val.labels, proba: valProba },
        { y: data.test.labels, proba: testProba },
        k,
      );
      const document: ImageModelDocument = {
        run_id: runId,
        task: "image_classification",
        target: data.target,
        final_metrics: finalMetrics,
        image: {
          model_id: learner.id,
          params,
          column: data.imageColumn,
          classes: data.classes,
          size: data.size,
          model: trained.model,
        },
      };
      this.assets.write(modelFileOf(runId), encodeModelFile(document));
      progress("finalize", trained.epochs, trained.epochs);
      await this.writeArtifacts(runId, data, testProba);
      const runtimeS = (performance.now() - started) / 1000;
      this.events.emit(EV.TRAIN_RUN_FINISHED, { run_id: runId, status: "success", final_metrics: finalMetrics });
      this.report.rank(board, {
        model: learner.id,
        params: { ...params, ...(trained.epochs !== epochs ? { epochs_run: trained.epochs } : {}), backend: trained.backend },
        metric: valMetric,
        runtime_s: round4(runtimeS),
        run_id: runId,
        status: "success",
        test_metric: finalMetrics.primary,
        validation: "split",
        predict_us_per_row: round4(predictUs),
        train_rows: data.train.n,
      });
      return { runId, modelId: learner.id, status: "success", model: null, valMetric, finalMetrics, runtimeS, predictUsPerRow: predictUs };
    } catch (err) {
      return this.report.failed(err, signal, board, { runId, modelId: learner.id, params, started, validation: "split" });
    } finally {
      trained?.dispose();
    }
  }

  private async writeArtifacts(runId: string, data: ImageData, testProba: Float64Array): Promise<void> {
    const k = data.classes.length;
    const predicted = argmaxRows(testProba, data.test.n, k);
    this.announce(
      runId,
      "confusion_matrix",
      "Confusion matrix (test)",
      confusionMatrixBody(data.test.labels, predicted, data.classes),
      EV.CONFUSION_MATRIX_READY,
    );
    this.announce(runId, "per_class", "Precision and recall per class (test)", perClassBody(data.test.labels, predicted, data.classes));
    const wrong: Array<{ file: string; url: string; actual: string; predicted: string; confidence: number }> = [];
    let count = 0;
    for (let i = 0; i < data.test.n; i++) {
      if (predicted[i] === data.test.labels[i]) continue;
      count++;
      if (wrong.length < MISCLASSIFIED_SHOWN)
        wrong.push({
          file: data.test.files[i]!,
          url: this.files.url(data.test.files[i]!),
          actual: data.classes[data.test.labels[i]!]!,
          predicted: data.classes[predicted[i]!]!,
          confidence: round4(testProba[i * k + predicted[i]!]!),
        });
    }
    // the grid's PNG first: the chart renderer leaves a PNG that exists alone
    this.assets.write(`runs/${runId}/misclassified.png`, await this.misclassifiedGrid(wrong));
    this.announce(runId, "misclassified", `Misclassified images (test: ${count} of ${data.test.n})`, {
      misclassified: count,
      test_rows: data.test.n,
      shown: wrong,
      vega_lite: {
        $schema: VL,
        description: `The first ${wrong.length} misclassified test images, each with its true → predicted class and the model's confidence`,
        data: {
          values: wrong.map((w, i) => ({ ...w, col: i % 6, row: Math.floor(i / 6), caption: `${w.actual} → ${w.predicted} (${w.confidence.toFixed(2)})` })),
        },
        width: 6 * 96,
        height: Math.max(1, Math.ceil(wrong.length / 6)) * 110,
        layer: [
          {
            mark: { type: "image", width: 72, height: 72 },
            encoding: {
              x: { field: "col", type: "ordinal", axis: null },
              y: { field: "row", type: "ordinal", axis: null },
              url: { field: "url", type: "nominal" },
              tooltip: [{ field: "file" }, { field: "caption" }],
            },
          },
          {
            mark: { type: "text", dy: 46, fontSize: 10 },
            encoding: { x: { field: "col", type: "ordinal" }, y: { field: "row", type: "ordinal" }, text: { field: "caption" } },
          },
        ],
      },
    });
  }

  /**
   * The images six a row, each captioned "true → predicted (confidence)": a vega-lite chart
   * whose image marks hold each image as a data: URI, drawn to PNG as the other charts are.
   */
  private async misclassifiedGrid(wrong: Array<{ file: string; actual: string; predicted: string; confidence: number }>): Promise<Uint8Array> {
    const cols = 6;
    const cells = wrong.map((w, i) => {
      let url = "";
      try {
        url = `data:image/png;base64,${encodePng(resizePixels(decodeImage(this.files.read(w.file)), THUMB_SIDE, THUMB_SIDE, 3)).toString("base64")}`;
      } catch {
        // unreadable now: its cell keeps its caption, with no image
      }
      return { url, col: i % cols, row: Math.floor(i / cols), caption: `${w.actual} → ${w.predicted} (${w.confidence.toFixed(2)})` };
    });
    const rows = Math.max(1, Math.ceil(cells.length / cols));
    return renderChartPng(
      {
        width: cols * 110,
        height: rows * 96,
        data: { values: cells },
        encoding: { x: { field: "col", type: "ordinal", axis: null }, y: { field: "row", type: "ordinal", axis: null } },
        layer: [
          { mark: { type: "image", width: THUMB_SIDE, height: THUMB_SIDE, yOffset: -8 }, encoding: { url: { field: "url", type: "nominal" } } },
          { mark: { type: "text", yOffset: 32, fontSize: 11 }, encoding: { text: { field: "caption" } } },
        ],
        config: { view: { stroke: null } },
      },
      cols * 110 + 40,
    );
  }

  private announce(runId: string, kind: string, name: string, body: Record<string, unknown>, ready?: ArtifactReady): void {
    this.report.announce(runId, kind, name, body, ready);
  }
}

/**
 * A transfer model is kept only when the plain-JavaScript forward pass that predicts with it
 * (`automl predict`, an export's predict.mjs) gives TensorFlow.js's probabilities on the first
 * test images: else it would predict differently wherever it is used.
 */
function checkForwardPass(state: TransferState, data: ImageData, testProba: Float64Array): void {
  const k = data.classes.length;
  const size = data.size.width * data.size.height * data.size.channels;
  for (let i = 0; i < Math.min(2, data.test.n); i++) {
    const input = networkInput(data.test.pixels.subarray(i * size, (i + 1) * size), data.size, state.input, state.input_range);
    const js = transferProbabilities(state, input);
    const gap = Math.max(...Array.from(js, (p, c) => Math.abs(p - testProba[i * k + c]!)));
    if (!(gap <= 1e-3))
      throw new Error(
        `the saved network's forward pass differs from TensorFlow.js's by ${gap.toExponential(2)} on a test image, so its model would predict otherwise elsewhere: not kept`,
      );
  }
}

export function imageLearnerFor(id: string): ImageLearner {
  const l = findImageLearner(id);
  if (!l) throw new InputError(`Model ${JSON.stringify(id)} cannot classify images. Choose from: ${IMAGE_LEARNERS.map((x) => x.id).join(", ")}.`);
  if (!l.available()) throw new InputError(`Model ${id} cannot train here: ${l.why}.`);
  return l;
}
