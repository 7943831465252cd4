/**
 * Embedding a dataset with a trained model, in batches (bounded memory, any
 * backend, no synchronous reads). Loading the model: `lib/run/load_model.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { DEFAULT_EVAL_BATCH_SIZE } from "../../config/eval_config.ts";
import type { VattConfig } from "../../config/vatt_config.ts";
import { batchToTensors } from "../../data/shards/batches.ts";
import type { Dataset } from "../../data/shards/dataset.ts";
import type { VattModel } from "../../model/vatt.ts";
import { checkModelFitsData } from "../../data/fit.ts";

/** Which embedding: the video–audio space, the video–text space, or the aggregation tokens. */
export type EmbeddingSpace = "va" | "vt" | "backbone";

/** One batch of embeddings. */
export interface EmbeddedBatch {
  /** Global clip indices. */
  indices: number[];
  ids: string[];
  /** `[n, D_v]` when video was asked for. */
  video?: Float32Array;
  /** `[n, D_a]` when audio was asked for (rows of clips without audio are still there; see `audioMask`). */
  audio?: Float32Array;
  /** `[n, P, D_t]` when text was asked for. */
  text?: Float32Array;
  audioMask: Uint8Array;
  /** `[n]`, 1 = the clip has video (rows of audio-only clips are still there); absent: all have. */
  videoMask?: Uint8Array;
  /** `[n, P]`. */
  textMask: Uint8Array;
  /** `[n]` or `[n, C]` as stored. */
  label: Int32Array | Uint8Array;
  /** Dimensions of each modality's vectors. */
  dims: { video: number; audio: number; text: number };
}

/** Options of {@linkcode embedDataset}. */
export interface EmbedOptions {
  modalities: ("video" | "audio" | "text")[];
  space: EmbeddingSpace;
  /** Clips per forward pass. Default {@linkcode DEFAULT_EVAL_BATCH_SIZE}. */
  batchSize?: number;
  /** Restrict to these clip indices (default: all, in order). */
  indices?: number[];
  onProgress?: (done: number, total: number) => void;
}

/** Dimension of each modality's vectors in `space`. */
export function embeddingDims(
  config: VattConfig,
  space: EmbeddingSpace,
): { video: number; audio: number; text: number } {
  if (space === "backbone") {
    return {
      video: config.video.backbone.hidden,
      audio: config.audio.backbone.hidden,
      text: config.text.backbone.hidden,
    };
  }
  if (space === "va") return { video: config.heads.vaDim, audio: config.heads.vaDim, text: 0 };
  return { video: config.heads.vtDim, audio: 0, text: config.heads.vtDim };
}

/**
 * Embeds the dataset batch by batch (inference mode: no DropToken, BatchNorm
 * on moving statistics). Yields each batch so callers can stream results to
 * disk. The `va` space has no text and the `vt` space no audio: asking for
 * them is a `RangeError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import { VattModel } from "../../model/vatt.ts";
 * import { embedDataset } from "./embed.ts";
 * // A stand-in dataset of one black clip at the tiny preset's sizes.
 * const settings = {
 *   frames: 8, size: 32, audioSamples: 6400, sampleRate: 8000, captionsPerClip: 1, maxLength: 16,
 * };
 * const data = {
 *   size: 1,
 *   index: { settings, text: { vocabSize: 10 } },
 *   readClips: () =>
 *     Promise.resolve({
 *       count: 1, ids: ["clip"], video: new Uint8Array(8 * 32 * 32 * 3),
 *       audio: new Float32Array(6400), audioMask: new Uint8Array([1]), text: new Int32Array(16),
 *       textMask: new Uint8Array([0]), label: new Int32Array([-1]),
 *     }),
 * } as unknown as Dataset;
 * const model = VattModel.create(PRESETS.tiny);
 * for await (const b of embedDataset(model, data, { modalities: ["video"], space: "va" })) {
 *   assert.deepEqual(b.ids, ["clip"]);
 *   assert.equal(b.video!.length, PRESETS.tiny.heads.vaDim); // one va vector
 *   assert.equal(b.audio, undefined); // not asked for
 * }
 * model.dispose();
 * ```
 */
export async function* embedDataset(
  model: VattModel,
  data: Dataset,
  options: EmbedOptions,
): AsyncGenerator<EmbeddedBatch> {
  checkModelFitsData(model.config, data);
  const space = options.space;
  if (space === "va" && options.modalities.includes("text")) {
    throw new RangeError("the video-audio space (va) has no text embeddings");
  }
  if (space === "vt" && options.modalities.includes("audio")) {
    throw new RangeError("the video-text space (vt) has no audio embeddings");
  }
  const all = options.indices ?? Array.from({ length: data.size }, (_, i) => i);
  const bs = options.batchSize ?? DEFAULT_EVAL_BATCH_SIZE;
  if (!Number.isInteger(bs) || bs < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${bs}`);
  }
  const s = data.index.settings;
  const dims = embeddingDims(model.config, space);
  const want = new Set(options.modalities);
  for (let start = 0; start < all.length; start += bs) {
    const indices = all.slice(start, start + bs);
    const batch = await data.readClips(indices);
    // Evaluation never augments: each clip's centre window and centre crop.
    const inputs = batchToTensors(batch, s);
    const out = model.apply({
      video: want.has("video") ? inputs.video : undefined,
      audio: want.has("audio") ? inputs.audio : undefined,
      text: want.has("text") ? inputs.text : undefined,
    });
    const pick = (): Record<string, tf.Tensor | undefined> => ({
      video: space === "backbone"
        ? out.video?.representation
        : space === "va"
        ? out.video?.va
        : out.video?.vt,
      audio: space === "backbone" ? out.audio?.representation : out.audio?.va,
      text: space === "backbone" ? out.text?.representation : out.text?.vt,
    });
    const chosen = pick();
    const result: EmbeddedBatch = {
      indices,
      ids: batch.ids,
      audioMask: batch.audioMask,
      videoMask: batch.videoMask,
      textMask: batch.textMask,
      label: batch.label,
      dims,
    };
    for (const m of ["video", "audio", "text"] as const) {
      const t = chosen[m];
      if (want.has(m) && t) result[m] = (await t.data()) as Float32Array;
    }
    const everything = [
      out.video?.va,
      out.video?.vt,
      out.video?.representation,
      out.audio?.va,
      out.audio?.representation,
      out.text?.vt,
      out.text?.representation,
    ].filter((t): t is tf.Tensor2D => t !== undefined);
    tf.dispose(everything);
    tf.dispose(Object.values(inputs));
    options.onProgress?.(Math.min(start + bs, all.length), all.length);
    yield result;
  }
}
