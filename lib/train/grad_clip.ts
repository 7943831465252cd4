/**
 * Gradient clipping by global norm.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The result of {@linkcode clipByGlobalNorm}. */
export interface ClippedGradients {
  /** The clipped gradients, new tensors under the same names (the caller disposes them). */
  grads: Record<string, tf.Tensor>;
  /** The global norm before clipping (a new float32 scalar; the caller disposes it). */
  norm: tf.Scalar;
}

/**
 * Scales a set of gradients so that their global norm is at most `maxNorm`, with the
 * semantics of TensorFlow's `tf.clip_by_global_norm`:
 *
 * ```
 * norm = √(Σ_k ‖g_k‖²)
 * g_k ← g_k · maxNorm / max(norm, maxNorm)
 * ```
 *
 * Gradients already within the bound come back unchanged (as new tensors). As in TensorFlow,
 * when the norm is infinite or NaN every clipped gradient is NaN, so the caller can detect
 * the bad step; `norm` is returned as computed. An empty record gives norm 0.
 *
 * @param grads gradients by name, float32, any shapes; not disposed.
 * @param maxNorm the bound, a finite number above 0.
 * @throws {RangeError} when `maxNorm` is not a finite number above 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { clipByGlobalNorm } from "./grad_clip.ts";
 * const a = tf.tensor1d([3, 0]);
 * const b = tf.scalar(4);
 * const { grads, norm } = clipByGlobalNorm({ a, b }, 1); // norm 5 → scale 0.2
 * assert.equal((await norm.data())[0], 5);
 * assert.ok(Math.abs((await grads.b.data())[0] - 0.8) < 1e-6);
 * tf.dispose([a, b, norm, ...Object.values(grads)]);
 * ```
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): ClippedGradients {
  if (typeof maxNorm !== "number" || !Number.isFinite(maxNorm) || maxNorm <= 0) {
    throw new RangeError(
      `clipByGlobalNorm(): maxNorm must be a finite number above 0, got ${maxNorm}`,
    );
  }
  const entries = Object.entries(grads);
  for (const [name, grad] of entries) {
    if (!(grad instanceof tf.Tensor)) {
      throw new TypeError(`clipByGlobalNorm(): gradient "${name}" is not a tf.Tensor`);
    }
  }
  return tf.tidy(() => {
    const norm = tf.sqrt(sumOfSquares(entries.map(([, grad]) => grad))) as tf.Scalar;
    // Exactly 1 when norm ≤ maxNorm. Adding norm − norm (0 when the norm is finite, NaN when
    // it is ±Inf or NaN) makes the scale NaN on every backend, whatever its max does with NaN.
    const scale = tf.add(tf.div(maxNorm, tf.maximum(norm, maxNorm)), tf.sub(norm, norm));
    const clipped: Record<string, tf.Tensor> = {};
    for (const [name, grad] of entries) clipped[name] = tf.mul(grad, scale);
    return { grads: clipped, norm };
  });
}

/**
 * `Σ_i Σ g_i²` over the gradients, each squared and summed in its own tidy,
 * so at most one gradient's squares exist at a time (not a copy of them all).
 */
function sumOfSquares(grads: tf.Tensor[]): tf.Scalar {
  if (grads.length === 0) return tf.scalar(0);
  return tf.addN(
    grads.map((g) => tf.tidy(() => tf.sum(tf.square(tf.cast(g, "float32"))))),
  ) as tf.Scalar;
}

/**
 * The global norm `sqrt(Σ‖g‖²)` of a set of gradients (a new scalar; the
 * caller disposes it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { globalNorm } from "./grad_clip.ts";
 * const n = globalNorm({ a: tf.tensor1d([3]), b: tf.tensor1d([4]) });
 * assert.equal((await n.data())[0], 5);
 * ```
 */
export function globalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => tf.sqrt(sumOfSquares(Object.values(grads))) as tf.Scalar);
}
