/**
 * REVIEW_EDIT: the report, the notebook (complete up to training) and concrete edits a
 * person could try next. Edited cells re-run through the kernel (the notebook issue).
 */
import { EV, STAGE_TITLES, approvedPlan, type PreprocessPlan, type ProjectSnapshot, type TrainingPlan } from "../../contract";
import { NOTEBOOK_FILE, readNotebook, stageCode } from "../notebook/pipeline-notebook";
import { modelSelectStage } from "./model-select-stage";
import { executeCells, renderCell } from "../tasks/pipeline-step";
import { preprocessStage } from "./preprocess-stage";
import type { StageContext, StageModule } from "./stage";
import type { Idea, PlanPatch, Suggestion } from "../tasks/task";

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
    const suggestions = ctx
      .task()
      .ideas(ctx.snapshot)
      .flatMap((idea) => withCellEdit(ctx, idea, notebook) ?? []);
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
