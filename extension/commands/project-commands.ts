/** The project commands: New Project, Open Dashboard, Confirm Stage, Export Workspace Zip, Predict with Model, Restart Notebook Kernel, and applying a suggested edit beside its cell. */
import * as vscode from "vscode";
import { DATA_FILE_EXTENSIONS, PROMPT_MAX_CHARS, STAGE_TITLES, canResumeSearch, isStageId, projectDisplayName, type ConductorClient } from "../../contract";
import type { AutomlServices } from "../automl-services";
import { projectOfNotebook, projectOfUri } from "../notebook/notebook-project";
import { APPLY_SUGGESTION_COMMAND } from "../notebook/suggestion-status-bar";
import { datasetChoiceOf, pickDataset } from "../panels/dataset-pick";
import { readSettings } from "../settings";

export function registerProjectCommands(s: AutomlServices): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("automl.newProject", () => guard(s, () => newProject(s))),
    vscode.commands.registerCommand("automl.openDashboard", (id?: string) =>
      guard(s, async () => s.showDashboard(id ?? (await pickProject(await s.client(), "Open the dashboard of")))),
    ),
    vscode.commands.registerCommand("automl.confirmStage", (id?: string) => guard(s, () => confirmStage(s, id))),
    vscode.commands.registerCommand("automl.exportProject", (target?: vscode.Uri | string) => guard(s, () => exportProject(s, target))),
    vscode.commands.registerCommand("automl.predictWithModel", (data?: vscode.Uri) => guard(s, () => predictWithModel(s, data))),
    vscode.commands.registerCommand("automl.restartKernel", () => guard(s, () => restartKernel(s))),
    // from a suggestion's item beside its notebook cell (suggestion-status-bar.ts)
    vscode.commands.registerCommand(APPLY_SUGGESTION_COMMAND, (projectId: string, suggestionId: string) =>
      guard(s, async () => {
        const suggestion = s.suggestionsBesideCells.suggestion(projectId, suggestionId);
        if (!suggestion) throw new Error(`That suggestion is gone: the project's suggestions changed since. Look at the current ones in the dashboard.`);
        await s.applySuggestion(projectId, suggestion);
      }),
    ),
  ];
}

/** Errors become a message that says what to do, with the log one click away. */
async function guard(s: AutomlServices, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    const message = (err as Error).message;
    if (message === CANCELLED) return;
    s.log.error(message);
    const pick = await vscode.window.showErrorMessage(`AutoML: ${message}`, "Show Logs");
    if (pick) s.log.show();
  }
}

const CANCELLED = "cancelled";

async function newProject(s: AutomlServices): Promise<void> {
  if (!vscode.workspace.workspaceFolders?.length) {
    throw new Error("Open a folder first (File → Open Folder): AutoML keeps its projects in the folder's .automl directory.");
  }
  const prompt = await vscode.window.showInputBox({
    title: "AutoML: New Project",
    prompt: "What do you want to predict?",
    placeHolder: "predict house prices from this CSV",
    ignoreFocusOut: true,
    validateInput: (v) =>
      !v.trim()
        ? 'Say what to predict, e.g. "predict house prices"'
        : v.trim().length > PROMPT_MAX_CHARS
          ? `Keep it under ${PROMPT_MAX_CHARS.toLocaleString("en")} characters: say what to predict, and pick the data as a file next.`
          : null,
  });
  if (!prompt) throw new Error(CANCELLED);
  const source = await vscode.window.showQuickPick(
    [
      { label: "$(search) Let the agent find data", id: "find" as const, detail: "A dataset matching the request, license-checked" },
      { label: "$(file) Pick a data file from the workspace", id: "workspace" as const, detail: "CSV, TSV, JSON, Parquet, Arrow or Excel" },
      { label: "$(cloud-upload) Upload a data file…", id: "upload" as const, detail: "Any data file on this machine" },
    ],
    { title: "Where does the data come from?", ignoreFocusOut: true },
  );
  if (!source) throw new Error(CANCELLED);
  let dataPath: string | undefined;
  if (source.id === "workspace") {
    const files = await vscode.workspace.findFiles(
      `**/*.{${DATA_FILE_EXTENSIONS.join(",")}}`,
      "{**/node_modules/**,**/.automl/**,**/package*.json,**/tsconfig*.json,**/.vscode/**}",
      500,
    );
    if (files.length === 0) throw new Error('No data file (CSV, TSV, JSON, Parquet, Arrow, Excel) in the workspace. Choose "Upload a data file…" instead.');
    const pick = await vscode.window.showQuickPick(
      files.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f })),
      { title: "Data file", ignoreFocusOut: true },
    );
    if (!pick) throw new Error(CANCELLED);
    dataPath = pick.uri.fsPath;
  } else if (source.id === "upload") {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Tables: [...DATA_FILE_EXTENSIONS] }, title: "Data file" });
    if (!picked?.[0]) throw new Error(CANCELLED);
    dataPath = picked[0].fsPath;
  }
  const settings = readSettings();
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "AutoML", cancellable: false }, async (progress) => {
    progress.report({ message: "starting the conductor…" });
    const client = await s.client();
    const { project_id } = await client.createProject({
      prompt,
      data_path: dataPath,
      auto: settings.autoConfirm,
      pacing: settings.pacing,
      time_budget_s: settings.timeBudgetSeconds > 0 ? settings.timeBudgetSeconds : undefined,
      keep_models: settings.keepModels,
    });
    // the dashboard also offers the quick pick of datasets when the finder cannot choose clearly
    await s.showDashboard(project_id);
    const feed = await s.follow(project_id);
    // the notification follows the project until it needs the person or is done
    await new Promise<void>((resolve) => {
      const check = () => {
        const snap = feed.snapshot;
        const st = snap.stages[snap.current_stage];
        progress.report({ message: `${STAGE_TITLES[snap.current_stage]}: ${st.status}` });
        // a stopped conductor runs nothing: the notification ends (the dashboard and status bar say stopped)
        if (st.status === "waiting" || st.status === "failed" || snap.stages.EXPORT.status === "completed" || feed.connection === "stopped") {
          sub.dispose();
          connection.dispose();
          resolve();
          if (st.status === "failed") {
            const resume = canResumeSearch(snap);
            // the request read the same way fails the same way: it needs rewording (the dashboard's Edit the request)
            const again = snap.current_stage === "PARSE_INTENT" ? null : resume ? "Resume the search" : "Retry";
            void vscode.window
              .showErrorMessage(`AutoML: ${STAGE_TITLES[snap.current_stage]} failed: ${st.message}`, ...(again ? [again] : []), "Open Dashboard")
              .then((pick) => {
                if (pick === again)
                  void s
                    .client()
                    .then((c) => c.retry(project_id, { resume }))
                    .catch((err: Error) => void vscode.window.showErrorMessage(`AutoML: ${err.message}`));
                if (pick === "Open Dashboard") void s.showDashboard(project_id);
              });
          }
        }
      };
      const sub = feed.onEvents(check);
      const connection = feed.onConnection(check);
      check();
    });
  });
}

type ListedProject = Awaited<ReturnType<ConductorClient["listProjects"]>>["projects"][number];

async function pickProject(
  client: ConductorClient,
  verb: string,
  filter: (p: ListedProject) => boolean = () => true,
  none = "No project is in a state for that.",
): Promise<string> {
  const { projects } = await client.listProjects();
  const candidates = projects.filter(filter);
  if (candidates.length === 0) throw new Error(projects.length ? none : 'There is no AutoML project in this workspace yet. Run "AutoML: New Project".');
  if (candidates.length === 1) return candidates[0]!.id;
  const pick = await vscode.window.showQuickPick(
    candidates.map((p) => ({
      label: projectDisplayName(p),
      description: p.best_model
        ? `${p.best_model.model_id} · validation ${p.best_model.metric.name} ${p.best_model.metric.value.toFixed(4)}`
        : `${isStageId(p.current_stage) ? STAGE_TITLES[p.current_stage] : p.current_stage} · ${p.status}`,
      detail: p.id,
      id: p.id,
    })),
    { title: `${verb} which project?` },
  );
  if (!pick) throw new Error(CANCELLED);
  return pick.id;
}

async function confirmStage(s: AutomlServices, id?: string): Promise<void> {
  const client = await s.client();
  const projectId = id ?? (await pickProject(client, "Confirm the gate of", (p) => p.status === "waiting"));
  const { snapshot } = await client.state(projectId);
  if (datasetChoiceOf(snapshot.waiting)) {
    await pickDataset(client, projectId, snapshot.waiting!);
    return;
  }
  const state = await client.confirm(projectId);
  void vscode.window.setStatusBarMessage(`AutoML: confirmed; now at ${STAGE_TITLES[state.snapshot.current_stage]}`, 4000);
}

async function exportProject(s: AutomlServices, target?: vscode.Uri | string): Promise<void> {
  const client = await s.client();
  const projectId = typeof target === "string" ? target : target ? projectOfUri(target) : await pickProject(client, "Export");
  if (!projectId) throw new Error("That is not an AutoML project folder (.automl/projects/<id>).");
  const ready = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "AutoML: exporting" }, () =>
    client.exportZip(projectId),
  );
  const zip = vscode.Uri.joinPath(s.projectDir(projectId), "export", `${projectId}.zip`);
  await vscode.commands.executeCommand("revealInExplorer", zip);
  // the toast stays until answered: the export is done either way
  void vscode.window
    .showInformationMessage(
      `AutoML: exported ${ready.contents.length} files to ${vscode.workspace.asRelativePath(zip)}`,
      "Reveal in File Explorer",
      "Open Report",
    )
    .then((pick) => {
      if (pick === "Reveal in File Explorer") void vscode.commands.executeCommand("revealFileInOS", zip);
      if (pick === "Open Report") void vscode.commands.executeCommand("markdown.showPreview", vscode.Uri.joinPath(s.projectDir(projectId), "report.md"));
    });
}

/**
 * Predicts a data file (the one right-clicked in the explorer, or one picked) with a project's
 * best model: the conductor reads it in batches and writes NAME.predictions.csv beside it
 * (and NAME.predictions.report.csv when rows were unlike training), which then opens.
 */
async function predictWithModel(s: AutomlServices, target?: vscode.Uri): Promise<void> {
  const data =
    target ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Tables: [...DATA_FILE_EXTENSIONS] }, title: "Data to predict" }))?.[0];
  if (!data) throw new Error(CANCELLED);
  if (data.scheme !== "file") throw new Error(`${data.toString()} is not a file on this machine: the conductor reads data files where they lie.`);
  const client = await s.client();
  const projectId = await pickProject(
    client,
    `Predict ${vscode.workspace.asRelativePath(data)} with the model of`,
    (p) => p.best_model !== null,
    'No project has a trained model yet: train one first (or run "AutoML: New Project").',
  );
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `AutoML: predicting ${vscode.workspace.asRelativePath(data)}` },
    () => client.predictFile(projectId, { data_path: data.fsPath }),
  );
  for (const line of [...result.warnings, ...result.summary]) s.log.info(line);
  const out = vscode.Uri.file(result.out_path);
  await vscode.window.showTextDocument(out, { preview: false });
  const refused = result.refused ? `; ${result.refused.toLocaleString("en")} row(s) refused (their lines are empty)` : "";
  const said = `AutoML: ${(result.rows - result.refused).toLocaleString("en")} predictions of ${result.model.target} by ${result.model.model_id} written to ${vscode.workspace.asRelativePath(out)}${refused}.`;
  const report = result.report_path ? vscode.Uri.file(result.report_path) : null;
  // the toast stays until answered: the predictions are written either way
  const show = result.refused ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  void show(report ? `${said} ${result.summary.length} kind(s) of problem, row by row in the report.` : said, ...(report ? ["Open Report"] : [])).then(
    (pick) => {
      if (pick === "Open Report" && report) void vscode.window.showTextDocument(report, { preview: false });
    },
  );
}

async function restartKernel(s: AutomlServices): Promise<void> {
  const nb = vscode.window.activeNotebookEditor?.notebook;
  const projectId = nb ? projectOfNotebook(nb) : null;
  if (!projectId) throw new Error("Open an AutoML project notebook first: the kernel belongs to its project.");
  const replay = await vscode.window.showQuickPick(["Restart", "Restart and run all cells"], { title: "Restart the notebook kernel" });
  if (!replay) throw new Error(CANCELLED);
  const result = await (await s.client()).restartKernel(projectId, { replay: replay !== "Restart" });
  void vscode.window.showInformationMessage(
    result.failed_at === null
      ? `AutoML: kernel restarted${result.replayed ? `; ${result.replayed} cells ran` : ""}.`
      : `AutoML: kernel restarted; cell ${result.failed_at + 1} failed while replaying.`,
  );
}
