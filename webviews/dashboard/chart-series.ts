/**
 * Turning long metric series into something a chart can draw quickly, the way TensorBoard and
 * W&B do: exponential smoothing with the raw line kept, and bucketing into at most N points
 * with each bucket's min and max kept as a band, so no spike disappears. The data itself is
 * never cut; only what is drawn.
 */
import type { MetricPoint } from "./dashboard-store";

export interface DrawPoint {
  x: number;
  raw: number;
  smooth: number;
  lo: number;
  hi: number;
}

/** TensorBoard's debiased exponential moving average; weight in [0, 1). */
export function smooth(values: readonly number[], weight: number): number[] {
  const out: number[] = [];
  let last = 0;
  let debias = 0;
  for (const v of values) {
    last = last * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    out.push(weight === 0 ? v : last / debias);
  }
  return out;
}

export function toDrawPoints(points: readonly MetricPoint[], options: { weight: number; xAxis: "step" | "wall"; t0: number; maxPoints: number }): DrawPoint[] {
  const xs = points.map((p) => (options.xAxis === "step" ? p.step : p.ts - options.t0));
  const raw = points.map((p) => p.value);
  const sm = smooth(raw, options.weight);
  if (points.length <= options.maxPoints) return points.map((_, i) => ({ x: xs[i]!, raw: raw[i]!, smooth: sm[i]!, lo: raw[i]!, hi: raw[i]! }));
  const size = Math.ceil(points.length / options.maxPoints);
  const out: DrawPoint[] = [];
  for (let start = 0; start < points.length; start += size) {
    const end = Math.min(points.length, start + size);
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (let i = start; i < end; i++) {
      lo = Math.min(lo, raw[i]!);
      hi = Math.max(hi, raw[i]!);
      sum += raw[i]!;
    }
    const last = end - 1;
    out.push({ x: xs[last]!, raw: sum / (end - start), smooth: sm[last]!, lo, hi });
  }
  return out;
}
