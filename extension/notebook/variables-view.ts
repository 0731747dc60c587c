/** "AutoML Variables": what the active project notebook's kernel holds, refreshed after each cell. */
import * as vscode from "vscode";
import { projectDisplayName, type ConductorClient, type VariableInfo } from "../../contract";

export type VariableNode = { variable: VariableInfo } | { detail: string };

export class VariablesView implements vscode.TreeDataProvider<VariableNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private variables: VariableInfo[] = [];
  projectId: string | null = null;

  /** the tree view, so its title can name the project whose kernel it shows */
  view: vscode.TreeView<VariableNode> | null = null;

  constructor(private readonly client: () => Promise<ConductorClient>) {}

  /** the project named in the view's title; read once per project, not after every cell */
  private named: { projectId: string; name: string } | null = null;

  async refresh(projectId: string): Promise<void> {
    this.projectId = projectId;
    const client = await this.client();
    this.variables = (await client.variables(projectId)).variables;
    if (this.view) {
      if (this.named?.projectId !== projectId) this.named = { projectId, name: projectDisplayName((await client.state(projectId)).meta) };
      this.view.description = this.named.name;
      this.view.message = this.variables.length ? undefined : `The kernel of ${this.named.name} holds no variables yet.`;
    }
    await vscode.commands.executeCommand("setContext", "automl.kernelActive", true);
    this.changed.fire();
  }

  getTreeItem(node: VariableNode): vscode.TreeItem {
    if ("detail" in node) return new vscode.TreeItem(node.detail);
    const v = node.variable;
    const item = new vscode.TreeItem(v.name, v.shape || v.columns ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.description = v.shape ? `${v.type} ${v.shape.join(" × ")}` : `${v.type} · ${v.preview}`;
    item.tooltip = `${v.name}: ${v.type}\n${v.preview}`;
    return item;
  }

  getChildren(node?: VariableNode): VariableNode[] {
    if (!node) return this.variables.map((variable) => ({ variable }));
    if ("detail" in node) return [];
    const v = node.variable;
    return [...(v.shape ? [{ detail: `shape: ${v.shape.join(" × ")}` }] : []), ...(v.columns ?? []).map((c) => ({ detail: `column ${c}` }))];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
