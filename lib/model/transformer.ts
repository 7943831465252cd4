/**
 * The pre-LayerNorm transformer encoder shared by the three modalities: a
 * learnable aggregation token is prepended, each layer is
 * `x + Drop(MHA(LN(x)))` then `x + Drop(MLP(LN(x)))` (GELU, dropout on the
 * MLP's inner layer too), and a final LayerNorm (then dropout) closes the
 * stack, as in the official code. Dropout runs only when the caller passes
 * a source (training). The aggregation token's output is the modality's
 * representation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackboneConfig, TextConfig } from "../config/vatt_config.ts";
import { dense, fusedAttention, hasFusedAttention, layerNorm } from "./_ops.ts";
import { firstToken, prependToken } from "./_agg_token.ts";
import { dropout, dropoutMask, type DropoutSource, droppedGelu } from "./dropout.ts";
import { fusedEncoderLayer, fusedLayerApplies } from "./_fused_layer.ts";
import { recomputed } from "./recompute.ts";
import { shawIndices, t5Indices } from "./relative_position.ts";
import type { Weights } from "./weights.ts";

/** Options of one encoder pass. */
export interface EncoderOptions {
  /** Weight-name prefix of the backbone, e.g. `backbone/video`. */
  prefix: string;
  /** Sizes of the backbone. */
  backbone: BackboneConfig;
  /** Padding mask `[B, N]`, 1 = real token; the aggregation token is always real. */
  mask?: tf.Tensor2D;
  /** Relative positions (text only): which form and its sizes. */
  relative?: Pick<TextConfig, "relativePosition" | "clipDistance" | "buckets" | "maxDistance">;
  /** Training only: dropout on the residual branches, the MLP's inner layer and the output. */
  dropout?: DropoutSource;
  /** Training only: dropout on the attention probabilities. */
  attentionDropout?: DropoutSource;
  /** Recompute each layer in the backward pass, keeping only its input (`recompute.ts`). */
  recompute?: boolean;
  /** Recomputed layers run on this many parts of the batch in turn, one part's activations at a time; default 1. */
  recomputeParts?: number;
}

/** Output of an encoder pass. */
export interface EncoderOutput {
  /** The aggregation token's output `[B, d]`. */
  aggregate: tf.Tensor2D;
  /** Every token's output `[B, 1 + N, d]` (aggregation token first). */
  sequence: tf.Tensor3D;
}

function oneHotTable(indices: Int32Array, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(tf.tensor1d(indices, "int32"), depth), "float32") as tf.Tensor2D; // [L·L, depth]
}

/**
 * The T5 position bias `[H, L, L]` of a table `[buckets, H]`:
 * `bias[h, i, j] = table[bucket(j − i), h]`, through a one-hot product so the
 * gradient reaches the table on every backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { t5PositionBias } from "./transformer.ts";
 * const table = tf.tensor2d(Array.from({ length: 32 }, (_, n) => [n]));
 * const bias = t5PositionBias(2, table, { buckets: 32, maxDistance: 64 });
 * assert.deepEqual(await bias.array(), [[[0, 17], [1, 0]]]);
 * ```
 */
export function t5PositionBias(
  length: number,
  table: tf.Tensor,
  options: { buckets: number; maxDistance: number },
): tf.Tensor3D {
  return tf.tidy(() => {
    const h = table.shape[1]!;
    const oneHot = oneHotTable(t5Indices(length, options), options.buckets); // [L·L, buckets]
    const values = tf.matMul(oneHot, table as tf.Tensor2D); // [L·L, H]
    return tf.transpose(tf.reshape(values, [length, length, h]), [2, 0, 1]) as tf.Tensor3D; // [H, L, L]
  });
}

/**
 * Multi-head self-attention of one layer on `x [B, L, d]`, with optional
 * padding mask and relative positions:
 * - Shaw: `e_ij = x_i W^Q (x_j W^K + a^K_ij)^T / sqrt(d_z)` and
 *   `z_i = Σ_j α_ij (x_j W^V + a^V_ij)`, `a_ij = w_clip(j − i, k)`, tables shared by the heads;
 * - T5: `e_ij = x_i W^Q (x_j W^K)^T / sqrt(d_z) + b_h(bucket(j − i))`, from the
 *   layer's own table `p/rel_bias` (`t5`) or a `positionBias` `[H, L, L]` the
 *   caller computed once from the shared table (`t5-shared`).
 *
 * `p` is the weight prefix of the layer's attention (`…/layer_00/attn`);
 * `maskBias` is added to the logits `[B, H, L, L]`; `dropout` (training)
 * drops attention probabilities (inside the fused kernel where it runs, with
 * the mask the composite ops would draw).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { attention } from "./transformer.ts";
 * const eye = tf.eye(2);
 * const w = Object.fromEntries(["q", "k", "v", "o"].flatMap((m) => [
 *   [`a/${m}/kernel`, tf.variable(eye)], [`a/${m}/bias`, tf.variable(tf.zeros([2]))],
 * ]));
 * const z = attention(tf.tensor3d([[[1, 0], [0, 1]]]), w, "a", { heads: 1 });
 * assert.equal(z.shape.join(), "1,2,2");
 * ```
 */
export function attention(
  x: tf.Tensor3D,
  weights: Weights,
  p: string,
  options: {
    heads: number;
    maskBias?: tf.Tensor;
    relative?: EncoderOptions["relative"];
    positionBias?: tf.Tensor3D;
    dropout?: DropoutSource;
  },
): tf.Tensor3D {
  const [b, l, d] = x.shape;
  const h = options.heads;
  const dh = d / h;
  const rel = options.relative;
  const project = (m: string) =>
    dense(x, weights[`${p}/${m}/kernel`], weights[`${p}/${m}/bias`]) as tf.Tensor3D; // [B, L, d]
  let t5 = options.positionBias; // [H, L, L]
  if (!t5 && rel?.relativePosition === "t5") t5 = t5PositionBias(l, weights[`${p}/rel_bias`], rel);
  if (!t5 && rel?.relativePosition === "t5-shared") {
    throw new TypeError("Cannot attend with t5-shared positions without options.positionBias");
  }
  if (hasFusedAttention() && rel?.relativePosition !== "shaw") {
    // One kernel each way on the dense layers' [B, L, H·dh] (lib/backend/kernels/attention.ts).
    const mask = options.maskBias ? tf.reshape(options.maskBias, [b, l]) as tf.Tensor2D : undefined;
    const [pq, pk, pv] = [project("q"), project("k"), project("v")];
    const drop = dropoutMask([b, h, l, l], options.dropout) as tf.Tensor4D | undefined; // drawn where the composite path draws it
    const z = fusedAttention(pq, pk, pv, {
      heads: h,
      scale: 1 / Math.sqrt(dh),
      bias: t5,
      mask,
      drop,
    }); // [B, L, d]
    return dense(z, weights[`${p}/o/kernel`], weights[`${p}/o/bias`]) as tf.Tensor3D;
  }
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, l, h, dh]), [0, 2, 1, 3]); // [B, H, L, dh]
  const q = split(project("q"));
  const k = split(project("k"));
  const v = split(project("v"));
  let logits = tf.matMul(q, k, false, true); // [B, H, L, L]
  let relValue: tf.Tensor | null = null;
  if (rel?.relativePosition === "shaw") {
    const n = 2 * rel.clipDistance + 1;
    const oneHot = oneHotTable(shawIndices(l, rel.clipDistance), n); // [L·L, 2k+1]
    const aK = tf.reshape(tf.matMul(oneHot, weights[`${p}/rel_key`] as tf.Tensor2D), [l, l, dh]); // [L, L, dh]
    relValue = tf.reshape(tf.matMul(oneHot, weights[`${p}/rel_value`] as tf.Tensor2D), [l, l, dh]); // [L, L, dh]
    const qByPos = tf.reshape(tf.transpose(q, [2, 0, 1, 3]), [l, b * h, dh]); // [L, B·H, dh]
    const qa = tf.matMul(qByPos, aK, false, true); // [L, B·H, L]
    logits = tf.add(logits, tf.transpose(tf.reshape(qa, [l, b, h, l]), [1, 2, 0, 3])); // [B, H, L, L]
  }
  logits = tf.mul(logits, 1 / Math.sqrt(dh));
  if (t5) logits = tf.add(logits, tf.expandDims(t5, 0)); // [B, H, L, L]
  if (options.maskBias) logits = tf.add(logits, options.maskBias); // [B, H, L, L]
  const alpha = dropout(tf.softmax(logits), options.dropout); // [B, H, L, L]
  let z = tf.matMul(alpha, v); // [B, H, L, dh]
  if (relValue) {
    const alphaByPos = tf.reshape(tf.transpose(alpha, [2, 0, 1, 3]), [l, b * h, l]); // [L, B·H, L]
    const za = tf.matMul(alphaByPos, relValue); // [L, B·H, dh]
    z = tf.add(z, tf.transpose(tf.reshape(za, [l, b, h, dh]), [1, 2, 0, 3])); // [B, H, L, dh]
  }
  const merged = tf.reshape(tf.transpose(z, [0, 2, 1, 3]), [b, l, d]); // [B, L, d]
  return dense(merged, weights[`${p}/o/kernel`], weights[`${p}/o/bias`]) as tf.Tensor3D;
}

/**
 * One pre-LN layer: `x + Drop(MHA(LN(x)))`, then `x + Drop(W2·Drop(GELU(W1·LN(x))))`; as one
 * kernel each way where the backend has it (`_fused_layer.ts`, the same bits).
 */
function encoderLayer(
  x: tf.Tensor3D,
  weights: Weights,
  p: string,
  options: EncoderOptions & { maskBias?: tf.Tensor; positionBias?: tf.Tensor3D },
): tf.Tensor3D {
  const rel = options.relative?.relativePosition;
  if (rel !== "shaw" && fusedLayerApplies(x)) {
    const positionBias = options.positionBias ??
      (rel === "t5"
        ? t5PositionBias(x.shape[1], weights[`${p}/attn/rel_bias`], options.relative!)
        : undefined);
    return fusedEncoderLayer(x, weights, p, {
      ...options,
      heads: options.backbone.heads,
      positionBias,
    });
  }
  const drop = (t: tf.Tensor) => dropout(t, options.dropout);
  const h1 = layerNorm(x, weights[`${p}/ln1/gamma`], weights[`${p}/ln1/beta`]) as tf.Tensor3D;
  const attended = attention(h1, weights, `${p}/attn`, {
    heads: options.backbone.heads,
    maskBias: options.maskBias,
    relative: options.relative,
    positionBias: options.positionBias,
    dropout: options.attentionDropout,
  }); // [B, 1+N, d]
  const y = tf.add(x, drop(attended)) as tf.Tensor3D;
  const h2 = layerNorm(y, weights[`${p}/ln2/gamma`], weights[`${p}/ln2/beta`]);
  const fc1 = dense(h2, weights[`${p}/mlp/fc1/kernel`], weights[`${p}/mlp/fc1/bias`]); // [B, 1+N, mlp]
  const inner = droppedGelu(fc1, options.dropout); // [B, 1+N, mlp]
  const out = dense(inner, weights[`${p}/mlp/fc2/kernel`], weights[`${p}/mlp/fc2/bias`]); // [B, 1+N, d]
  return tf.add(y, drop(out)) as tf.Tensor3D;
}

/**
 * Runs the encoder on tokens `[B, N, d]`: prepends `aggToken` `[d]`, applies
 * the layers, returns the aggregation output and the sequence. With
 * `t5-shared` relative positions the bias `[H, L, L]` is computed once from
 * `<prefix>/rel_bias` and added in every layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { createWeights } from "./weights.ts";
 * import { weightSpecs } from "./weight_specs.ts";
 * import { encode } from "./transformer.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * const w = createWeights(weightSpecs(c), { seed: 0 });
 * const out = encode(tf.ones([2, 5, 64]), w["video/agg_token"], w, { prefix: "backbone/video", backbone: c.video.backbone });
 * assert.equal(out.aggregate.shape.join(), "2,64");
 * ```
 */
export function encode(
  tokens: tf.Tensor3D,
  aggToken: tf.Tensor,
  weights: Weights,
  options: EncoderOptions,
): EncoderOutput {
  return tf.tidy(() => {
    const [b, n, d] = tokens.shape;
    const { prefix, backbone, relative } = options;
    if (d !== backbone.hidden) {
      throw new RangeError(
        `Cannot encode tokens of width ${d}: backbone is ${backbone.hidden} wide`,
      );
    }
    let x = prependToken(tokens, aggToken); // [B, 1+N, d]
    let maskBias: tf.Tensor | undefined;
    if (options.mask) {
      const full = tf.concat([tf.ones([b, 1]), options.mask], 1); // [B, 1+N]
      maskBias = tf.reshape(tf.mul(tf.sub(1, full), -1e9), [b, 1, 1, n + 1]); // [B, 1, 1, 1+N]
    }
    const positionBias = relative?.relativePosition === "t5-shared"
      ? t5PositionBias(n + 1, weights[`${prefix}/rel_bias`], relative) // [H, 1+N, 1+N]
      : undefined;
    const layer = options.recompute
      ? recomputed(encoderLayer, { parts: options.recomputeParts })
      : encoderLayer;
    for (let i = 0; i < backbone.layers; i++) {
      const p = `${prefix}/layer_${String(i).padStart(2, "0")}`;
      const input = x;
      // Each layer's intermediates freed at its end (what a gradient tape saved, it keeps):
      // an inference pass holds one layer's activations, not every layer's.
      x = tf.tidy(() => layer(input, weights, p, { ...options, maskBias, positionBias }));
      input.dispose();
    }
    const normed = layerNorm(
      x,
      weights[`${prefix}/final_ln/gamma`],
      weights[`${prefix}/final_ln/beta`],
    );
    const sequence = dropout(normed, options.dropout) as tf.Tensor3D; // [B, 1+N, d]
    const aggregate = firstToken(sequence); // [B, d]
    return { aggregate, sequence };
  });
}
