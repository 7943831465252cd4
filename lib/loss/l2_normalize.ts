/**
 * L2 normalisation of embeddings, written once for the library: the contrastive losses
 * (`nce.ts`, `mil_nce.ts`) and the fusion heads of `lib/model/fusion/` use it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Smallest squared norm used by {@linkcode l2Normalize} (as `tf.math.l2_normalize`). */
export const L2_NORM_EPSILON = 1e-12;

/**
 * Divides each vector along the last axis by its L2 norm: `x · rsqrt(max(Σ x², 1e-12))`,
 * the same as TensorFlow's `tf.math.l2_normalize`. A zero vector stays zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { l2Normalize } from "./l2_normalize.ts";
 * const unit = await l2Normalize(tf.tensor2d([[3, 4], [0, 0]])).data();
 * assert.ok(Math.abs(unit[0] - 0.6) < 1e-6 && Math.abs(unit[1] - 0.8) < 1e-6);
 * assert.deepEqual([unit[2], unit[3]], [0, 0]); // a zero vector stays zero
 * ```
 */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const squared = tf.sum(tf.square(x), -1, true); // [..., 1]
    return tf.mul(x, tf.rsqrt(tf.maximum(squared, L2_NORM_EPSILON))) as T;
  });
}
