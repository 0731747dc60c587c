/** Rows of a sparse matrix (compressed sparse rows): row r's features are indices[indptr[r] … indptr[r + 1]), with their values. */
export interface SparseRows {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** The rows `which` of `m`, in that order. */
export function pickRows(m: SparseRows, which: ArrayLike<number>): SparseRows {
  let nnz = 0;
  for (let i = 0; i < which.length; i++) nnz += m.indptr[which[i]! + 1]! - m.indptr[which[i]!]!;
  const indptr = new Int32Array(which.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  for (let i = 0; i < which.length; i++) {
    const a = m.indptr[which[i]!]!;
    const b = m.indptr[which[i]! + 1]!;
    indices.set(m.indices.subarray(a, b), at);
    values.set(m.values.subarray(a, b), at);
    at += b - a;
    indptr[i + 1] = at;
  }
  return { rows: which.length, cols: m.cols, indptr, indices, values };
}
