/**
 * d′ (d-prime, the sensitivity index) from ROC-AUC, as AudioSet papers report
 * it next to mAP: `d′ = √2 · Φ⁻¹(AUC)`, where Φ⁻¹ is the standard normal
 * quantile. It is the distance between the means of two unit-variance
 * normal score distributions (negatives, positives) that would give that AUC.
 *
 * @module
 */

/**
 * The standard normal CDF Φ(x) = ½·erfc(−x/√2), to near double precision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalCdf } from "./d_prime.ts";
 * assert.equal(normalCdf(0), 0.5);
 * // erf(1/2) = 0.5204998778130465 (tables): Φ(1/√2) = (1 + erf(1/2)) / 2
 * assert.ok(Math.abs(normalCdf(Math.SQRT1_2) - 0.7602499389065233) < 1e-15);
 * ```
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = -x / Math.SQRT2;
  return z >= 0 ? 0.5 * erfc(z) : 1 - 0.5 * erfc(-z);
}

/** erfc(z) for z ≥ 0: a positive-term series below 3, a continued fraction above. */
function erfc(z: number): number {
  if (z === Infinity) return 0;
  const e = Math.exp(-z * z);
  if (z < 3) {
    // erf(z) = 2/√π · e^{−z²} · Σ (2z²)^n z / (1·3·…·(2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * z * z) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * e * sum;
  }
  // erfc(z) = e^{−z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), by Lentz's method
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = z + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = z + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return e / (Math.sqrt(Math.PI) * f);
}

/**
 * The standard normal quantile Φ⁻¹(p) for p in [0, 1] (±Infinity at 0 and 1;
 * RangeError outside): Acklam's rational approximation, refined by Halley
 * steps on {@linkcode normalCdf}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalQuantile } from "./d_prime.ts";
 * assert.equal(normalQuantile(0.5), 0);
 * assert.ok(Math.abs(normalQuantile(0.9750021048517795) - 1.96) < 1e-12); // Φ(1.96) from tables
 * assert.equal(normalQuantile(1), Infinity);
 * ```
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p)) return NaN;
  if (p < 0 || p > 1) {
    throw new RangeError(`Cannot invert the normal CDF: p must be in [0, 1], got ${p}`);
  }
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  let x = acklam(p);
  for (let i = 0; i < 3; i++) {
    const err = normalCdf(x) - p;
    const u = err * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    const next = x - u / (1 + (x * u) / 2);
    if (!Number.isFinite(next) || next === x) break;
    x = next;
  }
  return x;
}

const A = [
  -39.69683028665376,
  220.9460984245205,
  -275.9285104469687,
  138.357751867269,
  -30.66479806614716,
  2.506628277459239,
];
const B = [
  -54.47609879822406,
  161.5858368580409,
  -155.6989798598866,
  66.80131188771972,
  -13.28068155288572,
];
const C = [
  -0.007784894002430293,
  -0.3223964580411365,
  -2.400758277161838,
  -2.549732539343734,
  4.374664141464968,
  2.938163982698783,
];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

/** Acklam's approximation of Φ⁻¹ (relative error about 1e-9), the starting point. */
function acklam(p: number): number {
  const low = 0.02425;
  const poly = (coef: number[], t: number) => coef.reduce((acc, k) => acc * t + k, 0);
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x = poly(C, q) / (poly(D, q) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(A, r) * q) / (poly(B, r) * r + 1);
}

/**
 * d′ from a ROC-AUC: `√2 · Φ⁻¹(auc)` (0 at chance, AUC 0.5; +Infinity at
 * AUC 1). NaN stays NaN; an AUC outside [0, 1] is a RangeError.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dPrime } from "./d_prime.ts";
 * assert.equal(dPrime(0.5), 0);
 * // AUC = Φ(1/√2) = (1 + erf(1/2)) / 2 = 0.7602499389065233 → d′ = √2 · (1/√2) = 1
 * assert.ok(Math.abs(dPrime(0.7602499389065233) - 1) < 1e-12);
 * ```
 */
export function dPrime(auc: number): number {
  return Math.SQRT2 * normalQuantile(auc);
}
