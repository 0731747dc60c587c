/**
 * Dates as people's files write them, read into ISO 8601 text ("2000-01-31" or
 * "2000-01-31T10:30:00", with the zone when the file gave one): ISO itself, month names
 * ("Jan 1 2000", "1 January 2000", "January 1, 2000"), numeric days with the order of day
 * and month told from the column ("01/02/2000": a 13 in the first place means day first),
 * and year first ("2000/01/31", "2000-1-5"); each may carry a time, with AM/PM or without. A column is read as dates only when every present
 * value is one; how it was read is said, for the profile.
 */

const ISO = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** an optional time after a date: hours, minutes, seconds with a fraction, and AM/PM ("3:45 PM", "11:05:09.5 a.m.") */
const TIME = String.raw`(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?\s*([AaPp]\.?[Mm]\.?)?)?`;
// groups: the date's, then the TIME's five (hours, minutes, seconds, fraction, AM/PM)
const NUMERIC = new RegExp(String.raw`^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})${TIME}$`);
/** year first with slashes, dots or dashes, unpadded or not ("2000/1/31", "2000-1-5"; padded dashes are ISO) */
const YEAR_FIRST = new RegExp(String.raw`^(\d{4})([/.-])(\d{1,2})\2(\d{1,2})${TIME}$`);
const MONTH_FIRST = new RegExp(String.raw`^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})${TIME}$`);
const DAY_FIRST = new RegExp(String.raw`^(\d{1,2}) ([A-Za-z]{3,9})\.?,? (\d{4})${TIME}$`);

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const FULL_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

function monthNumber(word: string): number | null {
  const w = word.toLowerCase();
  const i = w.length === 3 ? MONTHS.indexOf(w) : FULL_MONTHS.indexOf(w);
  // "Sept" is common enough to accept
  return i >= 0 ? i + 1 : w === "sept" ? 9 : null;
}

type Format = "ISO 8601" | "day/month/year" | "month/day/year" | "year/month/day" | "month name";

interface Parts {
  y: number;
  m: number;
  d: number;
  time: string | null;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function isoOf(p: Parts): string | null {
  if (p.m < 1 || p.m > 12 || p.d < 1 || p.d > 31) return null;
  // a real calendar day (31 April, 29 February 2001 are not)
  const check = new Date(Date.UTC(p.y, p.m - 1, p.d));
  if (check.getUTCMonth() !== p.m - 1) return null;
  return `${p.y}-${pad(p.m)}-${pad(p.d)}${p.time ? `T${p.time}` : ""}`;
}

/** The time of TIME's groups as ISO ("15:45:00"), null for none, "invalid" for one off the clock ("13:00 PM"). */
function timeOf(m: RegExpExecArray, at: number): string | null {
  const [h, min, s, fraction, ampm] = m.slice(at, at + 5);
  if (h === undefined) return null;
  let hour = Number(h);
  if (ampm !== undefined) {
    if (hour < 1 || hour > 12) return "invalid";
    // 12 AM is midnight, 12 PM noon
    hour = (hour % 12) + (/^p/i.test(ampm) ? 12 : 0);
  }
  if (hour > 23 || Number(min) > 59 || Number(s ?? 0) > 59) return "invalid";
  return `${pad(hour)}:${min}:${s ?? "00"}${fraction ?? ""}`;
}

export interface DateColumnReading {
  /** each value as ISO 8601, null where missing */
  values: (string | null)[];
  /** how it was read, to say in the profile; null for a column of ISO dates */
  note: string | null;
}

/**
 * The column read as dates, or null when a present value is not a date in any of the
 * formats (or the column's numeric dates fit neither order of day and month).
 */
/** `raw` is read twice (what formats there are, then each value): a list, or an iterable that starts again. */
export function readDateColumn(name: string, raw: Iterable<string | null>): DateColumnReading | null {
  const formats = new Set<Format>();
  // numeric dates: which order of day and month each value allows
  let firstOver12 = 0;
  let secondOver12 = 0;
  let numeric = 0;
  let dotted = 0;
  let example: string | null = null;
  for (const v of raw) {
    if (v === null) continue;
    if (ISO.test(v)) formats.add("ISO 8601");
    // "2020-8-7" is ISO's order without the zeros: not another format beside "2020-10-15"
    else if (YEAR_FIRST.test(v)) formats.add(YEAR_FIRST.exec(v)![2] === "-" ? "ISO 8601" : "year/month/day");
    else if (MONTH_FIRST.test(v) || DAY_FIRST.test(v)) {
      const m = MONTH_FIRST.exec(v) ?? DAY_FIRST.exec(v)!;
      if (monthNumber(MONTH_FIRST.test(v) ? m[1]! : m[2]!) === null) return null;
      formats.add("month name");
    } else {
      const m = NUMERIC.exec(v);
      if (!m) return null;
      numeric++;
      if (m[2] === ".") dotted++;
      if (Number(m[1]) > 12) (firstOver12++, (example ??= v));
      if (Number(m[3]) > 12) secondOver12++;
    }
  }
  if (formats.size === 0 && numeric === 0) return null;
  if (firstOver12 > 0 && secondOver12 > 0) return null; // some values need day first, others month first: not one date format
  // dots ("01.02.2000") are how day-first countries write dates: day first unless a value says otherwise
  const dayFirst = firstOver12 > 0 || (secondOver12 === 0 && dotted > 0 && dotted === numeric);
  if (numeric > 0) formats.add(dayFirst ? "day/month/year" : "month/day/year");
  const values: (string | null)[] = [];
  for (const v of raw) {
    if (v === null) {
      values.push(null);
      continue;
    }
    const iso = toIso(v, dayFirst);
    if (iso === null) return null;
    values.push(iso);
  }
  const said: string[] = [];
  if (numeric > 0) {
    said.push(
      dayFirst && firstOver12 === 0
        ? "dates like 01.02.2000 are read day first (day.month.year, as dots are written in Europe): no value tells the order, so check it"
        : dayFirst
          ? `dates like ${example} are read day first (day/month/year: a value has more than 12 in its first place)`
          : secondOver12 > 0
            ? "dates like 01/31/2000 are read month first (month/day/year: a value has more than 12 in its second place)"
            : "dates like 01/02/2000 are read month first (month/day/year, as in the US): no value tells the order, so check it; if the file means day first, give dates as ISO (2000-02-01)",
    );
  }
  if (formats.size > 1) said.push(`the column mixes date formats (${[...formats].join(", ")}); each value was read in its own`);
  else if (formats.has("month name")) said.push('dates written with month names ("Jan 1 2000") were read as dates');
  return { values, note: said.length > 0 ? `Column ${name}: ${said.join("; ")}.` : null };
}

function toIso(v: string, dayFirst: boolean): string | null {
  if (ISO.test(v)) {
    // a real calendar day: 2023-02-30 is not one
    const [y, m, d] = v.slice(0, 10).split("-").map(Number) as [number, number, number];
    return isoOf({ y, m, d, time: null }) === null ? null : v.replace(" ", "T");
  }
  let m = YEAR_FIRST.exec(v);
  if (m) return withTime({ y: Number(m[1]), m: Number(m[3]), d: Number(m[4]), time: timeOf(m, 5) });
  m = MONTH_FIRST.exec(v);
  if (m) return withTime({ y: Number(m[3]), m: monthNumber(m[1]!) ?? 0, d: Number(m[2]), time: timeOf(m, 4) });
  m = DAY_FIRST.exec(v);
  if (m) return withTime({ y: Number(m[3]), m: monthNumber(m[2]!) ?? 0, d: Number(m[1]), time: timeOf(m, 4) });
  m = NUMERIC.exec(v);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[3])];
    return withTime({ y: Number(m[4]), m: dayFirst ? b : a, d: dayFirst ? a : b, time: timeOf(m, 5) });
  }
  return null;
}

function withTime(p: Parts): string | null {
  return p.time === "invalid" ? null : isoOf(p);
}

/** A name that says a column holds times (for numbers that may be epoch seconds). */
const TIME_NAME = /(?:^|[_\s-])(?:time|timestamp|date|datetime|epoch|ts)$|_at$|^(?:time|timestamp|date|datetime|epoch|ts)(?:[_\s-]|$)/i;

/**
 * A numeric column read as epoch seconds (or milliseconds): only when its name says it holds
 * times and every value lies between 1990 and 2100, so a count or an amount never becomes a
 * date by accident.
 */
export function readEpochColumn(name: string, values: Float64Array): { values: Float64Array; note: string } | null {
  if (!TIME_NAME.test(name)) return null;
  const lo = Date.UTC(1990, 0, 1) / 1000;
  const hi = Date.UTC(2100, 0, 1) / 1000;
  let seconds = true;
  let millis = true;
  let present = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    present++;
    if (v < lo || v > hi) seconds = false;
    if (v < lo * 1000 || v > hi * 1000) millis = false;
    if (!seconds && !millis) return null;
  }
  if (present === 0) return null;
  const scale = seconds ? 1000 : 1;
  const out = values.map((v) => v * scale);
  return {
    values: out,
    note: `Column ${name}: numbers read as times in epoch ${seconds ? "seconds" : "milliseconds"} (its name says it holds times, and every value falls between 1990 and 2100).`,
  };
}
