/** Row-wise softmax of n × k scores (max-shifted, so large scores do not overflow); in place unless `out` is given. */
export function softmaxRows(scores: Float64Array, n: number, k: number, out: Float64Array = scores): Float64Array {
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, scores[i * k + c]!);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[i * k + c] = Math.exp(scores[i * k + c]! - max);
    for (let c = 0; c < k; c++) out[i * k + c] = out[i * k + c]! / sum;
  }
  return out;
}
