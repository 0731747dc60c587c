/**
 * A column's distinct texts and their codes, looked up by a span of a larger string (the chunk a
 * field lies in) without cutting the field out first: a million-row text column with a few
 * hundred levels makes a few hundred strings, not a million that the garbage collector must
 * then clear, and a new level is copied into the column's one buffer of levels (text-levels.ts)
 * without becoming a string at all. Open addressing on FNV-1a hashes of the UTF-16 code units;
 * the slots hold codes only.
 */
import { TextLevelsBuilder, hashLevel, hashSpan, levelEquals, levelText, type TextLevels } from "./text-levels";

export const NOT_FOUND = -2;
/** codes at or below this stand for remembered spellings of "missing" ("NA", "null"): find() answers MISSING for them */
const MISSING_BASE = -3;
export const MISSING = -1;

export class LevelDictionary {
  /** per slot: a level's code, a missing spelling's (MISSING_BASE - k), or NOT_FOUND for an empty slot */
  private slots = new Int32Array(1024).fill(NOT_FOUND);
  private used = 0;
  private readonly texts = new TextLevelsBuilder();
  private readonly missingSpellings: string[] = [];

  /** how many levels */
  get count(): number {
    return this.texts.count;
  }

  /** Level k as a string. */
  text(k: number): string {
    return levelText(this.texts, k);
  }

  /** The levels, in arrays of their own size. */
  finish(): TextLevels {
    return this.texts.finish();
  }

  /** The level's code for the span, MISSING for a remembered spelling of "missing", or NOT_FOUND. */
  find(s: string, from: number, to: number): number {
    const mask = this.slots.length - 1;
    for (let i = hashSpan(s, from, to) & mask; ; i = (i + 1) & mask) {
      const code = this.slots[i]!;
      if (code === NOT_FOUND) return NOT_FOUND;
      if (code >= 0 ? levelEquals(this.texts, code, s, from, to) : sameSpan(this.missingSpellings[MISSING_BASE - code]!, s, from, to))
        return code >= 0 ? code : MISSING;
    }
  }

  /** Adds s[from..to) as a new level (find() said NOT_FOUND); returns its code. */
  add(s: string, from: number, to: number): number {
    const code = this.texts.push(s, from, to);
    this.place(code, hashSpan(s, from, to));
    return code;
  }

  /** Remembers `spelling` as meaning "missing". */
  addMissing(spelling: string): void {
    this.missingSpellings.push(spelling);
    this.place(MISSING_BASE - (this.missingSpellings.length - 1), hashSpan(spelling, 0, spelling.length));
  }

  private hashOf(code: number): number {
    if (code >= 0) return hashLevel(this.texts, code);
    const key = this.missingSpellings[MISSING_BASE - code]!;
    return hashSpan(key, 0, key.length);
  }

  private place(code: number, hash: number): void {
    if (2 * (this.used + 1) > this.slots.length) this.grow();
    this.insert(code, hash);
    this.used++;
  }

  private insert(code: number, hash: number): void {
    const mask = this.slots.length - 1;
    let i = hash & mask;
    while (this.slots[i] !== NOT_FOUND) i = (i + 1) & mask;
    this.slots[i] = code;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(NOT_FOUND);
    for (const code of old) if (code !== NOT_FOUND) this.insert(code, this.hashOf(code));
  }
}

function sameSpan(key: string, s: string, from: number, to: number): boolean {
  if (key.length !== to - from) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== s.charCodeAt(from + i)) return false;
  return true;
}
