/**
 * The project's report (report.md, and report.html from it): what was asked, the data, the
 * choices made and who made them (the language model or the rules) with why, the approved
 * plans (and whether they were edited), every run's scores, the best model's test metrics and
 * its charts, and the limitations. Every number comes from the project's state (its events);
 * the narrative a language model may write (summary, limitations) carries no numbers of its
 * own (the reporter agent refuses one that does). The REVIEW_EDIT stage writes it through the
 * runtime's review().
 */
import { sourceName } from "../agents/dataset-ranking";
import type { AssetStore } from "../assets/asset-store";
import { approvedPlan, distinguishingSettings, type AgentSource, type PreprocessStep, type ProjectSnapshot } from "../../contract";

export const REPORT_FILE = "report.md";
export const REPORT_HTML_FILE = "report.html";
/** the reporter's narrative for the project's state it was written for (see narrativeKey) */
export const REPORT_NARRATIVE_FILE = "report-narrative.json";

/** What a language model wrote for the report: prose only, no numbers of its own. */
export interface ReportNarrative {
  /** the state it was written for: a narrative of other results is not used */
  key: string;
  summary: string;
  limitations: string[];
  source: AgentSource;
}

/**
 * The narrative the reporter agent stored for the project (at REVIEW_EDIT), when it was written
 * for the results as they stand now (see narrativeKey); else null, and the rules write them.
 */
export function currentNarrative(assets: AssetStore, s: ProjectSnapshot): ReportNarrative | null {
  if (!assets.regularFile(REPORT_NARRATIVE_FILE)) return null;
  try {
    const n = JSON.parse(assets.read(REPORT_NARRATIVE_FILE).toString("utf8")) as ReportNarrative;
    const whole = typeof n.summary === "string" && Array.isArray(n.limitations) && typeof n.key === "string";
    return whole && n.key === narrativeKey(s) ? n : null;
  } catch {
    return null;
  }
}

/** The state a narrative speaks of: the best run, the target and the data. */
export function narrativeKey(s: ProjectSnapshot): string {
  return [s.best?.run_id ?? "", s.intent?.target ?? "", s.dataset_id ?? ""].join("|");
}

/** The facts a narrative is written from (all from the project's state), with the names it may use. */
export function reportFacts(s: ProjectSnapshot, prompt: string): { facts: Record<string, unknown>; names: string[] } {
  const chosen = s.dataset_candidates.find((d) => d.id === s.dataset_id);
  const bestRun = s.best ? s.runs[s.best.run_id] : undefined;
  const facts = {
    request: prompt,
    task: s.intent?.task_type ?? null,
    target: s.intent?.target ?? null,
    target_chosen_by: s.decided_by.intent ?? "rules",
    target_notes: s.intent?.constraints["resolution"] ?? [],
    dataset: chosen
      ? { name: chosen.name, source: sourceName(chosen.source), license: chosen.meta["license"], research_only: chosen.meta["research_only"] === true }
      : null,
    rows: s.profile?.n_rows ?? null,
    columns: s.profile?.n_cols ?? null,
    missing_pct: s.profile?.missing_pct ?? null,
    warnings: s.profile?.warnings ?? [],
    split: s.split,
    preprocessing: preprocessSteps(s).map((st) => ({ op: st.op, columns: st.columns.slice(0, 20), why: st.why })),
    models: s.model_candidates.map((m) => ({ id: m.id, why: m.why })),
    leaderboard: s.leaderboard.map((r) => ({ model: r.model, validation: r.metric, test: r.test_metric ?? null, status: r.status ?? null })),
    best_model: bestRun?.model_id ?? null,
    test_metrics: bestRun?.final_metrics?.metrics ?? [],
    limitations_found: rulesLimitations(s),
  };
  const names = [
    ...(s.sample?.columns ?? []),
    ...s.model_candidates.map((m) => m.id),
    ...s.leaderboard.map((r) => r.model),
    ...(chosen ? [chosen.name, chosen.id] : []),
  ];
  return { facts, names };
}

/**
 * What the results do not show, by fixed rules from the state (the narrative's fallback, and
 * what a language model is given to write from).
 */
export function rulesLimitations(s: ProjectSnapshot): string[] {
  const out: string[] = [];
  const rows = s.profile?.n_rows ?? 0;
  if (rows && rows < 1000)
    out.push(`The data has ${rows} rows: the test score comes from ${s.split?.test_rows ?? "few"} of them and would move with another split.`);
  if (s.split?.kind === "time_ordered") {
    out.push(
      `The test score is one window, the last ${s.split.horizon} step(s) of each series: another stretch of time (a season, a shock) may forecast better or worse; the ${s.split.cutoffs?.length ?? 0} backtest(s) show how much it varies.`,
    );
    out.push(
      `The intervals are from the backtests' errors (a handful of windows), not a guarantee: check how often the test window's actual values fall inside them.`,
    );
  } else {
    if (s.split) out.push(`One seeded split (seed ${s.split.seed}) decides the test score; another seed gives another estimate.`);
    if ((s.profile?.types_breakdown["datetime"] ?? 0) > 0)
      out.push(
        "The rows have dates but were split at random, not by time: the test rows are not the future of the training rows, so the score says little about forecasting.",
      );
  }
  // the profile's warning about a rare class, as it said it
  out.push(...(s.profile?.warnings ?? []).filter((w) => / is rare \(/.test(w)));
  if ((s.profile?.missing_pct ?? 0) >= 10) out.push(`${s.profile!.missing_pct.toFixed(1)}% of the cells are missing: the filled values shape the model.`);
  const chosen = s.dataset_candidates.find((d) => d.id === s.dataset_id);
  if (chosen?.meta["research_only"] === true) out.push(`The data's license (${String(chosen.meta["license"])}) allows research and demos only.`);
  if (chosen?.meta["license"] === "none known") out.push("No license is known for the data.");
  out.push("The model learned from these rows only: data from another time, place or population may behave otherwise.");
  return out;
}

/** `told`: the narrative for these results (currentNarrative), else the rules write the summary and limitations. */
export function renderReport(s: ProjectSnapshot, prompt: string, told: ReportNarrative | null = null): string {
  // several runs of one model are told apart by the settings that differ between them
  const settings = distinguishingSettings(s.leaderboard);
  const intent = s.intent;
  const chosen = s.dataset_candidates.find((d) => d.id === s.dataset_id);
  const lines = [
    `# ${prompt}`,
    "",
    `Task: **${intent?.task_type ?? "?"}** of **${intent?.target ?? "?"}**.`,
    "",
    "## Summary",
    "",
    told?.summary ?? rulesSummary(s),
    "",
    `_${told ? "Summary and limitations written by the language model from this report's facts; every number here comes from the project's events." : "Summary and limitations from fixed rules."}_`,
    "",
    "## Choices and why",
    "",
    ...choices(s),
    "",
    "## Data",
    "",
    `${chosen?.name ?? "?"} (${chosen ? sourceName(chosen.source) : "?"}, license ${String(chosen?.meta["license"] ?? "?")}): ${s.profile?.n_rows ?? "?"} rows, ${s.profile?.n_cols ?? "?"} columns, ${s.profile?.missing_pct.toFixed(2) ?? "?"}% of cells missing.`,
    ...dataOrigin(chosen, s.dataset_revision),
    ...dataLicenseNotice(chosen?.meta),
    ...(s.profile?.read_as?.length ? ["", "Read as:", ...s.profile.read_as.map((n) => `- ${n}`)] : []),
    ...(s.profile?.warnings.length ? ["", "Warnings:", ...s.profile.warnings.map((w) => `- ${w}`)] : []),
    "",
    splitLine(s),
    "",
    "## Preprocessing",
    "",
    ...planLines(s, "PREPROCESS", [...preprocessSteps(s).map((st) => `- ${st.op} (${st.columns.join(", ")}): ${st.why}`), ...framingLines(s)]),
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
    for (const m of bestRun.final_metrics.metrics.filter((x) => x.split === "test")) lines.push(`- ${m.name}: ${m.value.toFixed(4)}`);
    // a forecast's metrics carry its backtests' means too (the ranking's evidence)
    const backtests = bestRun.final_metrics.metrics.filter((x) => x.split === "val");
    if (bestRun.final_metrics.task_type === "time_series_forecasting" && backtests.length)
      lines.push("", `Over its backtests: ${backtests.map((m) => `${m.name} ${m.value.toFixed(4)}`).join(", ")}.`);
    lines.push("");
  }
  lines.push("Scores come from one evaluation on test rows no model or preprocessing step saw while fitting.", "");
  const charts = bestRun ? s.artifacts.filter((a) => a.meta["run_id"] === bestRun.run_id && typeof a.meta["png"] === "string") : [];
  if (charts.length) {
    lines.push("## Charts", "");
    for (const a of charts) lines.push(`![${a.name}](runs/${bestRun!.run_id}/${a.type}.png)`, "");
  }
  lines.push("## Limitations", "", ...(told?.limitations ?? rulesLimitations(s)).map((l) => `- ${l}`), "");
  return lines.join("\n");
}

/** How the rows were split: seeded at random, or by time with its cut-offs. */
function splitLine(s: ProjectSnapshot): string {
  const split = s.split;
  if (split?.kind === "time_ordered")
    return (
      `Split by time, never shuffled: the last ${split.horizon} step(s) of each series (from ${split.test_from}, ${split.test_rows} values) are the test window; ` +
      `models were ranked by ${split.cutoffs?.length ?? 0} backtest(s) forecasting ${split.horizon} step(s) from ${split.cutoffs?.join(", ") ?? "?"}, each fit only on the history before its cut-off.`
    );
  return `Split (seed ${split?.seed ?? "?"}${split?.stratified ? ", stratified" : ""}): ${split?.train_rows ?? "?"} train / ${split?.val_rows ?? "?"} validation / ${split?.test_rows ?? "?"} test rows.`;
}

/** A forecast's framing, as its plan states it. */
function framingLines(s: ProjectSnapshot): string[] {
  const f = s.plans.PREPROCESS?.plan?.split.forecast;
  if (!f) return [];
  return [
    `- Framed as series: time from \`${f.time_column}\`, ${f.frequency} steps${f.series_id ? `, one series per \`${f.series_id}\`` : ""}, ` +
      `${f.seasonality > 1 ? `a season of ${f.seasonality} steps` : "no season"}, values sharing a period combined by their ${f.aggregate}, gaps filled by linear interpolation; a horizon of ${f.horizon} step(s).`,
  ];
}

/** The summary by fixed rules: what was built and how well it did, numbers from the state. */
function rulesSummary(s: ProjectSnapshot): string {
  const bestRun = s.best ? s.runs[s.best.run_id] : undefined;
  const primary = bestRun?.final_metrics?.primary;
  const data = s.dataset_candidates.find((d) => d.id === s.dataset_id)?.name ?? "the data";
  return (
    `A ${s.intent?.task_type ?? "?"} model of ${s.intent?.target ?? "?"} from ${data}. ` +
    (bestRun && primary
      ? `The best of ${s.leaderboard.length} run${s.leaderboard.length === 1 ? "" : "s"} by ${s.split?.kind === "time_ordered" ? "backtest" : "validation"} ${s.best!.metric.name} is ${bestRun.model_id}, with test ${primary.name} ${primary.value.toFixed(4)}.`
      : "No model finished training.")
  );
}

/** Who chose what, and why: the target, the data, the preprocessing and the models. */
function choices(s: ProjectSnapshot): string[] {
  const by = (source: AgentSource | undefined) => (source === "llm" ? "the language model" : "the rules");
  const chosen = s.dataset_candidates.find((d) => d.id === s.dataset_id);
  const notes = Array.isArray(s.intent?.constraints["resolution"]) ? (s.intent!.constraints["resolution"] as string[]) : [];
  const reasons = Array.isArray(chosen?.meta["reasons"]) ? (chosen!.meta["reasons"] as string[]) : [];
  return [
    `- Target **${s.intent?.target ?? "?"}**, chosen by ${by(s.decided_by.intent)}.${notes.length ? ` ${notes.join(" ")}` : ""}`,
    `- Data **${chosen?.name ?? "?"}**, ranked by ${by(s.decided_by.datasets)}${reasons.length ? `: ${reasons.slice(0, 4).join("; ")}.` : "."}`,
    `- Preprocessing planned by ${by(s.decided_by.preprocess)} (each step's reason below).`,
    `- Models chosen by ${by(s.decided_by.models)}: ${s.model_candidates.map((m) => `${m.id} (${m.why})`).join("; ") || "none"}.`,
  ];
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
      .join("; ")}; ranked by ${s.split?.kind === "time_ordered" ? "backtest" : "validation"} ${plan.metric_primary ?? "?"}.`,
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
