/**
 * The sampling and storage settings of `vatt tokenize`: their defaults (the
 * paper's) and the resolver that completes and checks them.
 *
 * @module
 */
import { checkNumber, checkOneOf, checkPositiveInteger } from "../../config/validate.ts";
import type { TokenizeSettings } from "../shards/dataset_index.ts";

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
};

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
 * given, and `audioSamples` follows from the window and rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTokenizeSettings } from "./settings.ts";
 * assert.equal(resolveTokenizeSettings({ frames: 8, audioSeconds: 0.5 }).audioSeconds, 0.5);
 * const s = resolveTokenizeSettings({ frames: 8, fps: 10, sampleRate: 8000 });
 * assert.equal(s.audioSeconds, 0.8); // 8 frames at 10 fps
 * assert.equal(s.audioSamples, 6400);
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
  return s;
}
