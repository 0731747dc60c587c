/** Stop/Restart Conductor, Show Logs, the secret-setting commands, and a restart offered when a setting the conductor reads changes. */
import * as vscode from "vscode";
import type { AutomlServices } from "../automl-services";
import { SECRETS } from "../settings";

/** the settings that reach the conductor as its environment */
const CONDUCTOR_SETTINGS = ["automl.llm", "automl.huggingFace.endpoint", "automl.kaggle.endpoint", "automl.kernel", "automl.conductor.nodePath"];

export function registerConductorCommands(s: AutomlServices): vscode.Disposable[] {
  const setSecret = (secrets: Array<(typeof SECRETS)[keyof typeof SECRETS]>) => async () => {
    for (const secret of secrets) {
      const value = await vscode.window.showInputBox({ title: "AutoML", prompt: secret.prompt, password: true, ignoreFocusOut: true });
      if (value === undefined) return;
      await s.context.secrets.store(secret.key, value);
    }
    const restart = s.conductor.running
      ? await vscode.window.showInformationMessage("Saved in VS Code's secret storage. Restart the conductor to use it?", "Restart")
      : null;
    if (restart) await s.conductor.restart();
  };
  return [
    vscode.commands.registerCommand("automl.showLogs", () => s.log.show()),
    vscode.commands.registerCommand("automl.stopConductor", async () => {
      await s.conductor.stop();
      void vscode.window.setStatusBarMessage("AutoML: conductor stopped", 4000);
    }),
    vscode.commands.registerCommand("automl.restartConductor", async () => {
      try {
        await s.conductor.restart();
        void vscode.window.setStatusBarMessage("AutoML: conductor restarted", 4000);
      } catch (err) {
        const pick = await vscode.window.showErrorMessage(`AutoML: the conductor did not start: ${(err as Error).message}`, "Show Logs");
        if (pick) s.log.show();
      }
    }),
    vscode.commands.registerCommand("automl.setLlmApiKey", setSecret([SECRETS.llmApiKey])),
    vscode.commands.registerCommand("automl.setHuggingFaceToken", setSecret([SECRETS.huggingFaceToken])),
    vscode.commands.registerCommand("automl.setKaggleCredentials", setSecret([SECRETS.kaggleUsername, SECRETS.kaggleKey])),
    vscode.commands.registerCommand("automl.refreshVariables", () => s.variables.projectId && s.variables.refresh(s.variables.projectId)),
    // the conductor reads these when it starts (its environment): a change is offered a restart, as a new secret is
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!CONDUCTOR_SETTINGS.some((key) => e.affectsConfiguration(key)) || !s.conductor.running) return;
      const restart = await vscode.window.showInformationMessage(
        "The conductor reads this setting when it starts. Restart it to use the new value?",
        "Restart",
      );
      if (restart) await s.conductor.restart();
    }),
  ];
}
