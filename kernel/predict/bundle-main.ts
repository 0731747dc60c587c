/**
 * The export bundle's predict.mjs (built on its own, with everything it needs inside it and no
 * dependency: scripts/bundles.mjs): `node predict.mjs NEW.csv [--out PRED.csv] [--report R.csv]`
 * in the unzipped bundle, on any machine with Node 20.19+. It checks the bundle against its
 * manifest, then predicts exactly as `automl predict` does (the same code, file-prediction.ts).
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { keptColumns, runFilePrediction } from "./file-prediction";
import { forecasterOfBundleFolder, isForecastBundle, predictorFromBundleFolder } from "./bundle-reader";
import { runForecast } from "./series-forecast";

const USAGE = `Usage: node predict.mjs NEW.csv [--out PRED.csv] [--report REPORT.csv] [--keep COL[,COL…]]
  Predicts with this bundle's model for every row of NEW.csv (also .tsv, .json,
  .ndjson, .parquet, .arrow, .xlsx, and any of them .gz). Writes NEW.predictions.csv
  beside it by default, and lists rows unlike the training data in the report.
  --keep copies columns of the data (an id) into the predictions, first.
  Try it on the sample: node predict.mjs sample.csv
`;

/** The bundle's folder: where this script lies (import.meta.url in the built .mjs). */
declare const BUNDLE_DIR: string;

async function main(argv: string[]): Promise<number> {
  let values: { out?: string; report?: string; keep?: string[]; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { out: { type: "string" }, report: { type: "string" }, keep: { type: "string", multiple: true }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`predict.mjs: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 0 && isForecastBundle(BUNDLE_DIR)) {
    return runForecast(() => forecasterOfBundleFolder(BUNDLE_DIR), path.resolve(values.out ?? "forecast.csv"), "predict.mjs");
  }
  if (positionals.length !== 1) {
    process.stderr.write(`predict.mjs: give one data file${positionals.length ? ` (got ${positionals.length})` : ""}.\n\n${USAGE}`);
    return 2;
  }
  return runFilePrediction(
    () => predictorFromBundleFolder(BUNDLE_DIR, true),
    {
      data: path.resolve(positionals[0]!),
      out: values.out && path.resolve(values.out),
      report: values.report && path.resolve(values.report),
      keep: keptColumns(values.keep),
    },
    "predict.mjs",
  );
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`predict.mjs: ${err.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
