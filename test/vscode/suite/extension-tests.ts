/** The extension inside a real VS Code: activation, commands, settings, the conductor, the notebook controller, panels and export. */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { AutomlServices } from "../../../extension/automl-services";
import { secretEnvironment, SECRETS } from "../../../extension/settings";
import { churnCsv, churnModel } from "../../support/churn-scenario";
import { startTestLlm } from "../../support/test-llm-server";

const EXTENSION_ID = "automl-builder.automl-builder";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What a click into a notebook does for the extension: a cell selected (a different one each call, so that it is a change). */
let clicks = 0;
function comeTo(editor: vscode.NotebookEditor): true {
  const cell = clicks++ % Math.max(1, Math.min(2, editor.notebook.cellCount));
  editor.selections = [new vscode.NotebookRange(cell, cell + 1)];
  return true;
}

/**
 * A click on the suggestion's item beside its cell, as the person makes it: the item the cell
 * status bar shows for it (there once the project's suggestions reached the extension), and its
 * command with its arguments.
 */
async function clickSuggestionBeside(services: AutomlServices, cell: vscode.NotebookCell, title: string): Promise<void> {
  let item: vscode.NotebookCellStatusBarItem | undefined;
  await until(
    () => {
      item = services.suggestionsBesideCells.provideCellStatusBarItems(cell).find((i) => i.text.endsWith(`Apply: ${title}`));
      return item !== undefined;
    },
    `the suggestion "${title}" beside its cell`,
    20_000,
  );
  const command = item!.command as vscode.Command;
  await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
}

export function registerExtensionTests(): void {
  describe("AutoML extension", () => {
    let services: AutomlServices;
    let projectId: string;

    it("activates quickly and starts no process doing so", async () => {
      const ext = vscode.extensions.getExtension<AutomlServices>(EXTENSION_ID)!;
      assert.ok(ext, "the extension is installed");
      const t0 = performance.now();
      services = await ext.activate();
      const ms = performance.now() - t0;
      assert.equal(services.conductor.running, false, "activation started no conductor");
      fs.writeFileSync(path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, ".automl-activation-ms"), String(ms));
    });

    it("contributes every command under the AutoML category, and its settings", async () => {
      const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
        contributes: { commands: Array<{ command: string; category: string }>; configuration: { properties: Record<string, unknown> } };
      };
      const registered = await vscode.commands.getCommands(true);
      for (const c of manifest.contributes.commands) {
        assert.equal(c.category, "AutoML");
        assert.ok(registered.includes(c.command), `${c.command} is registered`);
      }
      const config = vscode.workspace.getConfiguration("automl");
      for (const key of ["autoConfirm", "pacing", "timeBudgetSeconds", "llm.baseUrl", "llm.model"])
        assert.notEqual(config.inspect(key)?.defaultValue, undefined, key);
      assert.ok(!Object.keys(manifest.contributes.configuration.properties).some((k) => /key|token|secret|password/i.test(k)), "no secret is a setting");
    });

    it("keeps secrets in SecretStorage and hands them to the conductor's environment only", async () => {
      await services.context.secrets.store(SECRETS.llmApiKey.key, "sk-test-123");
      const env = await secretEnvironment(services.context.secrets);
      assert.equal(env[SECRETS.llmApiKey.env], "sk-test-123");
      const settingsFile = path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, ".vscode", "settings.json");
      assert.ok(!fs.existsSync(settingsFile) || !fs.readFileSync(settingsFile, "utf8").includes("sk-test-123"));
      await services.context.secrets.delete(SECRETS.llmApiKey.key);
    });

    it("starts the conductor on demand and follows a project to its export, opening the notebook", async () => {
      const client = await services.client();
      assert.equal(services.conductor.running, true);
      const created = await client.createProject({ prompt: "classify penguin species", auto: true, pacing: false });
      projectId = created.project_id;
      const feed = await services.follow(projectId);
      await until(() => feed.snapshot.stages.EXPORT.status === "completed", "the project to finish");
      await until(
        () => vscode.window.activeNotebookEditor?.notebook.uri.fsPath.endsWith(path.join(projectId, "notebook.ipynb")) ?? false,
        "the notebook to open",
      );
      const editor = vscode.window.activeNotebookEditor!;
      const nb = editor.notebook;
      // the conductor rewrites the notebook at each stage; with VS Code's watcher kept out of the
      // project (see extension-suite.test.ts) the extension reads the clean open notebook again
      // itself when the person comes to it (here: selects a cell). A cell inserted before that
      // would be dropped by it, so wait for the exported version
      const cellsOnDisk = () => (JSON.parse(fs.readFileSync(nb.uri.fsPath, "utf8")) as { cells: unknown[] }).cells.length;
      await until(() => comeTo(editor) && nb.cellCount === cellsOnDisk() && !nb.isDirty, "the open notebook to show the exported version, unchanged", 60_000);
      assert.ok(nb.cellCount >= 15, `${nb.cellCount} cells`);
    });

    it("reads the open notebook again when its file changed unseen by VS Code, once the person comes to it: keys typed elsewhere meanwhile go where they went", async () => {
      const editor = vscode.window.visibleNotebookEditors.find((e) => e.notebook.uri.fsPath.endsWith(path.join(projectId, "notebook.ipynb")))!;
      const nb = editor.notebook;
      const beside = editor.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
      const scratch = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: "" }), {
        viewColumn: beside,
        preserveFocus: false,
      });
      // the file changes as the conductor changes it (a cell added), unseen by VS Code's watcher
      const onDisk = JSON.parse(fs.readFileSync(nb.uri.fsPath, "utf8")) as { cells: unknown[] };
      onDisk.cells.push({ cell_type: "markdown", metadata: {}, source: ["Added on disk by the suite."] });
      fs.writeFileSync(nb.uri.fsPath, JSON.stringify(onDisk, null, 1));
      services.notebookSync.written(nb.uri);
      await new Promise((r) => setTimeout(r, 3000)); // past the grace period in which VS Code's own watcher would have reloaded it
      await vscode.commands.executeCommand("type", { text: "typed meanwhile" });
      assert.equal(scratch.document.getText(), "typed meanwhile", "the keys went to the file being typed in");
      assert.equal(nb.cellCount, onDisk.cells.length - 1, "the notebook waits for the person");
      await until(() => comeTo(editor) && nb.cellCount === onDisk.cells.length && !nb.isDirty, "the notebook to show the cell added on disk", 30_000);
      assert.equal(nb.cellAt(onDisk.cells.length - 1).document.getText(), "Added on disk by the suite.");
      await vscode.window.showTextDocument(scratch.document, { viewColumn: beside, preserveFocus: false });
      await vscode.commands.executeCommand("workbench.action.revertAndCloseActiveEditor");
    });

    it("runs cells in the project's kernel through its notebook controller", async () => {
      const editor = vscode.window.activeNotebookEditor!;
      const nb = editor.notebook;
      await vscode.commands.executeCommand("notebook.selectKernel", { notebookEditor: editor, id: "automl-typescript", extension: EXTENSION_ID });
      await until(() => services.controller.selected.has(nb), "our controller to be selected for the notebook", 20_000);
      const edit = new vscode.WorkspaceEdit();
      edit.set(nb.uri, [
        vscode.NotebookEdit.insertCells(nb.cellCount, [
          new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'console.log("from the kernel");\n40 + 2', "typescript"),
        ]),
      ]);
      await vscode.workspace.applyEdit(edit);
      const index = nb.cellCount - 1;
      editor.selections = [new vscode.NotebookRange(index, index + 1)];
      editor.revealRange(new vscode.NotebookRange(index, index + 1));
      await new Promise((r) => setTimeout(r, 500)); // let the editor create the new cell's view
      const cell = nb.cellAt(index);
      const runCell = () =>
        vscode.commands.executeCommand("notebook.cell.execute", { ranges: [{ start: index, end: index + 1 }], document: nb.uri, autoReveal: true });
      let ran = 0;
      const executed = services.controller.onDidExecute(() => ran++);
      try {
        await runCell();
        await until(
          () => cell.executionSummary?.success !== undefined,
          `the cell to finish (outputs so far: ${cell.outputs.length}, cells run: ${ran}, controller selected: ${services.controller.selected.has(nb)})`,
          60_000,
        );
      } finally {
        executed.dispose();
      }
      assert.equal(cell.executionSummary?.success, true);
      assert.ok((cell.executionSummary?.executionOrder ?? 0) > 0);
      const texts = cell.outputs.flatMap((o) => o.items.map((i) => new TextDecoder().decode(i.data)));
      assert.ok(
        texts.some((t) => t.includes("from the kernel")),
        texts.join(" | "),
      );
      assert.ok(
        texts.some((t) => t.trim() === "42"),
        texts.join(" | "),
      );
      await until(() => services.variables.projectId === projectId, "the variables view to refresh");
    });

    it("applies a suggested edit with one click: the stage's cell is edited and run, and the stages after it follow", async () => {
      const feed = await services.follow(projectId);
      const seed = feed.snapshot.suggestions.find((s) => s.id === "change-seed");
      assert.ok(seed?.cell_edit, JSON.stringify(feed.snapshot.suggestions));
      const runsBefore = Object.keys(feed.snapshot.runs).length;
      const seedBefore = feed.snapshot.split?.seed;
      // the suggestion beside its cell: the item under the split cell, clicked
      const nb = vscode.window.activeNotebookEditor!.notebook;
      const cell = nb.getCells().find((c) => c.kind === vscode.NotebookCellKind.Code && c.document.getText().includes("rt.split("))!;
      await clickSuggestionBeside(services, cell, seed.title);
      assert.equal(cell.document.getText(), seed.cell_edit.after, "the cell holds the edit");
      await until(() => cell.executionSummary?.success !== undefined, "the cell's run to be recorded", 20_000);
      assert.equal(cell.executionSummary?.success, true, "the edited cell ran");
      const newSeed = /seed: (\d+)/.exec(seed.cell_edit.after)![1]!;
      assert.match(fs.readFileSync(nb.uri.fsPath, "utf8"), new RegExp(`seed: ${newSeed},`), "the notebook was saved with the edit");
      await until(
        () => feed.snapshot.stages.EXPORT.status === "completed" && Object.keys(feed.snapshot.runs).length > runsBefore,
        "the stale stages to re-run",
        180_000,
      );
      assert.notEqual(feed.snapshot.split?.seed, seedBefore, "the split took the new seed");
      assert.equal(feed.snapshot.split?.seed, Number(newSeed));
    });

    it("opens the dashboard panel for the project", async () => {
      await vscode.commands.executeCommand("automl.openDashboard", projectId);
      const dashboardTab = () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes("automl.dashboard"));
      await until(() => dashboardTab() !== undefined, "the dashboard tab", 20_000);
      assert.match(dashboardTab()!.label, /^AutoML: classify penguin species/);
    });

    it("exports a project from its folder", async () => {
      const folder = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, ".automl", "projects", projectId);
      const zip = path.join(folder.fsPath, "export", `${projectId}.zip`);
      fs.rmSync(zip, { force: true });
      await vscode.commands.executeCommand("automl.exportProject", folder);
      assert.ok(fs.existsSync(zip));
    });

    it("predicts a data file with the project's model from the explorer: the predictions beside it, opened, odd rows reported", async () => {
      const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
      const data = path.join(folder, "new-penguins.csv");
      fs.writeFileSync(
        data,
        [
          "Island,Beak Length (mm),Beak Depth (mm),Flipper Length (mm),Body Mass (g),Sex",
          "Torgersen,39.1,18.7,181,3750,MALE",
          "Biscoe,46.5,14.8,217,5200,FEMALE",
          "Dream,49.0,19.5,210,3950,MALE",
          "Atlantis,45.0,17.0,200,4000,FEMALE",
        ].join("\n") + "\n",
      );
      const out = path.join(folder, "new-penguins.predictions.csv");
      fs.rmSync(out, { force: true });
      await vscode.commands.executeCommand("automl.predictWithModel", vscode.Uri.file(data));
      const [header, ...lines] = fs.readFileSync(out, "utf8").trimEnd().split("\n");
      assert.match(header!, /^Species_predicted,p_/);
      assert.deepEqual(
        lines.map((l) => l.split(",")[0]),
        ["Adelie", "Gentoo", "Chinstrap", lines[3]!.split(",")[0]],
        "the three known penguins are told apart",
      );
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, out, "the predictions are open");
      assert.match(fs.readFileSync(path.join(folder, "new-penguins.predictions.report.csv"), "utf8"), /^4,Island,Atlantis,unseen_category,/m);
    });

    it("asks a language model (an OpenAI-compatible server on 127.0.0.1) when one is set up: every agent's event says so, and its edit is applied beside its cell", async () => {
      const llm = await startTestLlm({ respond: churnModel });
      const config = vscode.workspace.getConfiguration("automl");
      const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
      fs.writeFileSync(path.join(folder, "churn.csv"), churnCsv(600));
      try {
        // as a person sets it up: the endpoint and model in the settings, the key in the secret store
        await config.update("llm.baseUrl", llm.url, vscode.ConfigurationTarget.Workspace);
        await config.update("llm.model", "test/model-7b", vscode.ConfigurationTarget.Workspace);
        await services.context.secrets.store(SECRETS.llmApiKey.key, llm.apiKey);
        await vscode.commands.executeCommand("automl.restartConductor");
        const client = await services.client();
        const created = await client.createProject({
          prompt: "which of my customers are about to cancel?",
          data_path: path.join(folder, "churn.csv"),
          auto: true,
          pacing: false,
        });
        const feed = await services.follow(created.project_id);
        await until(() => feed.snapshot.stages.EXPORT.status === "completed", "the project to finish", 180_000);
        assert.deepEqual(feed.snapshot.decided_by, { intent: "llm", datasets: "rules", preprocess: "llm", models: "llm", report: "llm" });
        assert.equal(feed.snapshot.intent?.target, "churned");
        assert.ok(llm.requests.every((r) => r.authorization === `Bearer ${llm.apiKey}`));
        const suggestion = feed.snapshot.suggestions.find((x) => x.source === "llm")!;
        assert.equal(suggestion.title, "Rank by accuracy");
        await until(() => vscode.window.activeNotebookEditor?.notebook.uri.fsPath.includes(created.project_id) ?? false, "its notebook to open");
        const nb = vscode.window.activeNotebookEditor!.notebook;
        await until(
          () => comeTo(vscode.window.activeNotebookEditor!) && !nb.isDirty && nb.getCells().some((c) => c.document.getText() === suggestion.cell_edit!.before),
          "the notebook's models cell",
        );
        const cell = nb.getCells().find((c) => c.document.getText() === suggestion.cell_edit!.before)!;
        await clickSuggestionBeside(services, cell, suggestion.title);
        assert.equal(cell.document.getText(), suggestion.cell_edit!.after);
        assert.match(cell.document.getText(), /"accuracy"/);
        await until(() => cell.executionSummary?.success !== undefined, "the edited cell's run", 30_000);
        assert.equal(cell.executionSummary?.success, true);
        // the re-run trains ranked by the edited metric
        await until(
          () =>
            feed.snapshot.stages.EXPORT.status === "completed" &&
            Object.values(feed.snapshot.runs).some((r) => r.metric_primary === "accuracy" && r.status === "success"),
          "the stages after it to re-run",
          180_000,
        );
      } finally {
        await services.context.secrets.delete(SECRETS.llmApiKey.key);
        await config.update("llm.baseUrl", undefined, vscode.ConfigurationTarget.Workspace);
        await config.update("llm.model", undefined, vscode.ConfigurationTarget.Workspace);
        await vscode.commands.executeCommand("automl.restartConductor");
        await llm.close();
      }
    });

    it("restarts a conductor that died, and the project's stream carries on", async () => {
      const client = await services.client();
      const { pid } = await client.health();
      const feed = await services.follow(projectId);
      const restarted = new Promise<void>((resolve) => services.conductor.onDidRestart(() => resolve()));
      process.kill(pid, "SIGKILL");
      await restarted;
      const again = await services.client();
      assert.notEqual((await again.health()).pid, pid);
      await until(() => feed.connection === "connected", "the stream to reconnect", 30_000);
      assert.equal((await again.state(projectId)).snapshot.stages.EXPORT.status, "completed", "the project resumed from its log");
    });

    it("says what went wrong when the conductor cannot start", async () => {
      const config = vscode.workspace.getConfiguration("automl");
      await services.conductor.stop();
      await config.update("conductor.nodePath", "/nonexistent/node", vscode.ConfigurationTarget.Workspace);
      try {
        await assert.rejects(services.conductor.ensure(), /ENOENT|exited while starting/);
      } finally {
        await config.update("conductor.nodePath", undefined, vscode.ConfigurationTarget.Workspace);
      }
      await services.client();
    });
  });
}
