/**
 * Seeded batching: the order of clips in epoch `e` is a shuffle drawn from
 * `(seed, e)` alone, so the data position `(epoch, offset)` is the whole state
 * a checkpoint needs to continue exactly. Also the conversion of stored clips
 * to model inputs (video and audio scaled to [−1, 1]).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../../util/rng.ts";
import type { ClipBatch } from "./dataset.ts";
import {
  type AugmentSpec,
  batchDraws,
  type ClipDraw,
  type ClipGeometry,
  type ClipView,
} from "./augment.ts";
import {
  audioWindows,
  batchGeometry,
  type BatchShape,
  colourJitter,
  videoPixels,
} from "./_batch_views.ts";

export type { BatchShape } from "./_batch_views.ts";

/** Where a sampler is: the epoch and how many clips of it were used. */
export interface SamplerPosition {
  epoch: number;
  offset: number;
}

/**
 * Draws batches of clip indices, epoch after epoch, dropping an incomplete
 * last batch of each epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EpochSampler } from "./batches.ts";
 * const a = new EpochSampler(10, { seed: 1, batchSize: 4 });
 * const first = a.next();
 * const b = new EpochSampler(10, { seed: 1, batchSize: 4, position: { epoch: 0, offset: 0 } });
 * assert.equal(first.join(), b.next().join());
 * ```
 */
export class EpochSampler {
  readonly size: number;
  readonly seed: number;
  readonly batchSize: number;
  #position: SamplerPosition;
  #order: number[] | null = null;

  constructor(
    size: number,
    options: { seed: number; batchSize: number; position?: SamplerPosition },
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    }
    if (options.batchSize > size) {
      throw new RangeError(
        `batch size ${options.batchSize} is larger than the dataset (${size} clips)`,
      );
    }
    this.size = size;
    this.seed = options.seed;
    this.batchSize = options.batchSize;
    this.#position = { ...(options.position ?? { epoch: 0, offset: 0 }) };
  }

  /** The position, for checkpoints. */
  get position(): SamplerPosition {
    return { ...this.#position };
  }

  /** The shuffled order of epoch `epoch`. */
  orderOf(epoch: number): number[] {
    return Rng.forLabel(this.seed, `epoch-${epoch}`).shuffle(
      Array.from({ length: this.size }, (_, i) => i),
    );
  }

  /** The next batch of indices. */
  next(): number[] {
    if (this.#position.offset + this.batchSize > this.size) {
      this.#position = { epoch: this.#position.epoch + 1, offset: 0 };
    }
    if (!this.#order || this.#position.offset === 0) {
      this.#order = this.orderOf(this.#position.epoch);
    }
    const batch = this.#order.slice(this.#position.offset, this.#position.offset + this.batchSize);
    this.#position.offset += this.batchSize;
    return batch;
  }
}

/** Model inputs made from stored clips. */
export interface BatchTensors {
  /** `[B, T, S, S, 3]` float in [−1, 1]. */
  video: tf.Tensor;
  /** `[B, A]` float in [−1, 1]. */
  audio: tf.Tensor2D;
  /** `[B]` float, 1 = has audio. */
  audioMask: tf.Tensor1D;
  /** `[B]` float, 1 = has video (0: an audio-only clip). Absent: every clip has video. */
  videoMask?: tf.Tensor1D;
  /** `[B, P, L]` int32. */
  text: tf.Tensor3D;
  /** `[B, P]` float, 1 = real caption. */
  textMask: tf.Tensor2D;
}

/**
 * The model's video of each clip (window, crop, flip, colour), one clip at a
 * time so that the views' intermediate copies are one clip's (at the paper's
 * inputs a batch of 16 clips is 308 MB a copy), then stacked: `[B, T, S, S, 3]`.
 */
function clipByClip(video: Uint8Array, g: ClipGeometry, draws: ClipDraw[]): tf.Tensor {
  const clipBytes = g.storedFrames * g.storedSize * g.storedSize * 3;
  const clips = draws.map((d, j) =>
    tf.tidy(() => {
      const bytes = video.subarray(j * clipBytes, (j + 1) * clipBytes);
      return colourJitter(videoPixels(bytes, g, [d]), [d]); // [1, T, S, S, 3]
    })
  );
  if (clips.length === 1) return clips[0];
  const stacked = tf.concat(clips, 0);
  tf.dispose(clips);
  return stacked;
}

/** How {@linkcode batchToTensors} takes each clip's window and crop. */
export interface BatchViewOptions {
  /** Training: the draws of this mode, seed, step and these clips; absent or `"none"`: a fixed view. */
  augment?: AugmentSpec;
  /** The fixed view without augmentation (default: centre window, centre crop). */
  view?: ClipView;
}

/**
 * Makes model inputs from a batch of stored clips: each clip's window and
 * crop (`augment.ts`: the centre ones by default, the paper's random ones with
 * `augment.mode` `"paper"`), video `x/127.5 − 1`, int16 audio `x/32768`
 * (`PCM16_SCALE`, the scale shards are written with). `shape` is the
 * dataset's settings: the model's window and crop, and what is stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { batchToTensors } from "./batches.ts";
 * const batch = { count: 1, ids: ["a"], video: new Uint8Array(12).fill(255), audio: Int16Array.of(-32768, 16384),
 *   audioMask: Uint8Array.of(1), text: Int32Array.of(3, 0), textMask: Uint8Array.of(1), label: Int32Array.of(-1) };
 * const t = batchToTensors(batch, { frames: 1, size: 2, audioSamples: 2, captionsPerClip: 1, maxLength: 2 });
 * assert.deepEqual(t.video.shape, [1, 1, 2, 2, 3]);
 * assert.equal(t.video.dataSync()[0], 1);
 * assert.deepEqual([...t.audio.dataSync()], [-1, 0.5]);
 * // Stored 2 frames of 3², the model takes 1 frame of 2²: the paper's draws keep that shape.
 * const stored = { ...batch, video: new Uint8Array(54).fill(255), audio: Int16Array.of(0, 0, 0) };
 * const shape = { frames: 1, size: 2, audioSamples: 2, captionsPerClip: 1, maxLength: 2,
 *   storedFrames: 2, storedSize: 3, storedAudioSamples: 3 };
 * const r = batchToTensors(stored, shape, { augment: { mode: "paper", seed: 1, step: 0, clips: [5] } });
 * assert.deepEqual(r.video.shape, [1, 1, 2, 2, 3]);
 * assert.deepEqual(r.audio.shape, [1, 2]);
 * tf.dispose([...Object.values(t), ...Object.values(r)]);
 * ```
 */
export function batchToTensors(
  batch: ClipBatch,
  shape: BatchShape,
  options: BatchViewOptions = {},
): BatchTensors {
  const b = batch.count;
  const geometry = batchGeometry(batch, shape);
  const draws = batchDraws(geometry, options);
  const g = geometry[0] ?? batchGeometry({ count: 1 }, shape)[0];
  const audio = audioWindows(batch.audio, g, draws);
  const video = clipByClip(batch.video, g, draws);
  return tf.tidy(() => {
    return {
      video,
      audio: tf.tensor2d(audio, [b, shape.audioSamples]),
      audioMask: tf.tensor1d(Float32Array.from(batch.audioMask)),
      videoMask: tf.tensor1d(
        batch.videoMask ? Float32Array.from(batch.videoMask) : new Float32Array(b).fill(1),
      ),
      text: tf.tensor3d(batch.text, [b, shape.captionsPerClip, shape.maxLength], "int32"),
      textMask: tf.tensor2d(Float32Array.from(batch.textMask), [b, shape.captionsPerClip]),
    };
  }) as unknown as BatchTensors;
}
