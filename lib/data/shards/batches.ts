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
  /** `[B, P, L]` int32. */
  text: tf.Tensor3D;
  /** `[B, P]` float, 1 = real caption. */
  textMask: tf.Tensor2D;
}

/**
 * Makes model inputs from a batch: video `x/127.5 − 1`, int16 audio `x/32768`.
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
 * tf.dispose(Object.values(t));
 * ```
 */
export function batchToTensors(
  batch: ClipBatch,
  shape: {
    frames: number;
    size: number;
    audioSamples: number;
    captionsPerClip: number;
    maxLength: number;
  },
): BatchTensors {
  const b = batch.count;
  return tf.tidy(() => {
    const raw = tf.tensor(batch.video, [b, shape.frames, shape.size, shape.size, 3], "int32");
    const video = tf.sub(tf.div(tf.cast(raw, "float32"), 127.5), 1);
    const audioRaw = tf.tensor(
      batch.audio instanceof Int16Array ? Float32Array.from(batch.audio) : batch.audio,
      [b, shape.audioSamples],
      "float32",
    );
    const audio =
      (batch.audio instanceof Int16Array ? tf.div(audioRaw, 32768) : audioRaw) as tf.Tensor2D;
    return {
      video,
      audio,
      audioMask: tf.tensor1d(Float32Array.from(batch.audioMask)),
      text: tf.tensor3d(batch.text, [b, shape.captionsPerClip, shape.maxLength], "int32"),
      textMask: tf.tensor2d(Float32Array.from(batch.textMask), [b, shape.captionsPerClip]),
    };
  }) as unknown as BatchTensors;
}
