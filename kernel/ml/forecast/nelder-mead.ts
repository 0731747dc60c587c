/** Nelder–Mead's simplex search for the minimum of a function of a few variables (no gradients needed). */
export function nelderMead(
  f: (x: number[]) => number,
  start: number[],
  options: { step?: number; maxEvaluations?: number; tolerance?: number } = {},
): { x: number[]; value: number } {
  const n = start.length;
  const step = options.step ?? 0.5;
  const maxEvaluations = options.maxEvaluations ?? 200 * n;
  const tolerance = options.tolerance ?? 1e-8;
  let evaluations = 0;
  const value = (x: number[]) => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };
  let simplex = [start, ...start.map((_, i) => start.map((s, j) => (i === j ? s + step : s)))].map((x) => ({ x, v: value(x) }));
  while (evaluations < maxEvaluations) {
    simplex.sort((a, b) => a.v - b.v);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (Math.abs(worst.v - best.v) <= tolerance * (Math.abs(best.v) + tolerance)) break;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]!.x[j]! / n;
    const along = (t: number) => centroid.map((c, j) => c + t * (worst.x[j]! - c));
    const reflected = along(-1);
    const rv = value(reflected);
    if (rv < best.v) {
      const expanded = along(-2);
      const ev = value(expanded);
      simplex[n] = ev < rv ? { x: expanded, v: ev } : { x: reflected, v: rv };
    } else if (rv < simplex[n - 1]!.v) {
      simplex[n] = { x: reflected, v: rv };
    } else {
      const contracted = rv < worst.v ? along(-0.5) : along(0.5);
      const cv = value(contracted);
      if (cv < Math.min(rv, worst.v)) simplex[n] = { x: contracted, v: cv };
      else
        simplex = simplex
          .map((p, i) => (i === 0 ? p : { x: p.x.map((xj, j) => best.x[j]! + 0.5 * (xj - best.x[j]!)), v: NaN }))
          .map((p) => (Number.isNaN(p.v) ? { x: p.x, v: value(p.x) } : p));
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  return { x: simplex[0]!.x, value: simplex[0]!.v };
}
