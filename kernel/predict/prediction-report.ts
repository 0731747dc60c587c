/**
 * What was unlike the training data in the rows given for prediction, row by row: which row,
 * which column, the value, what was wrong, and what was done (the row refused, its prediction
 * left empty; or the value handled as training handled such values). A person gets a line per
 * column and kind of problem; the rows themselves go to a sink (a report file, a response),
 * one at a time, so a million rows of problems never sit in memory.
 */
import type { PredictProblem } from "../../contract";

export const PROBLEMS = {
  text_in_numbers: { what: "text where the model was trained on numbers", action: "refused" },
  text_in_dates: { what: "text where the model was trained on dates", action: "refused" },
  dates_in_numbers: { what: "a date where the model was trained on numbers", action: "refused" },
  // seconds or milliseconds since 1970? A number is not read as a date: give dates as text (2024-01-31)
  numbers_in_dates: { what: "a number where the model was trained on dates (write dates as text, e.g. 2024-01-31)", action: "refused" },
  missing_unfillable: { what: "no value, and training had none to learn how to fill one", action: "refused" },
  missing_filled: { what: "no value, where training had a value in every row", action: "filled as the plan fills missing values" },
  outside_range: { what: "a value outside the range seen in training", action: "predicted as trained, but the model never saw such values" },
  unseen_category: { what: "a category training never saw", action: "counted as none of the known ones, as a rare category was in training" },
  empty_text: { what: "an empty text", action: "given each class's share of the training texts (there are no words to go on)" },
  unreadable_image: { what: "a file that cannot be read as a PNG or JPEG image", action: "refused" },
  missing_image: { what: "an image file that is not there, or a path that is not a file (a folder, a device)", action: "refused" },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

/** One row's problem with one column, as the predict endpoint answers it (`row` counts data rows from 1). */
export interface RowProblem extends PredictProblem {
  problem: ProblemKind;
}

/** A problem's tally over every row it was found in. */
export interface ProblemSummary {
  column: string;
  problem: ProblemKind;
  rows: number;
  /** the first few rows (from 1) and the value in the first */
  first_rows: number[];
  example: string;
  refused: boolean;
  /** the line a person reads */
  message: string;
}

const SHOWN_ROWS = 5;

export class PredictionReport {
  private readonly tallies = new Map<string, { column: string; problem: ProblemKind; rows: number; first: number[]; example: string }>();
  private refusedCount = 0;

  constructor(private readonly sink: (p: RowProblem) => void = () => undefined) {}

  add(row: number, column: string, value: string, problem: ProblemKind): void {
    const refused = PROBLEMS[problem].action === "refused";
    const key = `${column}\u0000${problem}`;
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = { column, problem, rows: 0, first: [], example: value }));
    t.rows++;
    if (t.first.length < SHOWN_ROWS) t.first.push(row);
    this.sink({ row, column, value, problem, refused });
  }

  /** Rows left without a prediction (a row refused for two columns counts once: the caller counts rows). */
  countRefused(rows: number): void {
    this.refusedCount += rows;
  }

  get refused(): number {
    return this.refusedCount;
  }

  summaries(): ProblemSummary[] {
    return [...this.tallies.values()].map((t) => {
      const p = PROBLEMS[t.problem];
      const rows = t.first.join(", ") + (t.rows > t.first.length ? ", …" : "");
      const example = t.example === "" ? "" : ` (${JSON.stringify(t.example)} in row ${t.first[0]})`;
      const done = p.action === "refused" ? "refused: no prediction for these rows" : p.action;
      return {
        column: t.column,
        problem: t.problem,
        rows: t.rows,
        first_rows: t.first,
        example: t.example,
        refused: p.action === "refused",
        message: `Column ${t.column}: ${t.rows.toLocaleString("en")} row(s) with ${p.what}${example}; rows ${rows}: ${done}.`,
      };
    });
  }
}

/** The report file's header and one line per problem (CSV). */
export const REPORT_CSV_HEADER = "row,column,value,problem,action\n";

export function reportCsvLine(p: RowProblem): string {
  return [String(p.row), csvField(p.column), csvField(p.value), p.problem, csvField(PROBLEMS[p.problem].action)].join(",") + "\n";
}

export function csvField(t: string): string {
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}
