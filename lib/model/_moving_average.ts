/**
 * A moving average folded in place: `moving = m·moving + (1 − m)·batch`
 * (BatchNorm's statistics after a training step), written straight into the
 * variable's storage instead of through three engine calls and two scalar
 * tensors per statistic: the same bits as `tf.add(tf.mul(moving, m),
 * tf.mul(batch, 1 − m))` (each float32 operation computed in float64 and
 * rounded once, which gives the float32 result exactly).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { markRewritten, ownValues } from "../backend/kernels/tensor_memory.ts";

/**
 * Folds `batch` into `moving` with momentum `m`: in place on the wasm backend
 * (whose reads are copies; the cpu backend hands out its own arrays, which a
 * caller may still hold), else through the engine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { foldMovingAverage } from "./_moving_average.ts";
 * await tf.setBackend("cpu");
 * const moving = tf.variable(tf.tensor1d([1, 0.3]));
 * const batch = tf.tensor1d([3, 0.7]);
 * const want = tf.add(tf.mul(moving, 0.99), tf.mul(batch, 1 - 0.99));
 * foldMovingAverage(moving, batch, 0.99);
 * assert.deepEqual([...moving.dataSync()], [...want.dataSync()]);
 * ```
 */
export function foldMovingAverage(moving: tf.Variable, batch: tf.Tensor, m: number): void {
  const inPlace = tf.getBackend() === "wasm" && batch.dtype === "float32" &&
    batch.size === moving.size;
  // Read before the view: reading allocates nothing on the heap, but the view must come last.
  const values = inPlace ? batch.dataSync() as Float32Array : undefined;
  const own = values ? ownValues(moving) : undefined;
  if (!own || !values) {
    tf.tidy(() => moving.assign(tf.add(tf.mul(moving, m), tf.mul(batch, 1 - m))));
    return;
  }
  const keep = Math.fround(m), take = Math.fround(1 - m);
  for (let i = 0; i < own.length; i++) {
    own[i] = Math.fround(Math.fround(own[i] * keep) + Math.fround(values[i] * take));
  }
  markRewritten(moving);
}
