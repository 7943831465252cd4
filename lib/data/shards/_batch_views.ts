/**
 * Applying the draws of `augment.ts` to a batch of stored clips: the window
 * and crop (copied, or cropped and resized with `tf.image.cropAndResize`,
 * bilinear), the flip, the colour jitter, and the audio window, gain and
 * noise. Private to `lib/data/shards`: `batchToTensors` is the way in.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../../util/rng.ts";
import { PCM16_SCALE } from "../media/pcm16.ts";
import type { ClipDraw, ClipGeometry } from "./augment.ts";
import type { ClipBatch } from "./dataset.ts";
import { type StoredShape, storedShape } from "./dataset_index.ts";

/** The model's window and crop, and what the clips store (absent: the same). */
export interface BatchShape {
  frames: number;
  size: number;
  audioSamples: number;
  captionsPerClip: number;
  maxLength: number;
  storedFrames?: number;
  storedSize?: number;
  storedAudioSamples?: number;
}

/** RGB weights of the luma that saturation blends with (`tf.image.rgb_to_grayscale`). */
const LUMA = [0.2989, 0.587, 0.114];

/**
 * The geometry of each clip of a batch: the model's window, what is stored,
 * and how many of its frames are real.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchGeometry } from "./_batch_views.ts";
 * const shape = { frames: 2, size: 2, audioSamples: 4, captionsPerClip: 1, maxLength: 1, storedFrames: 3 };
 * const g = batchGeometry({ count: 1, videoFrames: Int32Array.of(2) }, shape);
 * assert.equal(g[0].storedFrames, 3);
 * assert.equal(g[0].validFrames, 2);
 * ```
 */
export function batchGeometry(
  batch: Pick<ClipBatch, "count" | "videoFrames">,
  shape: BatchShape,
): ClipGeometry[] {
  const st = storedShape(shape);
  checkStored(shape, st);
  return Array.from({ length: batch.count }, (_, j) => ({
    frames: shape.frames,
    storedFrames: st.frames,
    validFrames: batch.videoFrames?.[j] ?? st.frames,
    size: shape.size,
    storedSize: st.size,
    audioSamples: shape.audioSamples,
    storedAudioSamples: st.audioSamples,
  }));
}

/** The stored span must hold the model's window. */
function checkStored(shape: BatchShape, st: StoredShape): void {
  if (st.frames < shape.frames || st.size < shape.size || st.audioSamples < shape.audioSamples) {
    throw new RangeError(
      `Cannot take a ${shape.frames}×${shape.size}² window with ${shape.audioSamples} samples ` +
        `from clips storing ${st.frames}×${st.size}² and ${st.audioSamples} samples`,
    );
  }
}

/** Copies the window and crop of each clip (no resizing): `[B, T, size, size, 3]` bytes. */
function copyCrops(video: Uint8Array, g: ClipGeometry, draws: ClipDraw[]): Uint8Array {
  const s = g.storedSize;
  const c = g.size;
  const storedClip = g.storedFrames * s * s * 3;
  const out = new Uint8Array(draws.length * g.frames * c * c * 3);
  let o = 0;
  draws.forEach((d, j) => {
    for (let t = 0; t < g.frames; t++) {
      const frame = j * storedClip + (d.start + t) * s * s * 3;
      for (let y = 0; y < c; y++) {
        const row = frame + ((d.crop.top + y) * s + d.crop.left) * 3;
        out.set(video.subarray(row, row + c * 3), o);
        o += c * 3;
      }
    }
  });
  return out;
}

/** Copies the window of each clip at the stored size: `[B·T, S, S, 3]` bytes. */
function copyWindows(video: Uint8Array, g: ClipGeometry, draws: ClipDraw[]): Uint8Array {
  const frameBytes = g.storedSize * g.storedSize * 3;
  const out = new Uint8Array(draws.length * g.frames * frameBytes);
  draws.forEach((d, j) => {
    const from = (j * g.storedFrames + d.start) * frameBytes;
    out.set(video.subarray(from, from + g.frames * frameBytes), j * g.frames * frameBytes);
  });
  return out;
}

/** The crop box of a draw, normalised for `cropAndResize` (pixel centres at the ends). */
function cropBox(d: ClipDraw, side: number): number[] {
  const n = side - 1;
  const { top, left, height, width } = d.crop;
  return [top / n, left / n, (top + height - 1) / n, (left + width - 1) / n];
}

/**
 * The video of a batch at the model's window and size, flipped where drawn,
 * as float pixel values in [0, 255]: `[B, T, size, size, 3]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { videoPixels } from "./_batch_views.ts";
 * import { viewDraw } from "./augment.ts";
 * const g = { frames: 1, storedFrames: 1, validFrames: 1, size: 1, storedSize: 3, audioSamples: 1, storedAudioSamples: 1 };
 * const v = videoPixels(Uint8Array.from({ length: 27 }, (_, i) => i), g, [viewDraw(g)]);
 * assert.deepEqual([...v.dataSync()], [12, 13, 14]); // the centre pixel
 * tf.dispose(v);
 * ```
 */
export function videoPixels(video: Uint8Array, g: ClipGeometry, draws: ClipDraw[]): tf.Tensor {
  const b = draws.length;
  const c = g.size;
  return tf.tidy(() => {
    const resize = draws.some((d) => d.crop.height !== c || d.crop.width !== c);
    let pixels: tf.Tensor;
    if (!resize) {
      const bytes = copyCrops(video, g, draws);
      pixels = tf.cast(tf.tensor(bytes, [b, g.frames, c, c, 3], "int32"), "float32");
    } else {
      const s = g.storedSize;
      const bytes = copyWindows(video, g, draws);
      const frames = tf.cast(tf.tensor(bytes, [b * g.frames, s, s, 3], "int32"), "float32");
      const boxes = draws.flatMap((d) => Array.from({ length: g.frames }, () => cropBox(d, s)));
      const resized = tf.image.cropAndResize(
        frames as tf.Tensor4D,
        tf.tensor2d(boxes, [b * g.frames, 4]),
        tf.tensor1d(Int32Array.from({ length: b * g.frames }, (_, i) => i), "int32"),
        [c, c],
        "bilinear",
      ); // [B·T, size, size, 3]
      pixels = tf.reshape(resized, [b, g.frames, c, c, 3]);
    }
    if (!draws.some((d) => d.flip)) return pixels;
    const m = tf.tensor(draws.map((d) => (d.flip ? 1 : 0)), [b, 1, 1, 1, 1]);
    // m ∈ {0, 1}: each clip is exactly itself or exactly its mirror.
    return tf.add(tf.mul(pixels, tf.sub(1, m)), tf.mul(tf.reverse(pixels, 3), m));
  });
}

/**
 * Pixel values `[B, T, H, W, 3]` in [0, 255] to model inputs in [−1, 1], with
 * each clip's colour jitter (brightness, saturation, contrast; clipped to
 * [0, 1] before scaling). Without jitter this is `x/127.5 − 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { colourJitter } from "./_batch_views.ts";
 * import { viewDraw } from "./augment.ts";
 * const g = { frames: 1, storedFrames: 1, validFrames: 1, size: 1, storedSize: 1, audioSamples: 1, storedAudioSamples: 1 };
 * const px = tf.tensor([[[[[0, 127.5, 255]]]]]);
 * const plain = colourJitter(px, [viewDraw(g)]);
 * assert.deepEqual([...plain.dataSync()], [-1, 0, 1]);
 * const bright = colourJitter(px, [{ ...viewDraw(g), brightness: 0.5 }]);
 * assert.deepEqual([...bright.dataSync()], [0, 1, 1]); // +0.5, then clipped to 1
 * tf.dispose([px, plain, bright]);
 * ```
 */
export function colourJitter(pixels: tf.Tensor, draws: ClipDraw[]): tf.Tensor {
  const b = draws.length;
  const plain = draws.every((d) => d.brightness === 0 && d.saturation === 1 && d.contrast === 1);
  return tf.tidy(() => {
    if (plain) return tf.sub(tf.div(pixels, 127.5), 1);
    const per = (f: (d: ClipDraw) => number) => tf.tensor(draws.map(f), [b, 1, 1, 1, 1]);
    let x = tf.add(tf.div(pixels, 255), per((d) => d.brightness));
    const gray = tf.sum(tf.mul(x, tf.tensor1d(LUMA)), -1, true); // [B, T, H, W, 1]
    x = tf.add(gray, tf.mul(tf.sub(x, gray), per((d) => d.saturation)));
    const mean = tf.mean(x, [2, 3], true); // [B, T, 1, 1, 3]: each frame's channel means
    x = tf.add(mean, tf.mul(tf.sub(x, mean), per((d) => d.contrast)));
    return tf.sub(tf.mul(tf.clipByValue(x, 0, 1), 2), 1);
  });
}

/**
 * The audio window of each clip with its gain and noise, as floats:
 * `[B, audioSamples]` (int16 read as `s / 32768`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { audioWindows } from "./_batch_views.ts";
 * import { viewDraw } from "./augment.ts";
 * const g = { frames: 1, storedFrames: 1, validFrames: 1, size: 1, storedSize: 1, audioSamples: 2, storedAudioSamples: 4 };
 * const a = audioWindows(Int16Array.of(0, 16384, -16384, 0), g, [viewDraw(g)]);
 * assert.deepEqual([...a], [0.5, -0.5]); // the centre two samples
 * ```
 */
export function audioWindows(
  audio: Int16Array | Float32Array,
  g: ClipGeometry,
  draws: ClipDraw[],
): Float32Array {
  const a = g.audioSamples;
  const out = new Float32Array(draws.length * a);
  const scale = audio instanceof Int16Array ? 1 / PCM16_SCALE : 1;
  draws.forEach((d, j) => {
    const from = j * g.storedAudioSamples + d.audioStart;
    const gain = d.gain * scale;
    let peak = 0;
    for (let k = 0; k < a; k++) {
      const v = audio[from + k] * gain;
      out[j * a + k] = v;
      peak = Math.max(peak, Math.abs(v));
    }
    if (d.noise > 0 && peak > 0) {
      const rng = new Rng(d.noiseSeed);
      const std = d.noise * peak;
      for (let k = 0; k < a; k++) out[j * a + k] += std * rng.normal();
    }
  });
  return out;
}
