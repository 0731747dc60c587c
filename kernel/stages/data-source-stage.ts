/**
 * DATA_SOURCE: the person's file if they gave one; else the dataset they named (--source, or
 * their pick at this gate); else the data finder's best candidate from every source (the
 * workspace's files, the bundled catalog, the Hugging Face Hub, Kaggle), ranked with reasons
 * and license-checked, every verdict in the audit log. When the choice is not clear (two close,
 * a license warning, the target not in the best) the stage asks, unless in auto mode. The
 * data is fetched into the project, loaded and sampled, and the target settled against it.
 */
import * as path from "node:path";
import { EV, GATE_ACTIONS, type AgentSource, type EventPayload, type NextAction, type TaskType } from "../../contract";
import { appendAudit } from "../assets/audit-log";
import { catalogDataset } from "../agents/dataset-catalog";
import { normalisedId } from "../agents/dataset-finder";
import { rankCandidates, sourceName, unclearChoice, type DatasetQuery, type RankedCandidate } from "../agents/dataset-ranking";
import { rankDatasets } from "../agents/dataset-ranker-agent";
import { settleTarget } from "../agents/target-agent";
import { targetChoices, TargetUnclearError, type ResolvedIntent } from "../agents/target-resolver";
import { taskFor, whatWeBuild } from "../tasks";
import type { Table } from "../data/table";
import { isInputError } from "../errors/input-error";
import { executeCells } from "../tasks/pipeline-step";
import { editPromptAction, literal, type StageContext, type StageGate, type StageModule } from "./stage";

type Candidate = EventPayload<"DATASET_CANDIDATES">["datasets"][number];

/** the rows of the data cell's DataFrame */
const PREVIEW_ROWS = 1000;
/** candidates listed in DATASET_CANDIDATES and at the gate (the rejected ones that matched are listed too, with why) */
const LISTED = 8;
const LISTED_REJECTED = 4;

const uploadAction: NextAction = { id: GATE_ACTIONS.upload, label: "Upload a data file", description: "POST the file to /api/projects/{id}/upload" };

export const dataSourceStage: StageModule = {
  id: "DATA_SOURCE",
  async run(ctx) {
    const decided = await chooseDataset(ctx);
    if ("gate" in decided) return decided.gate;
    const chosen = await loadChosen(ctx, decided);
    const table = ctx.work.table();

    const catalog = catalogDataset(chosen.id);
    const intent = ctx.snapshot.intent!;
    let resolved: ResolvedIntent;
    let source: AgentSource;
    try {
      const call = { stage: "DATA_SOURCE" as const, events: ctx.events, signal: ctx.signal };
      ({ value: resolved, source } = await settleTarget(
        ctx.meta.prompt,
        intent,
        table,
        { target: catalog?.target, columnDescriptions: catalog?.columnDescriptions },
        ctx.agents,
        call,
      ));
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
        parser: `${intent.source ?? intent.parser ?? "rules"}+columns`,
        source,
        constraints: { ...resolved.intent.constraints, resolution: resolved.notes },
      });
    }
    if (!taskFor(resolved.intent.task_type)) {
      // a task this version cannot train: the person says what instead (the data and the parse stay)
      const tables = taskFor("regression")!;
      const dates = table.columns.filter((c) => c.kind === "datetime").map((c) => c.name);
      return {
        kind: "input",
        summary:
          `This is ${resolved.intent.task_type.replace(/_/g, " ")} of ${resolved.intent.target} (the request asks for future values and ${chosen.name} has ` +
          `${dates.length ? `the date column ${dates.join(", ")}` : "the data"} for it), which this version cannot train yet: it builds ${whatWeBuild()}. ` +
          `Choose to predict ${resolved.intent.target} from the other columns as a table task, or reword the request.`,
        next_actions: [
          {
            id: GATE_ACTIONS.setTask,
            label: "Predict it from the other columns",
            description: `now ${resolved.intent.task_type}`,
            choices: tables.alternatives(resolved.intent.task_type),
          },
          editPromptAction,
        ],
      };
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
        ...otherDatasetsAction(ctx, chosen),
        editPromptAction,
      ],
    };
  },
  describe(ctx) {
    const chosen = chosenDataset(ctx);
    const others = ctx.snapshot.dataset_candidates.filter((c) => c !== chosen);
    const rejected = others.filter((c) => c.meta["license_ok"] !== true).length;
    const reasons = Array.isArray(chosen?.meta["reasons"]) ? (chosen!.meta["reasons"] as string[]) : [];
    return (
      `## 2. Data\n\n**${chosen?.name ?? "?"}** (${chosen ? sourceName(chosen.source) : "?"}, license ${String(chosen?.meta["license"] ?? "?")}). ${chosen?.desc ?? ""}\n\n` +
      (reasons.length
        ? `Chosen from ${others.length + 1} candidate${others.length ? "s" : ""}${rejected ? ` (${rejected} refused for their license or for having nothing to do with the request)` : ""}: ${reasons.join("; ")}.\n\n`
        : "") +
      `The file is copied into this project's folder, so the notebook runs without the original${chosen && !["upload", "catalog", "bundled"].includes(chosen.source) ? " (without it, the cell fetches it again)" : ""}.`
    );
  },
  code(ctx) {
    const chosen = chosenDataset(ctx);
    const file = chosenFile(ctx, chosen);
    const intent = ctx.snapshot.intent;
    // a DataFrame to explore, made from the file as the runtime reads it (any shape: Parquet, Excel, a Latin-1 CSV…), not
    // danfo's CSV reader; a sample, as a million rows would not be explored in a DataFrame anyway
    const preview =
      `import * as dfd from "danfojs-node";\n\n` +
      `// a DataFrame to explore (the first ${PREVIEW_ROWS.toLocaleString("en")} rows, long texts cut short); the pipeline's own calls use the runtime's typed table\n` +
      `const df = new dfd.DataFrame(automl.previewRecords(await automl.readTable(${literal(file)}), ${PREVIEW_ROWS}));\n`;
    return [
      { conductor: "notebook", statements: [{ kind: "source", source: `${preview}automl.show(df.head());` }] },
      {
        conductor: "runs",
        statements: [
          {
            kind: "call",
            method: "useDataset",
            // without a file the runtime fetches the dataset from its source (the notebook then carries the file it fetched)
            args: [{ id: chosen?.id ?? "", ...(file ? { file } : {}) }],
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

/** The dataset the stage chose: the candidate marked chosen (or, in projects from before, the selected one or the first allowed). */
function chosenDataset(ctx: StageContext): Candidate | undefined {
  const candidates = ctx.snapshot.dataset_candidates;
  return (
    candidates.find((c) => c.meta["chosen"] === true) ??
    candidates.find((d) => d.id === ctx.snapshot.dataset_id) ??
    candidates.find((c) => c.meta["license_ok"] === true)
  );
}

/** The chosen dataset's file in the project: known once it is there (an upload, or after DATASET_SELECTED); absent, useDataset fetches it. */
function chosenFile(ctx: StageContext, chosen: Candidate | undefined): string | undefined {
  if (!chosen) return undefined;
  if (chosen.meta["project_file"]) return String(chosen.meta["project_file"]);
  return ctx.snapshot.dataset_id === chosen.id && ctx.snapshot.dataset_file ? ctx.snapshot.dataset_file : undefined;
}

/**
 * Which dataset: announced as DATASET_CANDIDATES (the chosen one marked) and audited; or a gate
 * when only the person can say (nothing usable, or an unclear choice outside auto mode).
 */
async function chooseDataset(ctx: StageContext): Promise<{ chosen: Candidate; fallbacks: Candidate[] } | { gate: StageGate }> {
  if (ctx.meta.data_file) {
    const upload = uploadCandidate(ctx.meta.data_file);
    ctx.events.emit(EV.DATASET_CANDIDATES, { datasets: [upload] });
    appendAudit(ctx.assets, [
      {
        stage: "DATA_SOURCE",
        kind: "dataset",
        dataset: upload.id,
        chosen_by: "person",
        license: "none known",
        reason: "the person's own data: no license gate",
      },
    ]);
    return { chosen: upload, fallbacks: [] };
  }
  const intent = ctx.snapshot.intent!;
  const query: DatasetQuery = {
    prompt: [ctx.meta.prompt, intent.dataset_hint ?? ""].join(" ").trim(),
    task: intent.task_type,
    // a target the person named (--target, quoted in the request) before the request's wording
    targetHint: intent.target ?? (String(intent.constraints["target_hint"] ?? "") || null),
  };
  const finder = ctx.runtime.datasets;
  const named = ctx.meta.dataset_source ? normalisedId(ctx.meta.dataset_source) : null;
  if (named) {
    // the person's pick: the list they picked from stands when it holds it; a name given directly is looked up
    const listed = ctx.snapshot.dataset_candidates.find((c) => c.id === named);
    // named by the person: its license decides, not its likeness to the request
    const ranked = listed ? [] : rankCandidates(query, [await finder.lookup(named)]).map((r) => ({ ...r, usable: r.license?.allowed ?? true }));
    const candidates: Candidate[] = listed
      ? ctx.snapshot.dataset_candidates.map((c) => ({ ...c, meta: { ...c.meta, chosen: c.id === named } }))
      : ranked.map((r) => candidatePayload(r, r.id === named));
    const pick = candidates.find((c) => c.id === named)!;
    if (pick.meta["license_ok"] !== true) {
      ctx.events.emit(EV.DATASET_CANDIDATES, { datasets: candidates.map((c) => ({ ...c, meta: { ...c.meta, chosen: false } })) });
      return {
        gate: {
          kind: "input",
          summary: `${named} cannot be used: its license ${String(pick.meta["license"])} is rejected (${String(pick.meta["license_note"])}). Name another dataset, or give a data file.`,
          next_actions: [uploadAction, nameDatasetAction, editPromptAction],
        },
      };
    }
    ctx.events.emit(EV.DATASET_CANDIDATES, { datasets: candidates });
    appendAudit(ctx.assets, [
      {
        stage: "DATA_SOURCE",
        kind: "license",
        dataset: named,
        license: pick.meta["license"],
        decision: pick.meta["license_decision"],
        reason: pick.meta["license_note"],
      },
      { stage: "DATA_SOURCE", kind: "dataset", dataset: named, chosen_by: "person" },
    ]);
    return { chosen: pick, fallbacks: [] };
  }
  const found = await finder.find(query);
  for (const text of found.notes) ctx.events.emit(EV.LOG_LINE, { run_id: null, level: "warn", text });
  const ranked = found.ranked.filter((r) => r.relevant);
  const ruled = ranked.filter((r) => r.usable);
  const { value: usable, source } = await rankDatasets(query, ruled.slice(0, LISTED), ctx.agents, {
    stage: "DATA_SOURCE",
    events: ctx.events,
    signal: ctx.signal,
  });
  const unclear =
    unclearChoice(query, ranked) ??
    (usable[0] && ruled[0] && usable[0].id !== ruled[0].id ? `the language model ranks ${usable[0].id} first, the rules ${ruled[0].id}` : null);
  const rejected = ranked.filter((r) => !r.usable).slice(0, LISTED_REJECTED);
  const top = usable[0] ?? null;
  const takeTop = top !== null && (unclear === null || ctx.meta.auto);
  const candidates = [...usable.slice(0, LISTED), ...rejected].map((r) => candidatePayload(r, takeTop && r === top));
  ctx.events.emit(EV.DATASET_CANDIDATES, { datasets: candidates, source });
  appendAudit(
    ctx.assets,
    ranked
      .filter((r) => r.license)
      .map((r) => ({
        stage: "DATA_SOURCE",
        kind: "license",
        dataset: r.id,
        license: r.license!.license,
        decision: r.license!.decision,
        reason: r.license!.note,
      })),
  );
  if (!top) {
    const why = ranked.length ? "no dataset found can be used (their licenses, or their access)" : "no dataset found matches the request";
    return {
      gate: {
        kind: "input",
        summary: `${capitalised(why)}: give a data file, or name a dataset.`,
        next_actions: [uploadAction, nameDatasetAction, editPromptAction],
      },
    };
  }
  if (!takeTop) {
    return {
      gate: {
        kind: "input",
        summary: `Choose the dataset: ${unclear}.`,
        next_actions: [chooseDatasetAction(usable.slice(0, LISTED)), editPromptAction, uploadAction],
      },
    };
  }
  if (unclear) ctx.events.emit(EV.LOG_LINE, { run_id: null, level: "info", text: `Auto mode took ${top.id}, the best-ranked candidate, although ${unclear}.` });
  appendAudit(ctx.assets, [
    {
      stage: "DATA_SOURCE",
      kind: "dataset",
      dataset: top.id,
      chosen_by: ctx.meta.auto && unclear ? "auto mode (top-ranked)" : "finder (top-ranked, clear lead)",
      reasons: top.reasons,
    },
  ]);
  // when the finder chose (not the person), a best that cannot be fetched gives way to the next usable ones
  const fallbacks = candidates.filter((c) => c.meta["license_ok"] === true && c.id !== top.id).slice(0, 2);
  return { chosen: candidates.find((c) => c.id === top.id)!, fallbacks };
}

/**
 * Fetches and loads the chosen dataset (the stage's load cell). A dataset the finder chose
 * that cannot be fetched (no data file, access refused, a broken archive) gives way to the
 * next candidate, said in the log and announced as a new choice; one the person chose fails
 * the stage with its reason.
 */
async function loadChosen(ctx: StageContext, decided: { chosen: Candidate; fallbacks: Candidate[] }): Promise<Candidate> {
  let chosen = decided.chosen;
  const queue = [...decided.fallbacks];
  for (;;) {
    ctx.work.forget("table");
    const [load] = dataSourceStage.code(ctx).filter((c) => c.conductor === "runs");
    try {
      await executeCells([load!], ctx.runtime, ctx.work);
      return chosen;
    } catch (err) {
      const next = queue.shift();
      if (!isInputError(err) || !next || ctx.signal.aborted) throw err;
      const why = (err as Error).message;
      ctx.events.emit(EV.LOG_LINE, { run_id: null, level: "warn", text: `${chosen.id} could not be used: ${why} Trying the next candidate, ${next.id}.` });
      appendAudit(ctx.assets, [{ stage: "DATA_SOURCE", kind: "dataset", dataset: chosen.id, outcome: "could not be fetched", reason: why }]);
      const failed = chosen.id;
      const datasets = ctx.snapshot.dataset_candidates.map((c) => ({
        ...c,
        meta: {
          ...c.meta,
          chosen: c.id === next.id,
          ...(c.id === failed ? { license_ok: false, reasons: [`could not be fetched: ${why}`, ...((c.meta["reasons"] as string[] | undefined) ?? [])] } : {}),
        },
      }));
      ctx.events.emit(EV.DATASET_CANDIDATES, { datasets });
      chosen = datasets.find((c) => c.id === next.id)!;
    }
  }
}

/** A dataset named by its id, when the finder found none to offer. */
const nameDatasetAction: NextAction = {
  id: GATE_ACTIONS.chooseDataset,
  label: "Name a dataset",
  description: "hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME or workspace:PATH",
};

/** At the data's review gate: the other usable candidates the finder found (none for the person's own file). */
function otherDatasetsAction(ctx: StageContext, chosen: Candidate): NextAction[] {
  if (chosen.source === "upload") return [];
  const others = ctx.snapshot.dataset_candidates.filter((c) => c.id !== chosen.id && c.meta["license_ok"] === true);
  if (!others.length) return [];
  return [
    {
      id: GATE_ACTIONS.chooseDataset,
      label: "Choose another dataset",
      description: `now ${chosen.id}`,
      choices: others.map((c) => ({
        value: c.id,
        label: candidateLabel(c),
        description: ((c.meta["reasons"] as string[] | undefined) ?? []).slice(0, 3).join("; "),
      })),
    },
  ];
}

/** "name (source, license, size)", as the gate's choices show a candidate. */
function candidateLabel(c: Candidate): string {
  const size = typeof c.meta["size_bytes"] === "number" ? `, ${megabytes(c.meta["size_bytes"])}` : "";
  const source = c.source === "hf" ? "Hugging Face" : c.source === "kaggle" ? "Kaggle" : c.source;
  return `${c.name} (${source}, ${String(c.meta["license"] ?? "your own data")}${size})`;
}

/** A ranked candidate as DATASET_CANDIDATES carries it: its license verdict, rank and reasons in meta. */
function candidatePayload(r: RankedCandidate, chosen: boolean): Candidate {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    desc: r.desc,
    meta: {
      license: r.license?.license ?? "none known",
      license_ok: r.usable,
      license_decision: r.license?.decision ?? "not checked (your own data)",
      license_note: r.license?.note ?? "your own data: no license gate, and no license is known for it",
      research_only: r.license?.research_only ?? false,
      score: r.score,
      reasons: r.reasons,
      size_bytes: r.size_bytes,
      downloads: r.downloads,
      columns: (r.columns ?? []).slice(0, 50),
      task: r.task,
      url: r.url ?? null,
      gated: r.gated ?? false,
      chosen,
    },
  };
}

function uploadCandidate(file: string): Candidate {
  return {
    id: `upload:${path.basename(file)}`,
    name: path.basename(file),
    source: "upload",
    desc: "The file you provided.",
    meta: {
      license: "none known",
      license_ok: true,
      license_note: "your own data: no license gate, and no license is known for it",
      project_file: file,
      chosen: true,
    },
  };
}

/** The gate's pick of a dataset: each with its source, license, size and why it ranks where it does. */
function chooseDatasetAction(usable: readonly RankedCandidate[]): NextAction {
  return {
    id: GATE_ACTIONS.chooseDataset,
    label: "Choose the dataset",
    description: "one of the candidates found",
    choices: usable.map((r) => ({ value: r.id, label: candidateLabel(candidatePayload(r, false)), description: r.reasons.slice(0, 3).join("; ") })),
  };
}

function megabytes(bytes: number): string {
  return bytes < 1024 ** 2 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function chooseTargetAction(table: Table, asked: Parameters<typeof targetChoices>[1], label = "Choose the target column"): NextAction {
  return { id: GATE_ACTIONS.chooseTarget, label, description: "the column to predict", choices: targetChoices(table, asked) };
}

function setTaskAction(ctx: StageContext, current: TaskType): NextAction {
  return { id: GATE_ACTIONS.setTask, label: "Change the task", description: `now ${current}`, choices: ctx.task().alternatives(current) };
}
