/**
 * The DATA_SOURCE gate's choice of dataset in VS Code: a quick pick of the finder's candidates,
 * each with its source, license and size (the label) and why it ranks where it does (the
 * detail). The choice goes to the conductor as the gate's choose_dataset action.
 */
import * as vscode from "vscode";
import { GATE_ACTIONS, type ConductorClient, type EventPayload } from "../../contract";

/** The gate's dataset choice, when it offers one. */
export function datasetChoiceOf(gate: EventPayload<"WAITING_CONFIRMATION"> | null | undefined) {
  return gate?.next_actions.find((a) => a.id === GATE_ACTIONS.chooseDataset) ?? null;
}

/** Asks which dataset; false when the person dismissed the pick (the gate still waits). */
export async function pickDataset(client: ConductorClient, projectId: string, gate: EventPayload<"WAITING_CONFIRMATION">): Promise<boolean> {
  const action = datasetChoiceOf(gate);
  if (!action) return false;
  const pick = await vscode.window.showQuickPick(
    (action.choices ?? []).map((c, i) => ({
      label: `${i === 0 ? "$(star-full) " : ""}${c.label}`,
      description: c.value,
      detail: c.description,
      value: c.value,
    })),
    {
      title: `AutoML: ${gate.summary}`,
      placeHolder: "the dataset to train on (best-ranked first)",
      ignoreFocusOut: true,
      matchOnDescription: true,
      matchOnDetail: true,
    },
  );
  if (!pick) return false;
  await client.confirm(projectId, { stage_id: gate.stage_id, action: action.id, dataset_id: pick.value });
  return true;
}
