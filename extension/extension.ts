/**
 * The VS Code side. Activation stays cheap: nothing starts until a command needs it.
 * (The commands, the conductor process manager and the panels are built in the extension issue.)
 */
import * as vscode from "vscode";
import { STAGE_IDS } from "../contract/stages";

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("AutoML");
  context.subscriptions.push(output);
  context.subscriptions.push(
    vscode.commands.registerCommand("automl.showLogs", () => {
      output.appendLine(`AutoML pipeline stages: ${STAGE_IDS.join(" → ")}`);
      output.show(true);
    }),
  );
}

export function deactivate(): void {
  // every disposable is in context.subscriptions
}
