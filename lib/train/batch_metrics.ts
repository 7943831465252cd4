/**
 * Pretraining's in-batch retrieval metrics: top-1 accuracy video→audio and video→text on
 * L2-normalised common-space embeddings. Candidates that do not exist (a clip without audio, a
 * padded caption) are left out by their score (−∞), never by changing their vectors.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Options of {@linkcode maskedTop1}. */
export interface MaskedTop1Options {
  /** `[M]`: the query (row index) each candidate belongs to. */
  owner: ArrayLike<number>;
  /** `[Q]`: 1 where the query counts (it has a real candidate of its own). */
  queryValid: ArrayLike<number>;
  /** `[M]`: 1 where the candidate is real; 0 for padding or missing audio (never picked). */
  candidateValid: ArrayLike<number>;
}

/**
 * Top-1 accuracy of `[Q, D]` queries over `[M, D]` candidates by cosine similarity: the share
 * of valid queries whose best-scoring valid candidate is one of their own. Invalid candidates
 * get the score −∞ before the arg-max. 0 when no query is valid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { maskedTop1 } from "./batch_metrics.ts";
 * const queries = tf.tensor2d([[-1, -0.2], [0, 1]]);
 * const candidates = tf.tensor2d([[-1, 0], [-1, -0.1], [0, 1]]); // candidate 1 is padding
 * const acc = await maskedTop1(queries, candidates, {
 *   owner: [0, 0, 1],
 *   queryValid: [1, 1],
 *   candidateValid: [1, 0, 1],
 * });
 * assert.equal(acc, 1);
 * tf.dispose([queries, candidates]);
 * ```
 */
export async function maskedTop1(
  queries: tf.Tensor2D,
  candidates: tf.Tensor2D,
  options: MaskedTop1Options,
): Promise<number> {
  const m = candidates.shape[0];
  if (options.owner.length !== m || options.candidateValid.length !== m) {
    throw new RangeError(
      `maskedTop1(): ${m} candidates but owner has ${options.owner.length} and ` +
        `candidateValid ${options.candidateValid.length} entries`,
    );
  }
  if (options.queryValid.length !== queries.shape[0]) {
    throw new RangeError(
      `maskedTop1(): ${queries.shape[0]} queries but queryValid has ` +
        `${options.queryValid.length} entries`,
    );
  }
  const best = tf.tidy(() => {
    const unit = (t: tf.Tensor) => tf.div(t, tf.add(tf.norm(t, "euclidean", -1, true), 1e-12));
    const scores = tf.matMul(unit(queries), unit(candidates), false, true); // [Q, M]
    const valid = Uint8Array.from(options.candidateValid, (v) => (v > 0 ? 1 : 0));
    const keep = tf.tensor2d(valid, [1, m], "bool"); // [1, M]
    const masked = tf.where(keep, scores, tf.fill(scores.shape, -Infinity)); // [Q, M]
    return tf.argMax(masked, 1); // [Q]
  });
  const idx = await best.data();
  best.dispose();
  let hits = 0;
  let n = 0;
  for (let i = 0; i < idx.length; i++) {
    if (!(options.queryValid[i] > 0)) continue;
    n++;
    if (options.owner[idx[i]] === i) hits++;
  }
  return n === 0 ? 0 : hits / n;
}

/** The embeddings {@linkcode inBatchAccuracy} scores, in the two common spaces. */
export interface BatchEmbeddings {
  /** `[B, D_va]` video and audio embeddings in the video–audio space. */
  videoVa: tf.Tensor2D;
  audioVa: tf.Tensor2D;
  /** `[B, D_vt]` video and `[B, P, D_vt]` caption embeddings in the video–text space. */
  videoVt: tf.Tensor2D;
  textVt: tf.Tensor;
}

/** The masks of a batch: `audioMask` `[B]` and `textMask` `[B·P]` (row-major), 1 = real. */
export interface BatchMasks {
  count: number;
  audioMask: ArrayLike<number>;
  textMask: ArrayLike<number>;
  /** `[B]` 1 = the clip has video (absent: every clip has); a clip without video is no query. */
  videoMask?: ArrayLike<number>;
}

/**
 * In-batch top-1 accuracy video→audio (queries and candidates: clips with audio) and
 * video→text (queries: clips with a real caption; candidates: real captions; a hit is any
 * caption of the clip), by {@linkcode maskedTop1}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { inBatchAccuracy } from "./batch_metrics.ts";
 * const videoVa = tf.tensor2d([[1, 0], [0, 1]]);
 * // Clip 1 has no audio: its audio, the closest to video 0, is never picked.
 * const audioVa = tf.tensor2d([[1, 1], [1, 0]]);
 * const videoVt = tf.tensor2d([[-1, -1], [0, 1]]);
 * // Clip 0's padded caption equals video 1 (and comes first): never picked either.
 * const textVt = tf.tensor3d([[[-1, -1], [0, 1]], [[0, 1], [0, 0]]]); // [B=2, P=2, D=2]
 * const acc = await inBatchAccuracy({ videoVa, audioVa, videoVt, textVt }, {
 *   count: 2,
 *   audioMask: [1, 0],
 *   textMask: [1, 0, 1, 0], // the second caption of each clip is padding
 * });
 * assert.deepEqual(acc, { videoAudio: 1, videoText: 1 });
 * tf.dispose([videoVa, audioVa, videoVt, textVt]);
 * ```
 */
export async function inBatchAccuracy(
  out: BatchEmbeddings,
  batch: BatchMasks,
): Promise<{ videoAudio: number; videoText: number }> {
  const b = batch.count;
  const p = batch.textMask.length / b;
  if (!Number.isInteger(p)) {
    throw new RangeError(
      `inBatchAccuracy(): textMask has ${batch.textMask.length} entries for ${b} clips`,
    );
  }
  const clips = Int32Array.from({ length: b }, (_, i) => i);
  const video = batch.videoMask ?? new Uint8Array(b).fill(1);
  const videoAudio = await maskedTop1(out.videoVa, out.audioVa, {
    owner: clips,
    queryValid: Uint8Array.from(clips, (i) => (batch.audioMask[i] > 0 && video[i] > 0 ? 1 : 0)),
    candidateValid: batch.audioMask,
  });
  const captions = tf.reshape(out.textVt, [b * p, -1]) as tf.Tensor2D; // [B·P, D]
  try {
    const hasText = Uint8Array.from(clips, (i) => {
      if (!(video[i] > 0)) return 0;
      for (let k = i * p; k < i * p + p; k++) if (batch.textMask[k] > 0) return 1;
      return 0;
    });
    const videoText = await maskedTop1(out.videoVt, captions, {
      owner: Int32Array.from({ length: b * p }, (_, k) => Math.floor(k / p)),
      queryValid: hasText,
      candidateValid: batch.textMask,
    });
    return { videoAudio, videoText };
  } finally {
    captions.dispose();
  }
}
