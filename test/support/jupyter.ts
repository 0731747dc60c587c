/**
 * Debian's Jupyter, as .ci/run installs it (apt-get install jupyter-nbconvert python3-nbformat),
 * with tslab's kernelspec installed into a private prefix: the tests leave no kernel behind.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { tempWorkspace } from "./temp-workspace";

export const exec = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const NBCONVERT = "/usr/bin/jupyter-nbconvert";
const TSLAB = path.join(__dirname, "..", "..", "node_modules", "tslab", "bin", "tslab");

export interface Jupyter {
  /** checks a notebook file against nbformat's schema */
  validate(file: string): Promise<void>;
  /** executes `input` (in its folder) under nbconvert with the tslab kernel into `output` there; returns the executed notebook */
  execute(input: string, output: string, timeoutSeconds?: number): Promise<ExecutedNotebook>;
}

export interface ExecutedNotebook {
  cells: Array<{
    cell_type: string;
    source: string | string[];
    metadata: { automl?: { stage_id?: string } };
    outputs?: Array<{ output_type: string; name?: string; text?: string | string[]; ename?: string; evalue?: string }>;
  }>;
}

export async function installJupyter(): Promise<Jupyter> {
  for (const tool of [PYTHON, NBCONVERT]) {
    assert.ok(fs.existsSync(tool), `${tool} is missing: apt-get install jupyter-nbconvert python3-nbformat (as .ci/run does)`);
  }
  const prefix = tempWorkspace("jupyter");
  await exec(process.execPath, [TSLAB, "install", "--python", PYTHON, "--binary", TSLAB, "--prefix", prefix]);
  const jupyterPath = path.join(prefix, "share", "jupyter");
  return {
    async validate(file) {
      await exec(PYTHON, ["-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", file]);
    },
    async execute(input, output, timeoutSeconds = 120) {
      const dir = path.dirname(input);
      await exec(
        NBCONVERT,
        [
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.kernel_name=tslab",
          `--ExecutePreprocessor.timeout=${timeoutSeconds}`,
          "--output",
          output,
          path.basename(input),
        ],
        { cwd: dir, env: { ...process.env, JUPYTER_PATH: jupyterPath }, maxBuffer: 64 * 1024 * 1024 },
      );
      return JSON.parse(fs.readFileSync(path.join(dir, output), "utf8")) as ExecutedNotebook;
    },
  };
}

/** A cell's stream text. */
export function cellText(cell: ExecutedNotebook["cells"][number]): string {
  return (cell.outputs ?? []).map((o) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? ""))).join("");
}
