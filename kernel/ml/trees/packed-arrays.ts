/**
 * Many small typed arrays (one per tree) as one array and their lengths, for the model file:
 * a forest of 500 trees is then a handful of arrays rather than thousands.
 */
type Packable = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

export interface PackedArrays<T extends Packable> {
  data: T;
  /** each array's length; -1 for an array that is absent (null) */
  lengths: Int32Array;
}

export function packArrays<T extends Packable>(arrays: readonly (T | null)[], make: (length: number) => T): PackedArrays<T> {
  const lengths = Int32Array.from(arrays, (a) => (a ? a.length : -1));
  let total = 0;
  for (const a of arrays) total += a?.length ?? 0;
  const data = make(total);
  let at = 0;
  for (const a of arrays) {
    if (!a) continue;
    data.set(a as never, at);
    at += a.length;
  }
  return { data, lengths };
}

/** The arrays back, as views into `packed.data` (nothing is copied). */
export function unpackArrays<T extends Packable>(packed: PackedArrays<T>): (T | null)[] {
  const out: (T | null)[] = [];
  let at = 0;
  for (const n of packed.lengths) {
    if (n < 0) {
      out.push(null);
      continue;
    }
    out.push(packed.data.subarray(at, at + n) as T);
    at += n;
  }
  if (at !== packed.data.length) throw new Error(`packed arrays hold ${packed.data.length} values, their lengths add up to ${at}`);
  return out;
}

/**
 * The same fields of many records (the node arrays of each tree), each field packed into an
 * array of the type its records use (Float64Array for a field no record has).
 */
export function packFields<K extends string>(items: readonly Readonly<Record<K, Packable | null>>[], fields: readonly K[]): Record<K, PackedArrays<Packable>> {
  const out = {} as Record<K, PackedArrays<Packable>>;
  for (const field of fields) {
    const arrays = items.map((t) => t[field]);
    const type = (arrays.find((a) => a !== null)?.constructor ?? Float64Array) as new (length: number) => Packable;
    out[field] = packArrays(arrays, (n) => new type(n));
  }
  return out;
}

/** The records back from packFields. */
export function unpackFields<K extends string>(packed: Record<K, PackedArrays<Packable>>): Record<K, Packable | null>[] {
  const fields = Object.keys(packed) as K[];
  const columns = fields.map((f) => unpackArrays(packed[f]));
  const count = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== count)) throw new Error("packed fields hold different numbers of records");
  return Array.from({ length: count }, (_, i) => Object.fromEntries(fields.map((f, j) => [f, columns[j]![i]!])) as Record<K, Packable | null>);
}
