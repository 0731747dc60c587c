/**
 * Proposes the preprocessing a careful person would do by hand, each step with its reason.
 * The plan is data (the contract's PREPROCESS_PLAN steps): it is shown, can be edited, and
 * is what the preprocessor fits, so what was approved is what runs.
 */
import type { PreprocessStep } from "../../contract";
import type { TableProfile } from "./table-profile";

export const DATETIME_PARTS = ["year", "month", "day", "dayofweek"] as const;
/** a column of times (not only days) also gives its hour: a flight's delay, a shop's sales follow the clock */
export const TIME_PARTS = [...DATETIME_PARTS, "hour"] as const;
export type DatetimePart = (typeof TIME_PARTS)[number];

/** The parts a parse_datetime step asks for (its params.parts; the day parts when it names none). */
export function partsOf(step: PreprocessStep): DatetimePart[] {
  const asked = step.params["parts"];
  return Array.isArray(asked) ? TIME_PARTS.filter((p) => asked.includes(p)) : [...DATETIME_PARTS];
}
export const MISSING_LEVEL = "(missing)";
export const OTHER_LEVEL = "(other)";
const MAX_ONE_HOT_LEVELS = 20;

export function datetimePartName(column: string, part: string): string {
  return `${column}_${part}`;
}

/** How many features screening keeps for a table of `rows` rows: a quarter of them, at least 10. */
export function screenedWidth(rows: number): number {
  return Math.max(10, Math.floor(rows / 4));
}

export function planPreprocessing(profile: TableProfile, target: string): PreprocessStep[] {
  const steps: PreprocessStep[] = [];
  const features = profile.columns.filter((c) => c.name !== target);
  const targetProfile = profile.columns.find((c) => c.name === target);
  if (targetProfile && targetProfile.missing > 0) {
    steps.push({
      id: "drop-missing-target",
      op: "drop_rows_missing_target",
      columns: [target],
      params: {},
      why: `${targetProfile.missing} rows have no ${target}; a model cannot learn from or be scored on them.`,
    });
  }

  const dropReasons: Record<string, string> = {};
  for (const c of features) {
    const present = profile.n_rows - c.missing;
    if (c.unique <= 1) dropReasons[c.name] = "a single value: no information";
    else if (c.missing_pct > 95) dropReasons[c.name] = `${c.missing_pct.toFixed(0)}% missing`;
    else if (c.kind === "categorical" && c.unique > 20 && c.unique > 0.9 * present) dropReasons[c.name] = "unique per row: an identifier";
    else if (c.row_number) dropReasons[c.name] = "counts the rows: an index";
  }
  const dropped = Object.keys(dropReasons);
  if (dropped.length) {
    steps.push({
      id: "drop-uninformative",
      op: "drop_column",
      columns: dropped,
      params: { reasons: dropReasons },
      why: "Columns that cannot help a model and would only add noise.",
    });
  }
  const kept = features.filter((c) => !dropReasons[c.name]);
  const days = kept.filter((c) => c.kind === "datetime" && !c.has_time).map((c) => c.name);
  const times = kept.filter((c) => c.kind === "datetime" && c.has_time).map((c) => c.name);
  const dates = [...days, ...times];
  const numeric = kept.filter((c) => c.kind === "numeric").map((c) => c.name);
  const categorical = kept.filter((c) => c.kind === "categorical");
  const partsOfColumn = (d: string): readonly DatetimePart[] => (times.includes(d) ? TIME_PARTS : DATETIME_PARTS);
  const dateParts = dates.flatMap((d) => partsOfColumn(d).map((p) => datetimePartName(d, p)));

  if (days.length) {
    steps.push({
      id: "parse-dates",
      op: "parse_datetime",
      columns: days,
      params: { parts: [...DATETIME_PARTS] },
      why: "Dates become numbers a model can use: year, month, day of month and day of week.",
    });
  }
  if (times.length) {
    steps.push({
      id: "parse-times",
      op: "parse_datetime",
      columns: times,
      params: { parts: [...TIME_PARTS] },
      why: "Times become numbers a model can use: year, month, day of month, day of week and hour (UTC).",
    });
  }
  const numericWithMissing = kept.filter((c) => c.kind !== "categorical" && c.missing > 0).map((c) => c.name);
  const indicatorCols = kept.filter((c) => c.kind === "numeric" && c.missing_pct >= 5).map((c) => c.name);
  if (indicatorCols.length) {
    steps.push({
      id: "missing-indicators",
      op: "add_missing_indicator",
      columns: indicatorCols,
      params: {},
      why: "Whether a value was missing can itself be informative; a 0/1 column keeps that after imputation.",
    });
  }
  const imputeNumeric = [
    ...numericWithMissing.filter((c) => numeric.includes(c)),
    ...dates.filter((d) => numericWithMissing.includes(d)).flatMap((d) => partsOfColumn(d).map((p) => datetimePartName(d, p))),
  ];
  if (imputeNumeric.length) {
    steps.push({
      id: "impute-numeric",
      op: "impute",
      columns: imputeNumeric,
      params: { strategy: "median" },
      why: "Fill missing numbers with the training median, which outliers do not drag.",
    });
  }
  const catWithMissing = categorical.filter((c) => c.missing > 0).map((c) => c.name);
  if (catWithMissing.length) {
    steps.push({
      id: "impute-categorical",
      op: "impute",
      columns: catWithMissing,
      params: { strategy: "constant", fill_value: MISSING_LEVEL },
      why: `Missing text values become their own level, ${JSON.stringify(MISSING_LEVEL)}, so the model can tell them apart.`,
    });
  }
  if (categorical.length) {
    steps.push({
      id: "one-hot",
      op: "encode_categorical",
      columns: categorical.map((c) => c.name),
      params: { method: "one_hot", max_levels: MAX_ONE_HOT_LEVELS, other_label: OTHER_LEVEL },
      why: `Each level becomes a 0/1 column (the ${MAX_ONE_HOT_LEVELS} most frequent in training; rarer and unseen levels share ${JSON.stringify(OTHER_LEVEL)}).`,
    });
  }
  // more feature columns than rows (after encoding): screen them, or any model can fit noise exactly
  const encodedWidth =
    numeric.length +
    dateParts.length +
    indicatorCols.length +
    categorical.reduce((w, c) => w + Math.min(c.unique, MAX_ONE_HOT_LEVELS) + (c.unique > MAX_ONE_HOT_LEVELS ? 1 : 0), 0);
  const keep = screenedWidth(profile.n_rows);
  if (encodedWidth > profile.n_rows && encodedWidth > keep) {
    steps.push({
      id: "screen-features",
      op: "select_features",
      columns: [],
      params: { method: "univariate", keep },
      why:
        `More feature columns (about ${encodedWidth.toLocaleString("en")} after encoding) than rows (${profile.n_rows.toLocaleString("en")}): keep the ${keep} most related to the target ` +
        `in the training rows (absolute correlation with a number, the F statistic between classes), so the models are not lost among columns that only fit noise.`,
    });
  }
  const scaled = [...numeric, ...dateParts];
  if (scaled.length) {
    steps.push({
      id: "standardize",
      op: "scale",
      columns: scaled,
      params: { method: "standard" },
      why: "Zero mean and unit variance (fitted on training rows only) so gradient descent converges and no feature dominates by its units.",
    });
  }
  return steps;
}
