import assert from "node:assert/strict";
import { mixRows, mixupPlan, sampleBeta } from "../../../lib/train/mixup.ts";
import { Rng } from "../../../lib/util/rng.ts";

Deno.test("mixupPlan() is a function of (seed, step) alone", () => {
  const a = mixupPlan(0.4, { seed: 5, step: 11, batchSize: 8 });
  // Draw something else in between: the plan must not depend on it.
  new Rng(5).nextFloat();
  const b = mixupPlan(0.4, { seed: 5, step: 11, batchSize: 8 });
  assert.equal(a.lambda, b.lambda);
  assert.deepEqual(a.permutation, b.permutation);
  const c = mixupPlan(0.4, { seed: 5, step: 12, batchSize: 8 });
  const d = mixupPlan(0.4, { seed: 6, step: 11, batchSize: 8 });
  assert.notEqual(a.lambda, c.lambda);
  assert.notEqual(a.lambda, d.lambda);
  assert.deepEqual([...a.permutation].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.ok(a.lambda >= 0 && a.lambda <= 1);
});

Deno.test("mixRows() mixes each row with its partner by λ", () => {
  const rows = new Float32Array([1, 2, 10, 20, 100, 200]);
  const out = mixRows(rows, { lambda: 0.75, permutation: [2, 0, 1] });
  assert.deepEqual(Array.from(out), [
    0.75 * 1 + 0.25 * 100,
    0.75 * 2 + 0.25 * 200,
    0.75 * 10 + 0.25 * 1,
    0.75 * 20 + 0.25 * 2,
    0.75 * 100 + 0.25 * 10,
    0.75 * 200 + 0.25 * 20,
  ]);
  // Mixed one-hot targets still sum to 1 per row.
  const t = mixRows(new Float32Array([1, 0, 0, 1]), { lambda: 0.3, permutation: [1, 0] });
  assert.ok(Math.abs(t[0] + t[1] - 1) < 1e-6 && Math.abs(t[0] - 0.3) < 1e-6);
  assert.throws(
    () => mixRows(new Float32Array(5), { lambda: 0.5, permutation: [0, 1] }),
    RangeError,
  );
});

Deno.test("sampleBeta() has the mean and variance of Beta(a, b)", async (t) => {
  for (const [a, b] of [[2, 5], [0.4, 0.4], [1, 1]]) {
    await t.step(`Beta(${a}, ${b})`, () => {
      const rng = new Rng(123);
      const n = 20000;
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const x = sampleBeta(a, b, rng);
        assert.ok(x >= 0 && x <= 1);
        sum += x;
        sq += x * x;
      }
      const mean = sum / n;
      const variance = sq / n - mean * mean;
      const m = a / (a + b);
      const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
      assert.ok(Math.abs(mean - m) < 0.01, `mean ${mean} vs ${m}`);
      assert.ok(Math.abs(variance - v) < 0.01, `variance ${variance} vs ${v}`);
    });
  }
  assert.throws(() => sampleBeta(0, 1, new Rng(1)), RangeError);
});
