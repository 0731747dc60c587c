/**
 * Once the columns are known, settles what the rules parser could not: which column is the
 * target, and whether the task is really classification (a text target, or a handful of
 * integer labels when the prompt only said "predict").
 */
import type { TaskType } from "../../contract";
import { InputError } from "../errors/input-error";
import type { Table } from "../data/table";
import { profileColumn } from "../data/table-profile";
import type { ParsedIntent } from "./intent-rules";

const SYNONYMS: Record<string, string[]> = {
  price: ["value", "cost", "medv", "saleprice", "amount"],
  prices: ["value", "cost", "medv", "saleprice", "amount"],
  value: ["price", "medv", "amount"],
  species: ["class", "label", "type"],
  type: ["class", "label", "category", "kind"],
  category: ["class", "label", "type"],
};

/**
 * The target cannot be settled from the request and the columns: only the person can say.
 * The stage turns it into a gate offering the columns (see targetChoices), not a failure.
 */
export class TargetUnclearError extends InputError {
  override name = "TargetUnclearError";
}

/** Each column as a target candidate, with what the profile says of it, likeliest targets first. */
/**
 * The table's columns as target choices, the likeliest first: the current target, then columns
 * the request's words name, then those that fit the task asked for, then usable ones (the last
 * column leading, as it often is the target), then the rest.
 */
export function targetChoices(
  table: Table,
  asked: { current?: string | null; hint?: string; task?: string; columnDescriptions?: Record<string, string> } = {},
): Array<{ value: string; label: string; description: string }> {
  const named = asked.hint ? bestColumnFor(asked.hint, table, asked.columnDescriptions ?? {}) : null;
  const described = table.columns.map((col, order) => {
    const { unique, missing_pct } = profileColumn(col);
    // a few whole numbers are class labels, as resolveIntent reads them
    const labels = col.kind === "numeric" && unique <= 10 && col.values.every((v) => Number.isNaN(v) || Number.isInteger(v));
    const task =
      col.kind === "datetime" || unique <= 1 || (col.kind !== "numeric" && unique > 50)
        ? null
        : col.kind === "numeric" && !labels
          ? "regression"
          : "classification";
    const kind = col.kind === "numeric" ? (labels ? "whole numbers" : "numbers") : col.kind === "datetime" ? "dates" : "text";
    const missing = missing_pct > 0 ? `, ${missing_pct.toFixed(missing_pct < 1 ? 1 : 0)}% missing` : "";
    const description = `${kind}, ${unique} distinct${missing}; ${task ? `would be ${task}` : unique <= 1 ? "constant: nothing to predict" : "not a usable target"}`;
    const rank = col.name === asked.current ? 0 : col.name === named ? 1 : task !== null && task === asked.task ? 2 : task !== null ? 3 : 4;
    return { value: col.name, label: col.name, description: col.name === asked.current ? `the current target; ${description}` : description, rank, order };
  });
  return described
    .sort((a, b) => a.rank - b.rank || (a.order === table.nCols - 1 ? -1 : b.order === table.nCols - 1 ? 1 : a.order - b.order))
    .map(({ value, label, description }) => ({ value, label, description }));
}

export interface ResolvedIntent {
  intent: ParsedIntent;
  /** what was settled here and why, for the person */
  notes: string[];
}

export function resolveIntent(
  intent: ParsedIntent,
  table: Table,
  defaults: { target?: string; columnDescriptions?: Record<string, string> } = {},
): ResolvedIntent {
  const notes: string[] = [];
  let target = intent.target;
  if (target !== null && !table.has(target)) {
    const ci = table.columnNames.find((c) => c.toLowerCase() === target!.toLowerCase());
    if (!ci) {
      throw new TargetUnclearError(
        `The target column ${JSON.stringify(target)} is not in the data. Columns are: ${table.columnNames.join(", ")}. Choose one of them as the target.`,
      );
    }
    notes.push(`Target ${JSON.stringify(target)} matched column ${ci} (ignoring case).`);
    target = ci;
  }
  if (target === null) {
    const hint = String(intent.constraints["target_hint"] ?? "");
    target = bestColumnFor(hint, table, defaults.columnDescriptions ?? {});
    if (target) notes.push(`Target ${target} chosen because it matches ${JSON.stringify(hint)}.`);
    else if (defaults.target && table.has(defaults.target)) {
      target = defaults.target;
      notes.push(`Target ${target} is the dataset's documented target.`);
    }
  }
  if (target === null) {
    throw new TargetUnclearError(`I could not tell which column to predict. Columns are: ${table.columnNames.join(", ")}. Choose the target.`);
  }
  let task: TaskType = intent.task_type;
  const col = table.column(target);
  if (task === "regression" && col.kind !== "numeric") {
    task = "classification";
    notes.push(`${target} holds text labels, so this is classification.`);
  } else if (task === "regression" && intent.constraints["task_source"] === "default" && col.kind === "numeric") {
    const distinct = new Set<number>();
    let integral = true;
    for (const v of col.values) {
      if (Number.isNaN(v)) continue;
      if (!Number.isInteger(v)) integral = false;
      distinct.add(v);
      if (distinct.size > 10) break;
    }
    if (integral && distinct.size <= 10) {
      task = "classification";
      notes.push(`${target} takes only ${distinct.size} whole-number values, so it is treated as class labels.`);
    }
  } else if (task === "classification" && col.kind === "numeric") {
    const distinct = new Set(Array.from(col.values).filter((v) => !Number.isNaN(v)));
    if (distinct.size > 50) {
      throw new InputError(
        `${target} has ${distinct.size} distinct numeric values, too many to classify. Ask to predict ${target} (regression) or choose a column with a few labels.`,
      );
    }
  }
  return { intent: { ...intent, target, task_type: task }, notes };
}

function bestColumnFor(hint: string, table: Table, descriptions: Record<string, string>): string | null {
  const words = hint
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1);
  if (words.length === 0) return null;
  const expanded = new Set(words.flatMap((w) => [w, w.replace(/s$/, ""), ...(SYNONYMS[w] ?? [])]));
  let best: { col: string; score: number } | null = null;
  for (const col of table.columnNames) {
    const name = col.toLowerCase();
    const nameWords = name.split(/[^a-z0-9]+/).filter(Boolean);
    const descWords = (descriptions[col] ?? "")
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
    let score = 0;
    if (expanded.has(name)) score += 10;
    for (const w of nameWords) if (expanded.has(w) || expanded.has(w.replace(/s$/, ""))) score += 4;
    for (const w of descWords) if (expanded.has(w)) score += 1;
    if (score > 0 && (!best || score > best.score)) best = { col, score };
  }
  return best?.col ?? null;
}
