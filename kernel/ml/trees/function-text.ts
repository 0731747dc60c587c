/**
 * Functions compiled from their own source text, as the tree worker threads run them (a
 * worker gets text, not modules), and as the main thread runs fresh copies of them.
 */

/** Names esbuild's keepNames (tsx, the bundle) may reference inside a function's text. */
export const FUNCTION_TEXT_PRELUDE = "var __name = (target) => target;";

/**
 * The function whose source text is `source`, compiled anew; `tag` goes into the text, so a
 * new tag gives a copy V8 does not share with earlier ones. Self-contained (its prelude is
 * FUNCTION_TEXT_PRELUDE's), since the workers run it from its text too.
 */
export function compileFunctionText<F>(source: string, tag: string): F {
  return new Function(`var __name = (target) => target;\n// ${tag}\nreturn (${source});`)() as F;
}
