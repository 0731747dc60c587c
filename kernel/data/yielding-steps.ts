/** Long work done in steps, so a caller on the conductor's thread can let its server answer between them. */

/**
 * Work done in steps: a generator that yields after each item (a text, an image) and returns its
 * result. `drain` runs it at once; `drainYielding` gives the event loop a turn whenever
 * PAUSE_EVERY_MS have passed, so a conductor vectorising 6,000 e-mails or decoding 70,000
 * images (seconds of work) still answers its clients meanwhile.
 */
export type Steps<T> = Generator<void, T, void>;

export function drain<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** the longest the event loop is held between two turns (a decoded photo can take tens of milliseconds: time, not a count) */
const PAUSE_EVERY_MS = 40;

export async function drainYielding<T>(steps: Steps<T>): Promise<T> {
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - since >= PAUSE_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
}
