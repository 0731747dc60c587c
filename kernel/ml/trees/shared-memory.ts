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

const scratch = new Map<string, SharedArrayBuffer>();

/**
 * A shared buffer of at least `bytes` for `purpose`, the same one each call while it is big
 * enough. Prediction hands the tree workers its batch's arrays: a fresh buffer a batch was kept
 * by the workers until their own garbage collection, which an idle worker rarely runs (a
 * 1,000,000-row file with wide features grew to a gigabyte). Calls are synchronous, one at a
 * time per thread, so one buffer per purpose is enough.
 */
export function sharedScratch(purpose: string, bytes: number): SharedArrayBuffer {
  let buffer = scratch.get(purpose);
  if (!buffer || buffer.byteLength < bytes) {
    buffer = new SharedArrayBuffer(Math.max(8, bytes));
    scratch.set(purpose, buffer);
  }
  return buffer;
}

/** `a` copied into the shared scratch buffer for `purpose` (see sharedScratch). */
export function sharedCopy(purpose: string, a: Float64Array): Float64Array {
  const copy = new Float64Array(sharedScratch(purpose, a.byteLength), 0, a.length);
  copy.set(a);
  return copy;
}
