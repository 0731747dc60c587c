/** PROFILE_DATA: types, missingness, per-column statistics, the target's distribution, warnings (the task's code). */
import { executeCells } from "../tasks/pipeline-step";
import type { StageModule } from "./stage";

export const profileDataStage: StageModule = {
  id: "PROFILE_DATA",
  async run(ctx) {
    await executeCells(profileDataStage.code(ctx), ctx.runtime, ctx.work);
    // the profile as PROFILE_SUMMARY announced it (a table's, or an image set's: its rows are images, its types their sizes)
    const profile = ctx.snapshot.profile;
    if (!profile) throw new Error("the profile cell announced no PROFILE_SUMMARY");
    const warn = profile.warnings.length ? ` ${profile.warnings.length} warning(s): ${profile.warnings.join(" ")}` : " No warnings.";
    const images = ctx.snapshot.intent?.task_type === "image_classification";
    return {
      kind: "review",
      summary: images
        ? `${profile.n_rows.toLocaleString("en")} readable images (${Object.entries(profile.types_breakdown)
            .map(([size, n]) => `${n.toLocaleString("en")} of ${size}`)
            .join(", ")}).${warn}`
        : `${profile.n_rows.toLocaleString("en")} rows, ${profile.n_cols.toLocaleString("en")} columns, ${profile.missing_pct.toFixed(1)}% of cells missing.${warn}`,
    };
  },
  describe(ctx) {
    const p = ctx.snapshot.profile;
    const warnings = p?.warnings.length ? p.warnings.map((w) => `- ${w}`).join("\n") : "- none";
    const types = Object.entries(p?.types_breakdown ?? {})
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    return `## 3. Profile\n\n${p?.n_rows ?? "?"} rows × ${p?.n_cols ?? "?"} columns (${types}); ${p?.missing_pct.toFixed(2) ?? "?"}% of cells are missing.\n\nWarnings:\n${warnings}`;
  },
  code(ctx) {
    return ctx.task().profileCode();
  },
};
