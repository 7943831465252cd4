import assert from "node:assert/strict";
import { resample, toMono } from "../../../../lib/data/media/resample.ts";
import { assertNear, rms, sineRms, tone, toneFrequency } from "../_audio_fixtures.ts";

/** Largest deviation from the ideal tone at the new rate, away from the edges. */
function maxError(y: Float32Array, freq: number, rate: number, amplitude: number): number {
  let worst = 0;
  const skip = Math.round(rate / 100);
  for (let i = skip; i < y.length - skip; i++) {
    worst = Math.max(worst, Math.abs(y[i] - amplitude * Math.sin((2 * Math.PI * freq * i) / rate)));
  }
  return worst;
}

Deno.test("resample() keeps a tone's frequency, level and phase across common ratios", async (t) => {
  const cases = [
    { from: 44100, to: 48000, freq: 1000 },
    { from: 48000, to: 16000, freq: 1000 },
    { from: 22050, to: 48000, freq: 3000 },
    { from: 8000, to: 44100, freq: 440 },
    { from: 44100, to: 16000, freq: 5000 },
    { from: 44100, to: 47999.5, freq: 1000 }, // not a ratio of integers: interpolated table
    { from: 48000, to: 44100 * Math.SQRT2, freq: 2000 }, // irrational
  ];
  for (const c of cases) {
    await t.step(`${c.from} → ${Number(c.to.toFixed(1))}`, () => {
      const x = tone(c.freq, c.from, c.from, 0.5);
      const y = resample(x, c.from, c.to);
      assert.equal(y.length, Math.ceil(c.from * (c.to / c.from) - 1e-9));
      assertNear(toneFrequency(y, c.to), c.freq, 0.01, "frequency");
      assertNear(rms(y, Math.round(c.to / 100)), sineRms(0.5), 0.01, "level");
      assert.ok(maxError(y, c.freq, c.to, 0.5) < 1e-3, "samples follow the ideal tone");
    });
  }
});

Deno.test("resample() attenuates tones above the new Nyquist frequency (no aliasing)", async (t) => {
  const cases = [
    { from: 48000, to: 16000, freq: 10000 },
    { from: 48000, to: 16000, freq: 8500 },
    { from: 44100, to: 22050, freq: 15000 },
    { from: 44100, to: 8000, freq: 6000 },
    { from: 96000, to: 44100 * 0.7071, freq: 30000 },
  ];
  for (const c of cases) {
    await t.step(`${c.freq} Hz, ${c.from} → ${Number(c.to.toFixed(1))}`, () => {
      const y = resample(tone(c.freq, c.from, c.from / 2, 0.5), c.from, c.to);
      const attenuationDb = 20 * Math.log10(rms(y, 200) / sineRms(0.5));
      assert.ok(attenuationDb < -60, `only ${attenuationDb.toFixed(1)} dB`);
    });
  }
  await t.step("while a tone in the passband goes through", () => {
    const y = resample(tone(6000, 48000, 24000, 0.5), 48000, 16000);
    assertNear(rms(y, 200), sineRms(0.5), 0.01, "6 kHz level at 16 kHz");
  });
});

Deno.test("resample() is an exact copy when the rates are equal", () => {
  const x = tone(440, 16000, 1000);
  const y = resample(x, 16000, 16000);
  assert.deepEqual(y, x);
  assert.notEqual(y, x);
  assert.deepEqual(
    resample(x, 16000, 16000, { start: 990, length: 20 }).subarray(0, 10),
    x.subarray(990),
  );
});

Deno.test("resample() with start and length computes the same samples as the whole signal", () => {
  const x = tone(700, 44100, 44100);
  for (const [from, to] of [[44100, 16000], [44100, 47999.5]]) {
    const whole = resample(x, from, to);
    const part = resample(x, from, to, { start: 5000, length: 3000 });
    assert.equal(part.length, 3000);
    for (let i = 0; i < part.length; i++) assert.ok(Math.abs(part[i] - whole[5000 + i]) < 1e-6);
    const past = resample(x, from, to, { start: whole.length - 10, length: 100 });
    assert.equal(past.length, 100);
    assert.ok(past.subarray(50).every((v) => v === 0), "zeros past the end");
  }
});

Deno.test("resample() keeps a constant signal constant (unit DC gain)", () => {
  const x = new Float32Array(8000).fill(0.25);
  for (const [from, to] of [[8000, 44100], [44100, 16000], [8000, 12345.6]]) {
    const y = resample(x, from, to);
    const skip = Math.ceil(to / 100);
    for (let i = skip; i < y.length - skip; i++) {
      assert.ok(Math.abs(y[i] - 0.25) < 1e-4, `${from}→${to} at ${i}`);
    }
  }
});

Deno.test("resample() turns 10 s of 44.1 kHz into 48 kHz in well under a second", () => {
  const x = tone(1000, 44100, 441000);
  const t0 = performance.now();
  const y = resample(x, 44100, 48000);
  const ms = performance.now() - t0;
  assert.equal(y.length, 480000);
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("resample() rejects bad rates and options with RangeError", () => {
  const x = new Float32Array(10);
  assert.throws(() => resample(x, 0, 16000), /fromRate 0/);
  assert.throws(() => resample(x, 16000, -1), /toRate -1/);
  assert.throws(() => resample(x, 16000, NaN), /toRate NaN/);
  assert.throws(() => resample(x, 16000, 8000, { cutoff: 1.5 }), /cutoff 1.5/);
  assert.throws(() => resample(x, 16000, 8000, { halfTaps: 0 }), /halfTaps 0/);
  assert.throws(() => resample(x, 16000, 8000, { start: -1 }), /start -1/);
  assert.throws(() => resample(x, 1e7, 1), /taps/);
  assert.throws(() => resample([1, 2] as unknown as Float32Array, 1, 2), TypeError);
});

Deno.test("toMono() averages channels and rejects mismatched ones", () => {
  const left = Float32Array.of(1, 0.5, -1);
  const right = Float32Array.of(-1, 0.5, 0);
  assert.deepEqual([...toMono([left, right])], [0, 0.5, -0.5]);
  const one = toMono([left]);
  assert.deepEqual(one, left);
  assert.notEqual(one, left);
  assert.throws(() => toMono([]), RangeError);
  assert.throws(() => toMono([left, new Float32Array(2)]), /channel 1 has 2 samples/);
});
