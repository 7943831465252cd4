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
import type { KeptTokens } from "./drop_token.ts";
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
 * Projects patches `[B, N, P]` to tokens `[B, N, d]` with `pos` `[N, d]`
 * added; with `kept` (DropToken), only the kept patches `[B, K, d]`: the
 * projection is per patch, so picking before it gives the tokens picking
 * after it would, on half the work and without the dropped tokens' memory.
 */
function projectPatches(
  patches: tf.Tensor3D,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  pos: tf.Tensor2D,
  kept?: KeptTokens,
): tf.Tensor3D {
  const [b, n, p] = patches.shape;
  const d = pos.shape[1];
  if (!kept) {
    const tokens = dense(patches, kernel, bias, { dataInput: true }); // [B, N, d]
    return tf.add(tokens, tf.expandDims(pos, 0)) as tf.Tensor3D; // [B, N, d]
  }
  const flat = tf.reshape(patches, [b * n, p]) as tf.Tensor2D; // [B·N, P]
  const picked = gatherRows(flat, tf.tensor1d(kept.rows, "int32")); // [B·K, P]
  const tokens = dense(picked, kernel, bias, { dataInput: true }); // [B·K, d]
  const positions = gatherRows(pos, tf.tensor1d(kept.positions, "int32")); // [B·K, d]
  return tf.reshape(tf.add(tokens, positions), [b, kept.keep, d]) as tf.Tensor3D; // [B, K, d]
}

/**
 * Cuts a clip `[B, T, H, W, 3]` (values in [−1, 1]) into
 * `ceil(T/t)·ceil(H/h)·ceil(W/w)` voxel patches `[B, N, t·h·w·3]` (zero-padded
 * at the far end of each axis). Patch entries are ordered (t, h, w, channel);
 * patches are ordered (time, row, column). Data only (no weights): a trainer
 * cuts its batch before the gradient tape, which then holds the patches
 * alone instead of the clip and its padded and transposed copies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { videoPatches } from "./patch_embed.ts";
 * const c = resolveVattConfig({ preset: "tiny" }); // 8 frames of 32², patches 2×8×8
 * const clip = tf.reshape(tf.range(0, 8 * 32 * 32 * 3), [1, 8, 32, 32, 3]);
 * const patches = videoPatches(clip, c); // [1, 4·4·4, 2·8·8·3]
 * assert.equal(patches.shape.join(), "1,64,384");
 * // Patch 1 is time 0, row 0, column 1: its first voxel is frame 0, pixel (0, 8).
 * assert.equal((await patches.array())[0][1][0], 8 * 3);
 * ```
 */
export function videoPatches(video: tf.Tensor, config: VattConfig): tf.Tensor3D {
  return tf.tidy(() => {
    const v = config.video;
    const [t, h, w] = v.patch;
    const { nt, nh, nw, count } = videoTokenGrid(v);
    const [b, T, H, W, C] = video.shape;
    if (video.rank !== 5 || T !== v.frames || H !== v.height || W !== v.width || C !== 3) {
      throw new RangeError(
        `Cannot embed video patches of shape [${video.shape}]: the model expects [B, ${v.frames}, ${v.height}, ${v.width}, 3]`,
      );
    }
    const pads: [number, number][] = [[0, 0], [0, nt * t - T], [0, nh * h - H], [0, nw * w - W], [
      0,
      0,
    ]];
    // tfjs's pad copies even where every pad is 0.
    const padded = pads.some(([, after]) => after > 0) ? tf.pad(video, pads) : video; // [B, nt·t, nh·h, nw·w, 3]
    const grouped = tf.reshape(padded, [b * nt, t, nh, h, nw, w * 3]); // [B·nt, t, nh, h, nw, w·3]
    const moved = tf.transpose(grouped, [0, 2, 4, 1, 3, 5]); // [B·nt, nh, nw, t, h, w·3]
    return tf.reshape(moved, [b, count, t * h * w * 3]) as tf.Tensor3D; // [B, N, t·h·w·3]
  });
}

/**
 * Replaces `inputs.video` (clips `[B, T, H, W, 3]`) by its
 * {@linkcode videoPatches} and frees the clips, in place: a trainer calls it
 * before the gradient tape, which then holds the patches alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { cutVideoIntoPatches } from "./patch_embed.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * const clips = tf.zeros([2, 8, 32, 32, 3]);
 * const inputs = cutVideoIntoPatches({ video: clips }, c);
 * assert.equal(inputs.video.shape.join(), "2,64,384");
 * assert.ok(clips.isDisposed);
 * ```
 */
export function cutVideoIntoPatches<T extends { video: tf.Tensor }>(
  inputs: T,
  config: VattConfig,
): T {
  const clips = inputs.video;
  inputs.video = videoPatches(clips, config);
  clips.dispose();
  return inputs;
}

/**
 * Embeds a clip `[B, T, H, W, 3]` (or its {@linkcode videoPatches}
 * `[B, N, t·h·w·3]`): each voxel patch projected with `W_vp`, plus the
 * factorized position `e_temporal_i + e_vertical_j + e_horizontal_k`,
 * layer-normalised first when `config.positionNorm` (`video/pos/ln`, as the
 * official code does). Tokens `[B, N, d]` are ordered (time, row, column);
 * with `kept` (DropToken), only the kept tokens `[B, K, d]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { createWeights } from "./weights.ts";
 * import { weightSpecs } from "./weight_specs.ts";
 * import { videoPatches, videoTokens } from "./patch_embed.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * const w = createWeights(weightSpecs(c), { seed: 0 });
 * const clip = tf.randomUniform([1, 8, 32, 32, 3], -1, 1, "float32", 3);
 * const tokens = videoTokens(clip, w, c); // [1, 64, 64]
 * assert.equal(tokens.shape.join(), "1,64,64");
 * const again = videoTokens(videoPatches(clip, c), w, c); // from the patches
 * assert.deepEqual(await again.data(), await tokens.data());
 * ```
 */
export function videoTokens(
  video: tf.Tensor,
  weights: Weights,
  config: VattConfig,
  kept?: KeptTokens,
): tf.Tensor3D {
  return tf.tidy(() => {
    const v = config.video;
    const { nt, nh, nw, count } = videoTokenGrid(v);
    const d = v.backbone.hidden;
    const width = v.patch[0] * v.patch[1] * v.patch[2] * 3;
    const isPatches = video.rank === 3 && video.shape[1] === count && video.shape[2] === width;
    const patches = isPatches ? video as tf.Tensor3D : videoPatches(video, config); // [B, N, t·h·w·3]
    const pos = tf.add(
      tf.add(
        tf.reshape(weights["video/pos/temporal"], [nt, 1, 1, d]),
        tf.reshape(weights["video/pos/vertical"], [1, nh, 1, d]),
      ),
      tf.reshape(weights["video/pos/horizontal"], [1, 1, nw, d]),
    ); // [nt, nh, nw, d]
    const normed = positionNorm(pos, weights, "video", config); // [nt, nh, nw, d]
    const table = tf.reshape(normed, [count, d]) as tf.Tensor2D; // [N, d]
    return projectPatches(
      patches,
      weights["video/patch/kernel"],
      weights["video/patch/bias"],
      table,
      kept,
    ); // [B, N or K, d]
  });
}

/**
 * Cuts a waveform `[B, T']` into `ceil(T'/t')` segments of `t'` samples
 * (zero-padded), projects each with `W_ap` and adds a learned position
 * (layer-normalised first when `config.positionNorm`: `audio/pos/ln`); with
 * `kept` (DropToken), only the kept tokens `[B, K, d]`.
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
export function audioTokens(
  audio: tf.Tensor,
  weights: Weights,
  config: VattConfig,
  kept?: KeptTokens,
): tf.Tensor3D {
  return tf.tidy(() => {
    const a = config.audio;
    const [b, s] = audio.shape;
    if (audio.rank !== 2 || s !== a.samples) {
      throw new RangeError(
        `Cannot embed audio patches of shape [${audio.shape}]: the model expects [B, ${a.samples}]`,
      );
    }
    const n = Math.ceil(s / a.patch);
    const padded = n * a.patch === s ? audio : tf.pad(audio, [[0, 0], [0, n * a.patch - s]]); // [B, N·t']
    const segments = tf.reshape(padded, [b, n, a.patch]) as tf.Tensor3D; // [B, N, t']
    const pos = positionNorm(weights["audio/pos"], weights, "audio", config) as tf.Tensor2D; // [N, d]
    const kernel = weights["audio/patch/kernel"];
    return projectPatches(segments, kernel, weights["audio/patch/bias"], pos, kept); // [B, N or K, d]
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
