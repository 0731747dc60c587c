/** "AutoML Variables": what the active project notebook's kernel holds, refreshed after each cell. */
import * as vscode from "vscode";
import type { ConductorClient, VariableInfo } from "../../contract";

type Node = { variable: VariableInfo } | { detail: string };

export class VariablesView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private variables: VariableInfo[] = [];
  projectId: string | null = null;

  constructor(private readonly client: () => Promise<ConductorClient>) {}

  async refresh(projectId: string): Promise<void> {
    this.projectId = projectId;
    this.variables = (await (await this.client()).variables(projectId)).variables;
    await vscode.commands.executeCommand("setContext", "automl.kernelActive", true);
    this.changed.fire();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ("detail" in node) return new vscode.TreeItem(node.detail);
    const v = node.variable;
    const item = new vscode.TreeItem(v.name, v.shape || v.columns ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.description = v.shape ? `${v.type} ${v.shape.join(" × ")}` : `${v.type} · ${v.preview}`;
    item.tooltip = `${v.name}: ${v.type}\n${v.preview}`;
    return item;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.variables.map((variable) => ({ variable }));
    if ("detail" in node) return [];
    const v = node.variable;
    return [...(v.shape ? [{ detail: `shape: ${v.shape.join(" × ")}` }] : []), ...(v.columns ?? []).map((c) => ({ detail: `column ${c}` }))];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
