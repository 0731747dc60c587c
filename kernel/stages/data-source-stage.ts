/**
 * DATA_SOURCE: the person's file if they gave one, otherwise the best license-clean match
 * in the bundled catalog; the data is copied into the project, loaded and sampled, and the
 * target is settled against its columns.
 */
import * as path from "node:path";
import { EV, GATE_ACTIONS, type EventPayload, type NextAction, type TaskType } from "../../contract";
import { catalogDataset, searchCatalog } from "../agents/dataset-catalog";
import { checkLicense } from "../agents/license-check";
import { resolveIntent, targetChoices, TargetUnclearError, type ResolvedIntent } from "../agents/target-resolver";
import type { Table } from "../data/table";
import { executeCells } from "../tasks/pipeline-step";
import { editPromptAction, literal, type StageContext, type StageModule } from "./stage";

type Candidate = EventPayload<"DATASET_CANDIDATES">["datasets"][number];

/** the rows of the data cell's DataFrame */
const PREVIEW_ROWS = 1000;

export const dataSourceStage: StageModule = {
  id: "DATA_SOURCE",
  async run(ctx) {
    const candidates = findCandidates(ctx);
    const chosen = candidates.find((c) => c.meta["license_ok"] === true);
    if (chosen) chosen.meta["project_file"] = projectFileFor(chosen);
    ctx.events.emit(EV.DATASET_CANDIDATES, { datasets: candidates });
    if (!chosen) {
      return {
        kind: "input",
        summary: candidates.length
          ? "No dataset with an allowed license matches the request. Upload a CSV to continue."
          : "No bundled dataset matches the request. Upload a CSV to continue.",
        next_actions: [{ id: GATE_ACTIONS.upload, label: "Upload a CSV", description: "POST the file to /api/projects/{id}/upload" }],
      };
    }
    ctx.work.forget("table");
    const [load] = dataSourceStage.code(ctx).filter((c) => c.conductor === "runs");
    await executeCells([load!], ctx.runtime, ctx.work);
    const table = ctx.work.table();

    const catalog = catalogDataset(chosen.id);
    const intent = ctx.snapshot.intent!;
    let resolved: ResolvedIntent;
    try {
      resolved = resolveIntent(intent, table, { target: catalog?.target, columnDescriptions: catalog?.columnDescriptions });
    } catch (err) {
      if (!(err instanceof TargetUnclearError)) throw err;
      // only the person can say which column to predict: ask, with the columns to choose from
      const asked = {
        hint: String(intent.constraints["target_hint"] ?? intent.target ?? ""),
        task: intent.task_type,
        columnDescriptions: catalog?.columnDescriptions,
      };
      return { kind: "input", summary: err.message, next_actions: [chooseTargetAction(table, asked), editPromptAction] };
    }
    if (resolved.intent.target !== intent.target || resolved.intent.task_type !== intent.task_type) {
      ctx.events.emit(EV.PROMPT_PARSED, {
        ...resolved.intent,
        parser: `${intent.parser ?? "rules"}+columns`,
        constraints: { ...resolved.intent.constraints, resolution: resolved.notes },
      });
    }
    for (const n of resolved.notes) ctx.events.emit(EV.LOG_LINE, { run_id: null, level: "info", text: n });
    // the settled intent is a statement of the stage's code (built now, from the intent just announced)
    const [, settle] = dataSourceStage.code(ctx).filter((c) => c.conductor === "runs");
    await executeCells([settle!], ctx.runtime, ctx.work);
    return {
      kind: "review",
      summary: `${chosen.name}: ${table.nRows.toLocaleString("en")} rows × ${table.nCols.toLocaleString("en")} columns; predicting ${resolved.intent.target} (${resolved.intent.task_type}).`,
      // besides continuing: another target, the other task, or a reworded request
      more_actions: () => [
        chooseTargetAction(
          table,
          { current: resolved.intent.target, task: resolved.intent.task_type, columnDescriptions: catalog?.columnDescriptions },
          "Change the target",
        ),
        setTaskAction(ctx, resolved.intent.task_type),
        editPromptAction,
      ],
    };
  },
  describe(ctx) {
    const chosen = chosenDataset(ctx);
    return (
      `## 2. Data\n\n**${chosen?.name ?? "?"}** (${chosen?.source ?? "?"}, license ${String(chosen?.meta["license"] ?? "?")}). ${chosen?.desc ?? ""}\n\n` +
      `The file is copied into this project's folder, so the notebook runs without the original.`
    );
  },
  code(ctx) {
    const chosen = chosenDataset(ctx);
    const file = String(chosen?.meta["project_file"] ?? "");
    const intent = ctx.snapshot.intent;
    // a DataFrame to explore, made from the file as the runtime reads it (any shape: Parquet, Excel, a Latin-1 CSV…), not
    // danfo's CSV reader; a sample, as a million rows would not be explored in a DataFrame anyway
    const preview =
      `import * as dfd from "danfojs-node";\n\n` +
      `// a DataFrame to explore (the first ${PREVIEW_ROWS.toLocaleString("en")} rows); the pipeline's own calls use the runtime's typed table\n` +
      `const df = new dfd.DataFrame((await automl.readTable(${literal(file)})).records(0, ${PREVIEW_ROWS}));\n`;
    return [
      { conductor: "notebook", statements: [{ kind: "source", source: `${preview}automl.show(df.head());` }] },
      {
        conductor: "runs",
        statements: [
          {
            kind: "call",
            method: "useDataset",
            args: [{ id: chosen?.id ?? "", file }],
            bind: "table",
            destructure: true,
            show: "automl.table(table.records(0, 5), `${table.nRows} rows x ${table.nCols} columns`)",
          },
        ],
      },
      {
        conductor: "runs",
        statements: [
          {
            kind: "const",
            name: "intent",
            value: { task: intent?.task_type ?? null, target: intent?.target ?? null },
            asConst: true,
            comment: `settled against the columns: ${String(intent?.constraints["resolution"] ?? "the target was named in the request")}`,
          },
        ],
      },
    ];
  },
};

/** The dataset the stage chose: the one selected, or (before the selection is announced) the first with an allowed license. */
function chosenDataset(ctx: StageContext): Candidate | undefined {
  const candidates = ctx.snapshot.dataset_candidates;
  return candidates.find((d) => d.id === ctx.snapshot.dataset_id) ?? candidates.find((c) => c.meta["license_ok"] === true);
}

function findCandidates(ctx: StageContext): Candidate[] {
  if (ctx.meta.data_file) {
    return [
      {
        id: `upload:${path.basename(ctx.meta.data_file)}`,
        name: path.basename(ctx.meta.data_file),
        source: "upload",
        desc: "The file you provided.",
        meta: {
          license: "none known",
          license_ok: true,
          license_note: "your own data: no license gate, and no license is known for it",
          project_file: ctx.meta.data_file,
        },
      },
    ];
  }
  const intent = ctx.snapshot.intent;
  const query = [ctx.meta.prompt, intent?.dataset_hint ?? "", String(intent?.constraints["target_hint"] ?? "")].join(" ");
  return searchCatalog(query)
    .slice(0, 3)
    .map(({ dataset, score }) => {
      const verdict = checkLicense(dataset.license);
      return {
        id: dataset.id,
        name: dataset.name,
        source: "bundled",
        desc: dataset.desc,
        meta: {
          license: verdict.license,
          license_ok: verdict.allowed,
          license_decision: verdict.decision,
          license_note: verdict.note,
          research_only: verdict.research_only,
          origin: dataset.origin,
          match_score: score,
          task: dataset.task,
        },
      };
    });
}

/** Where the chosen dataset lives in the project: an upload is there already; a catalog dataset is copied there by useDataset. */
function projectFileFor(chosen: Candidate): string {
  if (chosen.source === "upload") return String(chosen.meta["project_file"]);
  const dataset = catalogDataset(chosen.id);
  if (!dataset) throw new Error(`unknown catalog dataset ${chosen.id}`);
  const source = dataset.resolveFile();
  return `data/${path.basename(source) === "data.csv" ? `${chosen.id.split(":")[1]}.csv` : path.basename(source)}`;
}

function chooseTargetAction(table: Table, asked: Parameters<typeof targetChoices>[1], label = "Choose the target column"): NextAction {
  return { id: GATE_ACTIONS.chooseTarget, label, description: "the column to predict", choices: targetChoices(table, asked) };
}

function setTaskAction(ctx: StageContext, current: TaskType): NextAction {
  return { id: GATE_ACTIONS.setTask, label: "Change the task", description: `now ${current}`, choices: ctx.task().alternatives(current) };
}
