/**
 * Counter-based random bits: the value at position `i` of the stream of a
 * seed is a hash of `(seed, i)`, so any stretch of a stream is computed
 * without the draws before it, by any number of SIMD lanes at once. Dropout
 * masks use it: the mask of a rank's (or a recomputed part's) rows of a global
 * batch is that batch's mask at those positions, and the wasm kernel that
 * applies a mask (`lib/backend/kernels/dropout.ts`) computes it where it is
 * used, so no mask is drawn on the host, uploaded or kept for the backward
 * pass.
 *
 * The hash is two rounds of MurmurHash3's 32-bit finaliser with two keys
 * derived from the seed: `fmix32(fmix32(i + k₁) ^ k₂)` (all arithmetic
 * modulo 2³²). The AssemblyScript kernel (`lib/backend/simd/kernels.as.ts`)
 * computes the same values; the tests hold both to this file.
 *
 * @module
 */

/**
 * MurmurHash3's 32-bit finaliser (a bijection of the unsigned 32-bit integers
 * whose every input bit flips about half of the output bits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fmix32 } from "./counter_bits.ts";
 * assert.equal(fmix32(0), 0);
 * assert.equal(fmix32(1), 0x514e28b7); // MurmurHash3's fmix32(1)
 * ```
 */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The two keys of a stream: `k₁ = fmix32(seed)`, `k₂ = fmix32(seed ^ 0x9e3779b9)`. */
export interface StreamKeys {
  /** Added to the position before the first round. */
  k1: number;
  /** Mixed in between the rounds. */
  k2: number;
}

/**
 * The keys of the stream of `seed` (an unsigned 32-bit integer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamKeys } from "./counter_bits.ts";
 * assert.deepEqual(streamKeys(7), streamKeys(7));
 * assert.notDeepEqual(streamKeys(7), streamKeys(8));
 * ```
 */
export function streamKeys(seed: number): StreamKeys {
  return { k1: fmix32(seed >>> 0), k2: fmix32((seed ^ 0x9e3779b9) >>> 0) };
}

/**
 * The unsigned 32-bit value at position `i` (taken modulo 2³²) of the stream with `keys`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { counterBits, fmix32, streamKeys } from "./counter_bits.ts";
 * const keys = streamKeys(1);
 * assert.equal(counterBits(keys, 5), fmix32(fmix32((5 + keys.k1) >>> 0) ^ keys.k2));
 * assert.notEqual(counterBits(keys, 5), counterBits(keys, 6));
 * ```
 */
export function counterBits(keys: StreamKeys, i: number): number {
  return fmix32(fmix32((i + keys.k1) >>> 0) ^ keys.k2);
}

/**
 * Fills `out` with positions `start, start + 1, …` of the stream with `keys`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { counterBits, fillCounterBits, streamKeys } from "./counter_bits.ts";
 * const keys = streamKeys(3);
 * const out = new Uint32Array(4);
 * fillCounterBits(keys, 10, out);
 * assert.equal(out[2], counterBits(keys, 12));
 * ```
 */
export function fillCounterBits(keys: StreamKeys, start: number, out: Uint32Array): void {
  const { k1, k2 } = keys;
  for (let i = 0; i < out.length; i++) {
    let h = (start + i + k1) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16) ^ k2) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    out[i] = h ^ (h >>> 16);
  }
}

/**
 * The unsigned 32-bit threshold `t` below which a value of a stream keeps its
 * place under dropout at `rate` (`0 < rate < 1`): `u < t` exactly when
 * `u / 2³² < 1 − rate`, so the keep probability is `1 − rate` to within 2⁻³².
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepThreshold } from "./counter_bits.ts";
 * assert.equal(keepThreshold(0.5), 2 ** 31);
 * assert.equal(keepThreshold(0.1), Math.ceil(0.9 * 2 ** 32));
 * ```
 */
export function keepThreshold(rate: number): number {
  if (!(rate > 0 && rate < 1)) {
    throw new RangeError(`A dropout rate must lie in (0, 1), got ${rate}`);
  }
  return Math.min(Math.ceil((1 - rate) * 4294967296), 4294967295);
}

/**
 * Fills `out` with the dropout multipliers of positions `start, start + 1, …`
 * of the stream with `keys`: `scale` (as float32) where the bits are below
 * `threshold`, else 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { counterBits, fillKeepMask, keepThreshold, streamKeys } from "./counter_bits.ts";
 * const keys = streamKeys(9);
 * const t = keepThreshold(0.5);
 * const out = new Float32Array(8);
 * fillKeepMask(keys, 100, t, 2, out);
 * out.forEach((m, i) => assert.equal(m, counterBits(keys, 100 + i) < t ? 2 : 0));
 * ```
 */
export function fillKeepMask(
  keys: StreamKeys,
  start: number,
  threshold: number,
  scale: number,
  out: Float32Array,
): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length); // replaced in place
  fillCounterBits(keys, start, bits);
  const s = Math.fround(scale);
  for (let i = 0; i < out.length; i++) out[i] = bits[i] < threshold ? s : 0;
}
