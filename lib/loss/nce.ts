/**
 * The NCE loss VATT uses to align video and audio in their common space.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  DEFAULT_LOSS_FORM,
  DEFAULT_TEMPERATURE,
  type LossForm,
} from "../config/pretrain_config.ts";
import { binaryMask, checkLossForm, checkRank, checkTemperature, MASKED_LOGIT } from "./_common.ts";
import { fusedTwoWayApplies, fusedTwoWayLoss } from "./_fused_two_way.ts";
import { twoWayLoss } from "./_two_way.ts";
import { l2Normalize } from "./l2_normalize.ts";

/** Options of {@linkcode nceLoss}. */
export interface NceLossOptions {
  /** Softmax temperature τ; the logits are `z_v·z_a / τ`. Default {@linkcode DEFAULT_TEMPERATURE} (VATT's 0.07). */
  temperature?: number;
  /**
   * `"official"` (default, {@linkcode DEFAULT_LOSS_FORM}): VATT's `AsymmetricNCE`, both
   * directions in one denominator per clip; `"one-way"`: video→audio only; `"symmetric"`:
   * VATT's `SymmetricNCE`, the sum of the two directions. See {@linkcode nceLoss}.
   */
  form?: LossForm;
  /**
   * With `form` `"one-way"` only (a RangeError otherwise). When true, the loss is the mean of the video→audio and audio→video directions; when
   * false (default), only video→audio (each video picks its audio among the batch's audios).
   */
  symmetric?: boolean;
  /**
   * `[B]`, any dtype: 1 (above 0) where the clip has audio. A clip with mask 0 is left out
   * of the average and is not a negative for the other clips. Default: every clip counts.
   */
  mask?: tf.Tensor1D;
  /**
   * `[B]`, any dtype: 1 (above 0) where the clip has video, 0 for an audio-only clip. A clip
   * with video mask 0 is left out of the average, and its video is neither a positive nor a
   * negative. In the two-way forms its audio, when real, stays a negative for the other
   * videos, as the official `SymmetricNCE` masks either side; in `"one-way"` the clip leaves
   * every log-sum-exp, as a clip without audio does. Default: every clip has video.
   */
  videoMask?: tf.Tensor1D;
  /** L2-normalise each row of `zV` and `zA` before the dot products. Default true. */
  normalize?: boolean;
}

/** Default options of {@linkcode nceLoss}. */
export const DEFAULT_NCE_LOSS_OPTIONS: Readonly<
  Required<Omit<NceLossOptions, "mask" | "videoMask">>
> = {
  temperature: DEFAULT_TEMPERATURE,
  form: DEFAULT_LOSS_FORM,
  symmetric: false,
  normalize: true,
};

/**
 * Noise-contrastive estimation loss between video and audio embeddings (VATT, eq. 2).
 *
 * With `s_ij = z_v^i · z_a^j / τ` (rows L2-normalised first when `normalize`), `M` the
 * set of clips whose mask is 1 (clips with audio) and `V` those whose video mask is 1, the
 * average runs over `i ∈ M ∩ V`; in the two-way forms every video `j` below is taken from `V`
 * only, and in "one-way" `M` below reads `M ∩ V`; by `form`:
 *
 * ```
 * official:  1/|M| · Σ_{i∈M} ( logsumexp({s_ij : j∈M} ∪ {s_ji : all j}) − s_ii )
 * symmetric: 1/|M| · Σ_{i∈M} ( logsumexp_{j∈M} s_ij − s_ii )
 *          + 1/|M| · Σ_{i∈M} ( logsumexp_{all j} s_ji − s_ii )
 * one-way:   L_va = 1/|M| · Σ_{i∈M} ( logsumexp_{j∈M} s_ij − s_ii )
 *                 = 1/|M| · Σ_{i∈M} −log( exp(s_ii) / Σ_{j∈M} exp(s_ij) )
 * ```
 *
 * "official" is the official code's `AsymmetricNCE`: one denominator per clip holding video
 * `i` against every audio and every video against audio `i` (a concatenation: `s_ii` is in
 * both halves). "symmetric" is its `SymmetricNCE`: the two directions summed, each with its own
 * denominator. As there, videos have no mask: the video of a clip without audio is still a
 * negative for the other clips' audio. With "one-way", `symmetric: true` gives
 * `(L_va + L_av) / 2`, `L_av` being `L_va` with `s` transposed. Masked-out entries leave each
 * log-sum-exp by adding −1e9 to them, so the loss and its gradient stay finite; when no clip is
 * masked in, the loss is 0.
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
 * const loss = nceLoss(zV, zA, { temperature: 0.1, form: "one-way" }); // −log(e^10 / (e^10 + e^0))
 * assert.ok(Math.abs((await loss.data())[0] - Math.log1p(Math.exp(-10))) < 1e-6);
 * // official: −log(e^10 / (e^10 + e^0 + e^10 + e^0)) = log 2 + log(1 + e^−10)
 * const official = nceLoss(zV, zA, { temperature: 0.1 });
 * assert.ok(Math.abs((await official.data())[0] - Math.log(2) - Math.log1p(Math.exp(-10))) < 1e-6);
 * tf.dispose([zV, zA, loss, official]);
 * ```
 */
export function nceLoss(zV: tf.Tensor2D, zA: tf.Tensor2D, options: NceLossOptions = {}): tf.Scalar {
  const where = "nceLoss()";
  const { temperature, symmetric, normalize } = { ...DEFAULT_NCE_LOSS_OPTIONS, ...options };
  const form = options.form ?? DEFAULT_LOSS_FORM;
  checkTemperature(temperature, where);
  checkLossForm(form, where);
  if (symmetric && form !== "one-way") {
    throw new RangeError(`${where}: symmetric needs form "one-way", got "${form}"`);
  }
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
  for (const [name, m] of [["mask", options.mask], ["videoMask", options.videoMask]] as const) {
    if (m === undefined) continue;
    checkRank(m, 1, name, where);
    if (m.shape[0] !== batch) {
      throw new RangeError(
        `${where}: ${name} has ${m.shape[0]} entries but the batch has ${batch} clips`,
      );
    }
  }
  const videoMask = (): tf.Tensor1D =>
    (options.videoMask === undefined
      ? tf.ones([batch])
      : binaryMask(options.videoMask)) as tf.Tensor1D;

  if (form !== "one-way") {
    return tf.tidy(() => {
      const mask = options.mask === undefined ? tf.ones([batch]) : binaryMask(options.mask); // [B]
      const audioMask = tf.reshape(mask, [batch, 1]) as tf.Tensor2D; // [B, 1]: one "caption" each
      if (fusedTwoWayApplies(batch, batch, zV.shape[1])) {
        const attrs = { form, temperature, normalize };
        return fusedTwoWayLoss(zV, zA, audioMask, videoMask(), attrs);
      }
      const v = normalize ? l2Normalize(zV) : zV; // [B, D]
      const a = normalize ? l2Normalize(zA) : zA; // [B, D]
      const scores = tf.reshape(tf.div(tf.matMul(v, a, false, true), temperature), [
        batch,
        batch,
        1,
      ]); // [B, B, 1]
      return twoWayLoss(scores as tf.Tensor3D, audioMask, { form, videoMask: videoMask() });
    });
  }
  return tf.tidy(() => {
    const v = normalize ? l2Normalize(zV) : zV; // [B, D]
    const a = normalize ? l2Normalize(zA) : zA; // [B, D]
    const logits = tf.div(tf.matMul(v, a, false, true), temperature); // [B, B], s_ij
    // s_ii read off the same products (a separate dot product could round differently)
    const positives = tf.sum(tf.mul(logits, tf.eye(batch)), 1); // [B], s_ii
    const mask = options.mask === undefined ? tf.ones([batch]) : binaryMask(options.mask); // [B]
    const kept = tf.mul(mask, videoMask()); // [B], clips with both sides
    const columnPenalty = tf.reshape(tf.mul(tf.sub(1, kept), MASKED_LOGIT), [1, batch]); // [1, B]

    // Mean over kept rows of logsumexp(row, kept columns) − diagonal.
    const direction = (scores: tf.Tensor): tf.Scalar => {
      const lse = tf.logSumExp(tf.add(scores, columnPenalty), 1); // [B]
      const perClip = tf.mul(tf.sub(lse, positives), kept); // [B]
      return tf.div(tf.sum(perClip), tf.maximum(tf.sum(kept), 1)) as tf.Scalar;
    };

    const videoToAudio = direction(logits);
    if (!symmetric) return videoToAudio;
    const audioToVideo = direction(tf.transpose(logits));
    return tf.mul(tf.add(videoToAudio, audioToVideo), 0.5) as tf.Scalar;
  });
}
