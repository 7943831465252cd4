/**
 * A tower's aggregation token in (before its tokens) and out (each clip's
 * first output), with their gradients; one kernel each way where the backend
 * has them (`lib/backend/kernels/agg_token.ts`). Private to `lib/model/`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  FIRST_TOKEN_GRAD_KERNEL,
  FIRST_TOKEN_KERNEL,
  PREPEND_TOKEN_GRAD_KERNEL,
  PREPEND_TOKEN_KERNEL,
} from "../backend/kernels/names.ts";
import { hasKernel } from "./_ops.ts";

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

tf.registerGradient({
  kernelName: FIRST_TOKEN_KERNEL,
  gradFunc: (dy, _saved, attrs) => ({
    x: () =>
      tf.engine().runKernel(FIRST_TOKEN_GRAD_KERNEL, { dy: dy as tf.Tensor }, attrs as never),
  }),
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
 * import { prependToken } from "./_agg_token.ts";
 * const y = prependToken(tf.tensor3d([[[1, 2]], [[3, 4]]]), tf.tensor1d([9, 8]));
 * assert.deepEqual(await y.array(), [[[9, 8], [1, 2]], [[9, 8], [3, 4]]]);
 * ```
 */
export function prependToken(x: tf.Tensor3D, token: tf.Tensor): tf.Tensor3D {
  if (hasKernel(PREPEND_TOKEN_KERNEL) && x.dtype === "float32") {
    return tf.engine().runKernel(PREPEND_TOKEN_KERNEL, { x, token }) as tf.Tensor3D;
  }
  return tf.tidy(() => {
    const [b, , d] = x.shape;
    // A broadcast, not tf.tile: Tile's gradient is a slice and an add per clip (B of each).
    const agg = tf.add(tf.zeros([b, 1, d]), tf.reshape(token, [1, 1, d])); // [B, 1, d]
    return tf.concat([agg, x], 1) as tf.Tensor3D; // [B, 1+N, d]
  });
}

/**
 * Each clip's first token of `x` `[B, L, d]`: `[B, d]`; one kernel each way
 * where the backend has `VattFirstToken` (wasm).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { firstToken } from "./_agg_token.ts";
 * const y = firstToken(tf.tensor3d([[[9, 8], [1, 2]], [[7, 6], [3, 4]]]));
 * assert.deepEqual(await y.array(), [[9, 8], [7, 6]]);
 * ```
 */
export function firstToken(x: tf.Tensor3D): tf.Tensor2D {
  const [b, l, d] = x.shape;
  if (hasKernel(FIRST_TOKEN_KERNEL) && x.dtype === "float32") {
    return tf.engine().runKernel(FIRST_TOKEN_KERNEL, { x }, { length: l }) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, d]), [b, d]) as tf.Tensor2D);
}
