/**
 * A table framed as time series: which column is time, which (if any) names the series, the
 * frequency and its seasonality, and each series on a regular grid. What had to change to get
 * there (unsorted rows, duplicate timestamps aggregated, gaps filled) is said in `notes`, in
 * the words the plan and the report show.
 */
import { InputError } from "../errors/input-error";
import { levelCount } from "./text-levels";
import type { DatetimeColumn, Table } from "./table";
import { addSteps, candidateSeasons, frequencyInWords, inferFrequency, periodIndex, periodStart, type Frequency } from "./time-grid";

export const AGGREGATIONS = ["mean", "sum", "last", "max", "min"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface TimeSeries {
  /** the series' id (the value of the id column), null for a table of one series */
  id: string | null;
  /** period starts, one step apart */
  times: Float64Array;
  values: Float64Array;
}

export interface SeriesFrame {
  timeColumn: string;
  target: string;
  idColumn: string | null;
  frequency: Frequency;
  /** steps in one season; 1 when no season was found */
  seasonality: number;
  aggregate: Aggregation;
  series: TimeSeries[];
  /** what framing changed or found, for the plan and the report */
  notes: string[];
  /** periods that had no row and were filled, over all series */
  filledPeriods: number;
}

export interface FramingOptions {
  target: string;
  timeColumn?: string | null;
  idColumn?: string | null;
  frequency?: Frequency | null;
  /** null: detected; 1: no season */
  seasonality?: number | null;
  aggregate?: Aggregation;
}

/** Series with fewer points than this cannot be forecast and checked. */
export const MIN_SERIES_POINTS = 12;
/** Above this many series an id column is more likely a row id than a series id. */
const MAX_SERIES = 200;

/** The time column: the one named, else the datetime column with the most distinct times (a name like date or time breaks ties). */
export function chooseTimeColumn(table: Table, named?: string | null): string {
  const dates = table.columns.filter((c): c is DatetimeColumn => c.kind === "datetime");
  if (named) {
    if (!table.has(named))
      throw new InputError(
        `There is no column ${JSON.stringify(named)} to read time from; the date columns are ${dates.map((c) => c.name).join(", ") || "none"}.`,
      );
    if (table.column(named).kind !== "datetime" && yearColumn(table) !== named)
      throw new InputError(
        `The column ${JSON.stringify(named)} does not hold dates or times, so it cannot be the time of a series. ${dateColumnsSaid(dates.map((c) => c.name))}`,
      );
    return named;
  }
  const years = yearColumn(table);
  if (dates.length === 0 && years) return years;
  if (dates.length === 0)
    throw new InputError(
      "Forecasting needs a column of dates or times, and this table has none. Give a file with a date column (ISO dates such as 2024-01-31, or dates such as Jan 31 2024), or choose regression instead.",
    );
  const score = (name: string) => (/date|time|day|month|year|period|timestamp/i.test(name) ? 1 : 0);
  return [...dates].sort((a, b) => distinct(b.values) + score(b.name) * 0.5 - (distinct(a.values) + score(a.name) * 0.5))[0]!.name;
}

function dateColumnsSaid(names: string[]): string {
  return names.length ? `The date columns are ${names.join(", ")}.` : "The table has no date column.";
}

/** Whether the table has a column to read time from: dates, or whole years in a column named like a year. */
export function hasTimeColumn(table: Table): boolean {
  return table.columns.some((c) => c.kind === "datetime") || yearColumn(table) !== null;
}

/** A numeric column named like a year, holding whole years (global-temp's `year`): read as yearly times. */
function yearColumn(table: Table): string | null {
  for (const c of table.columns) {
    if (c.kind !== "numeric" || !/^(year|yr|jahr|año|annee|année)$/i.test(c.name)) continue;
    if (c.values.every((v) => Number.isNaN(v) || (Number.isInteger(v) && v >= 1000 && v <= 3000))) return c.name;
  }
  return null;
}

function timesOf(table: Table, name: string): Float64Array {
  const c = table.column(name);
  if (c.kind === "datetime") return c.values;
  if (c.kind === "numeric") return Float64Array.from(c.values, (y) => (Number.isNaN(y) ? NaN : Date.UTC(y, 0, 1)));
  throw new InputError(`The column ${JSON.stringify(name)} does not hold dates or times.`);
}

function distinct(values: Float64Array): number {
  return new Set(values).size;
}

/**
 * The series id column: the one named, else a text column (2 to 200 values) that makes
 * repeated timestamps distinct (stocks.csv's `symbol`); null when timestamps do not repeat or
 * no column explains it.
 */
export function chooseIdColumn(table: Table, timeColumn: string, target: string, named?: string | null): string | null {
  if (named) {
    if (!table.has(named))
      throw new InputError(`There is no column ${JSON.stringify(named)} to name the series by; columns are ${table.columnNames.join(", ")}.`);
    if (named === target || named === timeColumn)
      throw new InputError(`The series id cannot be the ${named === target ? "target" : "time column"} (${named}).`);
    return named;
  }
  const times = timesOf(table, timeColumn);
  const repeats = times.length - distinct(times);
  if (repeats === 0) return null;
  let best: { name: string; dup: number } | null = null;
  for (const c of table.columns) {
    if (c.kind !== "categorical" || c.name === target) continue;
    const levels = levelCount(c.levels);
    if (levels < 2 || levels > MAX_SERIES) continue;
    const seen = new Set<string>();
    let dup = 0;
    for (let r = 0; r < table.nRows; r++) {
      const key = `${c.codes[r]}|${times[r]}`;
      if (seen.has(key)) dup++;
      else seen.add(key);
    }
    // the column must explain nearly all the repeats
    if (dup <= 0.05 * repeats && (!best || dup < best.dup)) best = { name: c.name, dup };
  }
  return best?.name ?? null;
}

/**
 * Frames the table: one regular series per id, sorted by time, duplicate timestamps
 * aggregated, gaps filled by linear interpolation between their neighbours, and missing
 * targets likewise; each change said in `notes`.
 */
export function frameSeries(table: Table, options: FramingOptions): SeriesFrame {
  const { target } = options;
  if (!table.has(target)) throw new InputError(`There is no column ${JSON.stringify(target)} to forecast; columns are ${table.columnNames.join(", ")}.`);
  const targetColumn = table.column(target);
  if (targetColumn.kind !== "numeric") {
    const numeric = table.columns.filter((c) => c.kind === "numeric" && !/^(year|yr)$/i.test(c.name)).map((c) => c.name);
    throw new InputError(
      `The target ${target} holds ${targetColumn.kind === "categorical" ? "text" : "dates"}, not numbers: forecasting predicts a number over time. ` +
        (numeric.length ? `Choose a numeric column: ${numeric.slice(0, 8).join(", ")}.` : "The table has no numeric column to forecast."),
    );
  }
  const timeColumn = chooseTimeColumn(table, options.timeColumn);
  const times = timesOf(table, timeColumn);
  const idColumn = chooseIdColumn(table, timeColumn, target, options.idColumn);
  const notes: string[] = [];
  const aggregate = options.aggregate ?? "mean";

  // rows per series (the id's code), rows without a time left out
  const groups = new Map<string | null, number[]>();
  let untimed = 0;
  const idCol = idColumn ? table.column(idColumn) : null;
  for (let r = 0; r < table.nRows; r++) {
    if (Number.isNaN(times[r]!)) {
      untimed++;
      continue;
    }
    const id = idCol ? (table.isMissing(r, idCol.name) ? null : String(table.cell(r, idCol.name))) : null;
    if (idCol && id === null) continue;
    let rows = groups.get(id);
    if (!rows) groups.set(id, (rows = []));
    rows.push(r);
  }
  if (untimed > 0) notes.push(`${untimed} row(s) without a time in ${timeColumn} were left out.`);
  let unsorted = false;
  for (const rows of groups.values()) {
    for (let i = 1; i < rows.length && !unsorted; i++) if (times[rows[i]!]! < times[rows[i - 1]!]!) unsorted = true;
    rows.sort((a, b) => times[a]! - times[b]!);
  }
  if (unsorted) notes.push(`The rows were not in time order; they are sorted by ${timeColumn}.`);

  const frequency = options.frequency ?? detectFrequency(groups, times, timeColumn);
  const y = targetColumn.values;
  const series: TimeSeries[] = [];
  let duplicates = 0;
  let filled = 0;
  let missingTargets = 0;
  for (const [id, rows] of groups) {
    // aggregate by period: several rows in one period (duplicate or finer timestamps) become one value
    const byPeriod = new Map<number, number[]>();
    // each period's first time: the grid keeps the data's own times (weeks of Sundays, month ends), not the periods' starts
    const firstTime = new Map<number, number>();
    for (const r of rows) {
      const p = periodIndex(times[r]!, frequency);
      let vs = byPeriod.get(p);
      if (!vs) byPeriod.set(p, (vs = []));
      vs.push(y[r]!);
      if (!firstTime.has(p)) firstTime.set(p, times[r]!);
    }
    const periods = [...byPeriod.keys()].sort((a, b) => a - b);
    if (periods.length === 0) continue;
    const first = periods[0]!;
    const n = periods[periods.length - 1]! - first + 1;
    const values = new Float64Array(n).fill(NaN);
    for (const p of periods) {
      const vs = byPeriod.get(p)!;
      const present = vs.filter((v) => !Number.isNaN(v));
      if (vs.length > 1) duplicates += vs.length - 1;
      if (present.length < vs.length && present.length === 0) missingTargets++;
      values[p - first] = present.length ? combine(present, aggregate) : NaN;
    }
    filled += n - periods.length;
    const gaps = fillGaps(values);
    if (gaps.leading > 0 || gaps.trailing > 0) {
      // a series cannot start or end with made-up values: trim them
      const start = gaps.leading;
      const end = n - gaps.trailing;
      series.push({
        id,
        times: gridTimes(firstTime.get(first + start) ?? periodStart(first + start, frequency), end - start, frequency),
        values: values.slice(start, end),
      });
    } else series.push({ id, times: gridTimes(firstTime.get(first)!, n, frequency), values });
  }
  if (duplicates > 0)
    notes.push(
      `${duplicates} row(s) shared a ${frequencyInWords(frequency).replace("every ", "")} period with another row${idColumn ? " of the same series" : ""}: each period's values are combined by their ${aggregate}.`,
    );
  if (filled > 0) notes.push(`${filled} missing period(s) (gaps in time) were filled by linear interpolation between their neighbours.`);
  if (missingTargets > 0) notes.push(`${missingTargets} period(s) with no value of ${target} were filled by linear interpolation.`);

  const usable = series.filter((s) => s.values.length >= MIN_SERIES_POINTS);
  if (usable.length < series.length) {
    const short = series.filter((s) => s.values.length < MIN_SERIES_POINTS).map((s) => s.id ?? "the series");
    notes.push(`${short.length} series with fewer than ${MIN_SERIES_POINTS} points left out: ${short.slice(0, 5).join(", ")}${short.length > 5 ? ", …" : ""}.`);
  }
  if (usable.length === 0) {
    const longest = Math.max(0, ...series.map((s) => s.values.length));
    throw new InputError(
      `A series needs at least ${MIN_SERIES_POINTS} ${frequencyInWords(frequency)} points to be forecast and checked; the longest here has ${longest}. Give more history, or a coarser frequency.`,
    );
  }
  const seasonality = options.seasonality ?? detectSeasonality(usable, frequency);
  const shortest = Math.min(...usable.map((s) => s.values.length));
  let season = seasonality;
  if (season > 1 && shortest < 2 * season + 2) {
    notes.push(
      `A season of ${season} steps needs at least ${2 * season + 2} points per series and the shortest has ${shortest}: the models treat the series as having no season.`,
    );
    season = 1;
  }
  return { timeColumn, target, idColumn, frequency, seasonality: season, aggregate, series: usable, notes, filledPeriods: filled };
}

function detectFrequency(groups: Map<string | null, number[]>, times: Float64Array, timeColumn: string): Frequency {
  const all: Frequency[] = [];
  for (const rows of groups.values()) {
    const distinctTimes = [...new Set(rows.map((r) => times[r]!))];
    const f = inferFrequency(distinctTimes);
    if (f) all.push(f);
  }
  const counts = new Map<string, { f: Frequency; n: number }>();
  for (const f of all) {
    const key = `${f.every} ${f.unit}`;
    counts.set(key, { f, n: (counts.get(key)?.n ?? 0) + 1 });
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n)[0];
  if (!best)
    throw new InputError(
      `The times in ${timeColumn} have no regular step (minutes, hours, days, weeks, months, quarters or years between them). Set the frequency in the plan (for example "day").`,
    );
  return best.f;
}

function combine(values: number[], how: Aggregation): number {
  switch (how) {
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "last":
      return values[values.length - 1]!;
    case "max":
      return Math.max(...values);
    case "min":
      return Math.min(...values);
    default:
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

/** Fills inner NaN runs by linear interpolation; counts the NaNs at either end (left for the caller to trim). */
function fillGaps(values: Float64Array): { leading: number; trailing: number } {
  const n = values.length;
  let leading = 0;
  while (leading < n && Number.isNaN(values[leading]!)) leading++;
  let trailing = 0;
  while (trailing < n - leading && Number.isNaN(values[n - 1 - trailing]!)) trailing++;
  let last = leading;
  for (let i = leading + 1; i < n - trailing; i++) {
    if (Number.isNaN(values[i]!)) continue;
    for (let j = last + 1; j < i; j++) values[j] = values[last]! + ((values[i]! - values[last]!) * (j - last)) / (i - last);
    last = i;
  }
  return { leading, trailing };
}

/** `n` times one step apart from `start`, each counted from it (month ends stay month ends after a short month). */
function gridTimes(start: number, n: number, f: Frequency): Float64Array {
  return Float64Array.from({ length: n }, (_, k) => addSteps(start, f, k));
}

/**
 * The seasonal period with the clearest season: a candidate counts when the autocorrelation
 * (of the series with its linear trend removed) at one season is well above that at half a
 * season, as a repeating pattern makes it and mere persistence does not. 1 when none is.
 */
export function detectSeasonality(series: readonly TimeSeries[], f: Frequency): number {
  let best = { m: 1, margin: 0.2 };
  for (const m of candidateSeasons(f)) {
    const margins: number[] = [];
    for (const s of series) {
      if (s.values.length < 2 * m + 2) continue;
      const r = detrended(s.values);
      margins.push(autocorrelation(r, m) - autocorrelation(r, Math.round(m / 2)));
    }
    if (margins.length === 0) continue;
    margins.sort((a, b) => a - b);
    const margin = margins[Math.floor(margins.length / 2)]!;
    if (margin > best.margin) best = { m, margin };
  }
  return best.m;
}

function detrended(v: Float64Array): Float64Array {
  const n = v.length;
  const xm = (n - 1) / 2;
  let ym = 0;
  for (const y of v) ym += y / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - xm) * (v[i]! - ym);
    sxx += (i - xm) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return Float64Array.from(v, (y, i) => y - ym - slope * (i - xm));
}

export function autocorrelation(v: Float64Array, lag: number): number {
  const n = v.length;
  if (lag <= 0 || lag >= n) return 0;
  let mean = 0;
  for (const y of v) mean += y / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    den += (v[i]! - mean) ** 2;
    if (i >= lag) num += (v[i]! - mean) * (v[i - lag]! - mean);
  }
  return den > 0 ? num / den : 0;
}

/** A series' id as a person reads it. */
export function seriesName(s: TimeSeries): string {
  return s.id ?? "the series";
}
