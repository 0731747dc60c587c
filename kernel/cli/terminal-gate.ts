/**
 * A gate in the terminal: every choice the gate offers, as in the dashboard. A numbered menu
 * (the first choice is the default), a numbered list of columns for the target, the plan in
 * $EDITOR; an answer that is not one of the choices is asked again, never taken as yes. A plan
 * the conductor refuses goes back into the editor with the reason above it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import {
  ConductorRequestError,
  GATE_ACTIONS,
  STAGE_TITLES,
  type ConductorClient,
  type ConfirmRequest,
  type EventPayload,
  type NextAction,
} from "../../contract";

export type GateOutcome = "answered" | "stopped";

export interface TerminalIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** opens a file in the person's editor and waits for it to close */
  edit(file: string): void;
}

export const processIo: TerminalIo = {
  input: process.stdin,
  output: process.stdout,
  edit(file) {
    const editor = process.env["VISUAL"] || process.env["EDITOR"] || "vi";
    const result = spawnSync(editor, [file], { stdio: "inherit", shell: true });
    if (result.error) throw new Error(`could not start the editor ${JSON.stringify(editor)} (set $EDITOR): ${result.error.message}`);
  },
};

export async function askAtGate(
  client: ConductorClient,
  projectId: string,
  gate: EventPayload<"WAITING_CONFIRMATION">,
  io: TerminalIo = processIo,
): Promise<GateOutcome> {
  const { snapshot } = await client.state(projectId);
  const plan = snapshot.plans[gate.stage_id];
  const pending = plan && !plan.approved ? plan.plan_json : null;
  const say = (text: string) => io.output.write(text);
  say(`\n${STAGE_TITLES[gate.stage_id]}: ${gate.summary}\n`);
  if (pending) say(`${JSON.stringify(pending, null, 2)}\n`);
  if (gate.stage_id === "REVIEW_EDIT" && snapshot.suggestions.length) {
    // the notebook is where an edit is made and run from a terminal (the dashboard applies them with a click)
    say(`Suggested edits (each is a change to a stage's cell in the project's notebook.ipynb; in VS Code the dashboard applies one with a click):\n`);
    for (const sg of snapshot.suggestions) say(`  - ${sg.title} (${STAGE_TITLES[sg.stage_id]}): ${sg.detail}\n`);
  }
  for (;;) {
    const action = await pick(io, gate.next_actions);
    if (action === null) return "stopped";
    const request = await requestFor(io, action, pending, gate);
    if (request === null) continue; // backed out of a sub-question: show the menu again
    try {
      await client.confirm(projectId, { stage_id: gate.stage_id, ...request });
      lastRefused = null;
      return "answered";
    } catch (err) {
      if (!(err instanceof ConductorRequestError) || err.status >= 500) throw err;
      say(`Not taken: ${err.message}\n`);
      if (request.plan_json) lastRefused = { plan: request.plan_json, reason: err.message };
    }
  }
}

/** The plan the conductor last refused, and why: the next edit starts from it. */
let lastRefused: { plan: Record<string, unknown>; reason: string } | null = null;

async function question(io: TerminalIo, text: string): Promise<string> {
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: false });
  try {
    return (await rl.question(text)).trim();
  } finally {
    rl.close();
  }
}

/** The menu of the gate's actions; null when the person stops. */
async function pick(io: TerminalIo, actions: NextAction[]): Promise<NextAction | null> {
  const usable = actions.filter((a) => a.id !== GATE_ACTIONS.upload);
  const lines = usable.map((a, i) => `  ${i + 1}) ${a.label}${i === 0 ? " (default)" : ""}`);
  io.output.write(`${lines.join("\n")}\n  q) stop here (the project is kept)\n`);
  for (;;) {
    const answer = (await question(io, `Choose ${usable.length > 1 ? `1-${usable.length}` : "1"} or q [1]: `)).toLowerCase();
    if (answer === "" || answer === "y" || answer === "yes") return usable[0]!;
    if (answer === "q" || answer === "n" || answer === "no") return null;
    const n = Number(answer);
    if (Number.isInteger(n) && n >= 1 && n <= usable.length) return usable[n - 1]!;
    io.output.write(`"${answer}" is not one of the choices.\n`);
  }
}

async function requestFor(
  io: TerminalIo,
  action: NextAction,
  pending: Record<string, unknown> | null,
  gate: EventPayload<"WAITING_CONFIRMATION">,
): Promise<ConfirmRequest | null> {
  switch (action.id) {
    case GATE_ACTIONS.chooseTarget: {
      const value = await pickChoice(io, action, "target column");
      return value === null ? null : { action: action.id, target: value };
    }
    case GATE_ACTIONS.chooseDataset: {
      const value = await pickChoice(io, action, "dataset");
      return value === null ? null : { action: action.id, dataset_id: value };
    }
    case GATE_ACTIONS.setTask: {
      const value = await pickChoice(io, action, "task");
      return value === null ? null : { action: action.id, task_type: value as ConfirmRequest["task_type"] };
    }
    case GATE_ACTIONS.editPrompt: {
      const prompt = await question(io, "The request, reworded (empty to go back): ");
      return prompt ? { action: action.id, prompt } : null;
    }
    case GATE_ACTIONS.edit: {
      const plan = editPlan(io, lastRefused?.plan ?? pending ?? {}, lastRefused?.reason ?? null, gate);
      return plan === null ? null : { action: action.id, plan_json: plan };
    }
    default:
      return { action: action.id };
  }
}

/** A numbered list of the action's choices; a number or a name picks one, empty goes back. */
async function pickChoice(io: TerminalIo, action: NextAction, what: string): Promise<string | null> {
  const choices = action.choices ?? [];
  io.output.write(choices.map((c, i) => `  ${String(i + 1).padStart(2)}) ${c.label}${c.description ? ` — ${c.description}` : ""}`).join("\n") + "\n");
  for (;;) {
    const answer = await question(io, `The ${what} (a number or a name; empty to go back): `);
    if (!answer) return null;
    const n = Number(answer);
    const chosen =
      Number.isInteger(n) && n >= 1 && n <= choices.length
        ? choices[n - 1]
        : choices.find(
            (c) =>
              c.value.toLowerCase() === answer.toLowerCase() ||
              // a name as the list shows it ("owner/name" of "owner/name (Hugging Face, MIT)")
              c.label.toLowerCase() === answer.toLowerCase() ||
              c.label.toLowerCase().startsWith(`${answer.toLowerCase()} (`),
          );
    if (chosen) return chosen.value;
    if (choices.length === 0) return answer;
    io.output.write(`"${answer}" is not one of them.\n`);
  }
}

/** The plan in the person's editor, as JSON; a file that does not parse is reopened with the error on top. Null: left unchanged. */
function editPlan(
  io: TerminalIo,
  plan: Record<string, unknown>,
  refusedBecause: string | null,
  gate: EventPayload<"WAITING_CONFIRMATION">,
): Record<string, unknown> | null {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "automl-plan-")), `${gate.stage_id.toLowerCase()}-plan.json`);
  const original = JSON.stringify(plan, null, 2) + "\n";
  let text = original;
  let problem = refusedBecause;
  try {
    for (;;) {
      // JSON has no comments: a problem goes in a "//" line that is stripped before parsing
      fs.writeFileSync(file, (problem ? `// ${problem.replace(/\n/g, " ")}\n// Fix the plan below and save, or empty the file to go back.\n` : "") + text);
      io.edit(file);
      const edited = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => !l.startsWith("//"))
        .join("\n");
      if (!edited.trim()) return null;
      if (edited === original && !refusedBecause) {
        io.output.write("The plan was not changed.\n");
        return null;
      }
      try {
        const parsed = JSON.parse(edited) as unknown;
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
        problem = "The plan must be a JSON object.";
      } catch (err) {
        problem = `Not valid JSON: ${(err as Error).message}`;
      }
      text = edited;
      io.output.write(`${problem} Opening the editor again.\n`);
    }
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}
