import assert from "node:assert/strict";
import {
  DEFAULT_SCHEDULE_CONFIG,
  learningRate,
  resolveScheduleConfig,
} from "../../../lib/train/schedule.ts";

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1e-4, Math.abs(expected)),
    `${what}: expected ${expected}, got ${actual}`,
  );
}

Deno.test("learningRate() takes the documented values at the key steps", async (t) => {
  const schedule = { totalSteps: 110_000 }; // defaults: 1e-4 → 5e-5, warmup 10 000
  await t.step("step 0 is 0", () => {
    assert.equal(learningRate(0, schedule), 0);
  });
  await t.step("mid-warmup is linear", () => {
    assertClose(learningRate(5_000, schedule), 0.5e-4, "step 5000");
    assertClose(learningRate(2_500, schedule), 0.25e-4, "step 2500");
    assertClose(learningRate(1, schedule), 1e-4 / 10_000, "step 1");
  });
  await t.step("end of warmup is the base rate", () => {
    assertClose(learningRate(10_000, schedule), 1e-4, "step 10000");
  });
  await t.step("halfway through the decay is final + (base − final)·cos(π/4)", () => {
    // Quarter-period reading: 5e-5 + 5e-5·√2/2 ≈ 8.536e-5 (a half-period cosine would give 7.5e-5).
    assertClose(learningRate(60_000, schedule), 5e-5 + 5e-5 * Math.SQRT1_2, "step 60000");
  });
  await t.step("end of training and after is the final rate", () => {
    assertClose(learningRate(110_000, schedule), 5e-5, "step 110000");
    assertClose(learningRate(250_000, schedule), 5e-5, "step 250000");
  });
  await t.step("without warmup, step 0 is the base rate", () => {
    assertClose(learningRate(0, { warmupSteps: 0, totalSteps: 10 }), 1e-4, "step 0");
  });
  await t.step("custom rates", () => {
    const custom = { baseRate: 3e-3, finalRate: 0, warmupSteps: 4, totalSteps: 8 };
    assertClose(learningRate(1, custom), 0.75e-3, "step 1");
    assertClose(learningRate(6, custom), 3e-3 * Math.cos(Math.PI / 4), "step 6");
    assert.ok(Math.abs(learningRate(8, custom)) < 1e-18, "step 8 reaches 0");
  });
});

Deno.test("learningRate() rises during warmup and never rises after it", () => {
  const schedule = { baseRate: 2e-4, finalRate: 1e-5, warmupSteps: 50, totalSteps: 300 };
  let previous = -1;
  for (let step = 0; step <= 50; step++) {
    const lr = learningRate(step, schedule);
    assert.ok(lr > previous, `warmup step ${step}: ${lr} ≤ ${previous}`);
    previous = lr;
  }
  for (let step = 51; step <= 400; step++) {
    const lr = learningRate(step, schedule);
    assert.ok(lr <= previous, `decay step ${step}: ${lr} > ${previous}`);
    assert.ok(lr >= 1e-5 && lr <= 2e-4, `step ${step}: ${lr} out of [final, base]`);
    previous = lr;
  }
  // The quarter cosine is concave: each decay step is at least as large as the previous one.
  const drops = [100, 150, 200, 250, 300].map((s) =>
    learningRate(s - 1, schedule) - learningRate(s, schedule)
  );
  for (let i = 1; i < drops.length; i++) assert.ok(drops[i] > drops[i - 1]);
});

Deno.test("resolveScheduleConfig() fills defaults and rejects bad values with the value", () => {
  assert.deepEqual(resolveScheduleConfig({ totalSteps: 500_000 }), {
    ...DEFAULT_SCHEDULE_CONFIG,
    totalSteps: 500_000,
  });
  assert.deepEqual(DEFAULT_SCHEDULE_CONFIG, {
    baseRate: 1e-4,
    finalRate: 5e-5,
    warmupSteps: 10_000,
  });
  const bad: [Parameters<typeof resolveScheduleConfig>[0], RegExp][] = [
    [{ totalSteps: 100, warmupSteps: 0, baseRate: -1 }, /baseRate .* got -1/],
    [{ totalSteps: 100, warmupSteps: 0, baseRate: NaN }, /baseRate .* got NaN/],
    [{ totalSteps: 100, warmupSteps: 0, finalRate: Infinity }, /finalRate .* got Infinity/],
    [{ totalSteps: 100, warmupSteps: 0, finalRate: 2e-4 }, /finalRate 0.0002 must not exceed/],
    [{ totalSteps: 100, warmupSteps: 2.5 }, /warmupSteps .* got 2.5/],
    [{ totalSteps: -3, warmupSteps: 0 }, /totalSteps .* got -3/],
    [{ totalSteps: 5_000 }, /totalSteps 5000 must exceed warmupSteps 10000/],
    [{ totalSteps: 10, warmupSteps: 10 }, /totalSteps 10 must exceed warmupSteps 10/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => resolveScheduleConfig(options), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, message);
      return true;
    });
    assert.throws(() => learningRate(0, options), RangeError);
  }
  for (const step of [-1, NaN, Infinity]) {
    assert.throws(() => learningRate(step, { totalSteps: 20_000 }), new RegExp(`got ${step}`));
  }
});
