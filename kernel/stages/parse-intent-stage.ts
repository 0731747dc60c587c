/** PARSE_INTENT: the prompt becomes a task, a target (or a hint for one) and constraints. */
import { EV } from "../../contract";
import type { ParsedIntent } from "../agents/intent-rules";
import { parsePrompt } from "../agents/prompt-parser-agent";
import { isInputError } from "../errors/input-error";
import { editPromptAction, literal, type StageModule } from "./stage";

export const parseIntentStage: StageModule = {
  id: "PARSE_INTENT",
  async run(ctx) {
    let parsed: ParsedIntent;
    try {
      ({ value: parsed } = await parsePrompt(ctx.meta.prompt, ctx.meta.target ?? undefined, ctx.agents, {
        stage: "PARSE_INTENT",
        events: ctx.events,
        signal: ctx.signal,
      }));
    } catch (err) {
      // a request nothing can read: only the person can reword it (a retry would read it the same)
      if (!isInputError(err)) throw err;
      return { kind: "input", summary: (err as Error).message, next_actions: [editPromptAction] };
    }
    // a task the person chose outranks the parser's reading
    const intent = ctx.meta.task_type ? { ...parsed, task_type: ctx.meta.task_type, constraints: { ...parsed.constraints, task_source: "person" } } : parsed;
    ctx.events.emit(EV.PROMPT_PARSED, { ...intent, prompt: ctx.meta.prompt });
    // no refusal on the words alone: the task is settled with the data (DATA_SOURCE), where a table with a
    // column to predict is a table task whatever the request called it
    const target = intent.target
      ? `target ${intent.target}`
      : `target to be matched to a column (hint: ${JSON.stringify(intent.constraints["target_hint"] ?? "none")})`;
    // a task nothing in the request named is a default the data settles: said as such, not as a decision
    const task = intent.constraints["task_source"] === "default" ? "task to be settled with the data" : intent.task_type;
    return { kind: "review", summary: `${task}, ${target}`, more_actions: () => [editPromptAction] };
  },
  describe(ctx) {
    const intent = ctx.snapshot.intent;
    return (
      `## 1. What to build\n\n> ${ctx.meta.prompt}\n\n` +
      `Read by ${(intent?.source ?? intent?.parser) === "llm" ? "the language model" : "the rules"} as **${intent?.task_type ?? "?"}**` +
      (intent?.target ? ` of **${intent.target}**.` : `; the target is settled against the data's columns in the next step.`) +
      ` The cells below call the same runtime the pipeline ran, so what they do shows up live in the AutoML panels.`
    );
  },
  code(ctx) {
    // the conductor has its runtime already; the notebook connects to the project's
    return [
      {
        conductor: "notebook",
        statements: [
          { kind: "source", source: `import * as automl from "automl-builder/runtime";\n\nconst rt = await automl.connect(${literal(ctx.meta.id)});` },
        ],
      },
    ];
  },
};
