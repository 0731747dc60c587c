/**
 * REVIEW_EDIT: the report, the notebook (complete up to training) and concrete edits a
 * person could try next. Edited cells re-run through the kernel (the notebook issue).
 */
import { EV, STAGE_TITLES, approvedPlan, type PreprocessPlan, type ProjectSnapshot, type TrainingPlan } from "../../contract";
import { suggestEdits, type EditChange } from "../agents/edit-suggester-agent";
import { writeNarrative } from "../agents/reporter-agent";
import { findLearner } from "../ml/model-zoo";
import { currentNarrative, narrativeKey, REPORT_NARRATIVE_FILE, reportFacts, rulesLimitations, type ReportNarrative } from "../export/project-report";
import { NOTEBOOK_FILE, readNotebook, stageCode } from "../notebook/pipeline-notebook";
import { modelSelectStage } from "./model-select-stage";
import { executeCells, renderCell } from "../tasks/pipeline-step";
import { preprocessStage } from "./preprocess-stage";
import type { StageContext, StageModule } from "./stage";
import type { Idea, PlanPatch, Suggestion } from "../tasks/task";

export const reviewEditStage: StageModule = {
  id: "REVIEW_EDIT",
  async run(ctx) {
    await writeReportNarrative(ctx);
    await executeCells(reviewEditStage.code(ctx), ctx.runtime, ctx.work);
    await reviewEditStage.propose!(ctx);
    return { kind: "review", summary: `Report and notebook ready; ${ctx.snapshot.suggestions.length} suggested edit(s).` };
  },
  async propose(ctx) {
    // the suggestions are the stage's proposals (as a plan is), announced by the conductor, not the notebook's code
    const notebook = planCellsInNotebook(ctx);
    const fromModel = (await modelIdeas(ctx)).flatMap((idea) => {
      const s = withCellEdit(ctx, idea, notebook);
      // a change the stage refuses is no suggestion from the model (the rules' advice may stand without an edit)
      if (s && !s.cell_edit) {
        ctx.events.emit(EV.LOG_LINE, {
          run_id: null,
          level: "warn",
          text: `The edit suggester's "${s.title}" was dropped: the ${STAGE_TITLES[s.stage_id]} stage would refuse it.`,
        });
        return [];
      }
      return s ? [s] : [];
    });
    const fromRules = ctx
      .task()
      .ideas(ctx.snapshot)
      .flatMap((idea) => withCellEdit(ctx, { ...idea, suggestion: { ...idea.suggestion, source: "rules" } }, notebook) ?? [])
      // the same edit from both: the model's stands
      .filter((r) => !fromModel.some((m) => m.cell_edit && r.cell_edit && m.cell_edit.after === r.cell_edit.after));
    ctx.events.emit(EV.EDIT_SUGGESTIONS, { suggestions: [...fromModel, ...fromRules] });
  },
  describe(ctx) {
    const best = ctx.snapshot.best;
    // the same narrative as the report's (the language model's for these results, else the rules')
    const narrative = currentNarrative(ctx.assets, ctx.snapshot);
    const limitations = narrative?.limitations ?? rulesLimitations(ctx.snapshot);
    return (
      `## 7. Review\n\n${narrative ? `${narrative.summary}\n\n` : ""}Best model: **${best?.model_id ?? "?"}** (validation ${best?.metric.name ?? ""} ${best?.metric.value.toFixed(4) ?? ""}). ` +
      `Ideas to try next:\n${ctx.snapshot.suggestions.map((s) => `- ${s.title}: ${s.detail}`).join("\n") || "- none"}\n\n` +
      `Limitations:\n${limitations.map((l) => `- ${l}`).join("\n")}`
    );
  },
  code() {
    return [{ conductor: "runs", statements: [{ kind: "call", method: "review", args: [], bind: "review", show: "automl.markdown(review.report)" }] }];
  },
};

/**
 * The reporter agent's summary and limitations for the results as they stand, stored for the
 * report (review() reads it) and the notebook; without a model, the stored one is removed so
 * the rules write them.
 */
async function writeReportNarrative(ctx: StageContext): Promise<void> {
  const { facts, names } = reportFacts(ctx.snapshot, ctx.meta.prompt);
  const written = await writeNarrative(facts, names, ctx.agents, { stage: "REVIEW_EDIT", events: ctx.events, signal: ctx.signal });
  if (!written) {
    ctx.assets.remove(REPORT_NARRATIVE_FILE);
    return;
  }
  const narrative: ReportNarrative = { key: narrativeKey(ctx.snapshot), ...written.value, source: written.source };
  ctx.assets.writeJson(REPORT_NARRATIVE_FILE, narrative);
}

/** The edit suggester's proposals as ideas (a plan patch each), or none without the model. */
async function modelIdeas(ctx: StageContext): Promise<Idea[]> {
  const s = ctx.snapshot;
  const training = approvedPlan(s, "MODEL_SELECT");
  const preprocess = approvedPlan(s, "PREPROCESS");
  if (!training || !preprocess) return [];
  const taskType = s.intent?.task_type;
  const task = ctx.task();
  const facts = {
    task: taskType,
    target: s.intent?.target,
    leaderboard: s.leaderboard.map((r) => ({ model: r.model, params: r.params, validation: r.metric, status: r.status })),
    training_plan: training,
    preprocessing_plan: preprocess,
    warnings: s.profile?.warnings.slice(0, 20) ?? [],
    columns: s.sample?.columns ?? [],
    models_available: taskType ? task.learnerIds(taskType).map((id) => ({ id, defaults: findLearner(id)?.defaults ?? {} })) : [],
    metrics: taskType ? task.metrics(taskType) : [],
  };
  const proposed = await suggestEdits(facts, ctx.agents, { stage: "REVIEW_EDIT", events: ctx.events, signal: ctx.signal });
  return (proposed?.value ?? []).flatMap((p, k) => {
    const patch = patchFor(p.change);
    return patch
      ? [
          {
            suggestion: {
              id: `llm-${k + 1}-${p.change.kind.replace(/_/g, "-")}`,
              stage_id: patch.stage,
              // what the edit does, from the change itself: the model's own title could say otherwise
              title: changeTitle(p.change),
              detail: p.expected_effect,
              source: "llm" as const,
            },
            patch,
          },
        ]
      : [];
  });
}

/** What a change does, in words. */
function changeTitle(c: EditChange): string {
  switch (c.kind) {
    case "set_param":
      return `Set ${c.model}'s ${c.param} to ${String(c.value)}`;
    case "add_model":
      return `Add ${c.model}`;
    case "remove_model":
      return `Remove ${c.model}`;
    case "set_metric":
      return `Rank by ${c.metric}`;
    case "drop_column":
      return `Drop ${c.column}`;
    case "set_seed":
      return `Split with seed ${c.seed}`;
    case "set_test_size":
      return `Test on ${Math.round(c.test_size * 100)}% of the rows`;
  }
}

/** A proposed change as the plan patch it is. */
function patchFor(c: EditChange): PlanPatch | null {
  switch (c.kind) {
    case "set_param":
      return {
        stage: "MODEL_SELECT",
        change: (plan) => ({ ...plan, models: plan.models.map((m) => (m.id === c.model ? { ...m, params: { ...m.params, [c.param]: c.value } } : m)) }),
      };
    case "add_model":
      return {
        stage: "MODEL_SELECT",
        change: (plan) => ({ ...plan, models: [...plan.models, { id: c.model, params: { ...(findLearner(c.model)?.defaults ?? {}), ...c.params } }] }),
      };
    case "remove_model":
      return { stage: "MODEL_SELECT", change: (plan) => ({ ...plan, models: plan.models.filter((m) => m.id !== c.model) }) };
    case "set_metric":
      return { stage: "MODEL_SELECT", change: (plan) => ({ ...plan, metric_primary: c.metric }) };
    case "drop_column":
      return {
        stage: "PREPROCESS",
        change: (plan) => ({
          ...plan,
          steps: [{ id: `drop-${c.column}`, op: "drop_column", columns: [c.column], params: {}, why: "suggested after the runs" }, ...plan.steps],
        }),
      };
    case "set_seed":
      return { stage: "PREPROCESS", change: (plan) => ({ ...plan, split: { ...plan.split, seed: c.seed } }) };
    case "set_test_size":
      return { stage: "PREPROCESS", change: (plan) => ({ ...plan, split: { ...plan.split, test_size: c.test_size } }) };
  }
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
