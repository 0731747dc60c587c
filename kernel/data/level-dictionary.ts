/**
 * A column's distinct texts and their codes, looked up by a span of a larger string (the chunk a
 * field lies in) without cutting the field out first: a million-row text column with a few
 * hundred levels makes a few hundred strings, not a million that the garbage collector must
 * then clear. Open addressing on FNV-1a hashes of the UTF-16 code units; the slots hold codes
 * only, the texts stay in the column's own list of levels (and a few spellings of "missing").
 */
export const NOT_FOUND = -2;
/** codes at or below this stand for remembered spellings of "missing" ("NA", "null"): find() answers MISSING for them */
const MISSING_BASE = -3;
export const MISSING = -1;

function hashSpan(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function sameSpan(key: string, s: string, from: number, to: number): boolean {
  if (key.length !== to - from) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== s.charCodeAt(from + i)) return false;
  return true;
}

export class LevelDictionary {
  /** per slot: a level's code, a missing spelling's (MISSING_BASE - k), or NOT_FOUND for an empty slot */
  private slots = new Int32Array(1024).fill(NOT_FOUND);
  private used = 0;
  private readonly missingSpellings: string[] = [];

  /** `levels`: the column's texts by code (the list this dictionary indexes; it only grows) */
  constructor(private readonly levels: readonly string[]) {}

  private keyOf(code: number): string {
    return code >= 0 ? this.levels[code]! : this.missingSpellings[MISSING_BASE - code]!;
  }

  /** The level's code for the span, MISSING for a remembered spelling of "missing", or NOT_FOUND. */
  find(s: string, from: number, to: number): number {
    const mask = this.slots.length - 1;
    for (let i = hashSpan(s, from, to) & mask; ; i = (i + 1) & mask) {
      const code = this.slots[i]!;
      if (code === NOT_FOUND) return NOT_FOUND;
      if (sameSpan(this.keyOf(code), s, from, to)) return code >= 0 ? code : MISSING;
    }
  }

  /** Stores the level `levels[code]` (not yet in the dictionary). */
  addLevel(code: number): void {
    this.place(code);
  }

  /** Remembers `spelling` as meaning "missing". */
  addMissing(spelling: string): void {
    this.missingSpellings.push(spelling);
    this.place(MISSING_BASE - (this.missingSpellings.length - 1));
  }

  private place(code: number): void {
    if (2 * (this.used + 1) > this.slots.length) this.grow();
    this.insert(code);
    this.used++;
  }

  private insert(code: number): void {
    const key = this.keyOf(code);
    const mask = this.slots.length - 1;
    let i = hashSpan(key, 0, key.length) & mask;
    while (this.slots[i] !== NOT_FOUND) i = (i + 1) & mask;
    this.slots[i] = code;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(NOT_FOUND);
    for (const code of old) if (code !== NOT_FOUND) this.insert(code);
  }
}
