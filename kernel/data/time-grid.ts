/**
 * Regular time: the frequencies a series can have, stepping along them (calendar months and
 * years by the calendar, not by a fixed number of milliseconds), and the period a time falls
 * in. Every time is epoch milliseconds in UTC, as the table holds dates.
 */

export const FREQUENCY_UNITS = ["minute", "hour", "day", "week", "month", "quarter", "year"] as const;
export type FrequencyUnit = (typeof FREQUENCY_UNITS)[number];

/** `every` units make one step: 15 minutes, 1 day, 1 month. */
export interface Frequency {
  unit: FrequencyUnit;
  every: number;
}

const MINUTE = 60_000;
const FIXED_MS: Partial<Record<FrequencyUnit, number>> = { minute: MINUTE, hour: 60 * MINUTE, day: 1440 * MINUTE, week: 7 * 1440 * MINUTE };
const CALENDAR_MONTHS: Partial<Record<FrequencyUnit, number>> = { month: 1, quarter: 3, year: 12 };

/** "daily", "every 15 minutes", "monthly". */
export function frequencyInWords(f: Frequency): string {
  if (f.every === 1)
    return { minute: "every minute", hour: "hourly", day: "daily", week: "weekly", month: "monthly", quarter: "quarterly", year: "yearly" }[f.unit];
  return `every ${f.every} ${f.unit}s`;
}

/** The frequency as the plan writes it: "day", "15 minute". */
export function frequencyName(f: Frequency): string {
  return f.every === 1 ? f.unit : `${f.every} ${f.unit}`;
}

/** A frequency as a plan or a person writes it ("day", "daily", "15 minute", "15min"), or null. */
export function parseFrequency(text: string): Frequency | null {
  const m = /^(\d+)? ?([a-z]+?)s?$/.exec(text.toLowerCase().replace("-", " ").replace(/\s+/g, " ").trim());
  if (!m) return null;
  const words: Record<string, FrequencyUnit> = {
    min: "minute",
    minute: "minute",
    minutely: "minute",
    h: "hour",
    hour: "hour",
    hourly: "hour",
    d: "day",
    day: "day",
    daily: "day",
    w: "week",
    week: "week",
    weekly: "week",
    m: "month",
    month: "month",
    monthly: "month",
    q: "quarter",
    quarter: "quarter",
    quarterly: "quarter",
    y: "year",
    year: "year",
    yearly: "year",
    annual: "year",
    annually: "year",
  };
  const unit = words[m[2]!];
  if (!unit) return null;
  const every = m[1] ? Number(m[1]) : 1;
  return every >= 1 && every <= 1000 ? { unit, every } : null;
}

/** `t` moved on by `k` steps (k may be negative); months keep their day, cut to the month's length. */
export function addSteps(t: number, f: Frequency, k: number): number {
  const fixed = FIXED_MS[f.unit];
  if (fixed !== undefined) return t + k * f.every * fixed;
  const months = CALENDAR_MONTHS[f.unit]! * f.every * k;
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const total = d.getUTCMonth() + months;
  const year = y + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(year, month, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** The index of the period `t` falls in (consecutive periods have consecutive indices). */
export function periodIndex(t: number, f: Frequency): number {
  const fixed = FIXED_MS[f.unit];
  // weeks counted from a Monday (1970-01-05), as calendars do
  if (fixed !== undefined) return Math.floor((t - (f.unit === "week" ? 4 * FIXED_MS.day! : 0)) / (fixed * f.every));
  const d = new Date(t);
  return Math.floor((d.getUTCFullYear() * 12 + d.getUTCMonth()) / (CALENDAR_MONTHS[f.unit]! * f.every));
}

/** The start of the period with this index. */
export function periodStart(index: number, f: Frequency): number {
  const fixed = FIXED_MS[f.unit];
  if (fixed !== undefined) return index * fixed * f.every + (f.unit === "week" ? 4 * FIXED_MS.day! : 0);
  const months = index * CALENDAR_MONTHS[f.unit]! * f.every;
  return Date.UTC(Math.floor(months / 12), months % 12, 1);
}

/**
 * The frequency of sorted distinct times: the typical gap between neighbours, named (a gap of
 * 28 to 31 days is a month). Null for fewer than two times or a gap no unit describes.
 */
export function inferFrequency(sortedTimes: ArrayLike<number>): Frequency | null {
  const gaps: number[] = [];
  for (let i = 1; i < sortedTimes.length; i++) gaps.push(sortedTimes[i]! - sortedTimes[i - 1]!);
  if (gaps.length === 0) return null;
  gaps.sort((a, b) => a - b);
  const gap = gaps[Math.floor(gaps.length / 2)]!;
  const day = FIXED_MS.day!;
  if (gap >= 28 * day && gap <= 31 * day) return { unit: "month", every: 1 };
  if (gap >= 89 * day && gap <= 92 * day) return { unit: "quarter", every: 1 };
  if (gap >= 365 * day && gap <= 366 * day) return { unit: "year", every: 1 };
  for (const unit of ["week", "day", "hour", "minute"] as const) {
    const ms = FIXED_MS[unit]!;
    if (gap >= ms && gap % ms === 0) return { unit, every: gap / ms };
  }
  return null;
}

/** The seasonal periods worth testing at a frequency (hours in a day and a week, days in a week and a year, …). */
export function candidateSeasons(f: Frequency): number[] {
  if (f.every !== 1) {
    if (f.unit === "minute" && 1440 % f.every === 0) return [1440 / f.every];
    if (f.unit === "hour" && 24 % f.every === 0) return [24 / f.every];
    return [];
  }
  return { minute: [60, 1440], hour: [24, 168], day: [7, 365], week: [52], month: [12], quarter: [4], year: [] }[f.unit];
}

/** A sensible horizon when the request names none: a day of hours, two weeks of days, a year of months. */
export function defaultHorizon(f: Frequency): number {
  return { minute: 60, hour: 24, day: 14, week: 8, month: 12, quarter: 4, year: 3 }[f.unit];
}

/** How many steps of `f` make `count` of `unit` (at least one): 30 days of a daily series is 30; 2 years of a monthly one, 24. */
export function stepsFor(count: number, unit: FrequencyUnit, f: Frequency): number {
  const approxDays: Record<FrequencyUnit, number> = { minute: 1 / 1440, hour: 1 / 24, day: 1, week: 7, month: 30.4375, quarter: 91.3125, year: 365.25 };
  return Math.max(1, Math.round((count * approxDays[unit]) / (approxDays[f.unit] * f.every)));
}
