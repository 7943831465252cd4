import assert from "node:assert/strict";
import { dPrime, normalCdf, normalQuantile } from "../../../../lib/eval/classify/d_prime.ts";
import { dPrime as fromMetrics } from "../../../../lib/eval/classify/metrics.ts";

// Reference values worked out by hand from tables of erf:
// Φ(x) = (1 + erf(x/√2)) / 2; erf(1/2) = 0.5204998778130465, erf(1) = 0.8427007929497149,
// erf(2) = 0.9953222650189527.

Deno.test("dPrime() is 0 at chance (AUC 0.5) and 1 at AUC Φ(1/√2)", () => {
  assert.equal(dPrime(0.5), 0);
  assert.equal(fromMetrics(0.5), 0);
  const auc = (1 + 0.5204998778130465) / 2; // Φ(1/√2)
  assert.ok(Math.abs(dPrime(auc) - 1) < 1e-12, `${dPrime(auc)}`);
});

Deno.test("dPrime() is odd around AUC 0.5 and infinite at AUC 0 and 1", () => {
  const auc = (1 + 0.8427007929497149) / 2; // Φ(√2): d′ = √2 · √2 = 2
  assert.ok(Math.abs(dPrime(auc) - 2) < 1e-12);
  assert.ok(Math.abs(dPrime(1 - auc) + 2) < 1e-12);
  assert.equal(dPrime(1), Infinity);
  assert.equal(dPrime(0), -Infinity);
  assert.ok(Number.isNaN(dPrime(NaN)));
  assert.throws(() => dPrime(1.5), RangeError);
});

Deno.test("normalCdf() matches erf tables and normalQuantile() inverts it in the tails", () => {
  assert.ok(Math.abs(normalCdf(Math.SQRT2) - (1 + 0.8427007929497149) / 2) < 1e-15);
  assert.ok(Math.abs(normalCdf(2 * Math.SQRT2) - (1 + 0.9953222650189527) / 2) < 1e-15);
  // (the upper tail stops at 4: above it p rounds to within 1e-16 of 1 and cannot be inverted)
  for (const x of [-8, -5, -3.2, -1, -0.01, 0.3, 2.5, 4]) {
    const p = normalCdf(x);
    assert.ok(Math.abs(normalQuantile(p) - x) < 1e-9 * Math.max(1, Math.abs(x)), `x=${x}`);
  }
});
