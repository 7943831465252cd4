/**
 * Mixup (Zhang et al. 2018), as used for audio fine-tuning: each example is
 * mixed with another of the same batch, `x̃_i = λ·x_i + (1 − λ)·x_π(i)` and
 * `ỹ_i = λ·y_i + (1 − λ)·y_π(i)`, with one `λ ~ Beta(α, α)` per batch and a
 * random permutation π. Both are functions of `(seed, step)` alone, so a
 * resumed run mixes exactly as an uninterrupted one.
 *
 * @module
 */
import { Rng } from "../util/rng.ts";

/** One batch's mixing: the weight λ and the partner of each example. */
export interface MixupPlan {
  lambda: number;
  /** `permutation[i]` is the example mixed into example `i`. */
  permutation: number[];
}

/** Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape < 1). */
function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) {
    let u = rng.nextFloat();
    while (u === 0) u = rng.nextFloat();
    return sampleGamma(shape + 1, rng) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.nextFloat();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * A draw from Beta(a, b), as `X / (X + Y)` with `X ~ Gamma(a)`, `Y ~ Gamma(b)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "../util/rng.ts";
 * import { sampleBeta } from "./mixup.ts";
 * const x = sampleBeta(0.4, 0.4, new Rng(1));
 * assert.ok(x >= 0 && x <= 1);
 * ```
 */
export function sampleBeta(a: number, b: number, rng: Rng): number {
  if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) {
    throw new RangeError(`Beta parameters must be finite and above 0, got ${a}, ${b}`);
  }
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/**
 * The mixing of batch `step` of a run: λ ~ Beta(α, α) and a permutation of
 * `batchSize`, both drawn from `(seed, step)` alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixupPlan } from "./mixup.ts";
 * const a = mixupPlan(0.2, { seed: 3, step: 7, batchSize: 4 });
 * const b = mixupPlan(0.2, { seed: 3, step: 7, batchSize: 4 });
 * assert.deepEqual(a, b);
 * ```
 */
export function mixupPlan(
  alpha: number,
  options: { seed: number; step: number; batchSize: number },
): MixupPlan {
  const rng = Rng.forLabel(options.seed, `mixup-${options.step}`);
  const lambda = sampleBeta(alpha, alpha, rng);
  const permutation = rng.shuffle(Array.from({ length: options.batchSize }, (_, i) => i));
  return { lambda, permutation };
}

/**
 * Mixes the rows of a row-major `[B, W]` array by `plan` (a new array).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixRows } from "./mixup.ts";
 * const out = mixRows(new Float32Array([1, 1, 3, 3]), { lambda: 0.25, permutation: [1, 0] });
 * assert.equal(out[0], 2.5);
 * assert.equal(out[2], 1.5);
 * ```
 */
export function mixRows(rows: Float32Array, plan: MixupPlan): Float32Array {
  const b = plan.permutation.length;
  if (b === 0 || rows.length % b !== 0) {
    throw new RangeError(`${rows.length} values do not split into ${b} rows`);
  }
  const w = rows.length / b;
  const out = new Float32Array(rows.length);
  const l = plan.lambda;
  for (let i = 0; i < b; i++) {
    const j = plan.permutation[i];
    for (let k = 0; k < w; k++) out[i * w + k] = l * rows[i * w + k] + (1 - l) * rows[j * w + k];
  }
  return out;
}
