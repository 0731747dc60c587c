/** PROFILE_DATA: types, missingness, per-column statistics, the target's distribution, warnings. */
import type { StageModule } from "./stage";

export const profileDataStage: StageModule = {
  id: "PROFILE_DATA",
  async run(ctx) {
    const { target, task } = ctx.work.intent();
    const profile = ctx.runtime.profile(ctx.work.table(), { target, task });
    ctx.work.setProfile(profile);
    const warn = profile.warnings.length ? ` ${profile.warnings.length} warning(s): ${profile.warnings.join(" ")}` : " No warnings.";
    return { kind: "review", summary: `${profile.n_rows} rows, ${profile.n_cols} columns, ${profile.missing_pct.toFixed(1)}% of cells missing.${warn}` };
  },
  cells(ctx) {
    const p = ctx.snapshot.profile;
    const warnings = p?.warnings.length ? p.warnings.map((w) => `- ${w}`).join("\n") : "- none";
    return [
      {
        kind: "markdown",
        source: `## 3. Profile\n\n${p?.n_rows ?? "?"} rows × ${p?.n_cols ?? "?"} columns (${Object.entries(p?.types_breakdown ?? {})
          .map(([k, n]) => `${n} ${k}`)
          .join(", ")}); ${p?.missing_pct.toFixed(2) ?? "?"}% of cells are missing.\n\nWarnings:\n${warnings}`,
      },
      {
        kind: "code",
        source:
          "const profile = rt.profile(table, { target: intent.target, task: intent.task });\n" +
          "automl.table(profile.columns.map(({ name, kind, missing_pct, unique, mean, std, min, max }) => ({ name, kind, missing_pct, unique, mean, std, min, max })));",
      },
    ];
  },
};
