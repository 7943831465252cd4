/**
 * The patch embeddings (the paper's "tokenization" layers): raw video voxels,
 * raw audio samples and text ids into `d`-dimensional tokens with their
 * positions.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { VattConfig } from "../config/vatt_config.ts";
import { videoTokenGrid } from "../config/token_counts.ts";
import { dense, gatherRows, layerNorm } from "./_ops.ts";
import type { Weights } from "./weights.ts";
import { wordVectorTokens } from "./word_embedding.ts";

/** The summed positions `[..., d]`, layer-normalised when the config asks (official order: LN, then add). */
function positionNorm(
  pos: tf.Tensor,
  weights: Weights,
  modality: "video" | "audio",
  config: VattConfig,
): tf.Tensor {
  if (!config.positionNorm) return pos;
  return layerNorm(pos, weights[`${modality}/pos/ln/gamma`], weights[`${modality}/pos/ln/beta`]);
}

/**
 * Cuts a clip `[B, T, H, W, 3]` (values in [−1, 1]) into
 * `ceil(T/t)·ceil(H/h)·ceil(W/w)` voxel patches of `t×h×w×3` (zero-padded at
 * the far end of each axis), projects each with `W_vp` and adds the factorized
 * position `e_temporal_i + e_vertical_j + e_horizontal_k`, layer-normalised
 * first when `config.positionNorm` (`video/pos/ln`, as the official code does).
 * Patch entries are ordered (t, h, w, channel); tokens are ordered (time, row, column).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { createWeights } from "./weights.ts";
 * import { weightSpecs } from "./weight_specs.ts";
 * import { videoTokens } from "./patch_embed.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * const w = createWeights(weightSpecs(c), { seed: 0 });
 * const tokens = videoTokens(tf.zeros([1, 8, 32, 32, 3]), w, c); // [1, 64, 64]
 * assert.equal(tokens.shape.join(), "1,64,64");
 * ```
 */
export function videoTokens(video: tf.Tensor, weights: Weights, config: VattConfig): tf.Tensor3D {
  return tf.tidy(() => {
    const v = config.video;
    const [t, h, w] = v.patch;
    const { nt, nh, nw, count } = videoTokenGrid(v);
    const d = v.backbone.hidden;
    const b = video.shape[0];
    const [, T, H, W, C] = video.shape;
    if (T !== v.frames || H !== v.height || W !== v.width || C !== 3) {
      throw new RangeError(
        `Cannot embed video patches of shape [${video.shape}]: the model expects [B, ${v.frames}, ${v.height}, ${v.width}, 3]`,
      );
    }
    const padded = tf.pad(video, [[0, 0], [0, nt * t - T], [0, nh * h - H], [0, nw * w - W], [
      0,
      0,
    ]]); // [B, nt·t, nh·h, nw·w, 3]
    const grouped = tf.reshape(padded, [b * nt, t, nh, h, nw, w * 3]); // [B·nt, t, nh, h, nw, w·3]
    const moved = tf.transpose(grouped, [0, 2, 4, 1, 3, 5]); // [B·nt, nh, nw, t, h, w·3]
    const patches = tf.reshape(moved, [b, count, t * h * w * 3]); // [B, N, t·h·w·3]
    const tokens = dense(patches, weights["video/patch/kernel"], weights["video/patch/bias"], {
      dataInput: true,
    }); // [B, N, d]
    const pos = tf.add(
      tf.add(
        tf.reshape(weights["video/pos/temporal"], [nt, 1, 1, d]),
        tf.reshape(weights["video/pos/vertical"], [1, nh, 1, d]),
      ),
      tf.reshape(weights["video/pos/horizontal"], [1, 1, nw, d]),
    ); // [nt, nh, nw, d]
    const normed = positionNorm(pos, weights, "video", config); // [nt, nh, nw, d]
    return tf.add(tokens, tf.reshape(normed, [1, count, d])) as tf.Tensor3D; // [B, N, d]
  });
}

/**
 * Cuts a waveform `[B, T']` into `ceil(T'/t')` segments of `t'` samples
 * (zero-padded), projects each with `W_ap` and adds a learned position
 * (layer-normalised first when `config.positionNorm`: `audio/pos/ln`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { createWeights } from "./weights.ts";
 * import { weightSpecs } from "./weight_specs.ts";
 * import { audioTokens } from "./patch_embed.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * const w = createWeights(weightSpecs(c), { seed: 0 });
 * assert.equal(audioTokens(tf.zeros([2, 6400]), w, c).shape.join(), "2,50,64");
 * ```
 */
export function audioTokens(audio: tf.Tensor, weights: Weights, config: VattConfig): tf.Tensor3D {
  return tf.tidy(() => {
    const a = config.audio;
    const [b, s] = audio.shape;
    if (audio.rank !== 2 || s !== a.samples) {
      throw new RangeError(
        `Cannot embed audio patches of shape [${audio.shape}]: the model expects [B, ${a.samples}]`,
      );
    }
    const n = Math.ceil(s / a.patch);
    const padded = tf.pad(audio, [[0, 0], [0, n * a.patch - s]]); // [B, N·t']
    const segments = tf.reshape(padded, [b, n, a.patch]); // [B, N, t']
    const tokens = dense(segments, weights["audio/patch/kernel"], weights["audio/patch/bias"], {
      dataInput: true,
    }); // [B, N, d]
    const pos = positionNorm(weights["audio/pos"], weights, "audio", config); // [N, d]
    return tf.add(tokens, tf.expandDims(pos, 0)) as tf.Tensor3D; // [B, N, d]
  });
}

/**
 * Looks up text ids `[B, L]` (0 = padding) in the learned embedding table (or,
 * with `text.wordVectors`, the frozen word vectors and their projection) and
 * returns the tokens `[B, L, d]` and the padding mask `[B, L]` (1 = real
 * word). Positions enter later, as relative positions inside attention.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { createWeights } from "./weights.ts";
 * import { weightSpecs } from "./weight_specs.ts";
 * import { textTokens } from "./patch_embed.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * const w = createWeights(weightSpecs(c), { seed: 0 });
 * const { tokens, mask } = textTokens(tf.tensor2d([[5, 9, 0]], undefined, "int32"), w, c);
 * assert.equal(tokens.shape.join(), "1,3,64");
 * assert.equal(mask.shape.join(), "1,3");
 * ```
 */
export function textTokens(
  ids: tf.Tensor,
  weights: Weights,
  config: VattConfig,
): { tokens: tf.Tensor3D; mask: tf.Tensor2D } {
  return tf.tidy(() => {
    const [b, l] = ids.shape;
    if (ids.rank !== 2) {
      throw new RangeError(`Cannot embed text of shape [${ids.shape}]: expected [B, L]`);
    }
    const d = config.text.backbone.hidden;
    const flat = tf.reshape(tf.cast(ids, "int32"), [b * l]) as tf.Tensor1D; // [B·L]
    const clipped = tf.clipByValue(flat, 0, config.text.vocabSize - 1) as tf.Tensor1D;
    const rows = config.text.wordVectors
      ? wordVectorTokens(clipped, weights, config.text) // frozen vectors, OOV row, projection
      : gatherRows(weights["text/embedding"] as tf.Tensor2D, clipped); // [B·L, d]
    const tokens = tf.reshape(rows, [b, l, d]) as tf.Tensor3D; // [B, L, d]
    const mask = tf.cast(tf.notEqual(ids, 0), "float32") as tf.Tensor2D; // [B, L]
    return { tokens, mask };
  });
}
