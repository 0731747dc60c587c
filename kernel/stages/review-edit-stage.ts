/**
 * REVIEW_EDIT: the report, the notebook (complete up to training) and concrete edits a
 * person could try next. Edited cells re-run through the kernel (the notebook issue).
 */
import { EV, STAGE_TITLES, distinguishingSettings, type EventPayload, type PreprocessStep, type ProjectSnapshot, type StageId } from "../../contract";
import { NOTEBOOK_FILE, readNotebook, stageCode } from "../notebook/pipeline-notebook";
import { modelSelectStage, type TrainingPlan } from "./model-select-stage";
import { preprocessStage } from "./preprocess-stage";
import type { StageContext, StageModule } from "./stage";

type Suggestion = EventPayload<"EDIT_SUGGESTIONS">["suggestions"][number];
export const REPORT_FILE = "report.md";

export const reviewEditStage: StageModule = {
  id: "REVIEW_EDIT",
  async run(ctx) {
    const notebook = planCellsInNotebook(ctx);
    const editedInNotebook = new Set([...notebook].filter(([, cell]) => cell.edited).map(([stage]) => stage));
    const report = ctx.assets.write(REPORT_FILE, renderReport(ctx.snapshot, ctx.meta.prompt, editedInNotebook));
    ctx.events.emit(EV.ARTIFACT_ADDED, { artifact: { id: "report", type: "report", name: "Project report", url: report.url, meta: { format: "markdown" } } });
    ctx.events.emit(EV.REPORT_READY, { asset_url: report.url });
    ctx.events.emit(EV.NOTEBOOK_READY, { asset_url: ctx.assets.url(NOTEBOOK_FILE) });
    const files = [
      NOTEBOOK_FILE,
      REPORT_FILE,
      "preprocess/preprocessor.json",
      ...Object.values(ctx.snapshot.runs)
        .filter((r) => r.status === "success")
        .map((r) => `models/${r.run_id}.json`),
    ];
    ctx.events.emit(EV.CODE_WORKSPACE_READY, { files: ctx.assets.fileEntries(files.filter((f) => ctx.assets.exists(f))) });
    const suggestions = suggestEdits(ctx.snapshot).flatMap((idea) => withCellEdit(ctx, idea, notebook) ?? []);
    ctx.events.emit(EV.EDIT_SUGGESTIONS, { suggestions });
    return { kind: "review", summary: `Report and notebook ready; ${suggestions.length} suggested edit(s).` };
  },
  cells(ctx) {
    const best = ctx.snapshot.best;
    return [
      {
        kind: "markdown",
        source:
          `## 7. Review\n\nBest model: **${best?.model_id ?? "?"}** (validation ${best?.metric.name ?? ""} ${best?.metric.value.toFixed(4) ?? ""}). ` +
          `Ideas to try next:\n${ctx.snapshot.suggestions.map((s) => `- ${s.title}: ${s.detail}`).join("\n") || "- none"}`,
      },
    ];
  },
};

/** A suggestion and, when it is a change to a plan, that change. */
interface Idea {
  suggestion: Suggestion;
  patch?: (plan: Record<string, unknown>) => Record<string, unknown>;
}

/** Heuristics from what the run showed; each names the stage (cell) to edit. */
export function suggestEdits(s: ProjectSnapshot): Idea[] {
  const out: Idea[] = [];
  const models = (plan: Record<string, unknown>) => (plan as TrainingPlan).models;
  // a search chooses hyperparameters itself: settings typed into its models would be ignored
  const searched = Boolean(s.plans.MODEL_SELECT?.plan_json["time_budget_s"]);
  for (const run of searched ? [] : Object.values(s.runs)) {
    if (run.status === "success" && !run.simulated && run.step >= run.steps && run.steps > 0) {
      const row = s.leaderboard.find((r) => r.run_id === run.run_id);
      const epochs = Number(row?.params["max_epochs"]);
      if (row && Number.isFinite(epochs) && run.steps >= epochs) {
        out.push({
          suggestion: {
            id: `more-epochs-${run.model_id}`,
            stage_id: "MODEL_SELECT",
            title: `Train ${run.model_id} longer`,
            detail: `It used all ${run.steps} epochs without early stopping; raise max_epochs to ${epochs * 2}.`,
          },
          patch: (plan) => ({
            ...plan,
            models: models(plan).map((m) => (m.id === run.model_id ? { ...m, params: { ...m.params, max_epochs: epochs * 2 } } : m)),
          }),
        });
      }
    }
  }
  if (!searched && s.task_type === "regression" && s.leaderboard.some((r) => r.model === "ridge")) {
    out.push({
      suggestion: {
        id: "tune-ridge-alpha",
        stage_id: "MODEL_SELECT",
        title: "Tune ridge's alpha",
        detail: "Add ridge runs with alpha 0.1 and 10 and keep the one with the best validation score.",
      },
      patch: (plan) => ({ ...plan, models: [...models(plan), { id: "ridge", params: { alpha: 0.1 } }, { id: "ridge", params: { alpha: 10 } }] }),
    });
  }
  for (const w of s.profile?.warnings ?? []) {
    const col = /^(.+?) is (\d+)% missing/.exec(w);
    if (col) {
      const column = col[1]!;
      out.push({
        suggestion: {
          id: `drop-${column}`,
          stage_id: "PREPROCESS",
          title: `Try without ${column}`,
          detail: `${column} is ${col[2]}% missing; drop it and compare.`,
        },
        patch: (plan) => ({
          ...plan,
          steps: [
            { id: `drop-${column}`, op: "drop_column", columns: [column], params: {}, why: `${col[2]}% missing: compare the scores without it.` },
            ...(plan["steps"] as PreprocessStep[]),
          ],
        }),
      });
    }
    if (/rare/.test(w)) {
      out.push({
        suggestion: { id: "rank-by-f1", stage_id: "MODEL_SELECT", title: "Rank by F1", detail: "A rare class makes accuracy flattering; rank by f1 instead." },
        patch: (plan) => ({ ...plan, metric_primary: "f1" }),
      });
    }
  }
  out.push({
    suggestion: {
      id: "change-seed",
      stage_id: "PREPROCESS",
      title: "Check the score's stability",
      detail: "Re-run with another split seed; a score that moves a lot is not yet trustworthy.",
    },
    patch: (plan) => {
      const split = plan["split"] as { seed: number };
      return { ...plan, split: { ...split, seed: split.seed + 1 } };
    },
  });
  return out;
}

const CELL_STAGES = { PREPROCESS: preprocessStage, MODEL_SELECT: modelSelectStage } as const;

type PlanCells = Map<keyof typeof CELL_STAGES, { code: string; edited: boolean }>;

/**
 * The plan stages' code cells as the notebook file has them now (read once), each with whether
 * it differs from the cell its approved plan makes.
 */
function planCellsInNotebook(ctx: StageContext): PlanCells {
  const out: PlanCells = new Map();
  const notebook = readNotebook(ctx.assets.absolute(NOTEBOOK_FILE));
  if (!notebook) return out;
  for (const stage of ["PREPROCESS", "MODEL_SELECT"] as const) {
    const code = stageCode(notebook, stage)[0];
    const generated = CELL_STAGES[stage].cells(ctx).find((c) => c.kind === "code")?.source;
    if (code !== undefined && generated !== undefined) out.set(stage, { code, edited: code.trim() !== generated.trim() });
  }
  return out;
}

/**
 * The suggestion with its cell edit: the stage's code cell generated from the approved plan,
 * and from the plan with the change made. A change the stage would refuse gets no edit.
 */
function withCellEdit(ctx: StageContext, idea: Idea, notebook: PlanCells): Suggestion | null {
  const stage = idea.suggestion.stage_id;
  const plan = ctx.snapshot.plans[stage];
  if (!idea.patch || !plan?.approved || !(stage === "PREPROCESS" || stage === "MODEL_SELECT")) return idea.suggestion;
  const module = CELL_STAGES[stage];
  const changed = idea.patch(structuredClone(plan.plan_json));
  try {
    module.checkPlan!(ctx, changed);
  } catch (err) {
    ctx.logger.warn(`suggestion ${idea.suggestion.id} has no cell edit: ${(err as Error).message}`);
    return idea.suggestion;
  }
  const codeCell = (snapshot: ProjectSnapshot) => module.cells({ ...ctx, snapshot }).find((c) => c.kind === "code")?.source;
  const before = codeCell(ctx.snapshot);
  const after = codeCell({ ...ctx.snapshot, plans: { ...ctx.snapshot.plans, [stage]: { ...plan, plan_json: changed } } });
  const inNotebook = notebook.get(stage);
  if (inNotebook?.edited) {
    // already made (applied from the dashboard): not offered again
    if (after !== undefined && inNotebook.code.trim() === after.trim()) return null;
    // a cell edited otherwise no longer says what the plan says: the edit is the person's to make there
    return { ...idea.suggestion, detail: `${idea.suggestion.detail} (The ${STAGE_TITLES[stage]} cell was edited in the notebook: make the change there.)` };
  }
  return before !== undefined && after !== undefined && before !== after ? { ...idea.suggestion, cell_edit: { before, after } } : idea.suggestion;
}

function renderReport(s: ProjectSnapshot, prompt: string, editedInNotebook: ReadonlySet<StageId>): string {
  // several runs of one model are told apart by the settings that differ between them
  const settings = distinguishingSettings(s.leaderboard);
  const intent = s.intent;
  const chosen = s.dataset_candidates.find((d) => d.id === s.dataset_id);
  const lines = [
    `# ${prompt}`,
    "",
    `Task: **${intent?.task_type ?? "?"}** of **${intent?.target ?? "?"}**.`,
    "",
    "## Data",
    "",
    `${chosen?.name ?? "?"} (${chosen?.source ?? "?"}, license ${String(chosen?.meta["license"] ?? "?")}): ${s.profile?.n_rows ?? "?"} rows, ${s.profile?.n_cols ?? "?"} columns, ${s.profile?.missing_pct.toFixed(2) ?? "?"}% of cells missing.`,
    ...(s.profile?.warnings.length ? ["", "Warnings:", ...s.profile.warnings.map((w) => `- ${w}`)] : []),
    "",
    `Split (seed ${s.split?.seed ?? "?"}${s.split?.stratified ? ", stratified" : ""}): ${s.split?.train_rows ?? "?"} train / ${s.split?.val_rows ?? "?"} validation / ${s.split?.test_rows ?? "?"} test rows.`,
    "",
    "## Preprocessing",
    "",
    ...planLines(
      s,
      "PREPROCESS",
      editedInNotebook,
      preprocessSteps(s).map((st) => `- ${st.op} (${st.columns.join(", ")}): ${st.why}`),
    ),
    "",
    "## Models",
    "",
    ...planLines(s, "MODEL_SELECT", editedInNotebook, trainingPlanLines(s)),
    "",
    "| model | settings | validation | test | time (s) | status |",
    "|---|---|---|---|---|---|",
    ...s.leaderboard.map(
      (r) =>
        `| ${r.model} | ${(r.run_id && settings.get(r.run_id)) || ""} | ${r.metric ? `${r.metric.name} ${r.metric.value.toFixed(4)}` : "-"} | ${r.test_metric ? `${r.test_metric.name} ${r.test_metric.value.toFixed(4)}` : "-"} | ${r.runtime_s.toFixed(3)} | ${r.status ?? ""} |`,
    ),
    "",
  ];
  const bestRun = s.best ? s.runs[s.best.run_id] : undefined;
  if (bestRun?.final_metrics) {
    lines.push("## Best model on the held-out test rows", "", `${bestRun.model_id}:`, "");
    for (const m of bestRun.final_metrics.metrics) lines.push(`- ${m.name}: ${m.value.toFixed(4)}`);
    lines.push("");
  }
  lines.push("Scores come from one evaluation on test rows no model or preprocessing step saw while fitting.", "");
  return lines.join("\n");
}

/** The approved plan's steps (as the person approved them, edited or not), else the proposal's. */
function preprocessSteps(s: ProjectSnapshot): PreprocessStep[] {
  const approved = s.plans.PREPROCESS?.approved ? (s.plans.PREPROCESS.plan_json["steps"] as PreprocessStep[] | undefined) : undefined;
  return approved ?? s.preprocess_steps;
}

function trainingPlanLines(s: ProjectSnapshot): string[] {
  const plan = s.plans.MODEL_SELECT?.plan_json as Partial<TrainingPlan> | undefined;
  if (!plan?.models) return [];
  const how = plan.time_budget_s ? `Searched for ${plan.time_budget_s} s over` : "Trained";
  return [
    `${how}: ${plan.models
      .map(
        (m) =>
          `${m.id}${
            m.params && Object.keys(m.params).length
              ? ` (${Object.entries(m.params)
                  .map(([k, v]) => `${k} ${String(v)}`)
                  .join(", ")})`
              : ""
          }`,
      )
      .join("; ")}; ranked by validation ${plan.metric_primary ?? "?"}.`,
  ];
}

/** A section's lines, saying whether the plan was approved as proposed or edited first. */
function planLines(s: ProjectSnapshot, stage: "PREPROCESS" | "MODEL_SELECT", editedInNotebook: ReadonlySet<StageId>, lines: string[]): string[] {
  const plan = s.plans[stage];
  if (!plan) return lines;
  const note = !plan.approved ? "Proposed plan (not approved):" : plan.edited ? "The approved plan, as edited before approval:" : "The approved plan:";
  const later = editedInNotebook.has(stage)
    ? ["", `Its cell was then edited in the notebook and run: the notebook holds what ran, and the results below come from it.`]
    : [];
  return [note, "", ...lines, ...later];
}
