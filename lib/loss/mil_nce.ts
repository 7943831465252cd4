/**
 * The MIL-NCE loss VATT uses to align video and text (several captions per clip).
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

/** Options of {@linkcode milNceLoss}. */
export interface MilNceLossOptions {
  /** Softmax temperature τ; the logits are `z_v·z_t / τ`. Default {@linkcode DEFAULT_TEMPERATURE} (VATT's 0.07). */
  temperature?: number;
  /**
   * `"official"` (default, {@linkcode DEFAULT_LOSS_FORM}): VATT's `AsymmetricNCE`, both
   * directions in one denominator per clip; `"one-way"`: video→text only; `"symmetric"`:
   * VATT's `SymmetricNCE`, the sum of the two directions. See {@linkcode milNceLoss}.
   */
  form?: LossForm;
  /**
   * `[B, P]`, any dtype: 1 (above 0) where caption `p` of clip `i` is real, 0 for padding.
   * Masked-out captions count nowhere; a clip with no real caption is left out of the
   * average. Default: every caption is real.
   */
  mask?: tf.Tensor2D;
  /**
   * `[B]`, any dtype: 1 (above 0) where the clip has video, 0 for an audio-only clip. A clip
   * with video mask 0 is left out of the average and its video is neither a positive nor a
   * negative (its captions stay negatives for the other videos), as the official
   * `SymmetricNCE` masks either side. Default: every clip has video.
   */
  videoMask?: tf.Tensor1D;
  /** L2-normalise each vector of `zV` and `zT` before the dot products. Default true. */
  normalize?: boolean;
}

/** Default options of {@linkcode milNceLoss}. */
export const DEFAULT_MIL_NCE_LOSS_OPTIONS: Readonly<
  Required<Omit<MilNceLossOptions, "mask" | "videoMask">>
> = {
  temperature: DEFAULT_TEMPERATURE,
  form: DEFAULT_LOSS_FORM,
  normalize: true,
};

/** Throws when `zV`, `zT` or a mask is not a tensor of the rank and shape they must have. */
function checkInputs(zV: tf.Tensor, zT: tf.Tensor, options: MilNceLossOptions, where: string) {
  checkRank(zV, 2, "zV", where);
  checkRank(zT, 3, "zT", where);
  const [batch, dim] = zV.shape;
  const captions = zT.shape[1];
  if (zT.shape[0] !== batch || zT.shape[2] !== dim) {
    throw new RangeError(
      `${where}: zT [${zT.shape.join(", ")}] does not fit zV [${zV.shape.join(", ")}]` +
        ` (expected [${batch}, P, ${dim}])`,
    );
  }
  if (options.videoMask !== undefined) {
    checkRank(options.videoMask, 1, "videoMask", where);
    if (options.videoMask.shape[0] !== batch) {
      throw new RangeError(
        `${where}: videoMask has ${
          options.videoMask.shape[0]
        } entries but the batch has ${batch} clips`,
      );
    }
  }
  if (options.mask !== undefined) {
    checkRank(options.mask, 2, "mask", where);
    if (options.mask.shape[0] !== batch || options.mask.shape[1] !== captions) {
      throw new RangeError(
        `${where}: mask [${options.mask.shape.join(", ")}] must have shape [${batch}, ${captions}]`,
      );
    }
  }
}

/**
 * Multiple-instance NCE loss between video and text embeddings (Miech et al. 2020; VATT eq. 3).
 *
 * With `s_i,jp = z_v^i · z_t^{j,p} / τ` (vectors L2-normalised first when `normalize`), `P_j`
 * the real captions of clip `j`, `M` the clips with at least one real caption and video
 * (`videoMask`; every video `j` below is taken from the clips with video only) and
 * `pos_i = logsumexp_{p∈P_i} s_i,ip` (all real captions of clip `i` are its positives), by `form`:
 *
 * ```
 * official:  1/|M| · Σ_{i∈M} ( logsumexp({s_i,jp : all j, p∈P_j} ∪ {s_j,ip : all j, p∈P_i}) − pos_i )
 * symmetric: 1/|M| · Σ_{i∈M} ( logsumexp_{all j, p∈P_j} s_i,jp − pos_i )
 *          + 1/|M| · Σ_{i∈M} ( logsumexp_{all j, p∈P_i} s_j,ip − pos_i )
 * one-way:   1/|M| · Σ_{i∈M} −log( Σ_{p∈P_i} exp(s_i,ip) / Σ_{j} Σ_{p∈P_j} exp(s_i,jp) )
 *          = 1/|M| · Σ_{i∈M} ( logsumexp_{j, p∈P_j} s_i,jp − pos_i )
 * ```
 *
 * "official" is the official code's `AsymmetricNCE`: one denominator per clip holding video
 * `i` against every real caption and every video against the real captions of clip `i` (a
 * concatenation: the positives are in both halves). "symmetric" is its `SymmetricNCE`: the two
 * directions summed, each with its own denominator. Videos have no mask: the video of a clip
 * without captions is still a negative for the other clips' captions. Padded captions count
 * nowhere: every log-sum-exp leaves them out by adding −1e9 to them, so the loss and its
 * gradient stay finite; when no clip has a real caption the loss is 0.
 *
 * @param zV video embeddings `[B, D]`.
 * @param zT text embeddings `[B, P, D]`: `P` captions (or caption slots) per clip.
 * @returns a float32 scalar (a new tensor; the caller disposes it).
 * @throws {TypeError} when an input is not a tensor of the right rank.
 * @throws {RangeError} when shapes disagree or the temperature is not above 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { milNceLoss } from "./mil_nce.ts";
 * const zV = tf.tensor2d([[1, 0], [0, 1]]); // [B=2, D=2]
 * const zT = tf.tensor3d([[[1, 0], [0, 1]], [[0, 1], [0, 1]]]); // [B=2, P=2, D=2]
 * const mask = tf.tensor2d([[1, 0], [1, 1]]); // clip 0 has one real caption
 * const loss = milNceLoss(zV, zT, { temperature: 1, mask, form: "one-way" });
 * // clip 0: −log(e / (e + 1 + 1)); clip 1: −log(2e / (2e + 1))
 * const e = Math.E;
 * const expected = (-Math.log(e / (e + 2)) - Math.log((2 * e) / (2 * e + 1))) / 2;
 * assert.ok(Math.abs((await loss.data())[0] - expected) < 1e-6);
 * // official: clip 0 adds v_1 against its caption, clip 1 adds v_0 against its two captions
 * const official = milNceLoss(zV, zT, { temperature: 1, mask });
 * const both = (Math.log(2 * e + 3) - 1 + Math.log(4 * e + 3) - Math.log(2 * e)) / 2;
 * assert.ok(Math.abs((await official.data())[0] - both) < 1e-6);
 * tf.dispose([zV, zT, mask, loss, official]);
 * ```
 */
export function milNceLoss(
  zV: tf.Tensor2D,
  zT: tf.Tensor3D,
  options: MilNceLossOptions = {},
): tf.Scalar {
  const where = "milNceLoss()";
  const { temperature, normalize } = { ...DEFAULT_MIL_NCE_LOSS_OPTIONS, ...options };
  const form = options.form ?? DEFAULT_LOSS_FORM;
  checkTemperature(temperature, where);
  checkLossForm(form, where);
  checkInputs(zV, zT, options, where);
  const [batch, dim] = zV.shape;
  const captions = zT.shape[1];

  return tf.tidy(() => {
    const mask = options.mask === undefined ? tf.ones([batch, captions]) : binaryMask(options.mask); // [B, P]
    const hasVideo = (options.videoMask === undefined
      ? tf.ones([batch])
      : binaryMask(options.videoMask)) as tf.Tensor1D; // [B]
    if (form !== "one-way" && fusedTwoWayApplies(batch, batch * captions, dim)) {
      const rows = tf.reshape(zT, [batch * captions, dim]) as tf.Tensor2D; // [B·P, D]
      const attrs = { form, temperature, normalize };
      return fusedTwoWayLoss(zV, rows, mask as tf.Tensor2D, hasVideo, attrs);
    }
    const v = normalize ? l2Normalize(zV) : zV; // [B, D]
    const t = tf.reshape(normalize ? l2Normalize(zT) : zT, [batch * captions, dim]); // [B·P, D]
    const logits = tf.div(tf.matMul(v, t, false, true), temperature); // [B, B·P], s_i,jp
    if (form !== "one-way") {
      const scores = tf.reshape(logits, [batch, batch, captions]) as tf.Tensor3D; // [B, B, P]
      return twoWayLoss(scores, mask as tf.Tensor2D, { form, videoMask: hasVideo });
    }
    const real = tf.reshape(mask, [1, batch * captions]); // [1, B·P]
    const own = tf.reshape(
      tf.mul(tf.reshape(tf.eye(batch), [batch, batch, 1]), tf.reshape(mask, [1, batch, captions])),
      [batch, batch * captions],
    ); // [B, B·P], 1 where caption jp is a real caption of clip i (j = i)
    const hasText = tf.mul(tf.cast(tf.greater(tf.sum(mask, 1), 0), "float32"), hasVideo); // [B], rows that count

    const lseAll = tf.logSumExp(tf.add(logits, tf.mul(tf.sub(1, real), MASKED_LOGIT)), 1); // [B]
    const lseOwn = tf.logSumExp(tf.add(logits, tf.mul(tf.sub(1, own), MASKED_LOGIT)), 1); // [B]
    const perClip = tf.mul(tf.sub(lseAll, lseOwn), hasText); // [B]
    return tf.div(tf.sum(perClip), tf.maximum(tf.sum(hasText), 1)) as tf.Scalar;
  });
}
