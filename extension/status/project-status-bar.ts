/** A status bar item for the project being followed: its current stage and state; a click opens its dashboard. */
import * as vscode from "vscode";
import { STAGE_TITLES } from "../../contract";
import type { ProjectFeed } from "../conductor/project-streams";

export class ProjectStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private subscription: vscode.Disposable | null = null;

  follow(feed: ProjectFeed): void {
    this.subscription?.dispose();
    const show = () => {
      const s = feed.snapshot;
      const stage = s.current_stage;
      const status = s.stages[stage].status;
      const icon = status === "running" ? "$(sync~spin)" : status === "waiting" ? "$(bell)" : status === "failed" ? "$(error)" : "$(beaker)";
      this.item.text = `${icon} AutoML: ${STAGE_TITLES[stage]} · ${status}`;
      this.item.tooltip = `${feed.projectId}\n${s.stages[stage].message}`;
      this.item.command = { command: "automl.openDashboard", title: "Open Dashboard", arguments: [feed.projectId] };
      this.item.show();
    };
    this.subscription = feed.onEvents(show);
    show();
  }

  dispose(): void {
    this.subscription?.dispose();
    this.item.dispose();
  }
}
