/**
 * Turning one manifest row into stored arrays: decoded video window, audio
 * window, caption ids and label. Every failure is a reason to skip the clip,
 * returned as data so the caller decides to skip or stop. Captions without a
 * known word are not a failure: they are dropped (and counted), and a clip
 * left without captions keeps its video and audio with `text_mask` all 0.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { loadAudioWindow } from "../media/audio_load.ts";
import { storedShape, type TokenizeSettings } from "../shards/dataset_index.ts";
import type { SkippedClip, TokenizedClip } from "../shards/tokenized_clip.ts";
import { decodeVideoClip, type VideoClip } from "../media/ffmpeg_video.ts";
import type { ManifestRow } from "../manifest/manifest.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

/** Options of {@linkcode tokenizeClip}. */
export interface TokenizeClipOptions {
  settings: TokenizeSettings;
  tokenizer: TextTokenizer;
  /** Label name → index. */
  labelIndex: Map<string, number>;
  ffmpeg?: string;
}

/**
 * One line saying why; without the `path: ` prefix of a FormatError, since
 * the skipped entry names the file itself (as written in the manifest, so
 * `index.json` does not depend on where the data lives).
 */
function reasonOf(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof FormatError && error.path && message.startsWith(`${error.path}: `)) {
    message = message.slice(error.path.length + 2);
  }
  return message.split("\n")[0];
}

/**
 * Caption ids with padding always 0: a Hugging Face tokenizer whose padding id
 * is not 0 has that id swapped with 0, so the model's mask (`id != 0`) holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCaption } from "./clip.ts";
 * import { WordTokenizer } from "../text/tokenizer.ts";
 * assert.deepEqual([...encodeCaption(new WordTokenizer(["a", "dog"]), "a dog", 3)], [1, 2, 0]);
 * ```
 */
export function encodeCaption(
  tokenizer: TextTokenizer,
  text: string,
  maxLength: number,
): Int32Array {
  const ids = tokenizer.encode(text, { maxLength });
  const pad = tokenizer.padId;
  if (pad === 0) return ids;
  return ids.map((id) => (id === pad ? 0 : id === 0 ? pad : id));
}

/** The skipped entry of `row`. */
function skipRow(row: ManifestRow, reason: string, file?: string): SkippedClip {
  return { ok: false, row: row.row, id: row.id, file, reason };
}

/** Whether a step gave up on the clip. */
function isSkipped<T extends object>(x: T | SkippedClip): x is SkippedClip {
  return "ok" in x && x.ok === false;
}

/**
 * The part of the stored span that the row covers: what lies after its `end`
 * is padding. The span starts at the row's start and is the stored one
 * (`storedFrames`, `storedAudioSamples`), longer than the model's window.
 */
interface CoveredWindow {
  start: number;
  maxFrames: number;
  maxSamples: number;
}

/** Only what lies in [start, end) is real; the rest of the stored span is padding. */
function coveredWindow(row: ManifestRow, s: TokenizeSettings): CoveredWindow {
  const start = row.start ?? 0;
  const span = row.end === undefined ? Infinity : row.end - start;
  const stored = storedShape(s);
  const maxFrames = Math.min(stored.frames, Math.ceil(span * s.fps - 1e-9));
  const maxSamples = Math.min(stored.audioSamples, Math.round(span * s.sampleRate));
  return { start, maxFrames, maxSamples };
}

/**
 * The video window, cut at the row's end and checked for coverage. An
 * audio-only row (no `video`) gets zero frames: stored as zeros, `video_mask` 0.
 */
async function clipVideo(
  row: ManifestRow,
  window: CoveredWindow,
  options: TokenizeClipOptions,
): Promise<VideoClip | SkippedClip> {
  const s = options.settings;
  const stored = storedShape(s);
  if (row.video === undefined) {
    return { data: new Uint8Array(stored.frames * stored.size * stored.size * 3), validFrames: 0 };
  }
  let video;
  try {
    video = await decodeVideoClip(row.video, {
      frames: stored.frames,
      fps: s.fps,
      size: stored.size,
      start: window.start,
      ffmpeg: options.ffmpeg,
    });
  } catch (e) {
    return skipRow(row, reasonOf(e), row.videoRaw);
  }
  const maxFrames = window.maxFrames;
  if (video.validFrames > maxFrames) {
    const frameBytes = stored.size * stored.size * 3;
    const last = video.data.slice((maxFrames - 1) * frameBytes, maxFrames * frameBytes);
    for (let f = maxFrames; f < stored.frames; f++) video.data.set(last, f * frameBytes);
    video.validFrames = maxFrames;
  }
  if (video.validFrames === 0) return skipRow(row, "no video frames in the window", row.videoRaw);
  // Coverage is of the model's window: a clip shorter than the stored span but
  // as long as the window is whole (its windows stay inside its real frames).
  if (video.validFrames < s.minCoverage * s.frames) {
    return skipRow(
      row,
      `clip shorter than the window: ${video.validFrames} of ${s.frames} frames`,
      row.videoRaw,
    );
  }
  return video;
}

/** The audio window of a clip (zeros when a video has no usable audio track). */
interface ClipAudio {
  audio: Float32Array;
  audioSamples: number;
}

/** The audio window, cut at the row's end and checked for coverage. */
async function clipAudio(
  row: ManifestRow,
  window: CoveredWindow,
  options: TokenizeClipOptions,
): Promise<ClipAudio | SkippedClip> {
  const s = options.settings;
  const stored = storedShape(s).audioSamples;
  let audio: Float32Array = new Float32Array(stored);
  let audioSamples = 0;
  try {
    // A separate audio file, else the video's own track.
    const w = await loadAudioWindow((row.audio ?? row.video)!, {
      sampleRate: s.sampleRate,
      start: window.start,
      seconds: stored / s.sampleRate,
      ffmpeg: options.ffmpeg,
    });
    audio = w.samples;
    audioSamples = w.validSamples;
  } catch (e) {
    if (row.audio) return skipRow(row, reasonOf(e), row.audioRaw);
    // A video without a usable audio track is a clip without audio, not a bad clip.
    if (!(e instanceof FormatError)) throw e;
  }
  if (audioSamples > window.maxSamples) {
    audio.fill(0, window.maxSamples);
    audioSamples = window.maxSamples;
  }
  // A separate audio file must cover the window; so must a video's own track when it has one.
  if ((row.audio || audioSamples > 0) && audioSamples < s.minCoverage * s.audioSamples) {
    return skipRow(
      row,
      `audio shorter than the window: ${audioSamples} of ${s.audioSamples} samples`,
      row.audio ? row.audioRaw : row.videoRaw,
    );
  }
  if (audio.length !== stored) {
    return skipRow(row, `audio window has ${audio.length} samples, expected ${stored}`);
  }
  return { audio, audioSamples };
}

/** The caption ids of a clip: the first `P` captions with a known word. */
interface ClipText {
  text: Int32Array;
  textMask: Uint8Array;
  droppedCaptions: number;
}

/**
 * Whether `caption` has a word the vocabulary knows: counted by a word-level
 * vocabulary (so a word-vector vocabulary's OOV ids are not known words),
 * else any id that is not padding.
 */
function hasKnownWord(tokenizer: TextTokenizer, caption: string, ids: Int32Array): boolean {
  const counted = (tokenizer as { knownCount?: (text: string) => number }).knownCount;
  if (typeof counted === "function") return counted.call(tokenizer, caption) > 0;
  return ids.some((id) => id !== 0);
}

/**
 * Encodes the row's captions; captions without a known word are dropped. A
 * clip whose captions all lack known words is kept, without captions
 * (`textMask` all 0): its video–audio pair still trains NCE, and MIL-NCE
 * leaves it out.
 */
function clipText(row: ManifestRow, options: TokenizeClipOptions): ClipText {
  const p = options.settings.captionsPerClip;
  const l = options.settings.maxLength;
  const text = new Int32Array(p * l);
  const textMask = new Uint8Array(p);
  let kept = 0;
  let dropped = 0;
  for (const caption of row.captions) {
    const ids = encodeCaption(options.tokenizer, caption, l);
    if (!hasKnownWord(options.tokenizer, caption, ids)) {
      dropped++;
      continue;
    }
    if (kept < p) {
      text.set(ids, kept * l);
      textMask[kept] = 1;
      kept++;
    }
  }
  return { text, textMask, droppedCaptions: dropped };
}

/** The class indices of the row's labels; an unknown label skips the clip. */
function clipLabels(
  row: ManifestRow,
  options: TokenizeClipOptions,
): { labels: number[] } | SkippedClip {
  const names = row.label === undefined ? [] : Array.isArray(row.label) ? row.label : [row.label];
  const labels: number[] = [];
  for (const name of names) {
    const k = options.labelIndex.get(name);
    if (k === undefined) return skipRow(row, `unknown label ${JSON.stringify(name)}`);
    labels.push(k);
  }
  return { labels };
}

/**
 * Decodes and tokenizes one manifest row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenizeClip } from "./clip.ts";
 * import { WordTokenizer } from "../text/tokenizer.ts";
 * const settings = { frames: 2, fps: 10, size: 4, audioSeconds: 0.1, sampleRate: 100, audioSamples: 10,
 *   audioDtype: "int16" as const, maxLength: 3, captionsPerClip: 1, minCoverage: 0.5, clipsPerShard: 8 };
 * const row = { row: 1, id: "a", video: "/no/such/a.mp4", videoRaw: "a.mp4", captions: ["a dog"] };
 * const r = await tokenizeClip(row, { settings, tokenizer: new WordTokenizer(["dog"]), labelIndex: new Map() });
 * assert.equal(r.ok, false); // a missing video is a reason to skip, not an error
 * assert.equal(!r.ok && r.file, "a.mp4");
 * ```
 */
export async function tokenizeClip(
  row: ManifestRow,
  options: TokenizeClipOptions,
): Promise<TokenizedClip | SkippedClip> {
  const window = coveredWindow(row, options.settings);
  const video = await clipVideo(row, window, options);
  if (isSkipped(video)) return video;
  const audio = await clipAudio(row, window, options);
  if (isSkipped(audio)) return audio;
  const text = clipText(row, options);
  const labels = clipLabels(row, options);
  if (isSkipped(labels)) return labels;
  if (row.video === undefined && audio.audioSamples === 0) {
    return skipRow(row, "no audio samples in the window (an audio-only row)", row.audioRaw);
  }
  return {
    ok: true,
    id: row.id,
    video: video.data,
    videoFrames: video.validFrames,
    hasVideo: row.video !== undefined,
    audio: audio.audio,
    audioSamples: audio.audioSamples,
    hasAudio: audio.audioSamples > 0,
    text: text.text,
    textMask: text.textMask,
    droppedCaptions: text.droppedCaptions,
    labels: labels.labels,
  };
}
