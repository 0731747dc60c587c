/** Edits worth trying after a tabular run, from what the runs and the profile showed. */
import type { ProjectSnapshot } from "../../../contract";
import type { Idea } from "../task";

/** Heuristics from what the run showed; each names the stage (cell) to edit. */
export function tabularIdeas(s: ProjectSnapshot): Idea[] {
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
