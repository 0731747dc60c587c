/** PARSE_INTENT: the prompt becomes a task, a target (or a hint for one) and constraints. */
import { EV } from "../../contract";
import { parseIntentByRules } from "../agents/intent-rules";
import { InputError } from "../errors/input-error";
import { taskFor, whatWeBuild } from "../tasks";
import { editPromptAction, literal, type StageModule } from "./stage";

export const parseIntentStage: StageModule = {
  id: "PARSE_INTENT",
  async run(ctx) {
    const parsed = parseIntentByRules(ctx.meta.prompt, ctx.meta.target ?? undefined);
    // a task the person chose outranks the parser's reading
    const intent = ctx.meta.task_type ? { ...parsed, task_type: ctx.meta.task_type, constraints: { ...parsed.constraints, task_source: "person" } } : parsed;
    ctx.events.emit(EV.PROMPT_PARSED, { ...intent, prompt: ctx.meta.prompt });
    if (!taskFor(intent.task_type)) {
      throw new InputError(
        `This looks like ${intent.task_type.replace(/_/g, " ")}, which this version cannot train yet: it builds ${whatWeBuild()}. ` +
          `Rephrase the request as predicting a column of a table (e.g. "predict demand from the other columns of demand.csv").`,
      );
    }
    const target = intent.target
      ? `target ${intent.target}`
      : `target to be matched to a column (hint: ${JSON.stringify(intent.constraints["target_hint"] ?? "none")})`;
    return { kind: "review", summary: `${intent.task_type}, ${target}`, more_actions: () => [editPromptAction] };
  },
  describe(ctx) {
    const intent = ctx.snapshot.intent;
    return (
      `## 1. What to build\n\n> ${ctx.meta.prompt}\n\n` +
      `Read by the ${intent?.parser ?? "rules"} parser as **${intent?.task_type ?? "?"}**` +
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
