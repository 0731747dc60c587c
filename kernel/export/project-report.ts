/**
 * The project's report (report.md): what was asked, the data, the approved plans (and
 * whether they were edited), every run's scores and the best model's test metrics, all from
 * the project's state. The REVIEW_EDIT stage writes it through the runtime's review().
 */
import { sourceName } from "../agents/dataset-ranking";
import { approvedPlan, distinguishingSettings, type PreprocessStep, type ProjectSnapshot } from "../../contract";

export const REPORT_FILE = "report.md";

export function renderReport(s: ProjectSnapshot, prompt: string): string {
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
    `${chosen?.name ?? "?"} (${chosen ? sourceName(chosen.source) : "?"}, license ${String(chosen?.meta["license"] ?? "?")}): ${s.profile?.n_rows ?? "?"} rows, ${s.profile?.n_cols ?? "?"} columns, ${s.profile?.missing_pct.toFixed(2) ?? "?"}% of cells missing.`,
    ...dataOrigin(chosen, s.dataset_revision),
    ...dataLicenseNotice(chosen?.meta),
    ...(s.profile?.read_as?.length ? ["", "Read as:", ...s.profile.read_as.map((n) => `- ${n}`)] : []),
    ...(s.profile?.warnings.length ? ["", "Warnings:", ...s.profile.warnings.map((w) => `- ${w}`)] : []),
    "",
    `Split (seed ${s.split?.seed ?? "?"}${s.split?.stratified ? ", stratified" : ""}): ${s.split?.train_rows ?? "?"} train / ${s.split?.val_rows ?? "?"} validation / ${s.split?.test_rows ?? "?"} test rows.`,
    "",
    "## Preprocessing",
    "",
    ...planLines(
      s,
      "PREPROCESS",
      preprocessSteps(s).map((st) => `- ${st.op} (${st.columns.join(", ")}): ${st.why}`),
    ),
    "",
    "## Models",
    "",
    ...planLines(s, "MODEL_SELECT", trainingPlanLines(s)),
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
  const approved = approvedPlan(s, "PREPROCESS")?.steps;
  return approved ?? s.preprocess_steps;
}

function trainingPlanLines(s: ProjectSnapshot): string[] {
  const plan = s.plans.MODEL_SELECT?.plan;
  if (!plan) return [];
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
    ...(plan.search_sample_rows
      ? [
          `The trials trained on a seeded sample of ${plan.search_sample_rows.toLocaleString("en")} training rows (the table was too large for the budget to try many settings on all of them), validated on every validation row; the winner was then refit on all the training rows when the time left allowed (the training log says whether it did).`,
        ]
      : []),
  ];
}

/** A section's lines, saying whether the plan was approved as proposed or edited first. */
function planLines(s: ProjectSnapshot, stage: "PREPROCESS" | "MODEL_SELECT", lines: string[]): string[] {
  const plan = s.plans[stage];
  if (!plan) return lines;
  const note = !plan.approved ? "Proposed plan (not approved):" : plan.edited ? "The approved plan, as edited before approval:" : "The approved plan:";
  const later = s.stages[stage].edited_cell
    ? ["", `Its cell was then edited in the notebook and run: the notebook holds what ran, and the results below come from it.`]
    : [];
  return [note, "", ...lines, ...later];
}

/** What the data's license means for the model, when it limits it or is unknown: said in the report (and so in the export). */
/** Where a fetched dataset came from (its page, its revision), and the credit an attribution license asks for. */
function dataOrigin(chosen: ProjectSnapshot["dataset_candidates"][number] | undefined, revision: string | null): string[] {
  const url = chosen?.meta["url"];
  if (!chosen || typeof url !== "string") return [];
  const lines = ["", `Fetched from ${sourceName(chosen.source)}: ${chosen.id} (${url})${revision ? `, revision ${revision}` : ""}.`];
  if (/^attribution/.test(String(chosen.meta["license_note"] ?? "")))
    lines.push(`Its license asks for credit: cite ${chosen.name} (${url}) where the model or its results are shown.`);
  return lines;
}

function dataLicenseNotice(meta: Record<string, unknown> | undefined): string[] {
  if (!meta) return [];
  if (meta["research_only"] === true)
    return [
      "",
      `**Research / demo only.** The data's license (${String(meta["license"])}) does not allow commercial use, and neither does a model trained on it.`,
    ];
  if (meta["license"] === "none known") return ["", "No license is known for this data: it is yours, so check that you may use it as you intend."];
  return [];
}
