/**
 * A text column's distinct values, one after another in one buffer of UTF-16 code units (a byte
 * each while every unit is below 256, as most text is; two from the first that is not), with
 * where each ends. Plain data: it crosses threads as two typed arrays.
 *
 * Why not an array of strings: each JS string costs a header and a slot on top of its text, and
 * a value cut out of the chunk it was read from keeps that whole chunk alive (V8 makes a slice
 * of a long string a view of it), so a column of a million distinct IDs or e-mails held the
 * file's text in memory. Here a million 36-character IDs take 36 MB, whatever they were read from.
 */
export interface TextLevels {
  /** the texts' UTF-16 code units, end to end (Uint8Array while every unit is below 256) */
  units: Uint8Array | Uint16Array;
  /** level k's units are units[ends[k-1] (0 for the first) .. ends[k]) */
  ends: Int32Array;
}

export const NO_LEVELS: TextLevels = { units: new Uint8Array(0), ends: new Int32Array(0) };

export function levelCount(levels: TextLevels): number {
  return levels.ends.length;
}

export function levelStart(levels: TextLevels, k: number): number {
  return k === 0 ? 0 : levels.ends[k - 1]!;
}

/** Spans longer than this are decoded in pieces (fromCharCode takes its units as arguments). */
const DECODE_PIECE = 8192;

function decode(units: Uint8Array | Uint16Array, from: number, to: number): string {
  if (to - from <= DECODE_PIECE) return String.fromCharCode.apply(null, units.subarray(from, to) as unknown as number[]);
  let s = "";
  for (let i = from; i < to; i += DECODE_PIECE) s += String.fromCharCode.apply(null, units.subarray(i, Math.min(to, i + DECODE_PIECE)) as unknown as number[]);
  return s;
}

/** Level k as a string (a new one each call: callers that need all of them once should use levelTexts). */
export function levelText(levels: TextLevels, k: number): string {
  return decode(levels.units, levelStart(levels, k), levels.ends[k]!);
}

/** Every level as a string, in order (for small columns: class labels, a few categories). */
export function levelTexts(levels: TextLevels): string[] {
  return Array.from({ length: levelCount(levels) }, (_, k) => levelText(levels, k));
}

/** The levels one string at a time, made as they are read (what typing a column over its values needs). */
export function* eachLevelText(levels: TextLevels): Generator<string> {
  for (let k = 0; k < levelCount(levels); k++) yield levelText(levels, k);
}

export function textLevelsOf(texts: readonly string[]): TextLevels {
  const b = new TextLevelsBuilder();
  for (const t of texts) b.push(t, 0, t.length);
  return b.finish();
}

/** FNV-1a over UTF-16 code units: the same hash for a span of a string and for a stored level. */
export function hashSpan(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** FNV-1a of level k's code units: hashSpan of the same text. */
export function hashLevel(levels: TextLevels, k: number): number {
  const u = levels.units;
  let h = 0x811c9dc5;
  for (let i = levelStart(levels, k), end = levels.ends[k]!; i < end; i++) h = Math.imul(h ^ u[i]!, 0x01000193);
  return h >>> 0;
}

/** Whether level k is the span s[from..to). */
export function levelEquals(levels: TextLevels, k: number, s: string, from: number, to: number): boolean {
  const start = levelStart(levels, k);
  if (levels.ends[k]! - start !== to - from) return false;
  const u = levels.units;
  for (let i = 0; i < to - from; i++) if (u[start + i] !== s.charCodeAt(from + i)) return false;
  return true;
}

/** The code of the level `text`, or -1 (a scan: for the few texts a fitted plan names). */
export function findLevel(levels: TextLevels, text: string): number {
  for (let k = 0; k < levelCount(levels); k++) if (levelEquals(levels, k, text, 0, text.length)) return k;
  return -1;
}

/**
 * Levels added one at a time. It is itself a TextLevels for the functions above that read level k
 * (levelText, levelEquals, hashLevel), its arrays longer than what they hold while it grows;
 * finish() gives them cut to size.
 */
export class TextLevelsBuilder implements TextLevels {
  units: Uint8Array | Uint16Array = new Uint8Array(4096);
  ends = new Int32Array(256);
  private used = 0;
  count = 0;

  /** Appends s[from..to) as the next level; returns its code. */
  push(s: string, from: number, to: number): number {
    const n = to - from;
    if (this.used + n > this.units.length) this.growUnits(this.used + n);
    let units = this.units;
    if (units instanceof Uint8Array) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(from + i);
        if (c > 0xff) {
          units = this.widen();
          break;
        }
        units[this.used + i] = c;
      }
    }
    if (units instanceof Uint16Array) for (let i = 0; i < n; i++) units[this.used + i] = s.charCodeAt(from + i);
    this.used += n;
    if (this.count === this.ends.length) {
      const grown = new Int32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.count] = this.used;
    return this.count++;
  }

  /** The levels, in arrays of their own size. */
  finish(): TextLevels {
    return { units: this.units.slice(0, this.used), ends: this.ends.slice(0, this.count) };
  }

  private growUnits(atLeast: number): void {
    const grown = new (this.units instanceof Uint8Array ? Uint8Array : Uint16Array)(Math.max(atLeast, this.units.length * 2));
    grown.set(this.units);
    this.units = grown;
  }

  private widen(): Uint16Array {
    const wide = new Uint16Array(this.units.length);
    wide.set(this.units);
    this.units = wide;
    return wide;
  }
}
