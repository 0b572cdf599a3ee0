/** Small dense linear algebra for reconciliation and regression (a few dozen rows at most). */
import { InvalidInputError } from '../core/errors.ts';

export type Matrix = number[][];

export function multiply(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): Matrix {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

export function transpose(a: readonly (readonly number[])[]): Matrix {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

/**
 * The lower-triangular Cholesky factor L of a symmetric matrix A (A = L·Lᵀ).
 * Without `jitter`, A must be positive definite (else InvalidInputError naming
 * `where`); with it, pivots are floored at `jitter`, which keeps the factor of a
 * nearly singular matrix (a correlation of exact sums) defined.
 */
export function cholesky(a: readonly (readonly number[])[], where = 'cholesky', jitter?: number): Matrix {
  const n = a.length;
  const l: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      if (i === j) {
        if (jitter !== undefined) s = Math.max(s, jitter);
        else if (!(s > 0)) throw new InvalidInputError(where, 'the matrix is not positive definite');
        l[i][i] = Math.sqrt(s);
      } else l[i][j] = s / l[j][j];
    }
  }
  return l;
}

/**
 * Solve A·X = B for symmetric positive definite A (Cholesky). A few dozen nodes at
 * most, so a dense textbook factorisation is exact enough and needs no dependency.
 */
export function solveSpd(a: readonly (readonly number[])[], b: readonly (readonly number[])[], where = 'solve'): Matrix {
  const n = a.length;
  const l = cholesky(a, where);
  return b[0].map((_, col) => {
    const y = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      let s = b[i][col];
      for (let k = 0; k < i; k++) s -= l[i][k] * y[k];
      y[i] = s / l[i][i];
    }
    const x = new Array<number>(n);
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= l[k][i] * x[k];
      x[i] = s / l[i][i];
    }
    return x;
  }).reduce<Matrix>((out, x) => {
    x.forEach((v, i) => (out[i] ??= []).push(v));
    return out;
  }, []);
}

