/**
 * The common-space projection heads:
 * - video → video–audio space: Linear (no bias) → BatchNorm → ReLU → Linear → BatchNorm;
 * - that → video–text space: ReLU → Linear → BatchNorm;
 * - audio → video–audio space and text → video–text space: one Linear each.
 * The Linear layers before a BatchNorm carry no bias (it would be redundant);
 * the audio and text projections carry one, as the official code's Dense
 * layers do (`heads.projectionBias`, default `true`; checkpoints written
 * before it resolve to `false`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { HeadsConfig } from "../config/vatt_config.ts";
import { foldMovingAverage } from "./_moving_average.ts";
import { dense, fusedBatchNorm } from "./_ops.ts";
import type { BatchShard } from "./batch_shard.ts";
import type { Weights } from "./weights.ts";

/** BatchNorm statistics of one training step, to fold into the moving averages. */
export interface BatchNormUpdate {
  /** Weight-name prefix, e.g. `heads/video_va/bn1`. */
  name: string;
  /** Batch mean `[C]`. */
  mean: tf.Tensor1D;
  /** Batch variance `[C]`. */
  variance: tf.Tensor1D;
}

/** Options of a head pass. */
export interface HeadOptions {
  /** Training mode: batch statistics (and updates recorded); else moving statistics. */
  training: boolean;
  /** Where training-mode BatchNorm statistics are pushed (kept out of `tidy`). */
  updates?: BatchNormUpdate[];
  heads: HeadsConfig;
  /** One rank's share of a global batch: BatchNorm on the global batch's statistics. */
  shard?: BatchShard;
}

/** Mean and (biased) variance over the batch axis `[C]`; over every rank's rows with a shard. */
function batchMoments(x: tf.Tensor2D, shard: BatchShard | undefined) {
  if (!shard) return tf.moments(x, 0);
  const mean = tf.div(shard.sum(tf.sum(x, 0)), shard.total); // [C]
  const variance = tf.div(shard.sum(tf.sum(tf.square(tf.sub(x, mean)), 0)), shard.total); // [C]
  return { mean, variance };
}

function batchNorm(
  x: tf.Tensor2D,
  weights: Weights,
  name: string,
  options: HeadOptions,
): tf.Tensor2D {
  const gamma = weights[`${name}/gamma`];
  const beta = weights[`${name}/beta`];
  const fused = options.training && !options.shard
    ? fusedBatchNorm(x, gamma, beta, options.heads.bnEpsilon)
    : null;
  if (fused) {
    const { y, mean, variance } = fused; // the statistics are kept tensors
    if (options.updates) options.updates.push({ name, mean, variance });
    else tf.dispose([mean, variance]);
    return y;
  }
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  if (options.training) {
    ({ mean, variance } = batchMoments(x, options.shard)); // [C]
    options.updates?.push({
      name,
      mean: tf.keep(tf.clone(mean)) as tf.Tensor1D,
      variance: tf.keep(tf.clone(variance)) as tf.Tensor1D,
    });
  } else {
    mean = weights[`${name}/moving_mean`];
    variance = weights[`${name}/moving_var`];
  }
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, options.heads.bnEpsilon)));
  return tf.add(tf.mul(normed, gamma), beta) as tf.Tensor2D;
}

/**
 * Video representation `[B, d]` → `{ va: [B, vaDim], vt: [B, vtDim] }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { createWeights } from "./weights.ts";
 * import { weightSpecs } from "./weight_specs.ts";
 * import { videoHeads } from "./heads.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * const w = createWeights(weightSpecs(c), { seed: 0 });
 * const { va, vt } = videoHeads(tf.ones([2, 64]), w, { training: false, heads: c.heads });
 * assert.equal(va.shape[1], 128);
 * assert.equal(vt.shape[1], 64);
 * ```
 */
export function videoHeads(
  rep: tf.Tensor2D,
  weights: Weights,
  options: HeadOptions,
): { va: tf.Tensor2D; vt: tf.Tensor2D } {
  return tf.tidy(() => {
    let x = dense(rep, weights["heads/video_va/fc1/kernel"]) as tf.Tensor2D; // [B, va]
    x = tf.relu(batchNorm(x, weights, "heads/video_va/bn1", options));
    x = dense(x, weights["heads/video_va/fc2/kernel"]) as tf.Tensor2D; // [B, va]
    const va = batchNorm(x, weights, "heads/video_va/bn2", options);
    const y = dense(tf.relu(va), weights["heads/video_vt/fc/kernel"]) as tf.Tensor2D; // [B, vt]
    const vt = batchNorm(y, weights, "heads/video_vt/bn", options);
    return { va, vt };
  });
}

/**
 * Audio representation `[B, d]` → `[B, vaDim]`: `x·W (+ b)`; the bias is
 * used when the weights hold `heads/audio_va/bias`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { audioHead } from "./heads.ts";
 * const w = {
 *   "heads/audio_va/kernel": tf.variable(tf.tensor2d([[1, 2], [3, 4]])),
 *   "heads/audio_va/bias": tf.variable(tf.tensor1d([10, 20])),
 * };
 * assert.deepEqual(await audioHead(tf.tensor2d([[1, 1]]), w).array(), [[14, 26]]);
 * ```
 */
export function audioHead(rep: tf.Tensor2D, weights: Weights): tf.Tensor2D {
  return dense(
    rep,
    weights["heads/audio_va/kernel"],
    weights["heads/audio_va/bias"],
  ) as tf.Tensor2D;
}

/**
 * Text representation `[..., d]` → `[..., vtDim]`: `x·W (+ b)`; the bias is
 * used when the weights hold `heads/text_vt/bias`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { textHead } from "./heads.ts";
 * const w = { "heads/text_vt/kernel": tf.variable(tf.tensor2d([[1], [2]])) };
 * assert.deepEqual(await textHead(tf.tensor2d([[3, 4]]), w).array(), [[11]]);
 * ```
 */
export function textHead(rep: tf.Tensor, weights: Weights): tf.Tensor {
  return dense(rep, weights["heads/text_vt/kernel"], weights["heads/text_vt/bias"]);
}

/**
 * Folds recorded batch statistics into the moving averages
 * (`moving = m·moving + (1 − m)·batch`) and disposes them.
 */
export function applyBatchNormUpdates(
  updates: BatchNormUpdate[],
  weights: Weights,
  options: { momentum: number },
): void {
  const m = options.momentum;
  for (const u of updates) {
    foldMovingAverage(weights[`${u.name}/moving_mean`], u.mean, m);
    foldMovingAverage(weights[`${u.name}/moving_var`], u.variance, m);
    u.mean.dispose();
    u.variance.dispose();
  }
  updates.length = 0;
}
