import assert from "node:assert/strict";
import { formatTick, linearAxis, logAxis, scale } from "../../../lib/plot/_ticks.ts";

Deno.test("linearAxis() puts ticks at 1/2/5 steps and widens a nice domain to them", () => {
  const a = linearAxis(0.13, 0.87, { nice: true });
  assert.deepEqual(a.ticks.map((t) => t.label), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
  assert.deepEqual(a.domain, [0, 1]);
  const b = linearAxis(3, 3);
  assert.deepEqual(b.domain, [1.5, 4.5]);
  assert.deepEqual(linearAxis(0, 250).ticks.map((t) => t.value), [0, 50, 100, 150, 200, 250]);
});

Deno.test("logAxis() spans whole decades with a tick per decade", () => {
  const a = logAxis(0.3, 20);
  assert.deepEqual(a.domain, [0.1, 100]);
  assert.deepEqual(a.ticks.map((t) => t.label), ["0.1", "1", "10", "100"]);
  const s = scale(a, 0, 300);
  assert.ok(Math.abs(s(1) - 100) < 1e-9 && Math.abs(s(100) - 300) < 1e-9);
  assert.deepEqual(logAxis(10, 10).domain, [1, 100]);
});

Deno.test("formatTick() keeps labels short", () => {
  assert.equal(formatTick(0.30000000000000004, 0.1), "0.3");
  assert.equal(formatTick(2e-5, 1e-5), "2e-5");
  assert.equal(formatTick(1500000, 500000), "1.5e6");
  assert.equal(formatTick(1200, 200), "1200");
});
