/**
 * Texts to TF-IDF features, as scikit-learn's TfidfVectorizer makes them: lower-cased word
 * tokens of two or more letters or digits (its default token pattern) as word n-grams, and
 * character n-grams inside word boundaries (its `char_wb`), each weighted by sublinear term
 * frequency times smoothed inverse document frequency, each row scaled to unit length.
 * Character n-grams are hashed into buckets as they are read (no substring is made, so a
 * corpus of long e-mails costs no garbage), and the buckets and words seen in fewer than
 * `min_df` training texts are dropped. The vocabulary is fitted on the training texts only.
 */
import { drain, type Steps } from "../../data/yielding-steps";
import type { SparseRows } from "./sparse-rows";

export interface TextFeatureSettings {
  /** word n-gram lengths, from and to (1, 2: words and word pairs) */
  word_ngrams: [number, number];
  /** character n-gram lengths inside words, from and to; null: words only */
  char_ngrams: [number, number] | null;
  /** a feature seen in fewer training texts than this is dropped */
  min_df: number;
  /** at most this many words (the most frequent across texts) */
  max_words: number;
  /** character n-grams are hashed into this many buckets before min_df */
  char_buckets: number;
  /** each text is read up to this many characters */
  max_chars: number;
}

export const DEFAULT_TEXT_FEATURES: TextFeatureSettings = {
  word_ngrams: [1, 2],
  char_ngrams: [3, 5],
  min_df: 2,
  max_words: 100_000,
  char_buckets: 1 << 18,
  max_chars: 20_000,
};

/** A fitted vectorizer: what the model file keeps to turn new texts into the same features. */
export interface TextVectorizer {
  settings: TextFeatureSettings;
  /** the kept words and word n-grams, in feature order (features 0 … words.length − 1) */
  words: string[];
  /** character bucket → feature (−1: dropped), for the features after the words */
  bucketFeature: Int32Array;
  /** each feature's inverse document frequency */
  idf: Float32Array;
}

export function featureCount(v: TextVectorizer): number {
  return v.idf.length;
}

/** Word tokens: runs of letters and digits, two or more long, lower-cased (sklearn's `(?u)\b\w\w+\b`). */
export function tokenize(text: string, maxChars: number): string[] {
  const lower = (text.length > maxChars ? text.slice(0, maxChars) : text).toLowerCase();
  return lower.match(/[\p{L}\p{N}_]{2,}/gu) ?? [];
}

function wordGrams(tokens: string[], [lo, hi]: [number, number], visit: (gram: string) => void): void {
  for (let n = lo; n <= hi; n++) for (let i = 0; i + n <= tokens.length; i++) visit(n === 1 ? tokens[i]! : tokens.slice(i, i + n).join(" "));
}

/** Calls `visit` with the bucket of each character n-gram of each word padded with a space either side (FNV-1a). */
function charGramBuckets(tokens: string[], [lo, hi]: [number, number], buckets: number, visit: (bucket: number) => void): void {
  const mask = buckets - 1;
  for (const t of tokens) {
    const len = t.length + 2;
    const at = (i: number) => (i === 0 || i === len - 1 ? 32 : t.charCodeAt(i - 1));
    for (let i = 0; i < len; i++) {
      let h = 0x811c9dc5 ^ hi;
      for (let n = 1; n <= hi && i + n <= len; n++) {
        h = Math.imul(h ^ at(i + n - 1), 0x01000193);
        if (n >= lo) visit((h ^ (h >>> 15) ^ n) & mask);
      }
    }
    // a short word's whole padded form is its one n-gram below `lo` characters: kept as sklearn keeps it
    if (len < lo) {
      let h = 0x811c9dc5 ^ hi;
      for (let i = 0; i < len; i++) h = Math.imul(h ^ at(i), 0x01000193);
      visit((h ^ (h >>> 15) ^ len) & mask);
    }
  }
}

/** Fits the vocabulary and the inverse document frequencies on `texts`. */
export function fitVectorizer(texts: readonly string[], settings: TextFeatureSettings = DEFAULT_TEXT_FEATURES): TextVectorizer {
  return drain(fitSteps(texts, settings));
}

/** Each text's TF-IDF row (sublinear tf, unit length), in the vectorizer's features. */
export function vectorize(v: TextVectorizer, texts: readonly string[]): SparseRows {
  return drain(vectorizeSteps(v, texts));
}

export function* fitSteps(texts: readonly string[], settings: TextFeatureSettings = DEFAULT_TEXT_FEATURES): Steps<TextVectorizer> {
  if ((settings.char_buckets & (settings.char_buckets - 1)) !== 0) throw new Error("char_buckets must be a power of two");
  const wordDf = new Map<string, number>();
  const bucketDf = new Int32Array(settings.char_ngrams ? settings.char_buckets : 0);
  const seenBucket = new Int32Array(bucketDf.length).fill(-1);
  for (let doc = 0; doc < texts.length; doc++) {
    yield;
    const tokens = tokenize(texts[doc]!, settings.max_chars);
    const seen = new Set<string>();
    wordGrams(tokens, settings.word_ngrams, (g) => seen.add(g));
    for (const g of seen) wordDf.set(g, (wordDf.get(g) ?? 0) + 1);
    if (settings.char_ngrams)
      charGramBuckets(tokens, settings.char_ngrams, settings.char_buckets, (b) => {
        if (seenBucket[b] !== doc) ((seenBucket[b] = doc), bucketDf[b]!++);
      });
  }
  yield;
  const words = mostFrequent(wordDf, settings.min_df, settings.max_words);
  yield;
  const n = texts.length;
  const idfOf = (df: number) => Math.log((1 + n) / (1 + df)) + 1;
  const idf: number[] = words.map((w) => idfOf(wordDf.get(w)!));
  const bucketFeature = new Int32Array(bucketDf.length).fill(-1);
  for (let b = 0; b < bucketDf.length; b++) {
    if (bucketDf[b]! >= settings.min_df) {
      bucketFeature[b] = idf.length;
      idf.push(idfOf(bucketDf[b]!));
    }
  }
  return { settings, words, bucketFeature, idf: Float32Array.from(idf) };
}

/**
 * The words seen in at least `minDf` texts, at most `max` of them, the most frequent first chosen
 * (a tie at the cut taken in the order first seen), in the order first seen: found by counting
 * document frequencies rather than sorting half a million n-grams (a sort held the conductor's
 * event loop for a third of a second).
 */
function mostFrequent(df: Map<string, number>, minDf: number, max: number): string[] {
  const counts = new Map<number, number>();
  for (const d of df.values()) if (d >= minDf) counts.set(d, (counts.get(d) ?? 0) + 1);
  // the lowest frequency kept whole, and how many of the next lower one fit
  let kept = 0;
  let cut = minDf;
  let atCut = Infinity;
  for (const d of [...counts.keys()].sort((a, b) => b - a)) {
    const c = counts.get(d)!;
    if (kept + c > max) {
      cut = d;
      atCut = max - kept;
      break;
    }
    kept += c;
    cut = d;
  }
  const out: string[] = [];
  for (const [w, d] of df) {
    if (d > cut || (d === cut && atCut-- > 0)) out.push(w);
  }
  return out;
}

export function* vectorizeSteps(v: TextVectorizer, texts: readonly string[]): Steps<SparseRows> {
  const index = new Map(v.words.map((w, i) => [w, i]));
  const indptr = new Int32Array(texts.length + 1);
  let indices = new Int32Array(1024);
  let values = new Float32Array(1024);
  let nnz = 0;
  // each text's counts in one dense array, with the features it touched (cleared after the row): no map per text
  const counts = new Float64Array(v.idf.length);
  let touched = new Int32Array(1024);
  let nTouched = 0;
  const count = (f: number) => {
    if (counts[f]!++ === 0) {
      if (nTouched === touched.length) touched = grown(touched, new Int32Array(2 * touched.length));
      touched[nTouched++] = f;
    }
  };
  for (let row = 0; row < texts.length; row++) {
    yield;
    nTouched = 0;
    const tokens = tokenize(texts[row]!, v.settings.max_chars);
    wordGrams(tokens, v.settings.word_ngrams, (g) => {
      const f = index.get(g);
      if (f !== undefined) count(f);
    });
    if (v.settings.char_ngrams)
      charGramBuckets(tokens, v.settings.char_ngrams, v.settings.char_buckets, (b) => {
        const f = v.bucketFeature[b]!;
        if (f >= 0) count(f);
      });
    const features = touched.subarray(0, nTouched).sort();
    if (nnz + nTouched > indices.length) {
      const size = Math.max(2 * indices.length, nnz + nTouched);
      indices = grown(indices, new Int32Array(size));
      values = grown(values, new Float32Array(size));
    }
    let norm = 0;
    const start = nnz;
    for (const f of features) {
      const w = (1 + Math.log(counts[f]!)) * v.idf[f]!;
      counts[f] = 0;
      indices[nnz] = f;
      values[nnz++] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (let k = start; k < nnz; k++) values[k] = values[k]! / norm;
    indptr[row + 1] = nnz;
  }
  return { rows: texts.length, cols: v.idf.length, indptr, indices: indices.slice(0, nnz), values: values.slice(0, nnz) };
}

function grown<T extends Int32Array | Float32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
