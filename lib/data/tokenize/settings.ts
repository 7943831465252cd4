/**
 * The sampling and storage settings of `vatt tokenize`: their defaults (the
 * paper's) and the resolver that completes and checks them.
 *
 * @module
 */
import { checkNumber, checkOneOf, checkPositiveInteger } from "../../config/validate.ts";
import type { TokenizeSettings } from "../shards/dataset_index.ts";
import type { VattConfig } from "../../config/vatt_config.ts";
import { MAX_AUDIO_WINDOW_SAMPLES } from "../media/audio_load.ts";

/**
 * Defaults of the sampling settings (the paper's: 32 frames at 10 fps, 224²,
 * 3.2 s at 48 kHz). The audio window is the video window's (frames / fps)
 * unless given: {@linkcode resolveTokenizeSettings} derives it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_TOKENIZE_SETTINGS, resolveTokenizeSettings } from "./settings.ts";
 * const d = DEFAULT_TOKENIZE_SETTINGS;
 * assert.deepEqual(resolveTokenizeSettings({}), d); // the defaults are resolved already
 * assert.equal(d.audioSeconds, d.frames / d.fps);
 * ```
 */
export const DEFAULT_TOKENIZE_SETTINGS: Readonly<TokenizeSettings> = {
  frames: 32,
  fps: 10,
  size: 224,
  audioSeconds: 3.2,
  sampleRate: 48000,
  audioSamples: 153600,
  audioDtype: "int16",
  maxLength: 16,
  captionsPerClip: 4,
  minCoverage: 0.5,
  clipsPerShard: 64,
  windowSeconds: 4.8,
  storedFrames: 48,
  storedSize: 258,
  storedAudioSamples: 230400,
};

/**
 * The stored span is this many times the model's window (`frames / fps`) when
 * `--window-seconds` is not given: room for a random window per visit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_WINDOW_FACTOR } from "./settings.ts";
 * assert.equal(DEFAULT_WINDOW_FACTOR, 1.5);
 * ```
 */
export const DEFAULT_WINDOW_FACTOR = 1.5;

/**
 * The stored frame side is `round(this × size)` when `--store-size` is not
 * given: room for a random crop per visit (224 → 258, as 224 within 256).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_STORE_SIZE_FACTOR } from "./settings.ts";
 * assert.equal(Math.round(DEFAULT_STORE_SIZE_FACTOR * 224), 258);
 * ```
 */
export const DEFAULT_STORE_SIZE_FACTOR = 1.15;

/**
 * Clips a dataset tokenization decodes in parallel when not given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_TOKENIZE_WORKERS } from "./settings.ts";
 * assert.equal(DEFAULT_TOKENIZE_WORKERS, 2); // what `--help` shows (tests/cli/defaults_test.ts)
 * ```
 */
export const DEFAULT_TOKENIZE_WORKERS = 2;

/**
 * Completes and validates settings: defaults fill what is not given, the audio
 * window follows the video window (`frames / fps`) unless `audioSeconds` is
 * given, and `audioSamples` follows from the window and rate. The stored span
 * is `windowSeconds` (default {@linkcode DEFAULT_WINDOW_FACTOR} × the model's
 * window, never less than it): `storedFrames = max(frames, round(windowSeconds·fps))`,
 * and the audio stored covers every window start, `storedAudioSamples =
 * audioSamples + round((storedFrames − frames) / fps · sampleRate)`; the stored
 * side is `storedSize` (default `round(`{@linkcode DEFAULT_STORE_SIZE_FACTOR}` × size)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTokenizeSettings } from "./settings.ts";
 * assert.equal(resolveTokenizeSettings({ frames: 8, audioSeconds: 0.5 }).audioSeconds, 0.5);
 * const s = resolveTokenizeSettings({ frames: 8, fps: 10, sampleRate: 8000 });
 * assert.equal(s.audioSeconds, 0.8); // 8 frames at 10 fps
 * assert.equal(s.audioSamples, 6400);
 * assert.equal(s.storedFrames, 12); // 1.5 × the 0.8 s window at 10 fps
 * assert.equal(s.storedAudioSamples, 6400 + 3200); // and 0.4 s more audio
 * const kept = resolveTokenizeSettings({ frames: 8, fps: 10, windowSeconds: 0.8, storedSize: 224 });
 * assert.equal(kept.storedFrames, 8); // no extra span: the model's window is stored
 * assert.equal(kept.storedSize, 224);
 * assert.throws(() => resolveTokenizeSettings({ frames: 0 }), /frames must be at least 1, got 0/);
 * ```
 */
export function resolveTokenizeSettings(partial: Partial<TokenizeSettings> = {}): TokenizeSettings {
  const s = { ...DEFAULT_TOKENIZE_SETTINGS, ...partial };
  checkPositiveInteger(s.frames, "frames");
  checkPositiveInteger(s.size, "size");
  checkPositiveInteger(s.sampleRate, "sample rate");
  checkPositiveInteger(s.maxLength, "max length");
  checkPositiveInteger(s.captionsPerClip, "captions per clip");
  checkPositiveInteger(s.clipsPerShard, "clips per shard");
  checkNumber(s.fps, "fps", { above: 0, max: 1000 });
  if (partial.audioSeconds === undefined) s.audioSeconds = s.frames / s.fps;
  checkNumber(s.audioSeconds, "audio seconds", { above: 0, max: 3600 });
  checkNumber(s.minCoverage, "min coverage", { min: 0, max: 1 });
  checkOneOf(s.audioDtype, ["int16", "float32"], "audio dtype");
  s.audioSamples = Math.round(s.audioSeconds * s.sampleRate);
  return resolveStored(s, partial);
}

/** The stored span and size of resolved model settings `s`: given, or derived from the model's window. */
function resolveStored(s: TokenizeSettings, partial: Partial<TokenizeSettings>): TokenizeSettings {
  const window = s.frames / s.fps;
  const seconds = partial.windowSeconds ?? DEFAULT_WINDOW_FACTOR * window;
  checkNumber(seconds, "window seconds", { above: 0, max: 3600 });
  const storedSize = partial.storedSize ?? Math.round(DEFAULT_STORE_SIZE_FACTOR * s.size);
  checkPositiveInteger(storedSize, "store size");
  if (storedSize < s.size) {
    throw new RangeError(`store size ${storedSize} is smaller than the frame size ${s.size}`);
  }
  const storedFrames = Math.max(s.frames, Math.round(seconds * s.fps));
  const spare = storedFrames - s.frames;
  const storedAudioSamples = s.audioSamples + Math.round((spare / s.fps) * s.sampleRate);
  if (storedAudioSamples > MAX_AUDIO_WINDOW_SAMPLES) {
    // As video's 1 GiB bound: the audio of one clip, as float32, must fit in 1 GiB.
    throw new RangeError(
      `audio of ${storedAudioSamples} samples per clip (audio seconds × sample rate, with the stored window) is over the limit of ${MAX_AUDIO_WINDOW_SAMPLES} (1 GiB of float32)`,
    );
  }
  return {
    ...s,
    windowSeconds: storedFrames / s.fps,
    storedFrames,
    storedSize,
    storedAudioSamples,
  };
}

/**
 * The sampling a model takes, as tokenize settings: its frames, frame rate,
 * frame size, audio rate and window, and caption length (`tokenize --preset`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import { settingsForModel } from "./settings.ts";
 * const s = settingsForModel(PRESETS.tiny);
 * assert.equal(s.frames, PRESETS.tiny.video.frames);
 * assert.equal(s.audioSeconds, PRESETS.tiny.audio.samples / PRESETS.tiny.audio.sampleRate);
 * ```
 */
export function settingsForModel(
  model: Pick<VattConfig, "video" | "audio" | "text">,
): Partial<TokenizeSettings> {
  return {
    frames: model.video.frames,
    fps: model.video.fps,
    size: model.video.height,
    sampleRate: model.audio.sampleRate,
    audioSeconds: model.audio.samples / model.audio.sampleRate,
    maxLength: model.text.maxLength,
  };
}
