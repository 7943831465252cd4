import assert from "node:assert/strict";
import { erf, expNonPositive } from "../../../../lib/backend/kernels/approx.ts";

Deno.test("erf() is within 2e-8 of reference values and odd", () => {
  // erf at 0.1, 0.5, 1, 2, 3.5 (reference values to 12 digits)
  const reference: [number, number][] = [
    [0.1, 0.112462916018],
    [0.5, 0.520499877813],
    [1, 0.842700792950],
    [2, 0.995322265019],
    [3.5, 0.999999256902],
  ];
  for (const [x, want] of reference) {
    assert.ok(Math.abs(erf(x) - want) < 2e-8, `erf(${x}) = ${erf(x)}, want ${want}`);
    assert.equal(erf(-x), -erf(x));
  }
  assert.equal(erf(0), 0);
  assert.ok(Math.abs(erf(9) - 1) < 2e-8 && Math.abs(erf(-9) + 1) < 2e-8);
});

Deno.test("expNonPositive() matches Math.exp to 2e-7 relative on [-100, 0]", () => {
  for (let i = 0; i <= 20000; i++) {
    const x = -i / 200;
    const want = Math.exp(x);
    const got = expNonPositive(x);
    assert.ok(Math.abs(got - want) <= 2e-7 * want, `exp(${x}) = ${got}, want ${want}`);
  }
  assert.equal(expNonPositive(-200), 0);
  assert.equal(expNonPositive(0), 1);
});
