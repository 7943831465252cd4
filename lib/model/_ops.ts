/**
 * Small tensor operations the model needs that work, forward and backward, on
 * every backend the project uses. The wasm backend has no `UnsortedSegmentSum`
 * kernel, so the built-in gradient of `tf.gather` fails there; `gatherRows`
 * gives the same result with a gradient written through `tf.scatterND`, which
 * every backend has.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  BATCH_NORM_GRAD_KERNEL,
  BATCH_NORM_KERNEL,
  DENSE_GRAD_KERNEL,
  DENSE_KERNEL,
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
} from "../backend/kernels/names.ts";
import type { DropoutAttrs } from "../backend/kernels/dropout.ts";

/**
 * Whether the active backend has the fused kernel `name` (registered by
 * `lib/backend/kernels/fused.ts` for wasm); the ops below use it when so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { hasKernel } from "./_ops.ts";
 * await tf.setBackend("cpu");
 * assert.equal(hasKernel("VattGelu"), false); // the fused kernels are wasm's
 * assert.equal(hasKernel("Add"), true);
 * ```
 */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/**
 * Rows of a 2-D tensor: `out[i] = x[indices[i]]`, with a gradient that sums
 * into repeated rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gatherRows } from "./_ops.ts";
 * const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
 * const y = gatherRows(x, tf.tensor1d([2, 0], "int32"));
 * assert.deepEqual(await y.array(), [[5, 6], [1, 2]]);
 * ```
 */
export function gatherRows(x: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const table = args[0] as tf.Tensor2D;
      const save = args[1] as tf.GradSaveFunc;
      save([indices]);
      const value = tf.gather(table, indices) as tf.Tensor2D; // [K, D]
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const idx = tf.reshape(saved[0], [-1, 1]); // [K, 1]
        return tf.scatterND(idx, dy, x.shape); // [N, D], duplicates summed
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(x) as tf.Tensor2D;
}

/**
 * A dense layer on the last axis: `x · kernel (+ bias)`, for any leading shape.
 * Where the backend has the `VattDense` kernels (wasm with the native BLAS:
 * `lib/backend/kernels/dense.ts`), one kernel runs each way. Layers whose input
 * is data (patch embeddings) pass `{ dataInput: true }`: `x` then gets no
 * gradient, and the backward pass skips its product (`[tokens, patch]`, the
 * largest of the layer's: 2.4 ms of the `small` step's video projection).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { dense } from "./_ops.ts";
 * const y = dense(tf.ones([2, 3, 4]), tf.ones([4, 5]), tf.zeros([5]));
 * assert.equal(y.shape.join(), "2,3,5");
 * ```
 */
export function dense(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias?: tf.Tensor,
  options: { dataInput?: boolean } = {},
): tf.Tensor {
  if (
    hasKernel(DENSE_KERNEL) && x.dtype === "float32" && x.rank >= 2 && kernel.rank === 2 &&
    (!bias || bias.rank === 1)
  ) {
    return fusedDense(x, kernel, bias, options.dataInput ?? false);
  }
  const lead = x.shape.slice(0, -1);
  const inDim = x.shape[x.shape.length - 1];
  const outDim = kernel.shape[1]!;
  const flat = tf.reshape(x, [-1, inDim]) as tf.Tensor2D; // [M, in]
  const y = bias
    ? tf.fused.matMul({ a: flat, b: kernel as tf.Tensor2D, bias })
    : tf.matMul(flat, kernel as tf.Tensor2D); // [M, out]
  return tf.reshape(y, [...lead, outDim]);
}

/**
 * {@linkcode dense} as one `VattDense` kernel each way; gradients for the
 * kernel, the bias and (unless `dataInput`, when `x` is no input of the
 * operation) `x`.
 */
function fusedDense(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  dataInput: boolean,
): tf.Tensor {
  const withBias = bias !== undefined;
  const differentiated = [...(dataInput ? [] : [x]), kernel, ...(withBias ? [bias] : [])];
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const given = args.slice(0, differentiated.length) as tf.Tensor[];
      const [xi, ki, bi] = dataInput ? [x, ...given] : given;
      (args[differentiated.length] as tf.GradSaveFunc)([xi, ki]);
      const inputs: Record<string, tf.Tensor> = { x: xi, kernel: ki };
      if (bi) inputs.bias = bi;
      const value = tf.engine().runKernel(DENSE_KERNEL, inputs) as tf.Tensor;
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(DENSE_GRAD_KERNEL, { x: saved[0], kernel: saved[1], dy }, {
          withBias,
          withInput: !dataInput,
        }) as tf.Tensor[];
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(...differentiated) as tf.Tensor;
}

/**
 * Layer normalisation over the last axis. Where the backend has the fused
 * `VattLayerNorm` kernels (wasm: `lib/backend/kernels/fused.ts`), one kernel
 * runs each way instead of the composite ops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { layerNorm } from "./_ops.ts";
 * const y = layerNorm(tf.tensor2d([[1, 2, 3]]), tf.ones([3]), tf.zeros([3]));
 * assert.ok(Math.abs((await y.data())[1]) < 1e-6);
 * ```
 */
export function layerNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  options: { epsilon?: number } = {},
): tf.Tensor {
  const epsilon = options.epsilon ?? 1e-6;
  const d = x.shape[x.rank - 1];
  if (
    hasKernel(LAYER_NORM_KERNEL) && x.dtype === "float32" && gamma.rank === 1 && beta.rank === 1 &&
    gamma.shape[0] === d && beta.shape[0] === d
  ) {
    // One kernel each way; gradients for x, gamma and beta.
    return normalizing([LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL], x, gamma, beta, epsilon)[0];
  }
  const axis = x.rank - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(normed, gamma), beta);
}

/**
 * Training-mode BatchNorm of `x` `[N, C]` over its rows as one kernel each way
 * (`VattBatchNorm`, wasm), with the batch's mean and variance `[C]` (kept
 * tensors the caller disposes; no gradient flows back through them); `null`
 * where the backend lacks the kernel, for the caller's chain of ops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { fusedBatchNorm } from "./_ops.ts";
 * await tf.setBackend("cpu");
 * assert.equal(fusedBatchNorm(tf.ones([2, 3]), tf.ones([3]), tf.zeros([3]), 1e-5), null);
 * ```
 */
export function fusedBatchNorm(
  x: tf.Tensor2D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor2D; mean: tf.Tensor1D; variance: tf.Tensor1D } | null {
  if (!hasKernel(BATCH_NORM_KERNEL) || x.dtype !== "float32") return null;
  const [y, mean, variance] = normalizing(
    [BATCH_NORM_KERNEL, BATCH_NORM_GRAD_KERNEL],
    x,
    gamma,
    beta,
    epsilon,
  );
  return { y: y as tf.Tensor2D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * A normalising kernel pair as one operation: `forward` `{x, gamma, beta}`
 * → the value (and, for BatchNorm, statistics: returned kept, without
 * gradient, for the caller to dispose), `grad` `{x, gamma, dy}` → `[dx,
 * dgamma, dbeta]`, both with attr `epsilon`.
 */
function normalizing(
  [forward, grad]: [string, string],
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): tf.Tensor[] {
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, g, b] = args as tf.Tensor[];
      (args[3] as tf.GradSaveFunc)([input, g]);
      const out = tf.engine().runKernel(forward, { x: input, gamma: g, beta: b }, { epsilon });
      const [value, ...rest] = Array.isArray(out) ? out : [out];
      stats = rest.map((t) => tf.keep(t)); // out of the op's tidy: the caller owns them
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(grad, { x: saved[0], gamma: saved[1], dy }, {
          epsilon,
        }) as tf.Tensor[];
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return [op(x, gamma, beta) as tf.Tensor, ...stats];
}

/**
 * GELU with the exact error function: `0.5·x·(1 + erf(x/√2))`; one kernel each
 * way where the backend has the fused `VattGelu` kernels (wasm). `drop` (for
 * `./dropout.ts`, where the backend has those kernels): dropout's mask,
 * applied to the output and its gradient inside the same kernels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gelu } from "./_ops.ts";
 * assert.ok(Math.abs((await gelu(tf.scalar(1)).data())[0] - 0.8413447) < 1e-5);
 * ```
 */
export function gelu(x: tf.Tensor, drop?: DropoutAttrs): tf.Tensor {
  if (hasKernel(GELU_KERNEL) && x.dtype === "float32") {
    const attrs = (drop ?? {}) as unknown as tf.NamedAttrMap;
    const op = tf.customGrad(
      ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const input = args[0] as tf.Tensor;
        const [value, cdf] = tf.engine().runKernel(GELU_KERNEL, { x: input }, attrs) as tf.Tensor[];
        (args[1] as tf.GradSaveFunc)([input, cdf]);
        const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.engine().runKernel(
            GELU_GRAD_KERNEL,
            { x: saved[0], cdf: saved[1], dy },
            attrs,
          ) as tf.Tensor;
        return { value, gradFunc };
      }) as unknown as Parameters<typeof tf.customGrad>[0],
    );
    return op(x) as tf.Tensor;
  }
  if (drop) throw new TypeError("Cannot fuse dropout into GELU without the VattGelu kernel");
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** Options of {@linkcode fusedAttention}. */
export interface FusedAttentionOptions {
  /** Attention heads: the last axis of q, k, v splits into `heads` blocks. */
  heads: number;
  /** The logits' scale, `1/√dh`. */
  scale: number;
  /** A logit bias per head `[H, L, L]` (relative positions), trained through. */
  bias?: tf.Tensor3D;
  /** A constant logit bias per clip and key `[B, L]` (0 or a large negative: padding). */
  mask?: tf.Tensor2D;
  /**
   * Attention dropout's mask on the probabilities `[B, H, L, L]` (0 or
   * `1/(1 − rate)`: `dropoutMask` of `./dropout.ts`), applied before the product with V.
   */
  drop?: tf.Tensor4D;
}

/**
 * Whether {@linkcode fusedAttention} can run on the active backend (wasm with
 * the native BLAS: `lib/backend/kernels/attention.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { hasFusedAttention } from "./_ops.ts";
 * await tf.setBackend("cpu");
 * assert.equal(hasFusedAttention(), false);
 * ```
 */
export function hasFusedAttention(): boolean {
  return hasKernel(ATTENTION_KERNEL);
}

/**
 * Multi-head attention on queries, keys and values in the dense layers'
 * layout `[B, L, H·dh]`: per clip and head `softmax(scale·Q Kᵀ + bias + mask) V`,
 * returned as `[B, L, H·dh]`, the probabilities times `drop` where given. One
 * kernel each way (see {@linkcode hasFusedAttention}); gradients for q, k, v
 * and `bias`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { fusedAttention, hasFusedAttention } from "./_ops.ts";
 * await tf.setBackend("cpu");
 * const q = tf.ones([1, 4, 8]) as tf.Tensor3D; // [B, L, H·dh]
 * if (hasFusedAttention()) {
 *   const z = fusedAttention(q, q, q, { heads: 2, scale: 1 / 2 }); // wasm with the native BLAS
 *   assert.deepEqual(z.shape, [1, 4, 8]);
 * } else {
 *   // The cpu backend has no fused kernel: callers take the composite path.
 *   assert.throws(() => fusedAttention(q, q, q, { heads: 2, scale: 1 / 2 }), /VattAttention/);
 * }
 * ```
 */
export function fusedAttention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  options: FusedAttentionOptions,
): tf.Tensor3D {
  const { heads, scale, bias, mask, drop } = options;
  const withBias = bias !== undefined;
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const n = withBias ? 4 : 3;
      const [qi, ki, vi, bi] = args.slice(0, n) as tf.Tensor[];
      const inputs: Record<string, tf.Tensor> = { q: qi, k: ki, v: vi };
      if (bi) inputs.bias = bi;
      if (mask) inputs.mask = mask;
      if (drop) inputs.drop = drop;
      const [value, alpha] = tf.engine().runKernel(ATTENTION_KERNEL, inputs, {
        heads,
        scale,
      }) as tf.Tensor[];
      (args[n] as tf.GradSaveFunc)(drop ? [qi, ki, vi, alpha, drop] : [qi, ki, vi, alpha]);
      const gradFunc = (dz: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(
          ATTENTION_GRAD_KERNEL,
          {
            dz,
            q: saved[0],
            k: saved[1],
            v: saved[2],
            alpha: saved[3],
            ...(drop ? { drop: saved[4] } : {}),
          },
          { heads, scale, withBias },
        ) as tf.Tensor[];
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return (withBias ? op(q, k, v, bias) : op(q, k, v)) as tf.Tensor3D;
}
