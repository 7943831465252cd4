/**
 * Exact t-SNE (van der Maaten & Hinton 2008) by gradient descent (private to `lib/plot/`).
 * O(N²) time per iteration and O(N²) memory (two N × N float64 matrices): fine for a few
 * thousand points.
 *
 * @module
 */

import type { Rng } from "../util/rng.ts";

/** Options of {@linkcode tsne}. */
export interface TsneOptions {
  /** Target perplexity (effective number of neighbours); clamped to (n − 1) / 3. */
  perplexity: number;
  /** Gradient steps. */
  iterations: number;
  /** Source of the initial layout. */
  rng: Rng;
}

const EARLY_EXAGGERATION = 12;
const EXAGGERATION_STEPS = 250;

/**
 * Embeds the rows of `x` (`[n, d]`) in 2-D, returning `[n, 2]`.
 *
 * Conditional affinities p(j|i) ∝ exp(−β_i‖x_i − x_j‖²) with β_i found by bisection so that
 * each row's entropy is log(perplexity); P = (P + Pᵀ) / 2n. Then gradient descent on KL(P‖Q)
 * with Student-t Q, early exaggeration 12 for 250 steps, momentum 0.5 → 0.8, per-coordinate
 * gains (delta-bar-delta) and learning rate max(n / 48, 50) (scikit-learn's "auto").
 */
export function tsne(
  x: Float64Array,
  shape: { n: number; d: number },
  options: TsneOptions,
): Float64Array {
  const { n, d } = shape;
  const p = affinities(x, n, d, Math.max(1, Math.min(options.perplexity, (n - 1) / 3)));
  const y = new Float64Array(n * 2);
  for (let i = 0; i < 2 * n; i++) y[i] = options.rng.normal() * 1e-4;
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const grad = new Float64Array(n * 2);
  const num = new Float64Array(n * n);
  const rate = Math.max(n / EARLY_EXAGGERATION / 4, 50);
  for (let it = 0; it < options.iterations; it++) {
    const exaggeration = it < EXAGGERATION_STEPS ? EARLY_EXAGGERATION : 1;
    const momentum = it < EXAGGERATION_STEPS ? 0.5 : 0.8;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      num[i * n + i] = 0;
      for (let j = i + 1; j < n; j++) {
        const dx = y[2 * i] - y[2 * j];
        const dy = y[2 * i + 1] - y[2 * j + 1];
        const q = 1 / (1 + dx * dx + dy * dy);
        num[i * n + j] = q;
        num[j * n + i] = q;
        sum += 2 * q;
      }
    }
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      let gx = 0;
      let gy = 0;
      for (let j = 0; j < n; j++) {
        const q = num[i * n + j];
        const w = (exaggeration * p[i * n + j] - q / sum) * q;
        gx += w * (y[2 * i] - y[2 * j]);
        gy += w * (y[2 * i + 1] - y[2 * j + 1]);
      }
      grad[2 * i] = 4 * gx;
      grad[2 * i + 1] = 4 * gy;
    }
    for (let k = 0; k < 2 * n; k++) {
      const sameSign = grad[k] > 0 === update[k] > 0;
      gains[k] = Math.max(0.01, sameSign ? gains[k] * 0.8 : gains[k] + 0.2);
      update[k] = momentum * update[k] - rate * gains[k] * grad[k];
      y[k] += update[k];
    }
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    for (let i = 0; i < n; i++) {
      y[2 * i] -= mx / n;
      y[2 * i + 1] -= my / n;
    }
  }
  return y;
}

/** Symmetric joint affinities P, `[n, n]`, for the given perplexity. */
function affinities(x: Float64Array, n: number, d: number, perplexity: number): Float64Array {
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = x[i * d + k] - x[j * d + k];
        s += t * t;
      }
      dist[i * n + j] = s;
      dist[j * n + i] = s;
    }
  }
  const target = Math.log(perplexity);
  const cond = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = 0;
    let hi = Infinity;
    // distances relative to the nearest neighbour keep exp() in range
    let dmin = Infinity;
    for (let j = 0; j < n; j++) if (j !== i) dmin = Math.min(dmin, dist[i * n + j]);
    for (let step = 0; step < 100; step++) {
      let sum = 0;
      let weighted = 0;
      for (let j = 0; j < n; j++) {
        const dj = dist[i * n + j] - dmin;
        row[j] = j === i ? 0 : Math.exp(-beta * dj);
        sum += row[j];
        weighted += row[j] * dj;
      }
      // entropy H = log(sum) + β · E[d]
      const entropy = Math.log(sum) + (beta * weighted) / sum;
      for (let j = 0; j < n; j++) cond[i * n + j] = row[j] / sum;
      const diff = entropy - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
  }
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      p[i * n + j] = Math.max((cond[i * n + j] + cond[j * n + i]) / (2 * n), 1e-12);
    }
  }
  return p;
}
