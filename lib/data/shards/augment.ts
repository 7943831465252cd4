/**
 * What each visit of a clip sees: a window of its stored span and a crop of
 * its stored frames, and in training (`augment: "paper"`) the official
 * pipeline's random draws (google-research `vatt/data/processing.py`,
 * `dataloaders.py` and DMVR's `processors.py`):
 *
 * - a random window: first frame uniform over the spare frames of the clip's
 *   real span, the audio window aligned with it in time;
 * - scale jitter then a crop resized to the model's size: with probability
 *   0.8 the frame is scaled by independent height and width factors in
 *   [0.8, 1.2] (DMVR `scale_jitter_augm`), and a `size × size` crop is taken
 *   at a uniform position — here, equivalently, a region of
 *   `size / factor` stored pixels (at most the stored side) resized to
 *   `size × size` (bilinear); only when the stored side is larger than the
 *   model's (old datasets store the crop size: no crop);
 * - a horizontal flip with probability 0.5;
 * - colour jitter with probability 0.8 (DMVR `color_default_augm`, hue left
 *   out): brightness `+U(−32/255, 32/255)`, saturation `×U(0.6, 1.4)`
 *   (blend with the luma), contrast `×U(0.6, 1.4)` about each frame's
 *   per-channel mean, clipped to [0, 1]; the same for all frames of a clip;
 * - audio: a gain of `U(−6, 6)` dB (not in the official code), then Gaussian
 *   noise of standard deviation `0.01 × max|x|` (the official `audio_noise`).
 *
 * Every draw is a function of `(seed, step, clip index)` only, so a run and
 * its resumed copy see the same numbers. Without augmentation (`"none"`, and
 * every evaluation) a clip gives its centre window and centre crop.
 *
 * @module
 */
import type { AugmentMode } from "../../config/pretrain_config.ts";
import { Rng } from "../../util/rng.ts";

/** The paper's (official code's) augmentation parameters; the audio gain is this project's. */
export const PAPER_AUGMENT = {
  /** Probability of scale jitter, and the range of each factor (DMVR `scale_jitter_augm`). */
  scaleJitter: { prob: 0.8, min: 0.8, max: 1.2 },
  /** Probability of a horizontal flip (DMVR `random_flip_left_right`). */
  flipProb: 0.5,
  /** Colour jitter (DMVR `color_default_augm`, without hue). */
  colour: { prob: 0.8, brightness: 32 / 255, saturation: [0.6, 1.4], contrast: [0.6, 1.4] },
  /** Audio gain range in dB, either way. */
  gainDb: 6,
  /** Gaussian noise of this fraction of the clip's peak (official `audio_noise`). */
  audioNoise: 0.01,
} as const;

/** Where a clip's model window lies in what it stores. */
export interface ClipGeometry {
  /** Frames of the model's window. */
  frames: number;
  /** Frames stored. */
  storedFrames: number;
  /** Real frames of this clip (≤ storedFrames). */
  validFrames: number;
  /** Side of the model's frames (the crop). */
  size: number;
  /** Side of the stored frames. */
  storedSize: number;
  /** Audio samples of the model's window. */
  audioSamples: number;
  /** Audio samples stored. */
  storedAudioSamples: number;
}

/** The choices made for one clip on one visit. */
export interface ClipDraw {
  /** First frame of the window in the stored span. */
  start: number;
  /** First audio sample of the window. */
  audioStart: number;
  /** Region of the stored frames (pixels) resized to the model's size. */
  crop: { top: number; left: number; height: number; width: number };
  /** Mirror left–right. */
  flip: boolean;
  /** Added to colours in [0, 1]. */
  brightness: number;
  /** Saturation factor (1 = unchanged). */
  saturation: number;
  /** Contrast factor (1 = unchanged). */
  contrast: number;
  /** Audio gain factor (1 = unchanged). */
  gain: number;
  /** Audio noise as a fraction of the clip's peak (0 = none). */
  noise: number;
  /** Seed of the audio noise. */
  noiseSeed: number;
}

/** A fixed view for evaluation: fractions of the spare span and width (0.5 = centre). */
export interface ClipView {
  /** Where the window lies in the clip's spare frames: 0 first, 1 last. Default 0.5. */
  window?: number;
  /** Where the crop lies in the spare width: 0 left, 1 right. Default 0.5. */
  crop?: number;
}

/** The spare frames of a clip's real span (windows start in 0 … spare). */
function spareFrames(g: ClipGeometry): number {
  return Math.max(0, Math.min(g.validFrames, g.storedFrames) - g.frames);
}

/** The audio start aligned with frame `start`: the same fraction of the spare audio. */
function audioStartOf(g: ClipGeometry, start: number, fraction: number): number {
  const spareAudio = g.storedAudioSamples - g.audioSamples;
  const spare = g.storedFrames - g.frames;
  const at = spare > 0 ? (start / spare) * spareAudio : fraction * spareAudio;
  return Math.min(spareAudio, Math.max(0, Math.round(at)));
}

/** A draw that changes nothing but the window and crop position. */
function plainDraw(start: number, audioStart: number, crop: ClipDraw["crop"]): ClipDraw {
  return {
    start,
    audioStart,
    crop,
    flip: false,
    brightness: 0,
    saturation: 1,
    contrast: 1,
    gain: 1,
    noise: 0,
    noiseSeed: 0,
  };
}

/**
 * The fixed view of a clip: by default its centre window and centre crop
 * (what evaluation and `augment: "none"` read); other fractions place the
 * window and the crop elsewhere (multi-window, multi-crop evaluation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { viewDraw } from "./augment.ts";
 * const g = { frames: 4, storedFrames: 6, validFrames: 6, size: 8, storedSize: 10,
 *   audioSamples: 40, storedAudioSamples: 60 };
 * const d = viewDraw(g);
 * assert.equal(d.start, 1); // frames 1…4 of 0…5
 * assert.equal(d.audioStart, 10); // the same time in the audio
 * assert.deepEqual(d.crop, { top: 1, left: 1, height: 8, width: 8 });
 * assert.equal(viewDraw(g, { window: 1, crop: 0 }).start, 2);
 * assert.equal(viewDraw({ ...g, validFrames: 4 }).start, 0); // a short clip has one window
 * ```
 */
export function viewDraw(g: ClipGeometry, view: ClipView = {}): ClipDraw {
  const w = view.window ?? 0.5;
  const c = view.crop ?? 0.5;
  const start = w === 0.5 ? Math.floor(spareFrames(g) / 2) : Math.round(w * spareFrames(g));
  const spareSide = g.storedSize - g.size;
  const top = Math.floor(spareSide / 2);
  const left = c === 0.5 ? top : Math.round(c * spareSide);
  return plainDraw(start, audioStartOf(g, start, w), {
    top,
    left,
    height: g.size,
    width: g.size,
  });
}

/** Uniform in [lo, hi). */
function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.nextFloat();
}

/** Scale jitter then a uniform crop position, as a region of the stored frame. */
function drawCrop(rng: Rng, g: ClipGeometry): ClipDraw["crop"] {
  const j = PAPER_AUGMENT.scaleJitter;
  const jitter = rng.nextFloat() < j.prob;
  const sh = uniform(rng, j.min, j.max);
  const sw = uniform(rng, j.min, j.max);
  const height = Math.min(g.storedSize, Math.round(g.size / (jitter ? sh : 1)));
  const width = Math.min(g.storedSize, Math.round(g.size / (jitter ? sw : 1)));
  const top = rng.nextInt(g.storedSize - height + 1);
  const left = rng.nextInt(g.storedSize - width + 1);
  return { top, left, height, width };
}

/**
 * The random choices of the paper's augmentation for clip `clip` at step
 * `step` of a run seeded `seed`: a function of those three numbers only.
 * Without spare frames the window is the stored one; without spare size
 * there is no crop (the whole frame, already the model's size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawAugment } from "./augment.ts";
 * const g = { frames: 4, storedFrames: 6, validFrames: 6, size: 8, storedSize: 10,
 *   audioSamples: 40, storedAudioSamples: 60 };
 * const a = drawAugment(g, { seed: 1, step: 3, clip: 7 });
 * assert.deepEqual(drawAugment(g, { seed: 1, step: 3, clip: 7 }), a); // the same numbers again
 * assert.notDeepEqual(drawAugment(g, { seed: 1, step: 4, clip: 7 }), a); // another step, others
 * assert.ok(a.start >= 0 && a.start <= 2);
 * ```
 */
export function drawAugment(
  g: ClipGeometry,
  at: { seed: number; step: number; clip: number },
): ClipDraw {
  const rng = Rng.forLabel(at.seed, `augment-${at.step}-${at.clip}`);
  const spare = spareFrames(g);
  const start = rng.nextInt(spare + 1);
  const crop = g.storedSize > g.size
    ? drawCrop(rng, g)
    : { top: 0, left: 0, height: g.size, width: g.size };
  const flip = rng.nextFloat() < PAPER_AUGMENT.flipProb;
  const c = PAPER_AUGMENT.colour;
  const colour = rng.nextFloat() < c.prob;
  const brightness = uniform(rng, -c.brightness, c.brightness);
  const saturation = uniform(rng, c.saturation[0], c.saturation[1]);
  const contrast = uniform(rng, c.contrast[0], c.contrast[1]);
  const gainDb = uniform(rng, -PAPER_AUGMENT.gainDb, PAPER_AUGMENT.gainDb);
  return {
    start,
    audioStart: audioStartOf(g, start, spare > 0 ? start / spare : 0.5),
    crop,
    flip,
    brightness: colour ? brightness : 0,
    saturation: colour ? saturation : 1,
    contrast: colour ? contrast : 1,
    gain: 10 ** (gainDb / 20),
    noise: PAPER_AUGMENT.audioNoise,
    noiseSeed: rng.nextUint32(),
  };
}

/** How a batch is augmented: the mode and the numbers every draw is a function of. */
export interface AugmentSpec {
  /** `"paper"`: the official pipeline's draws; `"none"`: centre window and crop. */
  mode: AugmentMode;
  /** The run's seed. */
  seed: number;
  /** The training step. */
  step: number;
  /** The dataset positions of the batch's clips (one per clip). */
  clips: readonly number[];
}

/**
 * One draw per clip of a batch: the paper's random draws, or the fixed view
 * (centre by default) without augmentation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchDraws } from "./augment.ts";
 * const g = { frames: 4, storedFrames: 6, validFrames: 6, size: 8, storedSize: 10,
 *   audioSamples: 40, storedAudioSamples: 60 };
 * const none = batchDraws([g, g], { augment: { mode: "none", seed: 0, step: 0, clips: [0, 1] } });
 * assert.deepEqual(none.map((d) => d.start), [1, 1]);
 * ```
 */
export function batchDraws(
  geometry: readonly ClipGeometry[],
  options: { augment?: AugmentSpec; view?: ClipView } = {},
): ClipDraw[] {
  const a = options.augment;
  if (a && a.mode === "paper" && a.clips.length !== geometry.length) {
    throw new RangeError(`${a.clips.length} clip indices for a batch of ${geometry.length}`);
  }
  return geometry.map((g, i) =>
    a && a.mode === "paper"
      ? drawAugment(g, { seed: a.seed, step: a.step, clip: a.clips[i] })
      : viewDraw(g, options.view)
  );
}
