import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { startConductor, type RunningConductor } from "../support/running-conductor";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const exec = promisify(execFile);
// Debian's Jupyter, as .ci/run installs it: apt-get install jupyter-nbconvert python3-nbformat
const PYTHON = "/usr/bin/python3";
const NBCONVERT = "/usr/bin/jupyter-nbconvert";
const TSLAB = path.join(__dirname, "..", "..", "node_modules", "tslab", "bin", "tslab");

describe("the generated notebook under Jupyter", function () {
  this.timeout(180_000);
  let rc: RunningConductor;
  let jupyterPath: string;

  before(async () => {
    for (const tool of [PYTHON, NBCONVERT]) {
      assert.ok(fs.existsSync(tool), `${tool} is missing: apt-get install jupyter-nbconvert python3-nbformat (as .ci/run does)`);
    }
    // tslab's own installer, into a private prefix: the test leaves no kernelspec behind
    const prefix = tempWorkspace("jupyter");
    await exec(process.execPath, [TSLAB, "install", "--python", PYTHON, "--binary", TSLAB, "--prefix", prefix]);
    jupyterPath = path.join(prefix, "share", "jupyter");
    rc = await startConductor();
  });
  after(async () => (await rc?.stop(), removeTempWorkspaces()));

  for (const prompt of ["predict house prices", "classify penguin species"]) {
    it(`validates against nbformat and executes under nbconvert with tslab, reproducing the test metric (${prompt})`, async () => {
      const { project_id: id } = await rc.client.createProject({ prompt, auto: true, pacing: false });
      await rc.conductor.idle(id);
      const { snapshot } = await rc.client.state(id);
      const dir = path.join(rc.conductor.projectsDir, id);

      await exec(PYTHON, ["-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", path.join(dir, "notebook.ipynb")]);

      await exec(
        NBCONVERT,
        [
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.kernel_name=tslab",
          "--ExecutePreprocessor.timeout=120",
          "--output",
          "executed.ipynb",
          "notebook.ipynb",
        ],
        {
          cwd: dir,
          env: { ...process.env, JUPYTER_PATH: jupyterPath },
        },
      );
      const executed = JSON.parse(fs.readFileSync(path.join(dir, "executed.ipynb"), "utf8")) as {
        cells: Array<{ cell_type: string; metadata: { automl?: { stage_id?: string } }; outputs?: Array<{ output_type: string; text?: string | string[] }> }>;
      };
      const errors = executed.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error");
      assert.deepEqual(errors, []);
      const trainText = executed.cells
        .filter((c) => c.metadata.automl?.stage_id === "TRAIN")
        .flatMap((c) => c.outputs ?? [])
        .map((o) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? "")))
        .join("");
      const best = snapshot.runs[snapshot.best!.run_id]!;
      const metric = best.final_metrics!.primary;
      const row = trainText.split("\n").find((l) => l.startsWith(best.model_id));
      assert.ok(row, trainText);
      assert.ok(row.includes(`${metric.name} ${metric.value.toFixed(6)}`), `expected test ${metric.name} ${metric.value.toFixed(6)} in: ${row}`);
    });
  }
});
