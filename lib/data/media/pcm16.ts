/**
 * The one scale between float audio in [−1, 1] and 16-bit PCM, used both
 * ways by everything that stores audio as int16 (WAV files, dataset shards)
 * and reads it back (WAV decoding, model inputs, mixup).
 *
 * The convention is the usual one for int16 PCM: a sample `s` means
 * `s / 32768`, so the int16 range −32768 … 32767 covers [−1, 1 − 2⁻¹⁵]; a
 * float is written as `round(v · 32768)`, clipped to that range. Writing and
 * reading use the same scale, so any value `k / 32768` (every sample decoded
 * from a 16-bit file among them) comes back bit for bit, and any other value
 * in [−1, 1] within half a step (1/65536), except above 32767/32768 where
 * clipping costs at most one step (1/32768).
 *
 * @module
 */

/**
 * Float value of one int16 step: a sample `s` stands for `s / PCM16_SCALE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PCM16_SCALE } from "./pcm16.ts";
 * assert.equal(PCM16_SCALE, 32768);
 * ```
 */
export const PCM16_SCALE = 32768;

/**
 * The int16 sample of float `v`: `round(v · 32768)` clipped to
 * −32768 … 32767 (NaN is written as 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floatToPcm16 } from "./pcm16.ts";
 * assert.equal(floatToPcm16(0.5), 16384);
 * assert.equal(floatToPcm16(-1), -32768);
 * assert.equal(floatToPcm16(1), 32767); // clipped
 * assert.equal(floatToPcm16(NaN), 0);
 * ```
 */
export function floatToPcm16(v: number): number {
  const s = Math.round((v > 1 ? 1 : v < -1 ? -1 : v || 0) * PCM16_SCALE);
  return s > 32767 ? 32767 : s;
}

/**
 * The float value of int16 sample `s`: `s / 32768`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floatToPcm16, pcm16ToFloat } from "./pcm16.ts";
 * assert.equal(pcm16ToFloat(-16384), -0.5);
 * assert.equal(floatToPcm16(pcm16ToFloat(12345)), 12345); // the same scale both ways
 * ```
 */
export function pcm16ToFloat(s: number): number {
  return s / PCM16_SCALE;
}
