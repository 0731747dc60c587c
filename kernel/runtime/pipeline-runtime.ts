/**
 * The runtime library: the calls a pipeline is made of (load, profile, split, plan,
 * preprocess, train). The conductor's stages call these, and the notebook's cells call the
 * same ones, so a stage and its cell cannot drift apart. Each call emits its contract events
 * under the stage it belongs to and writes its assets.
 */
import * as path from "node:path";
import { ensureRunPngs } from "../assets/chart-png";
import {
  DEFAULT_KEEP_MODELS,
  EV,
  STAGE_IDS,
  applyEvent,
  projectMetaSchema,
  snapshotFromEvents,
  type AgentSource,
  type AnyEventEnvelope,
  type EventName,
  type EventPayload,
  type MetricValue,
  type PreprocessStep,
  type ProjectMeta,
  type ProjectSnapshot,
  type StageId,
  type TaskType,
  type ForecastFraming,
} from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import { planPreprocessing } from "../data/preprocess-plan";
import { splitForTask, type PreparedData, type SplitData } from "../data/prepared-data";
import type { SplitOptions } from "../data/row-split";
import { isoOfEpoch, type Table } from "../data/table";
import type { LoadedTable } from "../data/table-loader";
import { loadTableOffThread, prepareOnThread, profileOnThread } from "../data/table-load";
import type { TableProfile } from "../data/table-profile";
import { InputError } from "../errors/input-error";
import type { EventSink } from "../events/event-sink";
import { averagedEnsemble } from "../ml/averaged-ensemble";
import type { Learner, Params } from "../ml/learner";
import { BudgetedSearch, REFIT_MARGIN, SHARE_SPENT, settingsKey } from "../ml/budgeted-search";
import { selectRows } from "../ml/row-selection";
import { seededSample } from "../data/seeded-random";
import { isBetter } from "../ml/metrics";
import { MODEL_FILE_FOLDER, modelFileOf } from "../ml/model-file";
import { findLearner, learnersFor, restoreModel } from "../ml/model-zoo";
import { evaluate, type RunResult } from "../ml/training-run";
import { anySignal, CV_FOLDS, crossValidationFolds, type Fold } from "../ml/cross-validation";
import { TrialWorker } from "../ml/trial-worker";
import { exportProjectZip, type ExportOptions } from "../export/project-export";
import { currentNarrative, REPORT_FILE, REPORT_HTML_FILE, renderReport } from "../export/project-report";
import { reportHtml } from "../export/report-html";
import { DatasetFinder, finderSettingsFor } from "../agents/dataset-finder";
import type { FetchedData, FetchProgress } from "../agents/dataset-ranking";
import { NOTEBOOK_FILE } from "../notebook/pipeline-notebook";
import { forecastData, isForecastData, trainingPoints, type ForecastData } from "../ml/forecast/forecast-data";
import { FORECASTERS } from "../ml/forecast/forecast-zoo";
import { ForecastTraining } from "./forecast-training";
import { announceBoard, rankRows, type BestRun, type LeaderboardRow } from "./leaderboard";
import { isTextData, prepareTextYielding, type TextData } from "../ml/text/text-data";
import { TEXT_LEARNERS } from "../ml/text/text-classifiers";
import { TextTraining } from "./text-training";
import { imageColumnOf } from "../data/image-files";
import { copyNotesBeside } from "../data/image-folder";
import { imageFiles, isImageData, prepareImagesYielding, profileImagesYielding, type ImageData, type ImageProfile } from "../ml/image/image-data";
import { IMAGE_LEARNERS } from "../ml/image/image-learners";
import { pretrainedFolderProblem } from "../ml/image/pretrained-network";
import { ImageTraining } from "./image-training";

export interface RuntimeOptions {
  sinkFor(stage: StageId): EventSink;
  assets: AssetStore;
  /** where the project's own files are read from, when not from `assets` (a standalone notebook) */
  projectFiles?: AssetStore;
  pacing: boolean;
  signal?: AbortSignal;
  /** lets a notebook kernel wait for training that an interrupt is stopping */
  track?: <T>(work: Promise<T>) => Promise<T>;
  /**
   * the project's state now: the leaderboard a training call adds to when it is not given one,
   * what the report and the export describe. Without it (a standalone notebook) it is read from
   * the project's event log, with this runtime's own events after it.
   */
  state?: () => Promise<ProjectSnapshot>;
  /** standalone only: the events this runtime emitted, applied after the project's log */
  ownEvents?: () => ReadonlyArray<{ stage: StageId; name: EventName; payload: unknown }>;
}

export type { PreparedData, SplitData, ForecastData, TextData, ImageData, ImageProfile };
/** what training reads: a table's prepared features, framed series, texts as TF-IDF rows, or images as pixels */
export type TrainingData = PreparedData | ForecastData | TextData | ImageData;
export type { LeaderboardRow };

export interface TrainOptions {
  /** the validation metric that ranks runs */
  metric: string;
  /** rows already on the leaderboard (an edited TRAIN cell adds to them) */
  leaderboard?: LeaderboardRow[];
  best?: BestRun;
  /** a new leaderboard for these runs (a TRAIN pass ranks its own runs; earlier ones stay in the log) */
  newBoard?: boolean;
}

export interface SearchOptions extends TrainOptions {
  budgetSeconds: number;
  seed?: number;
  /** rank trials by k-fold cross-validation on training + validation rows; default: for tables of up to CV_MAX_ROWS */
  crossValidation?: boolean;
  /** the search carries on from these rows, its own trials before a stop: it does not repeat them */
  resumeFrom?: boolean;
  /** train the trials on a seeded sample of this many training rows, then refit the winner on all of them if time allows (the plan's search_sample_rows) */
  sampleRows?: number | null;
}

export interface TrainOutcome {
  runs: RunResult[];
  leaderboard: LeaderboardRow[];
  best: BestRun;
}

const SAMPLE_ROWS_IN_EVENT = 5;
/** the share of a search's budget kept for training the average of its best models */
const ENSEMBLE_SHARE = 0.05;
/** the share of a search's budget kept for refitting the winner on all the rows, when the trials trained on a sample */
const REFIT_SHARE = 0.4;
/** a first trial (a learner's defaults) may take this many times its learner's share of the budget before it is stopped as too slow */
const FIRST_TRIAL_SHARES = 1.5;
/** up to this many training + validation rows, one validation split is too noisy to rank trials by */
const CV_MAX_ROWS = 2000;
const SAMPLE_ROWS_IN_ASSET = 100;
/** the data view's grid: at most this many images, this many of a class */
const SAMPLE_IMAGES = 40;
const SAMPLE_IMAGES_PER_CLASS = 4;

export class PipelineRuntime {
  /** where training runs: a worker thread, off this thread's event loop */
  private readonly trials = new TrialWorker();
  /** the workspace's data sources, made on first use */
  private finder: DatasetFinder | null = null;
  /** what loading each table found (notes) and guessed (warnings), for its profile */
  private readonly readNotes = new WeakMap<Table, { notes: readonly string[]; warnings: readonly string[] }>();

  constructor(private readonly options: RuntimeOptions) {}

  /** Ends the training worker (a trial running in it is answered as cancelled). */
  close(): Promise<void> {
    return this.trials.close();
  }

  private events(stage: StageId): EventSink {
    return this.options.sinkFor(stage);
  }

  get assets(): AssetStore {
    return this.options.assets;
  }

  /**
   * Puts the chosen dataset in the project and loads it: a file already in the project is used
   * as it is; otherwise the dataset is fetched from its source (the bundled catalog, the
   * workspace, the Hub, Kaggle: see fetchDataset) into the project's data folder (the scratch
   * folder when the project's folder is read-only, as in a standalone notebook). Announces the
   * selection with the file, then loads it.
   */
  async useDataset(dataset: { id: string; file?: string }): Promise<LoadedTable> {
    const files = this.projectFiles;
    let source = dataset.file ? files.regularFile(dataset.file) : null;
    if (!source && dataset.file && files.exists(dataset.file)) {
      throw new InputError(
        `The data file ${dataset.file} is not a regular file inside the project folder (a link leading out of it, or a special file): put the data file itself there.`,
      );
    }
    let rel = dataset.file;
    let revision: string | null = null;
    if (!source) {
      if (dataset.id.startsWith("upload:")) {
        throw new InputError(`The data file ${dataset.file} does not exist in the project folder any more: put the file back, or upload it again.`);
      }
      const fetched = await this.fetchDataset(dataset.id);
      source = fetched.file;
      rel = path.relative(this.assets.root, fetched.file).split(path.sep).join("/");
      revision = fetched.revision;
    }
    this.events("DATA_SOURCE").emit(EV.DATASET_SELECTED, { dataset_id: dataset.id, ...(rel ? { file: rel } : {}), ...(revision ? { revision } : {}) });
    return this.loadData(source);
  }

  /**
   * Fetches a dataset by its id (hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME,
   * workspace:PATH) into the data folder, saying what it chose and its progress as it goes.
   */
  async fetchDataset(id: string): Promise<FetchedData> {
    const events = this.events("DATA_SOURCE");
    const finder = this.datasets;
    const source = finder.sourceFor(id);
    const candidate = await finder.lookup(id);
    if (candidate.license && !candidate.license.allowed) {
      throw new InputError(`${id} cannot be used: its license ${candidate.license.license} is rejected (${candidate.license.note}). Choose another dataset.`);
    }
    const progress = downloadProgress(id, (text) => events.emit(EV.LOG_LINE, { run_id: null, level: "info", text }));
    const fetched = await source.fetch(candidate, this.assets.absolute("data"), progress, this.options.signal);
    for (const text of fetched.notes) events.emit(EV.LOG_LINE, { run_id: null, level: "info", text: `${id}: ${text}` });
    return fetched;
  }

  /** The data finder of this project's workspace (sources configured from the environment). */
  get datasets(): DatasetFinder {
    this.finder ??= new DatasetFinder(finderSettingsFor(this.projectFiles.root), (text) =>
      this.events("DATA_SOURCE").emit(EV.LOG_LINE, { run_id: null, level: "warn", text }),
    );
    return this.finder;
  }

  /** Reads a CSV or JSON-records file (in a worker thread, so the caller's event loop stays free) and announces a sample of it. */
  async loadData(file: string): Promise<LoadedTable> {
    // the thread stays with its copy of the table: the profile and the preprocessing run there
    const loaded = await loadTableOffThread(file, file, { keepThread: true });
    const { table } = loaded;
    this.readNotes.set(table, { notes: loaded.notes, warnings: loaded.warnings });
    for (const text of [...copyNotesBeside(file), ...loaded.notes]) this.events("DATA_SOURCE").emit(EV.LOG_LINE, { run_id: null, level: "info", text });
    for (const text of loaded.warnings) this.events("DATA_SOURCE").emit(EV.LOG_LINE, { run_id: null, level: "warn", text });
    const sample = this.assets.writeJson("data/sample.json", {
      file: path.basename(file),
      columns: table.columns.map((c) => ({ name: c.name, kind: c.kind })),
      n_rows: table.nRows,
      rows: table.records(0, SAMPLE_ROWS_IN_ASSET),
    });
    const sampled = this.sampleImages(table);
    this.events("DATA_SOURCE").emit(EV.DATASET_SAMPLE_READY, {
      asset_url: sample.url,
      columns: table.columnNames,
      n_rows: table.nRows,
      sample_rows: table.records(0, SAMPLE_ROWS_IN_EVENT),
      ...(sampled ? { images: sampled.images, image_labels: sampled.labels } : {}),
    });
    return loaded;
  }

  /** Profiles the table (in its thread, when it was loaded by loadData); the missingness table and the target distribution become assets. */
  async profile(table: Table, options: { target: string; task: TaskType }): Promise<TableProfile> {
    const events = this.events("PROFILE_DATA");
    events.emit(EV.PROFILE_PROGRESS, { phase: "columns", pct: 0 });
    // the share of the table's columns profiled, as the thread reports it (the charts' assets take the last 10%)
    const profile = await profileOnThread(table, options.target, options.task, (f) =>
      events.emit(EV.PROFILE_PROGRESS, { phase: "columns", pct: Math.round(90 * f) }),
    );
    const missingness = this.assets.writeJson("profile/missingness.json", {
      columns: profile.columns,
      vega_lite: {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        description: "Missing values per column (%)",
        data: { values: profile.columns.map((c) => ({ column: c.name, missing_pct: c.missing_pct })) },
        mark: { type: "bar", tooltip: true },
        encoding: { x: { field: "missing_pct", type: "quantitative", title: "% missing" }, y: { field: "column", type: "nominal", sort: "-x" } },
      },
    });
    events.emit(EV.ARTIFACT_ADDED, {
      artifact: { id: "missingness", type: "missingness_table", name: "Missing values per column", url: missingness.url, meta: { format: "json" } },
    });
    events.emit(EV.MISSINGNESS_TABLE_READY, { asset_url: missingness.url });
    if (profile.target) {
      const t = profile.target;
      const values = t.kind === "histogram" ? t.bins.map((b) => ({ start: b.start, end: b.end, count: b.count })) : t.classes;
      const dist = this.assets.writeJson("profile/target_distribution.json", {
        ...t,
        vega_lite: {
          $schema: "https://vega.github.io/schema/vega-lite/v5.json",
          description: `Distribution of ${t.column}`,
          data: { values },
          mark: { type: "bar", tooltip: true },
          encoding:
            t.kind === "histogram"
              ? {
                  x: { field: "start", bin: { binned: true }, type: "quantitative", title: t.column },
                  x2: { field: "end" },
                  y: { field: "count", type: "quantitative" },
                }
              : { x: { field: "label", type: "nominal", title: t.column, sort: "-y" }, y: { field: "count", type: "quantitative" } },
        },
      });
      events.emit(EV.ARTIFACT_ADDED, {
        artifact: { id: "target-distribution", type: "target_distribution", name: `Distribution of ${t.column}`, url: dist.url, meta: { format: "json" } },
      });
      events.emit(EV.TARGET_DISTRIBUTION_READY, { asset_url: dist.url });
    }
    events.emit(EV.PROFILE_PROGRESS, { phase: "done", pct: 100 });
    // how the file was read belongs to the profile too: a guessed encoding or date order is a thing to check
    const read = this.readNotes.get(table);
    if (read) profile.warnings = [...read.warnings, ...profile.warnings];
    events.emit(EV.PROFILE_SUMMARY, {
      n_rows: profile.n_rows,
      n_cols: profile.n_cols,
      missing_pct: profile.missing_pct,
      types_breakdown: profile.types_breakdown,
      warnings: profile.warnings,
      ...(read?.notes.length ? { read_as: [...read.notes] } : {}),
    });
    return profile;
  }

  /** A seeded train/validation/test split of the rows with a target. */
  split(table: Table, options: { target: string; task: TaskType } & SplitOptions): SplitData {
    const data = splitForTask(table, options);
    const { split } = data;
    this.events("PREPROCESS").emit(EV.SPLIT_SUMMARY, {
      train_rows: split.train.length,
      val_rows: split.val.length,
      test_rows: split.test.length,
      stratified: split.stratified,
      seed: split.seed,
    });
    return data;
  }

  /**
   * Frames the table as time series and cuts it by time, as the plan's framing says: the last
   * `horizon` steps of each series are its test window, the backtests' windows come before it,
   * nothing is shuffled. Says where the cut-offs are, and what framing changed.
   */
  frameSeries(table: Table, options: { target: string; seed: number; framing: ForecastFraming }): ForecastData {
    const data = forecastData(table, options.target, options.framing, options.seed);
    const events = this.events("PREPROCESS");
    for (const text of data.notes) events.emit(EV.LOG_LINE, { run_id: null, level: "info", text: `series: ${text}` });
    const first = data.frame.series[0]!;
    const cut = data.cuts[0]!;
    const dateOnly = !["minute", "hour"].includes(data.frame.frequency.unit);
    const n = data.frame.series.length;
    events.emit(EV.SPLIT_SUMMARY, {
      train_rows: trainingPoints(data),
      val_rows: data.folds * data.horizon * n,
      test_rows: data.horizon * n,
      stratified: false,
      seed: options.seed,
      kind: "time_ordered",
      horizon: data.horizon,
      cutoffs: cut.origins.map((o) => isoOfEpoch(first.times[o]!, dateOnly)),
      test_from: isoOfEpoch(first.times[cut.testStart]!, dateOnly),
    });
    return data;
  }

  /**
   * An image index's sample for the data view's grid: the first images of each class (the
   * grid groups them by the label beside each file), as the project's asset URLs.
   */
  private sampleImages(table: Table): { images: string[]; labels: string[] } | null {
    const column = imageColumnOf(table);
    if (!column) return null;
    const files = imageFiles(table, column);
    // the index's other column is its label (digits are read as numbers)
    const label = table.columns.find((c) => c.name !== column);
    const perClass = new Map<string, number>();
    const images: string[] = [];
    const labels: string[] = [];
    for (let r = 0; r < files.length && images.length < SAMPLE_IMAGES; r++) {
      const key = label ? String(table.cell(r, label.name)) : "";
      const seen = perClass.get(key) ?? 0;
      if (seen >= SAMPLE_IMAGES_PER_CLASS || !files[r] || !this.projectFiles.regularFile(files[r]!)) continue;
      perClass.set(key, seen + 1);
      images.push(this.projectFiles.url(files[r]!));
      labels.push(key);
    }
    return { images, labels };
  }

  /**
   * The images behind an image index, each decoded once: images per class, sizes and channels,
   * the files that cannot be read (left out), the size a plan resizes to. Announced as the
   * profile (PROFILE_SUMMARY counts images, its types the sizes) and the class distribution.
   */
  async profileImages(table: Table, options: { target: string }): Promise<ImageProfile> {
    const events = this.events("PROFILE_DATA");
    const column = imageColumnOf(table);
    if (!column) throw new InputError(`The data has no column of image files (PNG or JPEG paths): columns are ${table.columnNames.join(", ")}.`);
    let last = -1;
    const profile = await profileImagesYielding(
      table,
      column,
      options.target,
      (p) => this.projectFiles.read(p),
      (fraction) => {
        const pct = Math.round(fraction * 100);
        if (pct >= last + 10) ((last = pct), events.emit(EV.PROFILE_PROGRESS, { phase: "decoding images", pct }));
      },
    );
    const dist = this.assets.writeJson("profile/target_distribution.json", {
      column: options.target,
      kind: "classes",
      classes: profile.classes,
      vega_lite: {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        description: `Images per class (${options.target})`,
        data: { values: profile.classes },
        mark: { type: "bar", tooltip: true },
        encoding: { x: { field: "label", type: "nominal", title: options.target, sort: null }, y: { field: "count", type: "quantitative", title: "images" } },
      },
    });
    events.emit(EV.ARTIFACT_ADDED, {
      artifact: { id: "target-distribution", type: "target_distribution", name: `Images per ${options.target}`, url: dist.url, meta: { format: "json" } },
    });
    events.emit(EV.TARGET_DISTRIBUTION_READY, { asset_url: dist.url });
    const read = this.readNotes.get(table);
    const types: Record<string, number> = {};
    for (const s of profile.sizes.slice(0, 5)) types[`${s.width}×${s.height}`] = s.count;
    if (profile.sizes.length > 5) types["other sizes"] = profile.sizes.slice(5).reduce((n, s) => n + s.count, 0);
    events.emit(EV.PROFILE_PROGRESS, { phase: "done", pct: 100 });
    events.emit(EV.PROFILE_SUMMARY, {
      n_rows: profile.images,
      n_cols: table.nCols,
      missing_pct: Math.round((1000 * profile.unreadable.length) / Math.max(1, table.nRows)) / 10,
      types_breakdown: types,
      warnings: [...(read?.warnings ?? []), ...profile.warnings],
      ...(read?.notes.length ? { read_as: [...read.notes] } : {}),
    });
    return profile;
  }

  /** Each split's images decoded and resized as the plan's image_pixels step says (unreadable files left out, said). */
  async prepareImages(steps: PreprocessStep[], table: Table, data: SplitData): Promise<ImageData> {
    const started = performance.now();
    const prepared = await prepareImagesYielding(steps, table, data, (p) => this.projectFiles.read(p));
    const events = this.events("PREPROCESS");
    for (const text of prepared.notes) events.emit(EV.LOG_LINE, { run_id: null, level: "warn", text });
    const { split } = data;
    if (prepared.train.n + prepared.val.n + prepared.test.n < split.train.length + split.val.length + split.test.length)
      // the split counted rows; what trains and is scored are the images that could be read
      events.emit(EV.SPLIT_SUMMARY, {
        train_rows: prepared.train.n,
        val_rows: prepared.val.n,
        test_rows: prepared.test.n,
        stratified: split.stratified,
        seed: split.seed,
      });
    const { width, height, channels } = prepared.size;
    events.emit(EV.LOG_LINE, {
      run_id: null,
      level: "info",
      text: `images: ${(prepared.train.n + prepared.val.n + prepared.test.n).toLocaleString("en")} decoded at ${width} × ${height} ${channels === 1 ? "grey" : "colour"} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    });
    const written = this.assets.writeJson("preprocess/image-pixels.json", { image_column: prepared.imageColumn, ...prepared.size, classes: prepared.classes });
    events.emit(EV.ARTIFACT_ADDED, {
      artifact: { id: "preprocessor", type: "preprocessor", name: `Images at ${width} × ${height}`, url: written.url, meta: { ...prepared.size } },
    });
    return prepared;
  }

  /** Announces an image task's one step (every image to one size) as the preprocessing plan. */
  planImagePixels(step: PreprocessStep): PreprocessStep[] {
    this.events("PREPROCESS").emit(EV.PREPROCESS_PLAN, { steps: [step], source: "rules" });
    return [step];
  }

  /** Proposes preprocessing steps for this profile. */
  planPreprocessing(profile: TableProfile, target: string, decided?: { steps: PreprocessStep[]; source: AgentSource }): PreprocessStep[] {
    // an agent's plan (checked by it against what preprocess applies), else the rules'
    const steps = decided?.steps ?? planPreprocessing(profile, target);
    this.events("PREPROCESS").emit(EV.PREPROCESS_PLAN, { steps, source: decided?.source ?? "rules" });
    return steps;
  }

  /** Fits the plan on the training rows and builds the three feature matrices (in the table's thread, when it was loaded by loadData). */
  async preprocess(steps: PreprocessStep[], table: Table, data: SplitData): Promise<PreparedData>;
  /** Framed series train as they are: their framing (the split) is their preprocessing, and no steps apply. */
  async preprocess(steps: PreprocessStep[], table: Table, data: ForecastData): Promise<ForecastData>;
  async preprocess(steps: PreprocessStep[], table: Table, data: SplitData | ForecastData): Promise<PreparedData | ForecastData> {
    if (isForecastData(data)) {
      if (steps.length > 0)
        throw new InputError(
          `A forecast takes no preprocessing steps (${steps.map((st) => st.op).join(", ")}): its framing is in the plan's split.forecast (time column, frequency, horizon, series id, aggregation). Leave steps empty.`,
        );
      return data;
    }
    const prepared = await prepareOnThread(steps, table, data);
    const written = this.assets.writeJson("preprocess/preprocessor.json", prepared.prep);
    this.events("PREPROCESS").emit(EV.ARTIFACT_ADDED, {
      artifact: { id: "preprocessor", type: "preprocessor", name: "Fitted preprocessing", url: written.url, meta: { features: prepared.featureNames.length } },
    });
    return prepared;
  }

  /**
   * Texts as TF-IDF rows: the plan's one text_tfidf step (its column and n-gram settings) fitted
   * on the training texts, applied to every split. Says what it found (empty texts).
   */
  async prepareTexts(steps: PreprocessStep[], table: Table, data: SplitData): Promise<TextData> {
    const started = performance.now();
    const prepared = await prepareTextYielding(steps, table, data);
    const events = this.events("PREPROCESS");
    for (const text of prepared.notes) events.emit(EV.LOG_LINE, { run_id: null, level: "warn", text });
    const v = prepared.vectorizer;
    events.emit(EV.LOG_LINE, {
      run_id: null,
      level: "info",
      text: `text features: ${v.idf.length.toLocaleString("en")} (${v.words.length.toLocaleString("en")} words and word n-grams, ${(v.idf.length - v.words.length).toLocaleString("en")} character n-gram buckets) from ${prepared.train.rows.length.toLocaleString("en")} training texts in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    });
    const written = this.assets.writeJson("preprocess/text-features.json", {
      text_column: prepared.textColumn,
      settings: v.settings,
      features: v.idf.length,
      words: v.words.length,
      // the vocabulary's most frequent words (lowest idf) say what the texts are about
      common_words: v.words
        .map((w, i) => ({ w, idf: v.idf[i]! }))
        .sort((a, b) => a.idf - b.idf)
        .slice(0, 50)
        .map((x) => x.w),
    });
    events.emit(EV.ARTIFACT_ADDED, {
      artifact: { id: "preprocessor", type: "preprocessor", name: "Fitted text features (TF-IDF)", url: written.url, meta: { features: v.idf.length } },
    });
    return prepared;
  }

  /**
   * Logs a scalar of your own training loop (as wandb.log does): it reaches the training
   * charts as a METRIC_SCALAR of the given run.
   */
  logMetric(m: EventPayload<"METRIC_SCALAR">): void {
    this.events("TRAIN").emit(EV.METRIC_SCALAR, m);
  }

  /** Scores a finished run's model on one of the splits of the prepared data. */
  evaluate(run: RunResult, data: PreparedData, split: "train" | "val" | "test" = "test"): MetricValue[] {
    if (!run.model) throw new InputError(`Run ${run.runId} has no model to evaluate (it ${run.status}).`);
    const set = split === "test" ? data.test : split === "val" ? data.fit.val : data.fit.train;
    return evaluate(data.task, run.model, set, data.classes.length, split);
  }

  /** The project's files: its own folder, read-only for a standalone notebook. */
  private get projectFiles(): AssetStore {
    return this.options.projectFiles ?? this.assets;
  }

  /** What the project was asked to do (its project.json). */
  private projectMeta(): ProjectMeta {
    return projectMetaSchema.parse(JSON.parse(this.projectFiles.read("project.json").toString("utf8")));
  }

  /** The project's state now: the conductor's, or (standalone) its event log with this runtime's events after it. */
  async state(): Promise<ProjectSnapshot> {
    if (this.options.state) return this.options.state();
    const files = this.projectFiles;
    const meta = this.projectMeta();
    const logged = files.exists("events.jsonl")
      ? files
          .read("events.jsonl")
          .toString("utf8")
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as AnyEventEnvelope)
      : [];
    const snapshot = snapshotFromEvents(meta.id, logged);
    for (const e of this.options.ownEvents?.() ?? []) {
      const stage = { id: e.stage, index: STAGE_IDS.indexOf(e.stage), status: snapshot.stages[e.stage].status };
      applyEvent(snapshot, {
        v: 1,
        type: "EVENT",
        project_id: meta.id,
        seq: snapshot.last_seq + 1,
        ts: Date.now() / 1000,
        stage,
        event: { name: e.name, payload: e.payload },
      } as AnyEventEnvelope);
    }
    return snapshot;
  }

  /** The models the training will use, announced (the dashboard shows them chosen). */
  selectModels<M extends { id: string; params?: Params }>(models: M[]): M[] {
    if (models.length === 0) throw new InputError("Choose at least one model to train.");
    this.trials.warm(); // training comes next: its thread loads meanwhile
    this.events("MODEL_SELECT").emit(EV.MODEL_SELECTED, { model_id: models[0]!.id, model_ids: models.map((m) => m.id) });
    return models;
  }

  /**
   * Writes the project's report from its state (the runs, the plans as approved, and which of
   * them were then edited in the notebook) and announces it with the notebook and the files to
   * read. Returns the report's markdown.
   */
  async review(): Promise<{ report: string }> {
    const events = this.events("REVIEW_EDIT");
    const files = this.projectFiles;
    const s = await this.state();
    // the reporter agent's narrative, when one was written for these results (REVIEW_EDIT stores it)
    const used = currentNarrative(this.assets, s);
    const prompt = this.projectMeta().prompt;
    const markdown = renderReport(s, prompt, used);
    // the charts the report shows, as PNGs beside it
    if (s.best) await ensureRunPngs(this.assets, s.best.run_id);
    const report = this.assets.write(REPORT_FILE, markdown);
    const html = this.assets.write(REPORT_HTML_FILE, reportHtml(markdown, prompt));
    events.emit(EV.ARTIFACT_ADDED, {
      artifact: { id: "report", type: "report", name: "Project report", url: report.url, meta: { format: "markdown", html: html.url } },
    });
    events.emit(EV.REPORT_READY, { asset_url: report.url, html_url: html.url, source: used?.source ?? "rules" });
    events.emit(EV.NOTEBOOK_READY, { asset_url: files.url(NOTEBOOK_FILE) });
    const kept = [
      NOTEBOOK_FILE,
      REPORT_FILE,
      REPORT_HTML_FILE,
      "preprocess/preprocessor.json",
      ...Object.values(s.runs)
        .filter((r) => r.status === "success")
        .map((r) => modelFileOf(r.run_id)),
    ];
    const entries = [...(await this.assets.fileEntries(kept.filter((f) => this.assets.exists(f))))];
    if (files !== this.assets) entries.push(...(await files.fileEntries(kept.filter((f) => !this.assets.exists(f) && files.exists(f)))));
    events.emit(EV.CODE_WORKSPACE_READY, { files: entries });
    return { report: markdown };
  }

  /** Writes the project's export bundle (a model that predicts on its own, with the notebook, report, runs, data and event log) and announces it. */
  async exportProject(): Promise<EventPayload<"EXPORT_READY">> {
    const files = this.projectFiles;
    const meta = this.projectMeta();
    const standing = await this.state();
    let best: ExportOptions["best"] = null;
    if (standing?.best) {
      const modelFile = modelFileOf(standing.best.run_id);
      best = { run_id: standing.best.run_id, model_id: standing.best.model_id, model_file: files.regularFile(modelFile) ? modelFile : null };
      // the best run's charts travel as PNGs too
      await ensureRunPngs(files, standing.best.run_id);
    }
    const data = standing?.dataset_candidates.find((d) => d.id === standing.dataset_id);
    const researchOnly = data?.meta["research_only"] === true ? String(data.meta["license"]) : null;
    return exportProjectZip(files, this.assets, this.events("EXPORT"), { projectId: meta.id, prompt: meta.prompt, best, researchOnly });
  }

  /** The learners worth trying for this task, with why. */
  modelCandidates(
    task: "regression" | "classification",
    trainingRows?: number,
    decided?: { models: Array<{ id: string; why: string }>; source: AgentSource },
  ): EventPayload<"MODEL_CANDIDATES">["models"] {
    const offered = learnersFor(task, trainingRows);
    // an agent's choice among the learners offered (in its order, with its reasons), else all of them
    const chosen = decided
      ? decided.models.flatMap((c) => offered.filter((l) => l.id === c.id).map((l) => ({ l, why: c.why })))
      : offered.map((l) => ({ l, why: l.why }));
    const models = chosen.map(({ l, why }) => ({
      id: l.id,
      name: l.name,
      family: l.family,
      why,
      requirements: { iterative: l.iterative, defaults: l.defaults, ...(l.maxRows !== undefined ? { max_rows: l.maxRows } : {}) },
    }));
    this.events("MODEL_SELECT").emit(EV.MODEL_CANDIDATES, { models, source: decided?.source ?? "rules" });
    return models;
  }

  /**
   * Trains each model in turn. After every run the leaderboard is re-ranked on the
   * validation score and BEST_MODEL_UPDATED follows when the leader changes.
   */
  train(models: Array<{ id: string; params?: Params }>, data: TrainingData, options: TrainOptions): Promise<TrainOutcome> {
    const work = isForecastData(data)
      ? this.trainForecasters(models, data, options)
      : isTextData(data)
        ? this.trainTexts(models, data, options)
        : isImageData(data)
          ? this.trainImages(models, data, options)
          : this.trainAll(models, data, options);
    return this.options.track ? this.options.track(work) : work;
  }

  private async trainAll(models: Array<{ id: string; params?: Params }>, data: PreparedData, options: TrainOptions): Promise<TrainOutcome> {
    const board = await this.startBoard(options);
    const runs: RunResult[] = [];
    for (const m of models) {
      runs.push(await this.trial({ data, metric: options.metric, board }, findLearnerFor(m.id, data.task), m.params ?? {}, { signal: this.options.signal }));
      if (this.options.signal?.aborted) break;
    }
    return { runs, leaderboard: board.rows, best: this.closeBoard(board) };
  }

  /**
   * Trains `members` (as train does) and then their average as one more run: a search's
   * averaged leader, reproduced from its members' settings (each trains deterministically
   * from its seed).
   */
  trainAverage(members: Array<{ id: string; params?: Params }>, data: TrainingData, options: TrainOptions): Promise<TrainOutcome> {
    const work = (async () => {
      if (isForecastData(data) || isTextData(data) || isImageData(data))
        throw new InputError("Averages are trained of table models only: train the members one by one.");
      if (members.length < 2) throw new InputError("An average needs at least two models.");
      const board = await this.startBoard(options);
      const runs: RunResult[] = [];
      for (const m of members) {
        runs.push(await this.trial({ data, metric: options.metric, board }, findLearnerFor(m.id, data.task), m.params ?? {}, { signal: this.options.signal }));
        if (this.options.signal?.aborted) return { runs, leaderboard: board.rows, best: this.closeBoard(board) };
      }
      const failed = runs.find((r) => !r.model);
      if (failed)
        throw new Error(`${failed.modelId} did not train (${failed.status}${failed.reason ? `: ${failed.reason}` : ""}), so there is nothing to average`);
      const average = averagedEnsemble(
        runs.map((r) => r.model!),
        runs.map((r) => r.runId),
        restoreModel,
      );
      runs.push(await this.trial({ data, metric: options.metric, board }, average, {}, { signal: this.options.signal }));
      return { runs, leaderboard: board.rows, best: this.closeBoard(board) };
    })();
    return this.options.track ? this.options.track(work) : work;
  }

  /**
   * Searches the candidates' hyperparameters within a time budget (a hard limit: the trial
   * running at the deadline is cancelled) and reports every trial on the leaderboard.
   */
  search(
    candidates: Array<string | { id: string }>,
    data: TrainingData,
    options: SearchOptions,
  ): Promise<TrainOutcome & { overrunSeconds: number; trials: number }> {
    // a training plan's models (their settings are the search's to choose) or their ids
    const ids = candidates.map((c) => (typeof c === "string" ? c : c.id));
    const work = isForecastData(data)
      ? this.searchForecasters(ids, data, options)
      : isTextData(data)
        ? this.searchTexts(ids, data, options)
        : isImageData(data)
          ? this.searchImages(ids, data, options)
          : this.searchAll(ids, data, options);
    return this.options.track ? this.options.track(work) : work;
  }

  private async trainForecasters(models: Array<{ id: string; params?: Params }>, data: ForecastData, options: TrainOptions): Promise<TrainOutcome> {
    const board = await this.startBoard(options);
    const training = new ForecastTraining(this.events("TRAIN"), this.assets, this.options.signal);
    const outcome = await training.train(models, data, options.metric, { runs: [], leaderboard: board.rows, best: board.best });
    training.sayAgainstBaselines(outcome, options.metric);
    return outcome;
  }

  private async searchForecasters(ids: string[], data: ForecastData, options: SearchOptions) {
    const board = await this.startBoard(options);
    const training = new ForecastTraining(this.events("TRAIN"), this.assets, this.options.signal);
    const outcome = await training.search(ids, data, options.metric, options.budgetSeconds, { runs: [], leaderboard: board.rows, best: board.best });
    training.sayAgainstBaselines(outcome, options.metric);
    return outcome;
  }

  private async trainTexts(models: Array<{ id: string; params?: Params }>, data: TextData, options: TrainOptions): Promise<TrainOutcome> {
    const board = await this.startBoard(options);
    return new TextTraining(this.events("TRAIN"), this.assets, this.options.signal).train(models, data, options.metric, {
      runs: [],
      leaderboard: board.rows,
      best: board.best,
    });
  }

  private async searchTexts(ids: string[], data: TextData, options: SearchOptions) {
    const board = await this.startBoard(options);
    return new TextTraining(this.events("TRAIN"), this.assets, this.options.signal).search(ids, data, options.metric, options.budgetSeconds, {
      runs: [],
      leaderboard: board.rows,
      best: board.best,
    });
  }

  private async trainImages(models: Array<{ id: string; params?: Params }>, data: ImageData, options: TrainOptions): Promise<TrainOutcome> {
    const board = await this.startBoard(options);
    return new ImageTraining(this.events("TRAIN"), this.assets, this.projectFiles, this.options.signal).train(models, data, options.metric, {
      runs: [],
      leaderboard: board.rows,
      best: board.best,
    });
  }

  private async searchImages(ids: string[], data: ImageData, options: SearchOptions) {
    const board = await this.startBoard(options);
    return new ImageTraining(this.events("TRAIN"), this.assets, this.projectFiles, this.options.signal).search(
      ids,
      data,
      options.metric,
      options.budgetSeconds,
      {
        runs: [],
        leaderboard: board.rows,
        best: board.best,
      },
    );
  }

  /** The image classifiers worth trying here (MobileNet only with its weights on disk), with why. */
  imageCandidates(
    decided?: { models: Array<{ id: string; why: string }>; source: AgentSource },
    /** the epochs, batch size and patience this many images get (tasks/image trainingLength), shown with each model's defaults */
    length: Params = {},
  ): EventPayload<"MODEL_CANDIDATES">["models"] {
    const offered = IMAGE_LEARNERS.filter((l) => l.available());
    // a folder set but not usable is said, not silently dropped: the person meant to have transfer learning
    const problem = pretrainedFolderProblem();
    if (problem)
      this.events("MODEL_SELECT").emit(EV.LOG_LINE, { run_id: null, level: "warn", text: `${problem} Transfer learning is left out; the other models train.` });
    const chosen = decided
      ? decided.models.flatMap((c) => offered.filter((l) => l.id === c.id).map((l) => ({ l, why: c.why })))
      : offered.map((l) => ({ l, why: l.why }));
    const models = chosen.map(({ l, why }) => ({
      id: l.id,
      name: l.name,
      family: l.family,
      why,
      requirements: { iterative: true, defaults: { ...l.defaults, ...length } },
    }));
    this.events("MODEL_SELECT").emit(EV.MODEL_CANDIDATES, { models, source: decided?.source ?? "rules" });
    return models;
  }

  /** The text classifiers worth trying, with why (an agent's choice among them, in its order, else all). */
  textCandidates(decided?: { models: Array<{ id: string; why: string }>; source: AgentSource }): EventPayload<"MODEL_CANDIDATES">["models"] {
    const chosen = decided
      ? decided.models.flatMap((c) => TEXT_LEARNERS.filter((l) => l.id === c.id).map((l) => ({ l, why: c.why })))
      : TEXT_LEARNERS.map((l) => ({ l, why: l.why }));
    const models = chosen.map(({ l, why }) => ({ id: l.id, name: l.name, family: l.family, why, requirements: { defaults: l.defaults } }));
    this.events("MODEL_SELECT").emit(EV.MODEL_CANDIDATES, { models, source: decided?.source ?? "rules" });
    return models;
  }

  /** The forecasting models worth trying, with why: the baselines always (every other model must beat them), then the others (an agent's choice among them, in its order). */
  forecastCandidates(decided?: { models: Array<{ id: string; why: string }>; source: AgentSource }): EventPayload<"MODEL_CANDIDATES">["models"] {
    const others = FORECASTERS.filter((f) => !f.baseline);
    const chosen = decided
      ? decided.models.flatMap((c) => others.filter((f) => f.id === c.id).map((f) => ({ f, why: c.why })))
      : others.map((f) => ({ f, why: f.why }));
    const models = [...FORECASTERS.filter((f) => f.baseline).map((f) => ({ f, why: f.why })), ...chosen].map(({ f, why }) => ({
      id: f.id,
      name: f.name,
      family: f.family,
      why,
      requirements: { baseline: f.baseline, defaults: f.defaults },
    }));
    this.events("MODEL_SELECT").emit(EV.MODEL_CANDIDATES, { models, source: decided?.source ?? "rules" });
    return models;
  }

  private async searchAll(candidates: string[], fullData: PreparedData, options: SearchOptions) {
    const events = this.events("TRAIN");
    const board = await this.startBoard(options);
    const started = performance.now();
    const deadline = started + options.budgetSeconds * 1000;
    const trainRows = fullData.fit.train.x.rows;
    const sampled = options.sampleRows && options.sampleRows < trainRows ? options.sampleRows : null;
    // trials on a sample are validated on every validation row, so their scores and the refit's compare
    const data = sampled ? sampleTraining(fullData, sampled, options.seed ?? 0) : fullData;
    if (sampled) {
      events.emit(EV.LOG_LINE, {
        run_id: null,
        level: "info",
        text: `search: ${trainRows.toLocaleString("en")} training rows are more than a ${options.budgetSeconds} s search can try many settings on: the trials train on a seeded sample of ${sampled.toLocaleString("en")} of them (seed ${options.seed ?? 0}), validated on all ${fullData.fit.val.x.rows.toLocaleString("en")} validation rows; the winner is then refit on all the rows if the time left allows`,
      });
    }
    // the trials stop a little early: the last part of the budget is kept for an average of the best
    const averageAt = deadline - ENSEMBLE_SHARE * options.budgetSeconds * 1000;
    // and, on a sample, a share for refitting the winner (or the best trial that fits in it) on all the rows
    const trialsEnd = (): number => (sampled ? averageAt - REFIT_SHARE * (averageAt - started) : averageAt);
    // a model named twice (an edited cell) is one learner to search, not two that never learn
    const search = new BudgetedSearch(
      [...new Set(candidates)].map((id) => findLearnerFor(id, data.task)),
      data.fit.train.x.rows,
      options.seed ?? 0,
    );
    // a winner grown past what the refit's share of the budget can train on all the rows could not be refit (0.7: a trial's other settings cost time too)
    if (sampled) search.limitTrialSeconds((0.7 * REFIT_SHARE * (averageAt - started)) / 1000 / ((trainRows / sampled) * REFIT_MARGIN));
    if (options.resumeFrom) {
      search.remember(
        board.rows.filter((r) => r.metric).map((r) => ({ model: r.model, params: r.params as Params, score: r.metric!.value, seconds: r.runtime_s })),
        options.metric,
      );
    }
    const labelledRows = data.fit.train.x.rows + data.fit.val.x.rows;
    // features screened on the training rows have seen them: folds that hold those rows out would score the screening's
    // own picks (a wide table's noise columns) as if they generalised. The validation rows never reached the screening.
    const screened = data.prep.steps.some((s) => s.op === "select_features");
    const folds = (options.crossValidation ?? (labelledRows <= CV_MAX_ROWS && !screened)) ? crossValidationFolds(data.fit) : null;
    if (screened && options.crossValidation === undefined && labelledRows <= CV_MAX_ROWS) {
      events.emit(EV.LOG_LINE, {
        run_id: null,
        level: "info",
        text: `search: the features were screened on the training rows, so trials are ranked by the ${data.fit.val.x.rows} validation rows the screening never saw, not by cross-validation over rows it chose features on`,
      });
    }
    if (folds) {
      events.emit(EV.LOG_LINE, {
        run_id: null,
        level: "info",
        text: `search: ${labelledRows} training and validation rows, too few for one validation split to rank by: trials are ranked by ${CV_FOLDS}-fold cross-validation over them`,
      });
    }
    const runs: RunResult[] = [];
    for (;;) {
      const trialsDeadline = trialsEnd();
      const left = trialsDeadline - performance.now();
      const next = search.next(left / 1000);
      if (!next) break;
      events.emit(EV.LOG_LINE, {
        run_id: null,
        level: "info",
        text: `search: trial ${runs.length + 1} (${next.learner.id}), ${(left / 1000).toFixed(1)} s of the ${options.budgetSeconds} s budget left for trials; ETA ${((deadline - performance.now()) / 1000).toFixed(1)} s`,
      });
      const t0 = performance.now();
      const share = search.shareSeconds(options.budgetSeconds) * 1000;
      // on a table too big to cross-validate, a learner's defaults may take a share and a half of the budget: past it, the
      // learner is too slow for this table (on a small one its cross-validation gives up at its share instead, and its
      // defaults, the plain run's model, always finish)
      const trialDeadline = search.isFirstTrial(next) && !folds ? Math.min(trialsDeadline, t0 + FIRST_TRIAL_SHARES * share) : trialsDeadline;
      const result = await this.trial({ data, metric: options.metric, board }, next.learner, next.params, {
        signal: this.signalUntil(trialDeadline),
        deadline: trialDeadline,
        ...(trialDeadline < trialsDeadline ? { outOfTimeReason: SHARE_SPENT } : {}),
        folds,
        cvDeadline: t0 + share,
      });
      runs.push(result);
      search.record(next, result, (performance.now() - t0) / 1000, options.metric);
      for (const text of search.takeNotes()) events.emit(EV.LOG_LINE, { run_id: null, level: "info", text: `search: ${text}` });
      if (this.options.signal?.aborted || performance.now() >= trialsEnd()) break;
    }
    if (sampled && !this.options.signal?.aborted) {
      const refit = await this.refitWinner(search, fullData, sampled, { metric: options.metric, board }, averageAt, options.seed ?? 0);
      if (refit) runs.push(refit);
    }
    // an average scored on the validation split would be ranked against cross-validated trials: not tried then
    const average = this.options.signal?.aborted || folds ? null : this.averageOfBest(runs, options.metric);
    if (average) {
      const run = await this.trial(
        { data, metric: options.metric, board },
        average.learner,
        {},
        {
          signal: this.signalUntil(deadline),
          deadline,
          onlyIfBetter: average.onlyIfBetter,
        },
      );
      if (run) runs.push(run);
    }
    const overrunSeconds = Math.max(0, (performance.now() - deadline) / 1000);
    events.emit(EV.LOG_LINE, {
      run_id: null,
      level: overrunSeconds > 0.05 * options.budgetSeconds ? "warn" : "info",
      text: `search: ${runs.length} trial(s) in ${((performance.now() - started) / 1000).toFixed(2)} s of a ${options.budgetSeconds} s budget (overrun ${overrunSeconds.toFixed(3)} s, ${((100 * overrunSeconds) / options.budgetSeconds).toFixed(1)}%)`,
    });
    if (!board.best) throw new InputError(`No trial finished within the ${options.budgetSeconds} s budget. Give the search more time.`);
    return { runs, leaderboard: board.rows, best: this.closeBoard(board), overrunSeconds, trials: runs.length };
  }

  /**
   * The search's winner trained again on every training row when its time on the sample,
   * scaled, fits in what is left before `until`; else on as many rows as fit (a larger seeded
   * sample, when that is at least a quarter more than the trials had); said either way.
   */
  private async refitWinner(
    search: BudgetedSearch,
    data: PreparedData,
    sampled: number,
    pass: Omit<Pass, "data">,
    until: number,
    seed: number,
  ): Promise<RunResult | null> {
    const rows = data.fit.train.x.rows;
    const left = (until - performance.now()) / 1000;
    const winner = search.winner(rows / sampled);
    if (!winner) return null;
    const name = winner.proposal.learner.id;
    const affordable = Math.min(rows, Math.floor((rows * left) / winner.seconds));
    const say = (text: string) => this.events("TRAIN").emit(EV.LOG_LINE, { run_id: null, level: "info", text: `search: ${text}` });
    if (affordable < 1.25 * sampled) {
      say(
        `the winner (${name}) is not refit on more rows: all ${rows.toLocaleString("en")} would take about ${winner.seconds.toFixed(0)} s and ${left.toFixed(0)} s are left; it stays trained on the ${sampled.toLocaleString("en")}-row sample`,
      );
      return null;
    }
    const all = affordable === rows;
    say(
      all
        ? `refitting the winner (${name}) on all ${rows.toLocaleString("en")} training rows (about ${winner.seconds.toFixed(0)} s of the ${left.toFixed(0)} s left)`
        : `refitting the winner (${name}) on a seeded sample of ${affordable.toLocaleString("en")} of the ${rows.toLocaleString("en")} training rows, as many as the ${left.toFixed(0)} s left allow (all would take about ${winner.seconds.toFixed(0)} s)`,
    );
    const refitData = all ? data : sampleTraining(data, affordable, seed + 1);
    return this.trial({ ...pass, data: refitData }, winner.proposal.learner, winner.proposal.params, { signal: this.signalUntil(until), deadline: until });
  }

  /** Aborted at `deadline` (a performance.now() time) or when the runtime's own signal is. */
  private signalUntil(deadline: number): AbortSignal {
    const signals = [AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now())))];
    if (this.options.signal) signals.push(this.options.signal);
    return anySignal(signals);
  }

  /**
   * The mean of the best run of each of the (up to) three best learners, to be trained as a run
   * when it scores better on the validation rows than the best single run (the trial decides,
   * in the training thread); null when there are not two learners to average.
   */
  private averageOfBest(runs: RunResult[], metric: string): { learner: Learner; onlyIfBetter: OnlyIfBetter } | null {
    const scored = runs
      .filter((r) => r.status === "success" && r.model && r.valMetric)
      .sort((a, b) => (isBetter(metric, a.valMetric!.value, b.valMetric!.value) ? -1 : 1));
    const chosen: RunResult[] = [];
    for (const r of scored) if (chosen.length < 3 && !chosen.some((c) => c.modelId === r.modelId)) chosen.push(r);
    if (chosen.length < 2) return null;
    const learner = averagedEnsemble(
      chosen.map((r) => r.model!),
      chosen.map((r) => r.runId),
      restoreModel,
    );
    return { learner, onlyIfBetter: { best: chosen[0]!.valMetric!.value, bestModel: chosen[0]!.modelId } };
  }

  private async startBoard(options: TrainOptions): Promise<Board> {
    // read once per training call: every trial's pruning uses it
    const keepModels = this.keepModels();
    if (options.newBoard) return { rows: [], best: null, keepModels };
    const standing = options.leaderboard === undefined && this.options.state ? await this.options.state() : null;
    const rows = [...(options.leaderboard ?? standing?.leaderboard ?? [])];
    const best = options.best ?? standing?.best ?? null;
    // runs ranked by another metric are not comparable: a board by a new metric starts empty
    if (rows.some((r) => r.metric && r.metric.name !== options.metric) || (best && best.metric.name !== options.metric)) {
      this.events("TRAIN").emit(EV.LOG_LINE, {
        run_id: null,
        level: "info",
        text: `the leaderboard so far ranks by ${best?.metric.name ?? rows.find((r) => r.metric)?.metric?.name}; these runs rank by ${options.metric}, so it starts again (the earlier runs stay in the log)`,
      });
      return { rows: [], best: null, keepModels };
    }
    return { rows, best, keepModels };
  }

  /**
   * One training run: its events, its saved model, its row on the leaderboard, and the best
   * model if it changed. With `onlyIfBetter` (an average of the best runs), null when it did
   * not beat the best run and so was not trained.
   */
  private async trial(pass: Pass, learner: Learner, params: Params, more: TrialOptions): Promise<RunResult>;
  private async trial(pass: Pass, learner: Learner, params: Params, more: TrialOptions & { onlyIfBetter: OnlyIfBetter }): Promise<RunResult | null>;
  private async trial(
    { data, metric, board }: Pass,
    learner: Learner,
    params: Params,
    { signal, deadline, folds, cvDeadline, onlyIfBetter, outOfTimeReason }: TrialOptions & { onlyIfBetter?: OnlyIfBetter },
  ): Promise<RunResult | null> {
    const events = this.events("TRAIN");
    const { result, crossValidated: cv } = await this.trials.run(
      {
        run: {
          learner,
          params,
          data: data.fit,
          test: data.test,
          classes: data.classes,
          featureNames: data.featureNames,
          metricPrimary: metric,
          config: {
            task_type: data.task,
            target: data.target,
            split: { seed: data.split.seed, test_size: data.split.testSize, val_size: data.split.valSize },
            preprocess: { steps: data.prep.steps.map((s) => s.op), features: data.featureNames.length },
          },
          // a search's budget buys trials, not sleeps: its runs are never paced
          pacing: this.options.pacing && deadline === undefined,
          signal,
          deadline,
          ...(outOfTimeReason ? { outOfTimeReason } : {}),
        },
        ...(folds ? { folds } : {}),
        ...(folds && cvDeadline !== undefined ? { cvDeadline } : {}),
        modelFile: { folder: MODEL_FILE_FOLDER, about: modelFileAbout(data) },
        ...(onlyIfBetter ? { onlyIfBetter } : {}),
      },
      events,
      this.assets,
    );
    if (!result) return null;
    let validation: "split" | "5-fold" = "split";
    if (cv) {
      // not stamped with the run: its story ended with TRAIN_RUN_FINISHED (000_… ordering)
      events.emit(EV.LOG_LINE, {
        run_id: null,
        level: "info",
        text:
          "value" in cv
            ? `${learner.id} (${result.runId}): ${CV_FOLDS}-fold cross-validated ${metric} ${cv.value.toFixed(4)} (on the validation split alone: ${result.valMetric?.value.toFixed(4)}); ranked by the former`
            : `${learner.id} (${result.runId}): ${cv.reason}; ranked by the validation split`,
      });
      if ("value" in cv) {
        result.valMetric = cv;
        validation = "5-fold";
      }
    }
    const settings = { ...learner.defaults, ...params };
    // a configuration trained again on the same rows (a re-run cell) replaces its earlier row: one row per model, settings and
    // training rows (a search's winner refit on more rows than its trial had is a row of its own: the better one leads)
    const key = settingsKey(learner.id, settings);
    const trainRows = data.fit.train.x.rows;
    const same = (r: LeaderboardRow) => settingsKey(r.model, r.params as Params) === key && (r.train_rows === undefined || r.train_rows === trainRows);
    // a re-run that failed or was stopped leaves the model of the run it replaces on the board's disk
    const replaced = result.status === "success" ? board.rows.filter(same).map((r) => r.run_id) : [];
    board.rows = rankRows([
      ...board.rows.filter((r) => !same(r)),
      {
        model: learner.id,
        params: settings,
        metric: result.valMetric,
        runtime_s: Math.round(result.runtimeS * 1000) / 1000,
        run_id: result.runId,
        status: result.status,
        test_metric: result.finalMetrics?.primary ?? null,
        validation,
        ...(result.predictUsPerRow !== undefined ? { predict_us_per_row: Math.round(result.predictUsPerRow * 1000) / 1000 } : {}),
        train_rows: trainRows,
      },
    ]);
    board.best = announceBoard(board.rows, board.best, events);
    this.pruneModelFiles(board, replaced);
    return result;
  }

  /**
   * Keeps the model files of the leaderboard's first keep_models runs and of the best run, and
   * removes those of runs that fell below them or were replaced by a re-run of their settings
   * (a search tries hundreds of settings; their curves and charts stay). Only runs this board
   * knows are touched: a trial still finishing elsewhere keeps its file until it is ranked.
   */
  private pruneModelFiles(board: Board, replaced: ReadonlyArray<string | null | undefined>): void {
    const keep = new Set(board.rows.slice(0, board.keepModels).map((r) => r.run_id));
    if (board.best) keep.add(board.best.run_id);
    for (const runId of [...replaced, ...board.rows.map((r) => r.run_id)]) {
      if (!runId || keep.has(runId)) continue;
      const file = modelFileOf(runId);
      if (this.assets.exists(file)) {
        this.assets.remove(file);
        (board.removedModels ??= []).push(runId);
      }
    }
  }

  /** the project's keep_models (a runtime without a project.json, in a test, keeps the default) */
  private keepModels(): number {
    return this.projectFiles.exists("project.json") ? this.projectMeta().keep_models : DEFAULT_KEEP_MODELS;
  }

  /** Says which model files the training call removed, once; returns the board's best. */
  private closeBoard(board: Board): Board["best"] {
    const removed = board.removedModels ?? [];
    if (removed.length > 0) {
      this.events("TRAIN").emit(EV.LOG_LINE, {
        run_id: null,
        level: "info",
        text: `model files: the project keeps those of the leaderboard's ${board.keepModels} best run(s) and of the best run; ${removed.length} other run(s) had theirs removed (${removed.join(", ")}); every run keeps its curves and charts`,
      });
      board.removedModels = [];
    }
    return board.best;
  }
}

const aboutData = new WeakMap<PreparedData, Record<string, unknown>>();

/** What a saved model file says about its data (one object per prepared data, so a trial worker is sent it once). */
function modelFileAbout(data: PreparedData): Record<string, unknown> {
  let about = aboutData.get(data);
  if (!about) {
    about = { task: data.task, target: data.target, classes: data.classes, features: data.featureNames, preprocessor: data.prep };
    aboutData.set(data, about);
  }
  return about;
}

/** what a pass of training (a train call, a search) shares across its trials */
interface Pass {
  data: PreparedData;
  /** the validation metric that ranks runs */
  metric: string;
  board: Board;
}

type OnlyIfBetter = { best: number; bestModel: string };

interface TrialOptions {
  signal: AbortSignal | undefined;
  /** performance.now() past which the trial is cancelled (a search's hard budget) */
  deadline?: number;
  /** rank by cross-validation over these folds */
  folds?: readonly Fold[] | null;
  /** performance.now() past which cross-validation gives up (see Trial.cvDeadline) */
  cvDeadline?: number;
  /** why a trial stopped at its deadline was stopped, when not because the search's time ran out */
  outOfTimeReason?: string;
}

interface Board {
  rows: LeaderboardRow[];
  best: BestRun;
  /** the project's keep_models, read when the board is started */
  keepModels: number;
  /** runs whose model files this board's training call removed (said once, when the call ends) */
  removedModels?: string[];
}

function findLearnerFor(id: string, task: "regression" | "classification"): Learner {
  const learner = findLearner(id);
  if (!learner || !learner.tasks.includes(task)) {
    throw new InputError(
      `Model ${JSON.stringify(id)} cannot train a ${task} task. Choose from: ${learnersFor(task)
        .map((l) => l.id)
        .join(", ")}.`,
    );
  }
  return learner;
}

/** The prepared data with its training rows cut to a seeded sample of `rows` (validation and test rows unchanged). */
function sampleTraining(data: PreparedData, rows: number, seed: number): PreparedData {
  const train = data.fit.train;
  const picked = seededSample(train.x.rows, rows, seed);
  return { ...data, fit: { ...data.fit, train: selectRows(train, picked) } };
}

/** A download's progress as log lines: when it starts, then every tenth of it (every 25 MB when its size is unknown). */
function downloadProgress(id: string, say: (text: string) => void): FetchProgress {
  let said = -1;
  return (bytes, total) => {
    const step = total ? Math.floor((10 * bytes) / total) : Math.floor(bytes / (25 * 1024 ** 2));
    if (step === said) return;
    said = step;
    // kilobytes below a megabyte: "0.0 of 0.0 MB" says nothing
    const unit = (total ?? bytes) < 1024 ** 2 ? { div: 1024, name: "KB", digits: 0 } : { div: 1024 ** 2, name: "MB", digits: 1 };
    const size = (n: number) => (n / unit.div).toFixed(unit.digits);
    say(
      total
        ? `${id}: downloaded ${size(bytes)} of ${size(total)} ${unit.name} (${Math.round((100 * bytes) / total)}%)`
        : `${id}: downloaded ${size(bytes)} ${unit.name}`,
    );
  };
}
