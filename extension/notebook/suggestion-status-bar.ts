/**
 * Suggested edits beside their cells: a plan stage's code cell in a project notebook shows each
 * REVIEW_EDIT suggestion that edits it as a status-bar item under the cell ("Apply: Rank by
 * F1"); one click applies it and runs the cell (see suggested-edit.ts), as the dashboard's
 * button does. An item shows only while the cell still holds the code the edit was made
 * from; the tooltip says what the edit should do and who suggested it.
 */
import * as vscode from "vscode";
import { EV } from "../../contract";
import type { ProjectFeed } from "../conductor/project-streams";
import { projectOfNotebook, stageOfCell } from "./notebook-project";
import type { SuggestedEdit } from "./suggested-edit";

export const APPLY_SUGGESTION_COMMAND = "automl.applySuggestion";

export class SuggestionStatusBar implements vscode.NotebookCellStatusBarItemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCellStatusBarItems = this.changed.event;
  private readonly feeds = new Map<string, ProjectFeed>();
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly follow: (projectId: string) => Promise<ProjectFeed>) {}

  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
    const projectId = projectOfNotebook(cell.notebook);
    const stage = stageOfCell(cell);
    if (!projectId || !stage || cell.kind !== vscode.NotebookCellKind.Code) return [];
    const feed = this.feeds.get(projectId);
    if (!feed) {
      this.watch(projectId);
      return [];
    }
    const code = cell.document.getText().trim();
    return feed.snapshot.suggestions
      .filter((s) => s.stage_id === stage && s.cell_edit && s.cell_edit.before.trim() === code)
      .map((s) => {
        const item = new vscode.NotebookCellStatusBarItem(`$(lightbulb) Apply: ${s.title}`, vscode.NotebookCellStatusBarAlignment.Left);
        item.tooltip = `${s.title}: ${s.detail} (${s.source === "llm" ? "suggested by the language model" : "suggested by the rules"}). Click to put the edit in this cell and run it; the stages after it re-run.`;
        item.command = { command: APPLY_SUGGESTION_COMMAND, title: "Apply the suggested edit", arguments: [projectId, s.id] };
        return item;
      });
  }

  /** The suggestion of that id the project has now, if any. */
  suggestion(projectId: string, id: string): SuggestedEdit | undefined {
    return this.feeds.get(projectId)?.snapshot.suggestions.find((s) => s.id === id);
  }

  private watch(projectId: string): void {
    this.follow(projectId).then(
      (feed) => {
        if (this.feeds.has(projectId)) return;
        this.feeds.set(projectId, feed);
        this.disposables.push(feed.onEvents((events) => events.some((e) => e.event.name === EV.EDIT_SUGGESTIONS) && this.changed.fire()));
        this.changed.fire();
      },
      () => undefined,
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
