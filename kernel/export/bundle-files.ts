/**
 * The files an export bundle adds to the project's own: its README (what the bundle holds,
 * how to predict with it, and the model format, documented for every learner), the
 * package.json of its predict.mjs, the model's input schema, and a sample of rows to try it
 * on. Each is text made from the project alone (no time, no machine), so the same project
 * makes the same bytes.
 */
import type { FinalMetrics, ForecastFraming } from "../../contract";
import type { InputColumn } from "../data/feature-transform";
import { MODEL_FILE_FORMAT, MODEL_FILE_VERSION } from "../ml/model-file";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, BUNDLED_MODEL, MANIFEST_FILE } from "../predict/bundle-manifest";
import { csvField } from "../predict/prediction-report";

/** What the bundle's files say about its model: from the model file's header. */
export interface BundledModel {
  run_id: string;
  model_id: string;
  task: string;
  target: string;
  classes: string[] | null;
  inputs: InputColumn[];
  features: string[];
  final_metrics: FinalMetrics | null;
  /** a forecasting model: how its series are framed (time column, frequency, horizon, series id) and its intervals' coverage */
  forecast?: ForecastFraming & { interval_level: number };
  /** an image model: the size and channels it reads every image at */
  image_size?: { width: number; height: number; channels: number };
}

export const SCHEMA_FILE = "model/schema.json";
export const SAMPLE_FILE = "sample.csv";
/** an image model's bundle: a few training images to try predict.mjs on */
export const SAMPLE_IMAGES_FOLDER = "sample";
export const PREDICT_SCRIPT = "predict.mjs";

/** The Node.js the bundle's predict.mjs needs (the product's own floor). */
const NODE_ENGINE = ">=20.19";

export function bundlePackageJson(projectId: string): string {
  return (
    JSON.stringify(
      {
        name: `automl-model-${projectId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`,
        version: "1.0.0",
        private: true,
        description: "A model exported by AutoML Builder: node predict.mjs NEW.csv",
        type: "module",
        bin: { predict: PREDICT_SCRIPT },
        scripts: { predict: `node ${PREDICT_SCRIPT}` },
        engines: { node: NODE_ENGINE },
        // every model this product trains predicts in plain JavaScript (networks by their saved weights): nothing to install
        dependencies: {},
      },
      null,
      2,
    ) + "\n"
  );
}

export function bundleSchema(m: BundledModel): string {
  return (
    JSON.stringify(
      {
        model_file: BUNDLED_MODEL,
        run_id: m.run_id,
        model_id: m.model_id,
        task: m.task,
        target: m.target,
        classes: m.classes,
        inputs: m.inputs,
        features: m.features,
        ...(m.forecast ? { forecast: m.forecast } : {}),
        test_metrics: m.final_metrics,
      },
      null,
      2,
    ) + "\n"
  );
}

/** Rows of the project's data sample (data/sample.json) as CSV: the model's input columns, then the target, as the data had them. */
export function sampleCsv(sample: { rows?: unknown }, m: BundledModel, rows: number): string | null {
  if (!Array.isArray(sample.rows) || sample.rows.length === 0) return null;
  const columns = [...m.inputs.map((c) => c.name), m.target];
  const cell = (v: unknown) => (v === null || v === undefined ? "" : csvField(String(v)));
  const lines = [columns.map(csvField).join(",")];
  for (const r of sample.rows.slice(0, rows) as Record<string, unknown>[]) lines.push(columns.map((c) => cell(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/** What each learner's `state` in the model file holds, for the README's format section. */
export const LEARNER_STATES: Array<[string, string]> = [
  [
    "hist_gbdt",
    "Histogram gradient boosting. `loss`, `k` (trees per round: 1, or the number of classes), `baseline` (the starting score per output), `learningRate`, `mapper` (the bin edges per feature: `edges` packed, `nBins`, `categorical`), `trees` (every tree's node arrays packed field by field: `feature` (-1 marks a leaf), `threshold` (bins ≤ it go left), `missingLeft`, `catLeft` (8 × 32-bit words per node: the category bins that go left), `left`, `right`, `value`, `gain`). A row's score is the baseline plus the learning rate times each round's leaf value; classes take a softmax (two classes: a logistic).",
  ],
  [
    "random_forest, extra_trees",
    "Forests. `classification`, `nClasses`, `k` (values per node), `mapper` (as above), `trees` (`feature`, `threshold`, `left`, `right`, `value` (k per node), `gain`). The prediction is the mean of the trees' leaf values (class probabilities for classes).",
  ],
  ["ml_random_forest", "The ml-random-forest package's own JSON (its `toJSON()`), restored with its `load()`."],
  [
    "linear_gd, logistic_gd",
    "`weights` ((features + 1) × outputs, row-major; the last row is the bias), `outputs`, `y_center` and `y_scale` (regression learns the standardised target: value = output × y_scale + y_center). Classes take a softmax.",
  ],
  ["ridge", "`weights` (one per feature) and `intercept`."],
  ["gaussian_nb", "`log_prior` (per class), `mean` and `variance` (classes × features, row-major)."],
  [
    "mlp, tfjs_linear, tfjs_logistic",
    "Dense networks trained with TensorFlow.js. `layers` (per layer: `kernel`, inputs × outputs row-major, `bias`, `inputs`, `outputs`; ReLU between layers), `task`, `y_center` and `y_scale` as above, `backend` (where it trained). Prediction is a plain forward pass in JavaScript: TensorFlow.js is not needed.",
  ],
  ["averaged_ensemble", "An average of other models: `members`, each a saved model as described here; the prediction is the members' mean."],
];

/** What each forecaster's `state` holds, for the README's format section. */
export const FORECASTER_STATES: Array<[string, string]> = [
  [
    "naive, seasonal_naive, drift",
    "`tail` (the last value, or the last season's values), `slope` (drift: per step), `season` (steps in a season, 1 for none).",
  ],
  [
    "ets",
    "Exponential smoothing: `trend` (none, additive, damped), `seasonal` (none, additive, multiplicative), `alpha`, `beta`, `gamma`, `phi`, the final `level`, `slope` and `season` (by position in the season), and `next` (the time index of the first step ahead).",
  ],
  [
    "lag_gbdt",
    "Gradient boosting on lags: `spec` (`lags`, `windows` of rolling means, `calendar`, `frequency`, `transform`: the level or its changes, `strategy`: direct, with the step ahead as a feature, or recursive), `model` (a `hist_gbdt` model as above), `tail` (the last values its features read), `lastTime`, `rounds`.",
  ],
];

/** The README's section on predicting with an image model. */
function imageSections(m: BundledModel, size: NonNullable<BundledModel["image_size"]>, sampleImages: number): string[] {
  const primary = m.final_metrics?.primary;
  return [
    "## Predict",
    "",
    `Node.js ${NODE_ENGINE.replace(">=", "")} or later; nothing to install (the network runs in plain JavaScript):`,
    "",
    "```sh",
    ...(sampleImages ? [`node ${PREDICT_SCRIPT} ${SAMPLE_IMAGES_FOLDER}/              # ${sampleImages} of the training images`] : []),
    `node ${PREDICT_SCRIPT} PHOTOS/ --out PRED.csv   # every PNG and JPEG in a folder (and its subfolders)`,
    `node ${PREDICT_SCRIPT} photo.jpg                # one image`,
    "```",
    "",
    `Each image is read as the model was trained: resized to ${size.width} × ${size.height} pixels, ${size.channels === 1 ? "grey" : "in colour"}. ` +
      `PRED.csv has a line per image: its path (\`${m.inputs[0]!.name}\`), \`${m.target}_predicted\` (the most probable class) and \`p_<class>\`, each class's probability. ` +
      "A file that cannot be read as a PNG or JPEG is listed in PRED.report.csv, its line left empty.",
    "",
    "The same predictions come from `npx automl predict --model THIS.zip --data PHOTOS/`.",
    "",
    "## The model",
    "",
    `- ${m.model_id} (run \`${m.run_id}\`), classifying images into ${m.classes?.length ?? "?"} classes of \`${m.target}\`: ${(m.classes ?? []).slice(0, 12).join(", ")}${(m.classes?.length ?? 0) > 12 ? ", …" : ""}.`,
    primary ? `- Test ${primary.name}: ${primary.value.toFixed(4)} (on images held out from training).` : "- No test metrics were recorded.",
    "",
  ];
}

/** The README's sections on predicting with a forecasting model and on the model. */
function forecastSections(m: BundledModel, f: NonNullable<BundledModel["forecast"]>): string[] {
  const primary = m.final_metrics?.primary;
  const level = Math.round(f.interval_level * 100);
  return [
    "## Forecast",
    "",
    `Node.js ${NODE_ENGINE.replace(">=", "")} or later; nothing to install:`,
    "",
    "```sh",
    `node ${PREDICT_SCRIPT}                      # forecast.csv: the next ${f.horizon} ${f.frequency} step(s)`,
    `node ${PREDICT_SCRIPT} --out FORECAST.csv`,
    "```",
    "",
    `\`${PREDICT_SCRIPT}\` checks every file of this folder against \`${MANIFEST_FILE}\` first and refuses a changed one, naming it. ` +
      `It forecasts \`${m.target}\` for the ${f.horizon} ${f.frequency} step(s) after the end of the history the model was trained on${f.series_id ? `, for each \`${f.series_id}\`` : ""}: ` +
      `a line per step with ${f.series_id ? `\`${f.series_id}\`, ` : ""}\`${f.time_column}\`, \`${m.target}\` and the ${level}% interval (\`${m.target}_lower_${level}\`, \`${m.target}_upper_${level}\`), whose widths come from the model's backtests.`,
    "",
    "The same forecast comes from `npx automl predict --model THIS.zip` (no `--data`).",
    "",
    "## The model",
    "",
    `- ${m.model_id} (run \`${m.run_id}\`), forecasting \`${m.target}\` ${f.frequency} by ${f.frequency}${f.seasonality > 1 ? ` with a season of ${f.seasonality} steps` : ""}.`,
    primary
      ? `- Test ${primary.name}: ${primary.value.toFixed(4)} (on the last ${f.horizon} steps of ${f.series_id ? "each series" : "the series"}, which the model never saw; chosen by ${f.backtest_folds} backtest(s) before them).`
      : "- No test metrics were recorded.",
    `- \`${SCHEMA_FILE}\`: how the series are framed (time column, frequency, horizon, series id, season, aggregation).`,
    "",
  ];
}

export function bundleReadme(o: {
  projectId: string;
  prompt: string;
  model: BundledModel | null;
  sampleRows: number | null;
  /** an image model's bundle: how many images its sample folder holds */
  sampleImages?: number;
  researchOnly?: string | null;
}): string {
  const m = o.model;
  const primary = m?.final_metrics?.primary;
  const lines = [
    `# ${o.prompt}`,
    "",
    `A model exported by AutoML Builder from project \`${o.projectId}\`, with everything it needs to predict and the record of how it was made.`,
    "",
    ...(o.researchOnly
      ? [
          `**Research / demo only.** The data it was trained on is licensed ${o.researchOnly}, which does not allow commercial use, and neither does this model.`,
          "",
        ]
      : []),
  ];
  if (m?.forecast) lines.push(...forecastSections(m, m.forecast));
  else if (m?.image_size) lines.push(...imageSections(m, m.image_size, o.sampleImages ?? 0));
  else if (m) {
    lines.push(
      "## Predict",
      "",
      `Node.js ${NODE_ENGINE.replace(">=", "")} or later; nothing to install:`,
      "",
      "```sh",
      ...(o.sampleRows ? [`node ${PREDICT_SCRIPT} ${SAMPLE_FILE}            # the first ${o.sampleRows} rows of the training data`] : []),
      `node ${PREDICT_SCRIPT} NEW.csv --out PRED.csv`,
      "```",
      "",
      `\`${PREDICT_SCRIPT}\` checks every file of this folder against \`${MANIFEST_FILE}\` first and refuses a changed one, naming it. ` +
        "It reads CSV, TSV, JSON, NDJSON, Parquet, Arrow and Excel files (also gzip-compressed), delimited text in batches, so a file of any length fits in memory. " +
        `NEW.csv needs the columns the model reads (${m.inputs.map((c) => `\`${c.name}\``).join(", ")}); other columns are ignored. ` +
        (m.classes
          ? `PRED.csv has a line per row: \`${m.target}_predicted\` (the most probable class) and \`p_<class>\`, each class's probability.`
          : `PRED.csv has a line per row: \`${m.target}_predicted\`.`) +
        " Numbers keep every digit. Rows unlike the training data (a category it never saw, a value outside its range, text where numbers were) are listed in PRED.report.csv with what was done: predicted as training would, or refused (the row's line left empty).",
      "",
      "The same predictions come from `npx automl predict --model THIS.zip --data NEW.csv` and from the conductor's `POST /api/projects/{id}/predict`.",
      "",
      "## The model",
      "",
      `- ${m.model_id} (run \`${m.run_id}\`), ${m.task} of \`${m.target}\`${m.classes ? ` (classes: ${m.classes.map((c) => `\`${c}\``).join(", ")})` : ""}.`,
      primary ? `- Test ${primary.name}: ${primary.value.toFixed(4)} (on held-out rows the model never saw).` : "- No test metrics were recorded.",
      `- \`${SCHEMA_FILE}\`: the columns it reads, as training had them (kind, whether values were missing, the range of numbers and dates, the categories), and its features.`,
      "",
    );
  } else lines.push("The project had no trained model when it was exported: this bundle holds its record only.", "");
  lines.push(
    "## Contents",
    "",
    `- \`${MANIFEST_FILE}\`: the bundle's format (\`${BUNDLE_FORMAT}\` version ${BUNDLE_FORMAT_VERSION}) and every other file's size and sha256.`,
    ...(m ? [`- \`${PREDICT_SCRIPT}\`, \`package.json\`: the prediction script (no dependencies).`, `- \`${BUNDLED_MODEL}\`: the model (format below).`] : []),
    "- `notebook.ipynb`: the pipeline as a TypeScript notebook (kernel: tslab), one section per stage; `report.md`: what was done and how well it worked.",
    "- `models/`: the models of the best runs; `runs/`: every run's evaluation charts (JSON with a vega-lite spec, PNG for the best run); `preprocess/`, `profile/`: the plan and the data's profile.",
    "- `data/`: the data the project used (files up to 50 MB); `events.jsonl`: the project's complete event log.",
    "",
    "## The model file format",
    "",
    `A model file (\`.model\`) uses the safetensors layout: bytes 0–7 hold N, the header's length (unsigned 64-bit little-endian); then N bytes of UTF-8 JSON; then the arrays' bytes, little-endian, one after another. ` +
      `The header's \`__metadata__\` holds \`format\` ("${MODEL_FILE_FORMAT}"), \`format_version\` ("${MODEL_FILE_VERSION}") and \`document\`, a JSON text; every other header key names an array: \`dtype\` (F64, F32, I32, U32, I16, U16, I8, U8), \`shape\`, \`data_offsets\` (from the end of the header). ` +
      'In the document each array stands as `{"$tensor": "<name>"}` (with `"as": "<dtype>"` when an integer array was stored narrower than it is read). Any safetensors reader lists the arrays.',
    "",
    "The document holds: `run_id`, `task`, `target`, `classes` (classification: the class of each probability, in order), `features` (the feature matrix's columns), `final_metrics` (on the test rows), " +
      "`preprocessor` (the fitted plan: `features`, each a spec of how a column becomes a feature (`numeric`: fill, center, scale; `datetime_part`: part, fill, center, scale; `missing_indicator`; `one_hot`: level, fill, known levels); " +
      "`inputs`, the input schema) and `model`: `model_id`, `params`, `task`, `n_features`, `n_classes` and `state`, whose fields depend on the learner:",
    "",
    ...LEARNER_STATES.map(([ids, text]) => `- \`${ids.split(", ").join("`, `")}\`: ${text}`),
    "",
    "A forecasting model's document holds `run_id`, `task` (`time_series_forecasting`), `target`, `final_metrics` and `forecast`: `model_id`, `params`, `framing` (`time_column`, `frequency`, `horizon`, `series_id`, `seasonality`, `backtest_folds`, `aggregate`), " +
      "`interval_level`, and `series`, one per series: `id`, `last_time` (epoch milliseconds, UTC), `interval` (the half-width per step ahead) and `model` (`model_id`, `params`, `state`):",
    "",
    ...FORECASTER_STATES.map(([ids, text]) => `- \`${ids.split(", ").join("`, `")}\`: ${text}`),
    "",
    `A reader refuses a file of a newer \`format_version\` than it knows, and a bundle of a newer manifest \`format_version\`, with a message saying to update.`,
    "",
  );
  return lines.join("\n");
}
