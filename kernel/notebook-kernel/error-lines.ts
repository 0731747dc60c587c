/**
 * tslab runs the JavaScript it compiled a cell into, so a runtime error's stack points at the
 * compiled lines. This maps such a line back to the cell's own line by its text: the compiled
 * statement normally appears, whole or in part, on the TypeScript line it came from.
 */
export function cellLineFor(jsLine: string, cellSource: string): number | null {
  const wanted = normalise(jsLine.replace(/^\s*exports\.\w+\s*=\s*/, ""));
  if (!wanted) return null;
  const lines = cellSource.split("\n").map(normalise);
  const exact = lines.findIndex((l) => l.includes(wanted) || (l.length > 3 && wanted.includes(l)));
  if (exact >= 0) return exact + 1;
  const tokens = new Set(wanted.split(/\W+/).filter((t) => t.length > 1));
  let best = { line: -1, score: 0 };
  lines.forEach((l, i) => {
    const score = l.split(/\W+/).filter((t) => tokens.has(t)).length;
    if (score > best.score) best = { line: i, score };
  });
  return best.line >= 0 && best.score >= Math.min(2, tokens.size) ? best.line + 1 : null;
}

function normalise(line: string): string {
  return line.replace(/\s+/g, " ").replace(/;\s*$/, "").trim();
}

/** The compiled line number an `evalmachine.<anonymous>:N` stack frame names. */
export function evalLineOf(stack: string): number | null {
  const m = /evalmachine\.<anonymous>:(\d+)/.exec(stack);
  return m ? Number(m[1]) : null;
}
