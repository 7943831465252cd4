/**
 * The `settings` of a dataset's `index.json`: how clips were sampled (the
 * model's window and crop) and stored (the longer, larger span training
 * windows and crops are taken from), and their validation.
 *
 * @module
 */
import { fail, int, num } from "./_index_fields.ts";

/**
 * How clips were sampled and stored. `frames`, `size`, `audioSeconds` and
 * `audioSamples` are the MODEL's window and crop (what a batch holds); the
 * `stored…` fields are the longer, larger span each clip is stored with, from
 * which training takes a random window and crop (absent: equal to the model's).
 */
export interface TokenizeSettings {
  /** Frames of the model's window. */
  frames: number;
  /** Frames per second. */
  fps: number;
  /** Square frame side of the model's input (the crop). */
  size: number;
  /** Audio window length of the model in seconds. */
  audioSeconds: number;
  /** Audio sampling rate in Hz. */
  sampleRate: number;
  /** Audio samples of the model's window (`round(audioSeconds·sampleRate)`). */
  audioSamples: number;
  /** Stored span in seconds (`storedFrames / fps`); absent: the model's window. */
  windowSeconds?: number;
  /** Frames stored per clip (≥ `frames`); absent: `frames`. */
  storedFrames?: number;
  /** Stored square frame side after short-side resize and centre crop (≥ `size`); absent: `size`. */
  storedSize?: number;
  /** Audio samples stored per clip (≥ `audioSamples`); absent: `audioSamples`. */
  storedAudioSamples?: number;
  /** Stored audio type. */
  audioDtype: "int16" | "float32";
  /** Tokens per caption. */
  maxLength: number;
  /** Caption rows stored per clip. */
  captionsPerClip: number;
  /** Clips whose real video or audio covers less than this fraction of the window are skipped. */
  minCoverage: number;
  /** Clips per shard. */
  clipsPerShard: number;
}

/** What each clip of a dataset stores: frames, frame side, audio samples. */
export interface StoredShape {
  frames: number;
  size: number;
  audioSamples: number;
}

/**
 * The stored shape of a clip under `settings`: the `stored…` fields, or the
 * model's window where they are absent (datasets of format version 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedShape } from "./tokenize_settings.ts";
 * const model = { frames: 4, size: 8, audioSamples: 40 };
 * assert.deepEqual(storedShape(model), { frames: 4, size: 8, audioSamples: 40 });
 * assert.deepEqual(
 *   storedShape({ ...model, storedFrames: 6, storedSize: 9, storedAudioSamples: 60 }),
 *   { frames: 6, size: 9, audioSamples: 60 },
 * );
 * ```
 */
export function storedShape(
  settings: Pick<
    TokenizeSettings,
    "frames" | "size" | "audioSamples" | "storedFrames" | "storedSize" | "storedAudioSamples"
  >,
): StoredShape {
  return {
    frames: settings.storedFrames ?? settings.frames,
    size: settings.storedSize ?? settings.size,
    audioSamples: settings.storedAudioSamples ?? settings.audioSamples,
  };
}

/** Checks the stored span of a version-2 index: present, and never smaller than the model's window. */
function parseStored(
  s: Record<string, unknown>,
  model: TokenizeSettings,
  path: string,
): Required<
  Pick<TokenizeSettings, "windowSeconds" | "storedFrames" | "storedSize" | "storedAudioSamples">
> {
  const stored = {
    windowSeconds: num(s.windowSeconds, "settings.windowSeconds", path),
    storedFrames: int(s.storedFrames, "settings.storedFrames", path, model.frames),
    storedSize: int(s.storedSize, "settings.storedSize", path, model.size),
    storedAudioSamples: int(
      s.storedAudioSamples,
      "settings.storedAudioSamples",
      path,
      model.audioSamples,
    ),
  };
  return stored;
}

/**
 * Checks the untrusted `settings` object of an index of format `version`
 * (version 1: the stored span is the model's window); throws `FormatError`
 * naming the first bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTokenizeSettings } from "./tokenize_settings.ts";
 * const model = { frames: 8, fps: 10, size: 32, audioSeconds: 0.8, sampleRate: 8000, audioSamples: 6400,
 *   audioDtype: "int16", maxLength: 8, captionsPerClip: 1, minCoverage: 0.5, clipsPerShard: 4 };
 * const v1 = parseTokenizeSettings(model, { path: "index.json", version: 1 });
 * assert.deepEqual([v1.storedFrames, v1.storedSize, v1.storedAudioSamples], [8, 32, 6400]);
 * assert.throws(() => parseTokenizeSettings(model, { path: "index.json", version: 2 }), /windowSeconds/);
 * ```
 */
export function parseTokenizeSettings(
  s: Record<string, unknown>,
  options: { path: string; version: number },
): TokenizeSettings {
  const { path, version } = options;
  const model = parseModelSettings(s, path);
  if (version < 2) {
    return {
      ...model,
      windowSeconds: model.fps > 0 ? model.frames / model.fps : 0,
      storedFrames: model.frames,
      storedSize: model.size,
      storedAudioSamples: model.audioSamples,
    };
  }
  return { ...model, ...parseStored(s, model, path) };
}

/** Checks the model-window fields of `settings` (every version has them). */
function parseModelSettings(s: Record<string, unknown>, path: string): TokenizeSettings {
  return {
    frames: int(s.frames, "settings.frames", path, 1),
    fps: num(s.fps, "settings.fps", path),
    size: int(s.size, "settings.size", path, 1),
    audioSeconds: num(s.audioSeconds, "settings.audioSeconds", path),
    sampleRate: int(s.sampleRate, "settings.sampleRate", path, 1),
    audioSamples: int(s.audioSamples, "settings.audioSamples", path, 1),
    audioDtype: s.audioDtype === "int16" || s.audioDtype === "float32" ? s.audioDtype : fail(
      path,
      `settings.audioDtype must be int16 or float32, got ${JSON.stringify(s.audioDtype)}`,
    ),
    maxLength: int(s.maxLength, "settings.maxLength", path, 1),
    captionsPerClip: int(s.captionsPerClip, "settings.captionsPerClip", path, 1),
    minCoverage: num(s.minCoverage, "settings.minCoverage", path),
    clipsPerShard: int(s.clipsPerShard, "settings.clipsPerShard", path, 1),
  };
}
