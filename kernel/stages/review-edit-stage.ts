/**
 * REVIEW_EDIT: the report, the notebook (complete up to training) and concrete edits a
 * person could try next. Edited cells re-run through the kernel (the notebook issue).
 */
import { EV, STAGE_TITLES, approvedPlan, type EventPayload, type PreprocessPlan, type ProjectSnapshot, type TrainingPlan } from "../../contract";
import { NOTEBOOK_FILE, readNotebook, stageCode } from "../notebook/pipeline-notebook";
import { modelSelectStage } from "./model-select-stage";
import { executeCells, renderCell } from "./pipeline-step";
import { preprocessStage } from "./preprocess-stage";
import type { StageContext, StageModule } from "./stage";

type Suggestion = EventPayload<"EDIT_SUGGESTIONS">["suggestions"][number];
export const REPORT_FILE = "report.md";

export const reviewEditStage: StageModule = {
  id: "REVIEW_EDIT",
  async run(ctx) {
    await executeCells(reviewEditStage.code(ctx), ctx.runtime, ctx.work);
    reviewEditStage.propose!(ctx);
    return { kind: "review", summary: `Report and notebook ready; ${ctx.snapshot.suggestions.length} suggested edit(s).` };
  },
  propose(ctx) {
    // the suggestions are the stage's proposals (as a plan is), announced by the conductor, not the notebook's code
    const notebook = planCellsInNotebook(ctx);
    const suggestions = suggestEdits(ctx.snapshot).flatMap((idea) => withCellEdit(ctx, idea, notebook) ?? []);
    ctx.events.emit(EV.EDIT_SUGGESTIONS, { suggestions });
  },
  describe(ctx) {
    const best = ctx.snapshot.best;
    return (
      `## 7. Review\n\nBest model: **${best?.model_id ?? "?"}** (validation ${best?.metric.name ?? ""} ${best?.metric.value.toFixed(4) ?? ""}). ` +
      `Ideas to try next:\n${ctx.snapshot.suggestions.map((s) => `- ${s.title}: ${s.detail}`).join("\n") || "- none"}`
    );
  },
  code() {
    return [{ conductor: "runs", statements: [{ kind: "call", method: "review", args: [], bind: "review", show: "automl.markdown(review.report)" }] }];
  },
};

/** A change to an approved plan, typed by its stage. */
type PlanPatch =
  { stage: "PREPROCESS"; change: (plan: PreprocessPlan) => PreprocessPlan } | { stage: "MODEL_SELECT"; change: (plan: TrainingPlan) => TrainingPlan };

/** A suggestion and, when it is a change to a plan, that change. */
interface Idea {
  suggestion: Suggestion;
  patch?: PlanPatch;
}

/** Heuristics from what the run showed; each names the stage (cell) to edit. */
export function suggestEdits(s: ProjectSnapshot): Idea[] {
  const out: Idea[] = [];
  // a search chooses hyperparameters itself: settings typed into its models would be ignored
  const searched = Boolean(s.plans.MODEL_SELECT?.plan?.time_budget_s);
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
          patch: {
            stage: "MODEL_SELECT",
            change: (plan) => ({
              ...plan,
              models: plan.models.map((m) => (m.id === run.model_id ? { ...m, params: { ...m.params, max_epochs: epochs * 2 } } : m)),
            }),
          },
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
      patch: {
        stage: "MODEL_SELECT",
        change: (plan) => ({ ...plan, models: [...plan.models, { id: "ridge", params: { alpha: 0.1 } }, { id: "ridge", params: { alpha: 10 } }] }),
      },
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
        patch: {
          stage: "PREPROCESS",
          change: (plan) => ({
            ...plan,
            steps: [
              { id: `drop-${column}`, op: "drop_column", columns: [column], params: {}, why: `${col[2]}% missing: compare the scores without it.` },
              ...plan.steps,
            ],
          }),
        },
      });
    }
    if (/rare/.test(w)) {
      out.push({
        suggestion: { id: "rank-by-f1", stage_id: "MODEL_SELECT", title: "Rank by F1", detail: "A rare class makes accuracy flattering; rank by f1 instead." },
        patch: { stage: "MODEL_SELECT", change: (plan) => ({ ...plan, metric_primary: "f1" }) },
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
    patch: { stage: "PREPROCESS", change: (plan) => ({ ...plan, split: { ...plan.split, seed: plan.split.seed + 1 } }) },
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
    const generated = codeSource(CELL_STAGES[stage], ctx);
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
  if (!idea.patch || idea.patch.stage !== stage || !plan?.approved || !plan.plan) return idea.suggestion;
  const module = CELL_STAGES[idea.patch.stage];
  const changed = applyPatch(idea.patch, ctx.snapshot);
  try {
    module.checkPlan!(ctx, changed);
  } catch (err) {
    ctx.logger.warn(`suggestion ${idea.suggestion.id} has no cell edit: ${(err as Error).message}`);
    return idea.suggestion;
  }
  const before = codeSource(module, ctx);
  const after = codeSource(module, {
    ...ctx,
    snapshot: { ...ctx.snapshot, plans: { ...ctx.snapshot.plans, [stage]: { ...plan, plan_json: changed, plan: changed } } },
  });
  const inNotebook = notebook.get(idea.patch.stage);
  if (inNotebook?.edited) {
    // already made (applied from the dashboard): not offered again
    if (after !== undefined && inNotebook.code.trim() === after.trim()) return null;
    // a cell edited otherwise no longer says what the plan says: the edit is the person's to make there
    return { ...idea.suggestion, detail: `${idea.suggestion.detail} (The ${STAGE_TITLES[stage]} cell was edited in the notebook: make the change there.)` };
  }
  return before !== undefined && after !== undefined && before !== after ? { ...idea.suggestion, cell_edit: { before, after } } : idea.suggestion;
}

/** The approved plan with the patch's change made (on a copy). */
function applyPatch(patch: PlanPatch, s: ProjectSnapshot): PreprocessPlan | TrainingPlan {
  if (patch.stage === "PREPROCESS") return patch.change(structuredClone(approvedPlan(s, "PREPROCESS")!));
  return patch.change(structuredClone(approvedPlan(s, "MODEL_SELECT")!));
}

/** A plan stage's (single) code cell, rendered from its description. */
function codeSource(module: StageModule, ctx: StageContext): string | undefined {
  const cell = module.code(ctx)[0];
  return cell ? renderCell(cell) : undefined;
}
