/**
 * The real loss landscape of a gradient-descent run (003_…'s "real-ish" approach): the plane
 * through the final weights spanned by the two main directions (PCA) of the weight
 * trajectory, the true loss evaluated on a grid over that plane, and the trajectory projected
 * onto it, normalised to [-1, 1] by `domainHalf`.
 */
export interface Descent {
  /** the weights after each step, in order */
  trajectory: Float64Array[];
  /** the weights the run kept (its best on validation) */
  center: Float64Array;
  /** the training loss (as optimised) at any weights */
  lossAt(weights: Float64Array): number;
}

export interface Landscape {
  domainHalf: number;
  resolution: number;
  /** resolution × resolution losses, row-major: row j is direction 2, column i is direction 1 */
  grid: Float32Array;
  /** the path in normalised coordinates */
  path: Array<{ x: number; y: number }>;
  /** share of the trajectory's variance the plane holds */
  explained: number;
}

export function lossLandscape(d: Descent, resolution = 41): Landscape {
  const dim = d.center.length;
  const deltas = d.trajectory.map((w) => w.map((v, i) => v - d.center[i]!));
  const [u1, u2, explained] = principalDirections(deltas, dim);
  const coords = deltas.map((delta) => ({ a: dot(delta, u1), b: dot(delta, u2) }));
  const extent = Math.max(1e-6, ...coords.map((c) => Math.max(Math.abs(c.a), Math.abs(c.b))));
  const domainHalf = extent * 1.15;
  const grid = new Float32Array(resolution * resolution);
  const w = new Float64Array(dim);
  for (let j = 0; j < resolution; j++) {
    const b = -domainHalf + ((j + 0.5) * 2 * domainHalf) / resolution;
    for (let i = 0; i < resolution; i++) {
      const a = -domainHalf + ((i + 0.5) * 2 * domainHalf) / resolution;
      for (let k = 0; k < dim; k++) w[k] = d.center[k]! + a * u1[k]! + b * u2[k]!;
      grid[j * resolution + i] = d.lossAt(w);
    }
  }
  return { domainHalf, resolution, grid, path: coords.map((c) => ({ x: c.a / domainHalf, y: c.b / domainHalf })), explained };
}

/** The top two eigenvectors of the trajectory's scatter, by power iteration on the small T × T Gram matrix. */
function principalDirections(rows: Float64Array[], dim: number): [Float64Array, Float64Array, number] {
  const t = rows.length;
  const gram = new Float64Array(t * t);
  for (let i = 0; i < t; i++) for (let j = 0; j <= i; j++) gram[i * t + j] = gram[j * t + i] = dot(rows[i]!, rows[j]!);
  let trace = 0;
  for (let i = 0; i < t; i++) trace += gram[i * t + i]!;
  const vectors: Float64Array[] = [];
  let captured = 0;
  for (let k = 0; k < 2; k++) {
    let v = new Float64Array(t).map((_, i) => Math.sin(i + 1 + k * 7));
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const next = new Float64Array(t);
      for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) next[i]! += gram[i * t + j]! * v[j]!;
      for (const prev of vectors) {
        const p = dot(next, prev);
        for (let i = 0; i < t; i++) next[i]! -= p * prev[i]!;
      }
      const norm = Math.hypot(...next);
      if (norm < 1e-300) break;
      lambda = norm;
      v = next.map((x) => x / norm);
    }
    vectors.push(v);
    captured += lambda;
  }
  const directions = vectors.map((v) => {
    const u = new Float64Array(dim);
    for (let i = 0; i < t; i++) for (let k = 0; k < dim; k++) u[k]! += v[i]! * rows[i]![k]!;
    const norm = Math.hypot(...u) || 1;
    return u.map((x) => x / norm);
  });
  // a trajectory along one line has no second direction: take any orthogonal one
  if (!directions[1]!.some((x) => x !== 0) || Math.abs(dot(directions[0]!, directions[1]!)) > 0.999) {
    const e = new Float64Array(dim);
    e[directions[0]!.findIndex((x) => Math.abs(x) < 0.9) >= 0 ? directions[0]!.findIndex((x) => Math.abs(x) < 0.9) : 0] = 1;
    const p = dot(e, directions[0]!);
    const o = e.map((x, i) => x - p * directions[0]![i]!);
    const n = Math.hypot(...o) || 1;
    directions[1] = o.map((x) => x / n);
  }
  return [directions[0]!, directions[1]!, trace > 0 ? Math.min(1, captured / trace) : 1];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * The mean cross-entropy of a softmax layer as a function of its weights (kernel d × k, then
 * bias k, as the trajectory records them) on `n` rows of fixed features: the landscape of a
 * network's output layer, computed in plain JavaScript so its grid of losses costs no tensors.
 */
export function softmaxLayerLoss(features: ArrayLike<number>, labels: ArrayLike<number>, n: number, d: number, classes: number): (w: Float64Array) => number {
  const logits = new Float64Array(classes);
  return (w) => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < classes; c++) logits[c] = w[d * classes + c]!;
      for (let j = 0; j < d; j++) {
        const v = features[i * d + j]!;
        if (v !== 0) for (let c = 0; c < classes; c++) logits[c]! += v * w[j * classes + c]!;
      }
      let max = -Infinity;
      for (const z of logits) max = Math.max(max, z);
      let sum = 0;
      for (const z of logits) sum += Math.exp(z - max);
      loss += Math.log(sum) + max - logits[labels[i]!]!;
    }
    return loss / n;
  };
}
