/** A dense row-major matrix of features: row i, column j is data[i * cols + j]. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export function zeros(rows: number, cols: number): Matrix {
  return { data: new Float64Array(rows * cols), rows, cols };
}
