/**
 * Relative position indices for the text transformer, in the two forms the
 * project supports. Both are computed once per sequence length as constant
 * integer tables; the model turns them into one-hot matrices and multiplies
 * them with learned tables, so no gather gradient is needed (see `_ops.ts`).
 *
 * @module
 */

/**
 * Shaw et al.'s clipped distance index: `clip(j − i, −k, k) + k`, in `[0, 2k]`,
 * for query `i` and key `j`. Returns `[L·L]` row-major (`i·L + j`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shawIndices } from "./relative_position.ts";
 * const idx = shawIndices(3, 1); // distances -2..2 clipped to -1..1
 * assert.equal(idx.join(), "1,2,2,0,1,2,0,0,1");
 * ```
 */
export function shawIndices(length: number, clipDistance: number): Int32Array {
  const out = new Int32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) {
      const d = Math.max(-clipDistance, Math.min(clipDistance, j - i));
      out[i * length + j] = d + clipDistance;
    }
  }
  return out;
}

/**
 * The T5 bidirectional bucket of a relative position `j − i`: half of the
 * buckets for each direction; within a direction, distances below half of
 * that half get a bucket each, and larger distances share log-spaced buckets
 * up to `maxDistance` (beyond which all fall in the last bucket).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t5Bucket } from "./relative_position.ts";
 * assert.equal(t5Bucket(0, { buckets: 32, maxDistance: 64 }), 0);
 * assert.equal(t5Bucket(3, { buckets: 32, maxDistance: 64 }), 19); // 16 + 3
 * assert.equal(t5Bucket(-3, { buckets: 32, maxDistance: 64 }), 3);
 * assert.equal(t5Bucket(1000, { buckets: 32, maxDistance: 64 }), 31);
 * ```
 */
export function t5Bucket(
  relative: number,
  options: { buckets: number; maxDistance: number },
): number {
  const half = Math.floor(options.buckets / 2);
  const offset = relative > 0 ? half : 0;
  const n = Math.abs(relative);
  const maxExact = Math.floor(half / 2);
  if (n < maxExact) return offset + n;
  const large = maxExact +
    Math.floor(
      (Math.log(n / maxExact) / Math.log(options.maxDistance / maxExact)) * (half - maxExact),
    );
  return offset + Math.min(large, half - 1);
}

/**
 * T5 bucket indices for every query/key pair: `[L·L]` row-major.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t5Indices } from "./relative_position.ts";
 * assert.equal(t5Indices(2, { buckets: 32, maxDistance: 64 }).join(), "0,17,1,0");
 * ```
 */
export function t5Indices(
  length: number,
  options: { buckets: number; maxDistance: number },
): Int32Array {
  const out = new Int32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) out[i * length + j] = t5Bucket(j - i, options);
  }
  return out;
}
