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
      // a stopped conductor runs nothing: its last "running" is not news
      const status = feed.connection === "stopped" ? "stopped" : s.stages[stage].status;
      const icon =
        status === "running"
          ? "$(sync~spin)"
          : status === "waiting"
            ? "$(bell)"
            : status === "failed"
              ? "$(error)"
              : status === "stopped"
                ? "$(debug-stop)"
                : "$(beaker)";
      this.item.text = `${icon} AutoML: ${STAGE_TITLES[stage]} · ${status}`;
      this.item.tooltip = `${feed.projectId}\n${feed.connection === "stopped" ? "The conductor is stopped: AutoML: Restart Conductor brings the project back from its log." : s.stages[stage].message}`;
      this.item.command = { command: "automl.openDashboard", title: "Open Dashboard", arguments: [feed.projectId] };
      this.item.show();
    };
    const events = feed.onEvents(show);
    const connection = feed.onConnection(show);
    this.subscription = { dispose: () => (events.dispose(), connection.dispose()) };
    show();
  }

  dispose(): void {
    this.subscription?.dispose();
    this.item.dispose();
  }
}
