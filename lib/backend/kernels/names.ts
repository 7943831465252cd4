/**
 * The one table of vatt's own kernel names: the contract between the kernels
 * registered here (`fused.ts`, `attention.ts`, `dense.ts`, `dropout.ts`, `contrastive.ts`, `batch_norm.ts`, `encoder_layer.ts`) and the
 * code that runs them through `tf.engine().runKernel` (`lib/model/_ops.ts`,
 * `lib/train/optimizer.ts`, `lib/loss/_fused_two_way.ts`). A backend that lacks a name below runs the
 * composite ops instead.
 *
 * - `VattGelu` `{x}` → `[y, Φ]`; `VattGeluGrad` `{x, cdf, dy}` → `dx`;
 * - `VattLayerNorm` `{x, gamma, beta}`, attr `epsilon` → `y`;
 *   `VattLayerNormGrad` `{x, gamma, dy}`, attr `epsilon` → `[dx, dgamma, dbeta]`;
 * - `VattAdam` `{weight, m, v, grad}`, attrs `beta1, beta2, epsilon, lr, steps,
 *   decay` → `[weight', m', v']`;
 * - `VattAttention` `{q, k, v, bias?, mask?, drop?}`, attrs `heads, scale` →
 *   `[z, α]`; `VattAttentionGrad` `{dz, q, k, v, alpha, drop?}`, attrs `heads,
 *   scale, withBias` → `[dq, dk, dv]` (and `dbias` with `withBias`);
 * - `VattDense` `{x, kernel, bias?}` → `y`; `VattDenseGrad` `{x, kernel, dy}`,
 *   attrs `withBias`, `withInput` → `[dx, dkernel]` (and `dbias` with
 *   `withBias`; no `dx` with `withInput` false);
 * - `VattDropout` `{x}`, attrs `offset, k1, k2, threshold, scale` → `y` (its
 *   gradient is the same kernel on `dy`);
 * - `VattEncoderLayer`, `VattEncoderLayerGrad`: a whole encoder layer each way, made of the
 *   kernels above (`encoder_layer.ts`);
 * - `VattBatchNorm` `{x, gamma, beta}`, attr `epsilon` → `[y, mean, variance]`;
 *   `VattBatchNormGrad` `{x, gamma, dy}`, attr `epsilon` → `[dx, dgamma, dbeta]`
 *   (`batch_norm.ts`);
 * - `VattContrastive` `{v, x, mask, videoMask}`, attrs `form, temperature,
 *   normalize` → the loss; `VattContrastiveGrad` `{v, x, mask, videoMask, dy}`,
 *   the same attrs → `[dv, dx]` (`contrastive.ts`).
 *
 * tfjs's own kernels that `matmul.ts` and `wasm.ts` replace keep tfjs's names
 * (`BatchMatMul`, `_FusedMatMul`, `Transpose`, `Identity`, `Sum`, `GatherV2`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KERNEL_NAMES, LAYER_NORM_KERNEL } from "./names.ts";
 * assert.equal(LAYER_NORM_KERNEL, "VattLayerNorm");
 * assert.ok(Object.values(KERNEL_NAMES).every((name) => name.startsWith("Vatt")));
 * ```
 *
 * @module
 */

/** GELU, forward: `{x}` → `[y, Φ(x)]`. */
export const GELU_KERNEL = "VattGelu";
/** GELU, backward: `{x, cdf, dy}` → `dx`. */
export const GELU_GRAD_KERNEL = "VattGeluGrad";
/** LayerNorm over the last axis: `{x, gamma, beta}`, attr `epsilon` → `y`. */
export const LAYER_NORM_KERNEL = "VattLayerNorm";
/** LayerNorm, backward: `{x, gamma, dy}`, attr `epsilon` → `[dx, dgamma, dbeta]`. */
export const LAYER_NORM_GRAD_KERNEL = "VattLayerNormGrad";
/** One Adam(W) step, bit-identical to the optimiser's chain of ops. */
export const ADAM_KERNEL = "VattAdam";
/** Multi-head attention, forward: `{q, k, v, bias?, mask?, drop?}` → `[z, α]`. */
export const ATTENTION_KERNEL = "VattAttention";
/** Multi-head attention, backward: `{dz, q, k, v, alpha, drop?}` → `[dq, dk, dv, dbias?]`. */
export const ATTENTION_GRAD_KERNEL = "VattAttentionGrad";
/** A dense layer, forward: `{x, kernel, bias?}` → `y`. */
export const DENSE_KERNEL = "VattDense";
/** A dense layer, backward: `{x, kernel, dy}` → `[dx, dkernel, dbias?]`. */
export const DENSE_GRAD_KERNEL = "VattDenseGrad";

/** A whole pre-LN encoder layer, forward: `{x, 16 weights, bias?, mask?, drop?}` → `[out, …saved]`. */
export const ENCODER_LAYER_KERNEL = "VattEncoderLayer";
/** Its gradient: `{dy, x, …saved, weights, drop?}` → `[dx, …dweights, dbias?]`. */
export const ENCODER_LAYER_GRAD_KERNEL = "VattEncoderLayerGrad";
/** Training-mode BatchNorm over the batch axis: `{x, gamma, beta}`, attr `epsilon` → `[y, mean, variance]`. */
export const BATCH_NORM_KERNEL = "VattBatchNorm";
/** Its gradient: `{x, gamma, dy}`, attr `epsilon` → `[dx, dgamma, dbeta]`. */
export const BATCH_NORM_GRAD_KERNEL = "VattBatchNormGrad";
/** NCE / MIL-NCE, two-way forms: `{v, x, mask, videoMask}`, attrs `form, temperature, normalize` → loss. */
export const CONTRASTIVE_KERNEL = "VattContrastive";
/** Their gradient: `{v, x, mask, videoMask, dy}`, the same attrs → `[dv, dx]`. */
export const CONTRASTIVE_GRAD_KERNEL = "VattContrastiveGrad";

/** The aggregation token before a tower's tokens: `{x [B, N, d], token [d]}` → `[B, 1 + N, d]`. */
export const PREPEND_TOKEN_KERNEL = "VattPrependToken";
/** Its gradient: `{dy}` → `[dx, dtoken]`. */
export const PREPEND_TOKEN_GRAD_KERNEL = "VattPrependTokenGrad";
/** The aggregation token's output of each clip: `{x [B, L, d]}` → `[B, d]`. */
export const FIRST_TOKEN_KERNEL = "VattFirstToken";
/** Its gradient: `{dy [B, d]}`, attr `length` → `[B, L, d]`. */
export const FIRST_TOKEN_GRAD_KERNEL = "VattFirstTokenGrad";

/** Dropout with counter-based bits: `{x}`, attrs `offset, k1, k2, threshold, scale` → `y`. */
export const DROPOUT_KERNEL = "VattDropout";

/** Every vatt kernel name, by role. */
export const KERNEL_NAMES = {
  gelu: GELU_KERNEL,
  geluGrad: GELU_GRAD_KERNEL,
  layerNorm: LAYER_NORM_KERNEL,
  layerNormGrad: LAYER_NORM_GRAD_KERNEL,
  adam: ADAM_KERNEL,
  attention: ATTENTION_KERNEL,
  attentionGrad: ATTENTION_GRAD_KERNEL,
  dense: DENSE_KERNEL,
  denseGrad: DENSE_GRAD_KERNEL,
  dropout: DROPOUT_KERNEL,
  encoderLayer: ENCODER_LAYER_KERNEL,
  encoderLayerGrad: ENCODER_LAYER_GRAD_KERNEL,
  batchNorm: BATCH_NORM_KERNEL,
  batchNormGrad: BATCH_NORM_GRAD_KERNEL,
  contrastive: CONTRASTIVE_KERNEL,
  contrastiveGrad: CONTRASTIVE_GRAD_KERNEL,
  prependToken: PREPEND_TOKEN_KERNEL,
  prependTokenGrad: PREPEND_TOKEN_GRAD_KERNEL,
  firstToken: FIRST_TOKEN_KERNEL,
  firstTokenGrad: FIRST_TOKEN_GRAD_KERNEL,
} as const;

/** One of vatt's kernel names. */
export type KernelName = typeof KERNEL_NAMES[keyof typeof KERNEL_NAMES];
