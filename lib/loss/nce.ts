/**
 * The NCE loss VATT uses to align video and audio in their common space.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { DEFAULT_TEMPERATURE } from "../config/pretrain_config.ts";
import { binaryMask, checkRank, checkTemperature, MASKED_LOGIT } from "./_common.ts";
import { l2Normalize } from "./l2_normalize.ts";

/** Options of {@linkcode nceLoss}. */
export interface NceLossOptions {
  /** Softmax temperature τ; the logits are `z_v·z_a / τ`. Default {@linkcode DEFAULT_TEMPERATURE} (VATT's 0.07). */
  temperature?: number;
  /**
   * When true, the loss is the mean of the video→audio and audio→video directions; when
   * false (default), only video→audio (each video picks its audio among the batch's audios).
   */
  symmetric?: boolean;
  /**
   * `[B]`, any dtype: 1 (above 0) where the clip has audio. A clip with mask 0 is left out
   * of the average and is not a negative for the other clips. Default: every clip counts.
   */
  mask?: tf.Tensor1D;
  /** L2-normalise each row of `zV` and `zA` before the dot products. Default true. */
  normalize?: boolean;
}

/** Default options of {@linkcode nceLoss}. */
export const DEFAULT_NCE_LOSS_OPTIONS: Readonly<Required<Omit<NceLossOptions, "mask">>> = {
  temperature: DEFAULT_TEMPERATURE,
  symmetric: false,
  normalize: true,
};

/**
 * Noise-contrastive estimation loss between video and audio embeddings (VATT, eq. 2).
 *
 * With `s_ij = z_v^i · z_a^j / τ` (rows L2-normalised first when `normalize`) and `M` the
 * set of clips whose mask is 1, the video→audio loss is
 *
 * ```
 * L_va = 1/|M| · Σ_{i∈M} −log( exp(s_ii) / Σ_{j∈M} exp(s_ij) )
 *      = 1/|M| · Σ_{i∈M} ( logsumexp_{j∈M} s_ij − s_ii )
 * ```
 *
 * and the audio→video loss `L_av` is the same with `s` transposed. The result is `L_va`, or
 * `(L_va + L_av) / 2` when `symmetric`. Masked-out clips are removed from the average and from
 * the negatives by adding −1e9 to their logits inside a log-sum-exp, so the loss and its
 * gradient stay finite; when no clip is masked in, the loss is 0.
 *
 * @param zV video embeddings `[B, D]`.
 * @param zA audio embeddings `[B, D]`, row `i` from the same clip as row `i` of `zV`.
 * @returns a float32 scalar (a new tensor; the caller disposes it).
 * @throws {TypeError} when an input is not a tensor of the right rank.
 * @throws {RangeError} when shapes disagree or the temperature is not above 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { nceLoss } from "./nce.ts";
 * const zV = tf.tensor2d([[1, 0], [0, 1]]);
 * const zA = tf.tensor2d([[1, 0], [0, 1]]);
 * const loss = nceLoss(zV, zA, { temperature: 0.1 }); // −log(e^10 / (e^10 + e^0))
 * assert.ok(Math.abs((await loss.data())[0] - Math.log1p(Math.exp(-10))) < 1e-6);
 * tf.dispose([zV, zA, loss]);
 * ```
 */
export function nceLoss(zV: tf.Tensor2D, zA: tf.Tensor2D, options: NceLossOptions = {}): tf.Scalar {
  const where = "nceLoss()";
  const { temperature, symmetric, normalize } = { ...DEFAULT_NCE_LOSS_OPTIONS, ...options };
  checkTemperature(temperature, where);
  checkRank(zV, 2, "zV", where);
  checkRank(zA, 2, "zA", where);
  if (zV.shape[0] !== zA.shape[0] || zV.shape[1] !== zA.shape[1]) {
    throw new RangeError(
      `${where}: zV [${zV.shape.join(", ")}] and zA [${
        zA.shape.join(", ")
      }] must have the same shape`,
    );
  }
  const batch = zV.shape[0];
  if (options.mask !== undefined) {
    checkRank(options.mask, 1, "mask", where);
    if (options.mask.shape[0] !== batch) {
      throw new RangeError(
        `${where}: mask has ${options.mask.shape[0]} entries but the batch has ${batch} clips`,
      );
    }
  }

  return tf.tidy(() => {
    const v = normalize ? l2Normalize(zV) : zV; // [B, D]
    const a = normalize ? l2Normalize(zA) : zA; // [B, D]
    const logits = tf.div(tf.matMul(v, a, false, true), temperature); // [B, B], s_ij
    const positives = tf.div(tf.sum(tf.mul(v, a), 1), temperature); // [B], s_ii
    const mask = options.mask === undefined ? tf.ones([batch]) : binaryMask(options.mask); // [B]
    const columnPenalty = tf.reshape(tf.mul(tf.sub(1, mask), MASKED_LOGIT), [1, batch]); // [1, B]

    // Mean over masked-in rows of logsumexp(row, masked-in columns) − diagonal.
    const direction = (scores: tf.Tensor): tf.Scalar => {
      const lse = tf.logSumExp(tf.add(scores, columnPenalty), 1); // [B]
      const perClip = tf.mul(tf.sub(lse, positives), mask); // [B]
      return tf.div(tf.sum(perClip), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
    };

    const videoToAudio = direction(logits);
    if (!symmetric) return videoToAudio;
    const audioToVideo = direction(tf.transpose(logits));
    return tf.mul(tf.add(videoToAudio, audioToVideo), 0.5) as tf.Scalar;
  });
}
