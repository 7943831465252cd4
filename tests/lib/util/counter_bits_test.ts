import assert from "node:assert/strict";
import {
  counterBits,
  fillCounterBits,
  fmix32,
  keepThreshold,
  streamKeys,
} from "../../../lib/util/counter_bits.ts";

Deno.test("fmix32() is MurmurHash3's finaliser: the published x86_32 hashes of the empty input", () => {
  // MurmurHash3_x86_32("", seed) = fmix32(seed ^ 0): SMHasher's verification vectors.
  assert.equal(fmix32(0), 0);
  assert.equal(fmix32(1), 0x514e28b7);
  assert.equal(fmix32(0xffffffff), 0x81f16f39);
});

Deno.test("fillCounterBits() gives any stretch of a stream without the values before it", () => {
  const keys = streamKeys(42);
  const whole = new Uint32Array(1000);
  fillCounterBits(keys, 0, whole);
  const stretch = new Uint32Array(100);
  fillCounterBits(keys, 437, stretch);
  assert.deepEqual(stretch, whole.subarray(437, 537));
  whole.forEach((v, i) => assert.equal(v, counterBits(keys, i)));
  // positions are taken modulo 2³²
  assert.equal(counterBits(keys, 2 ** 32 + 5), counterBits(keys, 5));
});

/** The bits of `n` positions of the stream of `seed`. */
function stream(seed: number, n: number, start = 0): Uint32Array {
  const out = new Uint32Array(n);
  fillCounterBits(streamKeys(seed), start, out);
  return out;
}

Deno.test("a stream's values are uniform: each of the 32 bits is set half the time, within 5σ", () => {
  const n = 1 << 20;
  const bits = stream(7, n);
  const sigma = Math.sqrt(n * 0.25);
  for (let b = 0; b < 32; b++) {
    let ones = 0;
    for (const v of bits) ones += (v >>> b) & 1;
    assert.ok(Math.abs(ones - n / 2) < 5 * sigma, `bit ${b}: ${ones} of ${n}`);
  }
});

Deno.test("dropout's keep decisions are Bernoulli(1 − rate): rates, neighbours and seeds independent within 5σ", () => {
  const n = 1 << 20;
  for (const rate of [0.1, 0.5, 0.9]) {
    const keep = 1 - rate;
    const t = keepThreshold(rate);
    for (const [seed, start] of [[1, 0], [2, 0], [3, 123456789]]) {
      const bits = stream(seed, n, start);
      let kept = 0;
      let pairs = 0; // neighbours both kept
      let lagged = 0; // positions i and i + 4 (another SIMD vector's lane) both kept
      for (let i = 0; i < n; i++) {
        const k = bits[i] < t;
        kept += k ? 1 : 0;
        if (i > 0 && k && bits[i - 1] < t) pairs++;
        if (i >= 4 && k && bits[i - 4] < t) lagged++;
      }
      const within = (count: number, p: number, m: number) =>
        Math.abs(count - m * p) < 5 * Math.sqrt(m * p * (1 - p));
      assert.ok(within(kept, keep, n), `rate ${rate} seed ${seed}: kept ${kept} of ${n}`);
      assert.ok(within(pairs, keep * keep, n - 1), `rate ${rate} seed ${seed}: pairs ${pairs}`);
      assert.ok(within(lagged, keep * keep, n - 4), `rate ${rate} seed ${seed}: lag 4 ${lagged}`);
    }
  }
  // two seeds' masks agree as two independent masks would: keep² + rate² of the time
  const [a, b] = [stream(11, n), stream(12, n)];
  const t = keepThreshold(0.5);
  let same = 0;
  for (let i = 0; i < n; i++) same += (a[i] < t) === (b[i] < t) ? 1 : 0;
  assert.ok(Math.abs(same - n / 2) < 5 * Math.sqrt(n / 4), `seeds 11, 12 agree on ${same}`);
});

Deno.test("keepThreshold() is (1 − rate)·2³² rounded up and refuses rates outside (0, 1)", () => {
  assert.equal(keepThreshold(0.25), 3 * 2 ** 30);
  assert.equal(keepThreshold(1e-12), 2 ** 32 - 1); // clamped to an unsigned 32-bit value
  for (const bad of [0, 1, -0.1, 1.5, NaN]) assert.throws(() => keepThreshold(bad), RangeError);
});
