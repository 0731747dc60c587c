/**
 * AutoML in VS Code. Activation only registers things; the conductor process starts when a
 * command or a notebook cell first needs it.
 */
import type * as vscode from "vscode";
import { AutomlServices } from "./automl-services";
import { registerConductorCommands } from "./commands/conductor-commands";
import { registerProjectCommands } from "./commands/project-commands";

export function activate(context: vscode.ExtensionContext): AutomlServices {
  const started = performance.now();
  const services = new AutomlServices(context);
  context.subscriptions.push(services, ...registerProjectCommands(services), ...registerConductorCommands(services));
  services.log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  return services;
}

export function deactivate(): void {
  // every disposable, the conductor process included, is in context.subscriptions
}
