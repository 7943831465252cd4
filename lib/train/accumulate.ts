/**
 * Gradient accumulation: the gradients of K micro-batch losses averaged into
 * one update. For a loss that is a mean over independent examples (the
 * classification losses), K micro-batches of B/K examples give the gradient
 * of the whole batch of B (to float rounding); a contrastive loss (NCE,
 * MIL-NCE) is not such a mean: each clip's negatives are the rest of its
 * batch, so micro-batches would train on fewer negatives — refused.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * The mean of the micro-batch losses `parts` and the mean of their gradients
 * with respect to `weights`, keyed like `tf.variableGrads`'s (by variable
 * name). One micro-batch's activations exist at a time; the running sums
 * are one gradient per weight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import "../backend/gradients.ts";
 * import { accumulatedGrads } from "./accumulate.ts";
 * // mean((w·x − 1)²) over x = [1, 2, 3, 4]: two micro-batches of two equal the batch.
 * const w = tf.variable(tf.scalar(0.5), true, "w");
 * const loss = (xs: number[]) => () => tf.mean(tf.square(tf.sub(tf.mul(w, tf.tensor1d(xs)), 1))) as tf.Scalar;
 * const whole = tf.variableGrads(loss([1, 2, 3, 4]), [w]);
 * const parts = accumulatedGrads([loss([1, 2]), loss([3, 4])], [w]);
 * assert.ok(Math.abs((await parts.value.data())[0] - (await whole.value.data())[0]) < 1e-6);
 * assert.ok(Math.abs((await parts.grads.w.data())[0] - (await whole.grads.w.data())[0]) < 1e-6);
 * ```
 */
export function accumulatedGrads(
  parts: (() => tf.Scalar)[],
  weights: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  if (parts.length === 0) throw new RangeError("accumulatedGrads() needs at least one micro-batch");
  const sums: tf.NamedTensorMap = {};
  let total: tf.Scalar | undefined;
  const addInto = (old: tf.Tensor | undefined, next: tf.Tensor) => {
    if (!old) return next;
    const sum = tf.add(old, next);
    tf.dispose([old, next]);
    return sum;
  };
  for (const part of parts) {
    const { value, grads } = tf.variableGrads(part, weights);
    total = addInto(total, value) as tf.Scalar;
    for (const [name, g] of Object.entries(grads)) sums[name] = addInto(sums[name], g);
  }
  const k = parts.length;
  const mean = (t: tf.Tensor) => {
    const m = tf.div(t, k);
    t.dispose();
    return m;
  };
  const grads: tf.NamedTensorMap = {};
  for (const [name, s] of Object.entries(sums)) grads[name] = mean(s);
  return { value: mean(total!) as tf.Scalar, grads };
}

/**
 * Refuses gradient accumulation for a contrastive loss, with the reason in
 * one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseContrastiveAccumulation } from "./accumulate.ts";
 * refuseContrastiveAccumulation(1); // no accumulation: fine
 * assert.throws(() => refuseContrastiveAccumulation(2), /negatives/);
 * ```
 */
export function refuseContrastiveAccumulation(accumulate: number): void {
  if (accumulate === 1) return;
  throw new RangeError(
    `cannot accumulate ${accumulate} micro-batches for pretraining: NCE and MIL-NCE contrast ` +
      `each clip with the rest of its batch, so a micro-batch's negatives are not the batch's ` +
      `and the loss would change; use a smaller --batch, or ranks (mpirun -np N … --distributed)`,
  );
}
