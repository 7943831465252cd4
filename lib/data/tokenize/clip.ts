/**
 * Turning one manifest row into stored arrays: decoded video window, audio
 * window, caption ids and label. Every failure is a reason to skip the clip,
 * returned as data so the caller decides to skip or stop.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { loadAudioWindow } from "../media/audio_load.ts";
import type { TokenizeSettings } from "../shards/dataset_index.ts";
import { decodeVideoClip } from "../media/ffmpeg_video.ts";
import type { ManifestRow } from "../manifest/manifest.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

/** A clip ready for a shard. */
export interface TokenizedClip {
  ok: true;
  id: string;
  /** `[T, S, S, 3]` RGB. */
  video: Uint8Array;
  /** Real frames (the rest repeat the last one). */
  videoFrames: number;
  /** `[audioSamples]` mono in [−1, 1]; zeros when the clip has no audio. */
  audio: Float32Array;
  /** Real audio samples (0 when the clip has no audio). */
  audioSamples: number;
  /** Whether the clip has audio. */
  hasAudio: boolean;
  /** `[P, L]` caption ids, 0 = padding. */
  text: Int32Array;
  /** `[P]`, 1 = a real caption. */
  textMask: Uint8Array;
  /** Captions dropped for having no known word. */
  droppedCaptions: number;
  /** Class indices of the clip (empty when unlabelled). */
  labels: number[];
}

/** A clip that cannot be used, and why. */
export interface SkippedClip {
  ok: false;
  row: number;
  id: string;
  file?: string;
  reason: string;
}

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

/**
 * Decodes and tokenizes one manifest row.
 *
 * @example
 * ```ts
 * import { tokenizeClip } from "./clip.ts";
 * console.assert(typeof tokenizeClip === "function"); // see tests/lib/data/tokenize_test.ts
 * ```
 */
export async function tokenizeClip(
  row: ManifestRow,
  options: TokenizeClipOptions,
): Promise<TokenizedClip | SkippedClip> {
  const s = options.settings;
  const skip = (reason: string, file?: string): SkippedClip => ({
    ok: false,
    row: row.row,
    id: row.id,
    file,
    reason,
  });
  const start = row.start ?? 0;
  // Only what lies in [start, end) is real; the rest of the window is padding.
  const span = row.end === undefined ? Infinity : row.end - start;
  const maxFrames = Math.min(s.frames, Math.ceil(span * s.fps - 1e-9));
  const maxSamples = Math.min(s.audioSamples, Math.round(span * s.sampleRate));
  let video;
  try {
    video = await decodeVideoClip(row.video, {
      frames: s.frames,
      fps: s.fps,
      size: s.size,
      start,
      ffmpeg: options.ffmpeg,
    });
  } catch (e) {
    return skip(reasonOf(e), row.videoRaw);
  }
  if (video.validFrames > maxFrames) {
    const frameBytes = s.size * s.size * 3;
    const last = video.data.slice((maxFrames - 1) * frameBytes, maxFrames * frameBytes);
    for (let f = maxFrames; f < s.frames; f++) video.data.set(last, f * frameBytes);
    video.validFrames = maxFrames;
  }
  if (video.validFrames === 0) return skip("no video frames in the window", row.videoRaw);
  if (video.validFrames < s.minCoverage * s.frames) {
    return skip(
      `clip shorter than the window: ${video.validFrames} of ${s.frames} frames`,
      row.videoRaw,
    );
  }
  let audio: Float32Array = new Float32Array(s.audioSamples);
  let audioSamples = 0;
  try {
    // A separate audio file, else the video's own track.
    const w = await loadAudioWindow(row.audio ?? row.video, {
      sampleRate: s.sampleRate,
      start,
      seconds: s.audioSeconds,
      ffmpeg: options.ffmpeg,
    });
    audio = w.samples;
    audioSamples = w.validSamples;
  } catch (e) {
    if (row.audio) return skip(reasonOf(e), row.audioRaw);
    // A video without a usable audio track is a clip without audio, not a bad clip.
    if (!(e instanceof FormatError)) throw e;
  }
  if (audioSamples > maxSamples) {
    audio.fill(0, maxSamples);
    audioSamples = maxSamples;
  }
  // A separate audio file must cover the window; so must a video's own track when it has one.
  if ((row.audio || audioSamples > 0) && audioSamples < s.minCoverage * s.audioSamples) {
    return skip(
      `audio shorter than the window: ${audioSamples} of ${s.audioSamples} samples`,
      row.audio ? row.audioRaw : row.videoRaw,
    );
  }
  if (audio.length !== s.audioSamples) {
    return skip(`audio window has ${audio.length} samples, expected ${s.audioSamples}`);
  }
  const p = s.captionsPerClip;
  const l = s.maxLength;
  const text = new Int32Array(p * l);
  const textMask = new Uint8Array(p);
  let kept = 0;
  let dropped = 0;
  for (const caption of row.captions) {
    const ids = encodeCaption(options.tokenizer, caption, l);
    if (!ids.some((id) => id !== 0)) {
      dropped++;
      continue;
    }
    if (kept < p) {
      text.set(ids, kept * l);
      textMask[kept] = 1;
      kept++;
    }
  }
  if (row.captions.length > 0 && kept === 0) return skip("no caption has a known word");
  const names = row.label === undefined ? [] : Array.isArray(row.label) ? row.label : [row.label];
  const labels: number[] = [];
  for (const name of names) {
    const k = options.labelIndex.get(name);
    if (k === undefined) return skip(`unknown label ${JSON.stringify(name)}`);
    labels.push(k);
  }
  return {
    ok: true,
    id: row.id,
    video: video.data,
    videoFrames: video.validFrames,
    audio,
    audioSamples,
    hasAudio: audioSamples > 0,
    text,
    textMask,
    droppedCaptions: dropped,
    labels,
  };
}
