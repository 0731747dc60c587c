/**
 * Memory the tree worker threads can see. Fresh pages are slow to touch here: copying a
 * 144k × 20 table into a new SharedArrayBuffer took ~70 ms, nearly all of it page faults,
 * where checking a copy made before against it takes 3-10 ms. So a fit's inputs are
 * mirrored once per array and the mirror is reused by the next fit on the same array (a
 * search fits dozens).
 */

export function sharedBytes(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(8, bytes));
}

type Numbers = Float64Array | Int32Array;

const mirrors = new WeakMap<Numbers, Numbers>();

/** A copy of `a` in shared memory, equal to it now as numbers (an array changed since is copied again). */
export function sharedMirror<T extends Numbers>(a: T): T {
  const cached = mirrors.get(a) as T | undefined;
  if (cached && cached.length === a.length) {
    for (let i = 0; i < a.length; i++) {
      const was = cached[i]!;
      const is = a[i]!;
      if (was !== is && (was === was || is === is)) {
        cached.set(a);
        break;
      }
    }
    return cached;
  }
  const copy = (a instanceof Int32Array ? new Int32Array(sharedBytes(a.byteLength)) : new Float64Array(sharedBytes(a.byteLength))) as T;
  copy.set(a);
  mirrors.set(a, copy);
  return copy;
}
