/**
 * Principal component projection by power iteration (private to `lib/plot/`).
 *
 * @module
 */

import type { Rng } from "../util/rng.ts";

/**
 * Projects the centred rows of `x` (`[n, d]`, float64) onto their first `k` principal axes.
 * Each axis is found by power iteration on XᵀX (never formed: v ← Xᵀ(X v)), kept orthogonal to
 * the axes before it; its sign makes its largest-magnitude entry positive, so the result does
 * not depend on the random start. Returns `[n, k]`; an axis along which the data do not vary
 * gives zeros.
 */
export function pcaProject(
  x: Float64Array,
  shape: { n: number; d: number },
  options: { k: number; rng: Rng; iterations?: number },
): Float64Array {
  const { n, d } = shape;
  const { k, rng } = options;
  const maxIter = options.iterations ?? 300;
  const centred = new Float64Array(x);
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += centred[i * d + j];
    mean /= n;
    for (let i = 0; i < n; i++) centred[i * d + j] -= mean;
  }
  let total = 0;
  for (let i = 0; i < n * d; i++) total += centred[i] * centred[i];
  const eps = 1e-12 * total;
  const axes: Float64Array[] = [];
  const xv = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    let v = new Float64Array(d);
    for (let j = 0; j < d; j++) v[j] = rng.normal();
    let found = false;
    for (let it = 0; it < maxIter; it++) {
      for (const a of axes) orthogonalise(v, a);
      if (!normalise(v, 0)) break;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += centred[i * d + j] * v[j];
        xv[i] = s;
      }
      const next = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const s = xv[i];
        if (s !== 0) { for (let j = 0; j < d; j++) next[j] += centred[i * d + j] * s; }
      }
      for (const a of axes) orthogonalise(next, a);
      if (!normalise(next, eps)) break;
      let change = 0;
      for (let j = 0; j < d; j++) change = Math.max(change, Math.abs(next[j] - v[j]));
      v = next;
      found = true;
      if (change < 1e-10) break;
    }
    if (!found) v = new Float64Array(d);
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) { for (let j = 0; j < d; j++) v[j] = -v[j]; }
    axes.push(v);
  }
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += centred[i * d + j] * axes[c][j];
      out[i * k + c] = s;
    }
  }
  return out;
}

function orthogonalise(v: Float64Array, axis: Float64Array): void {
  let dot = 0;
  for (let j = 0; j < v.length; j++) dot += v[j] * axis[j];
  for (let j = 0; j < v.length; j++) v[j] -= dot * axis[j];
}

/** Scales `v` to unit length; false if its length is not above `eps`. */
function normalise(v: Float64Array, eps: number): boolean {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  const norm = Math.sqrt(s);
  if (!(norm > eps)) return false;
  for (let j = 0; j < v.length; j++) v[j] /= norm;
  return true;
}
