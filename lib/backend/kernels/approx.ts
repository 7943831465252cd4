/**
 * Fast approximations of `erf` and `exp` on float64 for the JavaScript loops
 * of the fused kernels (`fused.ts`); the SIMD module (`../simd/kernels.as.ts`)
 * uses the same fit of `erf`.
 *
 * @module
 */

// erf(x) = x·P(x²)/Q(x²) for |x| ≤ 4 and ±1 beyond: a rational fit made for this
// file (weighted least squares on [0, 4]); largest error 1.4e-8, below float32's
// resolution and under the 1.5e-7 of the Abramowitz–Stegun form tfjs's Erf uses,
// with no exponential to compute.
const ERF_P = [
  1.1283791821055682,
  0.18471050080153265,
  0.05433255979346322,
  0.0038395276964266318,
  0.00038268988548873515,
  4.780474302371052e-06,
  -1.366646121270243e-08,
];
const ERF_Q = [
  1.0,
  0.4970289647130287,
  0.11382632085921052,
  0.015453505163543409,
  0.001309575554470448,
  6.40086481122756e-05,
];

/**
 * The error function (see the fit above).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { erf } from "./approx.ts";
 * assert.ok(Math.abs(erf(1) - 0.8427007929) < 1e-8);
 * assert.equal(erf(-9), -erf(9));
 * ```
 */
export function erf(x: number): number {
  const v = x < -4 ? -4 : x > 4 ? 4 : x;
  const t = v * v;
  const p = ERF_P[0] + t * (ERF_P[1] + t * (ERF_P[2] + t * (ERF_P[3] +
                t * (ERF_P[4] + t * (ERF_P[5] + t * ERF_P[6])))));
  const q = ERF_Q[0] + t * (ERF_Q[1] + t * (ERF_Q[2] + t * (ERF_Q[3] +
                t * (ERF_Q[4] + t * ERF_Q[5]))));
  return (v * p) / q;
}

const POW2_NEG = Float64Array.from({ length: 160 }, (_, k) => 2 ** -k);

/**
 * `exp(x)` for `x ≤ 0` (relative error 1.7e-7): `2^−k·e^r` with
 * `k = round(−x·log2 e)`, `|r| ≤ ln2/2`, `e^r` by its degree-6 Taylor polynomial,
 * `2^−k` from a table. About three times Math.exp's speed in V8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expNonPositive } from "./approx.ts";
 * assert.ok(Math.abs(expNonPositive(-1) - Math.exp(-1)) < 1e-7);
 * assert.equal(expNonPositive(-200), 0);
 * ```
 */
export function expNonPositive(x: number): number {
  if (x < -103) return 0;
  const k = (0.5 - x * Math.LOG2E) | 0;
  const r = x + k * Math.LN2;
  const e = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r / 720)))));
  return e * POW2_NEG[k];
}
