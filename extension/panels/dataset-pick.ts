/**
 * The DATA_SOURCE gate's choice of dataset in VS Code: a quick pick of the finder's candidates,
 * each with its source, license and size (the label) and why it ranks where it does (the
 * detail). The choice goes to the conductor as the gate's choose_dataset action.
 */
import * as vscode from "vscode";
import { DATASET_SOURCE_PATTERN, GATE_ACTIONS, type ConductorClient, type EventPayload } from "../../contract";

/**
 * The gate's dataset choice when that is what it asks first (the finder could not choose);
 * a gate that merely offers another dataset among other actions is not one.
 */
export function datasetChoiceOf(gate: EventPayload<"WAITING_CONFIRMATION"> | null | undefined) {
  const first = gate?.next_actions[0];
  return first?.id === GATE_ACTIONS.chooseDataset ? first : null;
}

/** Asks which dataset; false when the person dismissed the pick (the gate still waits). */
export async function pickDataset(client: ConductorClient, projectId: string, gate: EventPayload<"WAITING_CONFIRMATION">): Promise<boolean> {
  const action = datasetChoiceOf(gate);
  if (!action) return false;
  if (!action.choices?.length) {
    // nothing found to offer: the person names one
    const id = await vscode.window.showInputBox({
      title: `AutoML: ${gate.summary}`,
      prompt: "A dataset to fetch: hf:OWNER/NAME (Hugging Face), kaggle:OWNER/SLUG (Kaggle), catalog:NAME or workspace:PATH",
      ignoreFocusOut: true,
      validateInput: (v) => (DATASET_SOURCE_PATTERN.test(v.trim()) ? null : "Write hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME or workspace:PATH"),
    });
    if (!id) return false;
    await client.confirm(projectId, { stage_id: gate.stage_id, action: action.id, dataset_id: id.trim() });
    return true;
  }
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
