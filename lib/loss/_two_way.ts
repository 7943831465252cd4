/**
 * The two-direction forms of NCE and MIL-NCE (private to `lib/loss/`), as the official VATT
 * code writes them (`vatt/utils/train/objectives.py`): `AsymmetricNCE` ("official") and
 * `SymmetricNCE` ("symmetric").
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { MASKED_LOGIT } from "./_common.ts";

/** The forms {@linkcode twoWayLoss} computes. */
export type TwoWayForm = "official" | "symmetric";

/**
 * The official (`AsymmetricNCE`) or symmetric (`SymmetricNCE`) contrastive loss from the
 * scores `s[i, j, p] = s(v_i, x_jp)` of every video `i` against caption (or audio) `p` of
 * clip `j`, already divided by the temperature, and `mask[j, p]` (1 where `x_jp` is real).
 *
 * With `R_i` the real captions of clip `i` and `V` the clips with at least one:
 *
 * ```
 * pos_i   = logsumexp_{p∈R_i} s[i, i, p]
 * vt_i    = logsumexp_{j, p∈R_j} s[i, j, p]      video i against every real caption
 * tv_i    = logsumexp_{j, p∈R_i} s[j, i, p]      every video j against clip i's captions
 * official:  1/|V| · Σ_{i∈V} ( logsumexp(vt-set_i ∪ tv-set_i) − pos_i )
 * symmetric: 1/|V| · Σ_{i∈V} ( vt_i − pos_i ) + 1/|V| · Σ_{i∈V} ( tv_i − pos_i )
 * ```
 *
 * The joint set of "official" is a concatenation, as in the official code: the positive pairs
 * appear in both halves. Without `videoMask`, videos have no mask: the video of a clip outside
 * `V` is still a negative for the other clips' captions. With `videoMask` (`[B]` 0/1, 0 for a
 * clip without video), as the official `SymmetricNCE` masks either side: a masked video is in
 * no log-sum-exp (neither a positive nor a negative) and its clip leaves `V`; the clip's
 * captions stay negatives for the other videos. The loss is 0 when `V` is empty.
 *
 * @param scores `[B, B, P]` float32 scores.
 * @param mask `[B, P]` float32 0/1.
 * @param options `form`, and `videoMask` `[B]` float32 0/1 (absent: every clip has video).
 * @returns a float32 scalar (a new tensor).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { twoWayLoss } from "./_two_way.ts";
 * // Two clips, one caption each, every score 0: log(4 terms) − log(1 term) per clip.
 * const scores = tf.zeros([2, 2, 1]) as tf.Tensor3D;
 * const mask = tf.ones([2, 1]) as tf.Tensor2D;
 * const official = twoWayLoss(scores, mask, { form: "official" });
 * const symmetric = twoWayLoss(scores, mask, { form: "symmetric" });
 * assert.ok(Math.abs((await official.data())[0] - Math.log(4)) < 1e-6);
 * assert.ok(Math.abs((await symmetric.data())[0] - 2 * Math.log(2)) < 1e-6);
 * tf.dispose([scores, mask, official, symmetric]);
 * ```
 */
export function twoWayLoss(
  scores: tf.Tensor3D,
  mask: tf.Tensor2D,
  options: { form: TwoWayForm; videoMask?: tf.Tensor1D },
): tf.Scalar {
  return tf.tidy(() => {
    const [b, , p] = scores.shape;
    const penalty = tf.mul(tf.sub(1, mask), MASKED_LOGIT); // [B, P], −1e9 on padding
    const hasVideo = options.videoMask ?? tf.ones([b]); // [B]
    const videoPenalty = tf.reshape(tf.mul(tf.sub(1, hasVideo), MASKED_LOGIT), [1, b, 1]); // [1, B, 1]
    // Row i: video i against caption p of every clip j (padding of clip j left out).
    const videoToText = tf.reshape(
      tf.add(scores, tf.reshape(penalty, [1, b, p])),
      [b, b * p],
    ); // [B, B·P]
    // Row i: every video j against caption p of clip i (padding of clip i and videos without video left out).
    const textToVideo = tf.reshape(
      tf.add(tf.add(tf.transpose(scores, [1, 0, 2]), tf.reshape(penalty, [b, 1, p])), videoPenalty),
      [b, b * p],
    ); // [B, B·P]
    const own = tf.sum(tf.mul(scores, tf.reshape(tf.eye(b), [b, b, 1])), 1); // [B, P], s[i, i, p]
    const positives = tf.logSumExp(tf.add(own, penalty), 1); // [B]
    const valid = tf.mul(tf.cast(tf.greater(tf.sum(mask, 1), 0), "float32"), hasVideo); // [B]
    const perClip = options.form === "official"
      ? tf.sub(tf.logSumExp(tf.concat([videoToText, textToVideo], 1), 1), positives)
      : tf.add(
        tf.sub(tf.logSumExp(videoToText, 1), positives),
        tf.sub(tf.logSumExp(textToVideo, 1), positives),
      ); // [B]
    return tf.div(tf.sum(tf.mul(perClip, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}
