/**
 * The fitted preprocessing applied to rows: what a fitted plan is (FittedPreprocessor: a
 * feature spec per output column, and the input schema it was fitted on) and how it turns a
 * table's rows into the feature matrix. Kept apart from fitting (preprocessor.ts), which needs
 * the plan's contract: prediction (and the export bundle's predict.mjs) needs only this.
 */
import type { PreprocessStep } from "../../contract";
import { InputError } from "../errors/input-error";
import type { Matrix } from "./matrix";
import type { DatetimePart } from "./preprocess-plan";
import { isMissingAt, isoOfEpoch, type CategoricalColumn, type Column, type ColumnKind, type Table } from "./table";
import { findLevel, levelCount } from "./text-levels";

/** One output column of the feature matrix and how to compute it from a row. */
export type FeatureSpec =
  | { kind: "numeric"; name: string; source: string; fill: number | null; center: number; scale: number }
  | { kind: "datetime_part"; name: string; source: string; part: DatetimePart; fill: number | null; center: number; scale: number }
  | { kind: "missing_indicator"; name: string; source: string }
  /** `level: null` is the bucket for levels outside `known` (rare in training, or unseen) */
  | { kind: "one_hot"; name: string; source: string; level: string | null; fill: string | null; known: string[] };

export interface FittedPreprocessor {
  target: string;
  steps: PreprocessStep[];
  features: FeatureSpec[];
  /** the columns the features read, as the training rows had them: what new data is checked against */
  inputs?: InputColumn[];
}

/** A column the model reads, as seen in the training rows. */
export interface InputColumn {
  name: string;
  kind: ColumnKind;
  /** missing values were seen in training (the plan fills them) */
  missing: boolean;
  /** numbers and times (epoch ms): the smallest and largest value in training */
  min?: number;
  max?: number;
  /** text: the levels seen in training, most frequent first (at most MAX_INPUT_LEVELS), and how many there were */
  levels?: string[];
  levels_total?: number;
}

function oneHotByCode(col: CategoricalColumn, f: FeatureSpec & { kind: "one_hot" }): Uint8Array {
  const hit = (t: string | null) => (t === null ? 0 : f.level === null ? (f.known.includes(t) ? 0 : 1) : t === f.level ? 1 : 0);
  const decided = new Uint8Array(levelCount(col.levels) + 1);
  decided[0] = hit(f.fill);
  if (f.level !== null) {
    const k = findLevel(col.levels, f.level);
    if (k >= 0) decided[k + 1] = 1;
  } else {
    decided.fill(1, 1);
    for (const t of f.known) {
      const k = findLevel(col.levels, t);
      if (k >= 0) decided[k + 1] = 0;
    }
  }
  return decided;
}

/** A date column's value per row as the one-hot features read it: its ISO text, the fill where missing. */
function textPerCode(col: Column, fill: string | null): { codeOf(r: number): number; texts: (string | null)[] } {
  if (col.kind === "datetime") {
    const texts: (string | null)[] = [fill];
    const index = new Map<number, number>();
    return {
      codeOf: (r) => {
        const v = col.values[r]!;
        if (Number.isNaN(v)) return 0;
        let k = index.get(v);
        if (k === undefined) (index.set(v, (k = texts.length)), texts.push(isoOfEpoch(v, col.dateOnly)));
        return k;
      },
      texts,
    };
  }
  throw new InputError(`Column ${col.name} holds numbers; the plan encodes it as categories. Take it out of the encode_categorical step.`);
}

export function transformRows(prep: FittedPreprocessor, table: Table, rows: ArrayLike<number>): Matrix {
  const cols = prep.features.length;
  const n = rows.length;
  const data = new Float64Array(n * cols);
  prep.features.forEach((f, j) => {
    const col = table.column(f.source);
    const fail = (i: number) => {
      throw new InputError(`Column ${f.source} has a missing value in row ${rows[i]! + 1} and the plan does not impute it. Add ${f.source} to an impute step.`);
    };
    switch (f.kind) {
      case "numeric":
      case "datetime_part": {
        if (col.kind === "categorical")
          throw new InputError(`Column ${f.source} holds text now; the model was trained on it as ${f.kind === "numeric" ? "numbers" : "dates"}.`);
        const fill = f.fill ?? NaN;
        for (let i = 0; i < n; i++) {
          const raw = col.values[rows[i]!]!;
          const x = f.kind === "numeric" ? raw : datePart(raw, f.part);
          const v = ((Number.isNaN(x) ? fill : x) - f.center) / f.scale;
          if (Number.isNaN(v)) fail(i);
          data[i * cols + j] = v;
        }
        break;
      }
      case "missing_indicator":
        for (let i = 0; i < n; i++) data[i * cols + j] = isMissingAt(col, rows[i]!) ? 1 : 0;
        break;
      case "one_hot": {
        // 0 or 1 per distinct value, decided once: a row is then one lookup
        if (col.kind === "categorical") {
          const decided = oneHotByCode(col, f);
          for (let i = 0; i < n; i++) data[i * cols + j] = decided[col.codes[rows[i]!]! + 1]!;
          break;
        }
        const { codeOf, texts } = textPerCode(col, f.fill);
        const known = new Set(f.known);
        const hit = (t: string | null) => (t === null ? 0 : f.level === null ? (known.has(t) ? 0 : 1) : t === f.level ? 1 : 0);
        let decided = new Uint8Array(0);
        for (let i = 0; i < n; i++) {
          const k = codeOf(rows[i]!);
          if (k >= decided.length) {
            const more = new Uint8Array(Math.max(texts.length, 2 * decided.length));
            more.set(decided);
            for (let t = decided.length; t < texts.length; t++) more[t] = hit(texts[t]!);
            decided = more;
          }
          data[i * cols + j] = decided[k]!;
        }
        break;
      }
    }
  });
  return { data, rows: n, cols };
}

const DAY_MS = 86_400_000;

/** A part of a UTC time, by arithmetic on the day number (a Date per row costs at a million rows). */
export function datePart(ms: number, part: DatetimePart): number {
  if (Number.isNaN(ms)) return NaN;
  const days = Math.floor(ms / DAY_MS);
  if (part === "hour") return Math.floor((ms - days * DAY_MS) / 3_600_000);
  if (part === "dayofweek") return (((days + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (Sunday = 0)
  // days to civil date (H. Hinnant's algorithm)
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  if (part === "day") return day;
  if (part === "month") return month;
  return yoe + era * 400 + (month <= 2 ? 1 : 0);
}

/** An edited plan is checked before anything is fitted, so a typo costs nothing. */
