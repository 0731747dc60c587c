/**
 * Predictions for a data file, written as a CSV beside it: the file is read in batches of rows
 * (table-loader's readTableInBatches), each batch predicted and written before the next is read,
 * so a file of any length takes the memory of one batch. The problems found go to a report CSV
 * row by row. Both files are written under temporary names and put in place at the end: a
 * prediction that fails half-way leaves an earlier PRED.csv as it was. `automl predict` and the
 * bundle's predict.mjs both predict through here.
 */
import { PREDICTIONS_SUFFIX } from "../files/prediction-files";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { imageColumnOfPredictor, imageIndexFor } from "./classifier-predictors";
import { checkDataFile, readTableInBatches } from "../data/table-loader";
import { InputError } from "../errors/input-error";
import { inputColumns, predictBatch, predictionsCsvHeader, predictionsCsvLines, textInputs, unusedColumns, type Predictor } from "./model-predictor";
import { PredictionReport, REPORT_CSV_HEADER, reportCsvLine, type ProblemSummary } from "./prediction-report";

export interface FilePredictionOptions {
  data: string;
  /** default: beside the data, NAME.predictions.csv */
  out?: string;
  /** default: beside the predictions, NAME.predictions.report.csv; written only when a row had a problem */
  report?: string;
  /** columns of the data copied into the predictions, before them (an id to join them back on) */
  keep?: readonly string[];
  batchRows?: number;
  onProgress?: (fraction: number) => void;
}

export interface FilePrediction {
  rows: number;
  /** rows without a prediction */
  refused: number;
  out: string;
  /** null: no row had a problem */
  report: string | null;
  summaries: ProblemSummary[];
  /** columns the model does not read */
  ignored: string[];
  /** how the file was read, as the table loader said it */
  warnings: string[];
  notes: string[];
}

export function defaultOutPath(data: string): string {
  return path.join(
    path.dirname(data),
    `${path
      .basename(data)
      .replace(/\.(gz|zip)$/i, "")
      .replace(/\.[^.]+$/, "")}${PREDICTIONS_SUFFIX}`,
  );
}

export async function predictFile(p: Predictor, options: FilePredictionOptions): Promise<FilePrediction> {
  const imageColumn = imageColumnOfPredictor(p);
  const stat = fs.statSync(options.data, { throwIfNoEntry: false });
  if (imageColumn && (stat?.isDirectory() || /\.(png|jpe?g)$/i.test(options.data))) {
    // images: a folder of them (or one image) is listed in an index the model reads, its paths kept in the predictions
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "automl-images-"));
    try {
      const { index } = imageIndexFor([options.data], imageColumn, dir);
      const out =
        options.out ??
        path.join(path.dirname(path.resolve(options.data)), `${path.basename(options.data).replace(/\.(png|jpe?g)$/i, "")}${PREDICTIONS_SUFFIX}`);
      return await predictFile(p, { ...options, data: index, out, keep: [imageColumn, ...(options.keep ?? []).filter((c) => c !== imageColumn)] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const out = options.out ?? defaultOutPath(options.data);
  const reportPath = options.report ?? out.replace(/\.csv$/i, "") + ".report.csv";
  if (path.resolve(out) === path.resolve(options.data) || path.resolve(reportPath) === path.resolve(options.data))
    throw new InputError(`The predictions would overwrite the data (${options.data}). Give another output file (--out).`);
  // checked before anything is written: a wrong path is a message, not a half-made file
  checkDataFile(options.data);
  for (const [file, flag] of [
    [out, "--out"],
    [reportPath, "--report"],
  ] as const) {
    const dir = path.dirname(path.resolve(file));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new InputError(`The folder for ${file} (${dir}) does not exist. Create it, or give ${flag} a path in a folder that exists.`);
    if (fs.existsSync(file) && !fs.statSync(file).isFile())
      throw new InputError(
        `${file} is a folder (or not a file): give ${flag} a file's path, such as ${path.join(file, path.basename(defaultOutPath(options.data)))}.`,
      );
  }
  const keep = [...new Set(options.keep ?? [])];
  const tempOut = `${out}.${process.pid}.tmp`;
  const tempReport = `${reportPath}.${process.pid}.tmp`;
  let outFd = -1;
  let reportFd = -1;
  let report: PredictionReport;
  const start = () => {
    closeBoth();
    outFd = fs.openSync(tempOut, "w");
    fs.writeSync(outFd, predictionsCsvHeader(p, keep));
    report = new PredictionReport((problem) => {
      if (reportFd < 0) {
        reportFd = fs.openSync(tempReport, "w");
        fs.writeSync(reportFd, REPORT_CSV_HEADER);
      }
      fs.writeSync(reportFd, reportCsvLine(problem));
    });
  };
  const closeBoth = () => {
    if (outFd >= 0) fs.closeSync(outFd);
    if (reportFd >= 0) fs.closeSync(reportFd);
    outFd = reportFd = -1;
  };
  try {
    start();
    const read = await readTableInBatches(
      options.data,
      options.data,
      {
        // kept columns come out as they were written ("007", "2024-01-05"), unless the model reads them as numbers or dates
        textColumns: new Set([...textInputs(p), ...keep.filter((c) => !inputColumns(p).includes(c))]),
        columns: new Set([...inputColumns(p), ...keep]),
        batchRows: options.batchRows,
        onProgress: options.onProgress,
        // the file was read again in another encoding: what the first read wrote goes
        onRestart: start,
      },
      (batch, firstRow) => {
        const missing = keep.filter((c) => !batch.has(c));
        if (missing.length) throw new InputError(`The data has no column ${missing.join(", ")} to keep. Give --keep the names of columns it has.`);
        const predicted = predictBatch(p, batch, firstRow, report);
        fs.writeSync(
          outFd,
          predictionsCsvLines(
            p,
            predicted,
            keep.map((c) => batch.column(c)),
          ),
        );
      },
    );
    const hadProblems = reportFd >= 0;
    closeBoth();
    fs.renameSync(tempOut, out);
    if (hadProblems) fs.renameSync(tempReport, reportPath);
    return {
      rows: read.rows,
      refused: report!.refused,
      out,
      report: hadProblems ? reportPath : null,
      summaries: report!.summaries(),
      ignored: unusedColumns(p, read.columnNames).filter((c) => !keep.includes(c)),
      warnings: read.warnings,
      notes: read.notes,
    };
  } finally {
    closeBoth();
    fs.rmSync(tempOut, { force: true });
    fs.rmSync(tempReport, { force: true });
  }
}

/** What a person reads after a file's prediction: how the file was read and its problems (stderr), where the predictions went (stdout). */
export function predictionMessages(p: Predictor, r: FilePrediction, seconds: number): { out: string[]; err: string[] } {
  const err = [
    ...r.warnings.map((w) => `warn: ${w}`),
    ...(r.ignored.length ? [`note: the model does not use ${r.ignored.join(", ")}; ${r.ignored.length === 1 ? "it is" : "they are"} ignored.`] : []),
    ...r.summaries.map((s) => `${s.refused ? "warn" : "note"}: ${s.message}`),
  ];
  if (r.report) err.push(`note: every row with a problem is listed in ${r.report} (row, column, value, problem, action).`);
  const by = `${p.modelId}${p.runId ? ` (${p.runId})` : ""}`;
  const refused = r.refused ? `; ${r.refused.toLocaleString("en")} row(s) refused, their lines left empty` : "";
  const out = [`${(r.rows - r.refused).toLocaleString("en")} predictions of ${p.target} by ${by} written to ${r.out} in ${seconds.toFixed(2)} s${refused}`];
  return { out, err };
}

/** `--keep a,b --keep c` (the CLI's and predict.mjs's): the columns to copy into the predictions. */
export function keptColumns(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(","))
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

/**
 * A file's prediction as a command (`automl predict`, the bundle's predict.mjs): the model
 * loaded, the file predicted, what happened said (messages on stderr, where the predictions went
 * on stdout), and the exit code: 0 done, 2 bad input or no row predictable (said after `program`).
 */
export async function runFilePrediction(load: () => Predictor, options: FilePredictionOptions, program: string): Promise<number> {
  const started = performance.now();
  try {
    const predictor = load();
    const result = await predictFile(predictor, options);
    const { out, err } = predictionMessages(predictor, result, (performance.now() - started) / 1000);
    for (const line of err) process.stderr.write(`${line}\n`);
    for (const line of out) process.stdout.write(`${line}\n`);
    if (result.refused === result.rows) {
      process.stderr.write(`${program}: no row of ${options.data} could be predicted (see the problems above). Correct the data and predict again.\n`);
      return 2;
    }
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`${program}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
