/**
 * What tokenizing one manifest row gives: a clip ready for a shard, or the
 * reason it was skipped. The shard codec stores the first; the dataset index
 * lists the second.
 *
 * @module
 */

/**
 * A clip ready for a shard.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TokenizedClip } from "./tokenized_clip.ts";
 * const clip: TokenizedClip = {
 *   ok: true, id: "a", video: new Uint8Array(12), videoFrames: 1, audio: new Float32Array(4),
 *   audioSamples: 0, hasAudio: false, text: new Int32Array(2), textMask: new Uint8Array(1),
 *   droppedCaptions: 0, labels: [],
 * };
 * assert.equal(clip.video.length, 12);
 * ```
 */
export interface TokenizedClip {
  ok: true;
  id: string;
  /** `[T, S, S, 3]` RGB. */
  video: Uint8Array;
  /** Real frames (the rest repeat the last one); 0 for an audio-only clip. */
  videoFrames: number;
  /** Whether the clip has video (absent: it has; false for an audio-only clip, whose frames are zeros). */
  hasVideo?: boolean;
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

/**
 * A clip that cannot be used, and why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SkippedClip } from "./tokenized_clip.ts";
 * const skipped: SkippedClip = { ok: false, row: 3, id: "a", reason: "no video frames in the window" };
 * assert.equal(skipped.ok, false);
 * ```
 */
export interface SkippedClip {
  ok: false;
  row: number;
  id: string;
  file?: string;
  reason: string;
}
