/**
 * A tower's aggregation token before its tokens, with its gradient; one
 * kernel each way where the backend has them (`lib/backend/kernels/prepend_token.ts`).
 * Private to `lib/model/`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { PREPEND_TOKEN_GRAD_KERNEL, PREPEND_TOKEN_KERNEL } from "../backend/kernels/names.ts";

tf.registerGradient({
  kernelName: PREPEND_TOKEN_KERNEL,
  gradFunc: (dy) => {
    // Both gradients from one call, made here: each input's function runs in a tidy of its own.
    const [dx, dtoken] = tf.engine().runKernel(PREPEND_TOKEN_GRAD_KERNEL, {
      dy: dy as tf.Tensor,
    }) as tf.Tensor[];
    return { x: () => dx, token: () => dtoken };
  },
});

/**
 * `token` `[d]` before each clip's tokens `x` `[B, N, d]`: `[B, 1 + N, d]`; one
 * kernel each way where the backend has `VattPrependToken` (wasm).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { prependToken } from "./_prepend_token.ts";
 * const y = prependToken(tf.tensor3d([[[1, 2]], [[3, 4]]]), tf.tensor1d([9, 8]));
 * assert.deepEqual(await y.array(), [[[9, 8], [1, 2]], [[9, 8], [3, 4]]]);
 * ```
 */
export function prependToken(x: tf.Tensor3D, token: tf.Tensor): tf.Tensor3D {
  if (tf.getKernel(PREPEND_TOKEN_KERNEL, tf.getBackend()) && x.dtype === "float32") {
    return tf.engine().runKernel(PREPEND_TOKEN_KERNEL, { x, token }) as tf.Tensor3D;
  }
  return tf.tidy(() => {
    const [b, , d] = x.shape;
    // A broadcast, not tf.tile: Tile's gradient is a slice and an add per clip (B of each).
    const agg = tf.add(tf.zeros([b, 1, d]), tf.reshape(token, [1, 1, d])); // [B, 1, d]
    return tf.concat([agg, x], 1) as tf.Tensor3D; // [B, 1+N, d]
  });
}
