/** The `automl` command: `serve` runs the conductor, `run` drives one project headless, `predict` uses a trained model. */
import { parseArgs } from "node:util";
import { keptColumns } from "../predict/file-prediction";
import { predictCommand } from "./predict-command";
import { EXIT, runCommand } from "./run-command";
import { serveCommand } from "./serve-command";

// package.json's version: the bundler inlines the file
import { version as PACKAGE_VERSION } from "../../package.json";

const USAGE = `Usage:
  automl serve [--workspace DIR] [--port N] [--attach] [--verbose]
      Start the conductor on 127.0.0.1; prints {"port","token","pid"} when ready.
      A workspace has one conductor: if one already runs there, serve names it
      and exits with code 4, or with --attach prints that one's line and exits.
  automl run "<prompt>" [--data FILE | --source ID] [--target COL] [--auto]
             [--out DIR] [--workspace DIR] [--no-pacing] [--seed N]
             [--time-budget SECONDS] [--keep-models N] [--verbose]
      Drive a project from a prompt to an export zip, showing progress.
      Without --data, the data finder searches the workspace's data files, the
      bundled catalog, the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN) and Kaggle
      (KAGGLE_USERNAME and KAGGLE_KEY, KAGGLE_API_ENDPOINT), ranks what it finds,
      rejects licenses that do not allow use, and asks when the choice is not
      clear (with --auto it takes the best). --source takes one directly:
      hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME or workspace:PATH.
      Without --auto, each gate asks for confirmation on the terminal.
      With --time-budget, training searches the models' hyperparameters for that
      long (a hard limit); without it each chosen model trains once.
      --keep-models N keeps the model files of the leaderboard's N best runs
      (default 5; the best run's model is always kept).
  automl run --project ID [--auto] [--out DIR] [--workspace DIR]
      Continue a project of the workspace: answer the gate it waits at (with
      --auto, its first choice), or retry the stage that failed (a search a stop
      cut short resumes where it was).
  automl predict --model PROJECT_DIR|BUNDLE.zip|BUNDLE_DIR|RUN.model --data NEW.csv
                 [--out PRED.csv] [--report REPORT.csv] [--keep COL[,COL…]]
      Predict the target for new rows with a trained model: the project's best
      model (from its folder or its export bundle) or a given model file. Writes a
      CSV with a line per row (the predicted value; for classes, the predicted
      class and each class's probability), by default beside the data, and lists
      every row unlike the training data (which column, what, what was done) in
      the report. The file is read in batches: any length fits in memory.
      --keep copies columns of the data (an id) into the predictions, first.
  automl predict --model PROJECT_DIR|BUNDLE.zip|BUNDLE_DIR|RUN.model [--out FORECAST.csv]
      A forecasting model's forecast of the steps after the end of its history,
      for each series, with the interval its backtests gave: forecast.csv by
      default.
  automl --version
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v") {
    process.stdout.write(`${PACKAGE_VERSION}\n`);
    return 0;
  }
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return command ? 0 : EXIT.badInput;
  }
  // `automl run --help`: the usage, as for `automl --help`
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (command === "serve") {
      const { values } = parseArgs({
        args: rest,
        options: {
          workspace: { type: "string" },
          port: { type: "string" },
          attach: { type: "boolean", default: false },
          verbose: { type: "boolean", default: false },
        },
        strict: true,
      });
      const ended = await serveCommand({
        workspace: values.workspace ?? process.cwd(),
        port: values.port ? wholeNumber("--port", values.port) : undefined,
        attach: values.attach ?? false,
        verbose: values.verbose ?? false,
      });
      return ended ?? -1; // -1: keeps running
    }
    if (command === "run") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          data: { type: "string" },
          source: { type: "string" },
          target: { type: "string" },
          auto: { type: "boolean", default: false },
          out: { type: "string" },
          workspace: { type: "string" },
          "no-pacing": { type: "boolean", default: false },
          seed: { type: "string" },
          "time-budget": { type: "string" },
          "keep-models": { type: "string" },
          verbose: { type: "boolean", default: false },
          project: { type: "string" },
        },
        strict: true,
      });
      const prompt = positionals.join(" ").trim();
      if (!prompt && !values.project)
        throw new UsageError('run needs a prompt, e.g. automl run "predict house prices" --auto (or --project ID to continue a project)');
      if (prompt && values.project) throw new UsageError("give a prompt for a new project, or --project ID to continue one, not both");
      if (values.project && values.target)
        throw new UsageError(
          "--target names the target of a new project; to change a project's, answer its data gate (in a terminal: run --project ID without --auto)",
        );
      if (values.data && values.source) throw new UsageError("give the data one way: --data FILE (your file) or --source ID (a dataset to fetch), not both");
      return await runCommand({
        prompt,
        data: values.data,
        source: values.source,
        target: values.target,
        auto: values.auto ?? false,
        out: values.out,
        workspace: values.workspace ?? process.cwd(),
        pacing: !(values["no-pacing"] ?? false),
        seed: values.seed ? wholeNumber("--seed", values.seed) : undefined,
        timeBudgetSeconds: values["time-budget"] ? wholeNumber("--time-budget", values["time-budget"]) : undefined,
        keepModels: values["keep-models"] ? wholeNumber("--keep-models", values["keep-models"]) : undefined,
        verbose: values.verbose ?? false,
        project: values.project,
      });
    }
    if (command === "predict") {
      const { values } = parseArgs({
        args: rest,
        options: {
          model: { type: "string" },
          data: { type: "string" },
          out: { type: "string" },
          report: { type: "string" },
          keep: { type: "string", multiple: true },
        },
        strict: true,
      });
      if (!values.model)
        throw new UsageError(
          "predict needs --model (a project's folder, its export zip, or a model file) and --data (the new rows; a forecasting model takes none)",
        );
      return await predictCommand({ model: values.model, data: values.data, out: values.out, report: values.report, keep: keptColumns(values.keep) });
    }
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`automl: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT.badInput;
    }
    throw err;
  }
}

class UsageError extends Error {}

function wholeNumber(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} takes a whole number, not ${JSON.stringify(raw)}`);
  return Number(raw);
}
