/**
 * The tensors of one dataset shard: building them from tokenized clips, and
 * the specs a reader expects from the index's settings.
 *
 * Tensors: `video` uint8 `[N, T, S, S, 3]`, `video_frames` int32 `[N]` (real
 * frames), `audio` int16 or float32 `[N, A]`, `audio_samples` int32 `[N]`
 * (real samples), `audio_mask` uint8 `[N]`, `video_mask` uint8 `[N]` (1 =
 * the clip has video; 0 for an audio-only clip, whose frames are zeros;
 * absent from shards written before dataset format 3, which read as all 1),
 * `text` int32 `[N, P, L]`,
 * `text_mask` uint8 `[N, P]`, `label` int32 `[N]` (−1 = none) or uint8
 * multi-hot `[N, C]`; T, S and A are the stored span and size
 * (`storedShape(settings)`), longer and larger than the model's window. Metadata: `format` (`vatt-shard/1`), `ids` (JSON array),
 * `skipped`, `padded` and `dropped_captions` (JSON).
 *
 * @module
 */
import type { NamedArray, SafetensorsFile, TensorSpec } from "../../io/safetensors.ts";
import type { TokenizedClip } from "./tokenized_clip.ts";
import { floatToPcm16 } from "../media/pcm16.ts";
import {
  type DatasetIndex,
  parsePaddedList,
  parseSkippedList,
  type SkippedInput,
  storedShape,
  type TokenizeSettings,
} from "./dataset_index.ts";

/** Format tag written in every shard's metadata. */
export const SHARD_FORMAT = "vatt-shard/1";

/**
 * Tensors of {@linkcode shardSpecs} that a shard may lack: `video_mask`,
 * which shards written before dataset format 3 do not have (every clip of
 * such a shard has video). Pass as `mayLack` when opening a shard.
 */
export const OPTIONAL_SHARD_TENSORS: readonly string[] = ["video_mask"];

/**
 * The `video_mask` rows `[from, to)` of an open shard: 1 = the clip has
 * video; all 1 for a shard written before `video_mask` existed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readVideoMask } from "./shard_codec.ts";
 * import type { SafetensorsFile } from "../../io/safetensors.ts";
 * const old = { names: ["video"] } as unknown as SafetensorsFile; // no video_mask: every clip has video
 * assert.deepEqual([...await readVideoMask(old, [0, 2])], [1, 1]);
 * ```
 */
export async function readVideoMask(
  file: SafetensorsFile,
  rows: [number, number],
): Promise<Uint8Array> {
  if (!file.names.includes("video_mask")) return new Uint8Array(rows[1] - rows[0]).fill(1);
  return (await file.readTensor("video_mask", { rows })).data as Uint8Array;
}

/** Per-shard bookkeeping stored in its metadata. */
export interface ShardMeta {
  ids: string[];
  skipped: SkippedInput[];
  padded: DatasetIndex["padded"];
  droppedCaptions: number;
}

/**
 * The tensors and metadata of a shard holding `clips` (possibly none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildShard } from "./shard_codec.ts";
 * const s = { frames: 2, fps: 10, size: 4, audioSeconds: 0.1, sampleRate: 100, audioSamples: 10,
 *   audioDtype: "int16" as const, maxLength: 3, captionsPerClip: 1, minCoverage: 0.5, clipsPerShard: 8 };
 * const { tensors } = buildShard([], { settings: s, labels: { names: [], multiLabel: false }, skipped: [] });
 * assert.equal(tensors.video.shape.join(), "0,2,4,4,3");
 * ```
 */
export function buildShard(
  clips: TokenizedClip[],
  options: { settings: TokenizeSettings; labels: DatasetIndex["labels"]; skipped: SkippedInput[] },
): { tensors: Record<string, NamedArray>; metadata: Record<string, string>; meta: ShardMeta } {
  const s = options.settings;
  const n = clips.length;
  const st = storedShape(s);
  const frameBytes = st.frames * st.size * st.size * 3;
  const video = new Uint8Array(n * frameBytes);
  const videoFrames = new Int32Array(n);
  const audio = s.audioDtype === "int16"
    ? new Int16Array(n * st.audioSamples)
    : new Float32Array(n * st.audioSamples);
  const audioSamples = new Int32Array(n);
  const audioMask = new Uint8Array(n);
  const videoMask = new Uint8Array(n);
  const text = new Int32Array(n * s.captionsPerClip * s.maxLength);
  const textMask = new Uint8Array(n * s.captionsPerClip);
  const c = options.labels.names.length;
  const label = options.labels.multiLabel ? new Uint8Array(n * c) : new Int32Array(n).fill(-1);
  const padded: DatasetIndex["padded"] = [];
  let dropped = 0;
  clips.forEach((clip, i) => {
    video.set(clip.video, i * frameBytes);
    videoFrames[i] = clip.videoFrames;
    if (audio instanceof Int16Array) {
      for (let k = 0; k < st.audioSamples; k++) {
        // The scale batches.ts reads back with (lib/data/media/pcm16.ts).
        audio[i * st.audioSamples + k] = floatToPcm16(clip.audio[k]);
      }
    } else {
      audio.set(clip.audio, i * st.audioSamples);
    }
    audioSamples[i] = clip.audioSamples;
    audioMask[i] = clip.hasAudio ? 1 : 0;
    videoMask[i] = clip.hasVideo === false ? 0 : 1;
    text.set(clip.text, i * s.captionsPerClip * s.maxLength);
    textMask.set(clip.textMask, i * s.captionsPerClip);
    if (label instanceof Uint8Array) { for (const k of clip.labels) label[i * c + k] = 1; }
    else if (clip.labels.length > 0) label[i] = clip.labels[0];
    // Padded: shorter than the model's window (a shorter stored span is not padding).
    const shortVideo = clip.hasVideo !== false && clip.videoFrames < s.frames;
    if (shortVideo || (clip.hasAudio && clip.audioSamples < s.audioSamples)) {
      padded.push({ id: clip.id, videoFrames: clip.videoFrames, audioSamples: clip.audioSamples });
    }
    dropped += clip.droppedCaptions;
  });
  const meta: ShardMeta = {
    ids: clips.map((c) => c.id),
    skipped: options.skipped,
    padded,
    droppedCaptions: dropped,
  };
  const tensors: Record<string, NamedArray> = {
    video: { dtype: "U8", shape: [n, st.frames, st.size, st.size, 3], data: video },
    video_frames: { dtype: "I32", shape: [n], data: videoFrames },
    audio: {
      dtype: audio instanceof Int16Array ? "I16" : "F32",
      shape: [n, st.audioSamples],
      data: audio,
    },
    audio_samples: { dtype: "I32", shape: [n], data: audioSamples },
    audio_mask: { dtype: "U8", shape: [n], data: audioMask },
    video_mask: { dtype: "U8", shape: [n], data: videoMask },
    text: { dtype: "I32", shape: [n, s.captionsPerClip, s.maxLength], data: text },
    text_mask: { dtype: "U8", shape: [n, s.captionsPerClip], data: textMask },
    label: label instanceof Uint8Array
      ? { dtype: "U8", shape: [n, c], data: label }
      : { dtype: "I32", shape: [n], data: label },
  };
  const metadata = {
    format: SHARD_FORMAT,
    ids: JSON.stringify(meta.ids),
    skipped: JSON.stringify(meta.skipped),
    padded: JSON.stringify(meta.padded),
    dropped_captions: String(dropped),
  };
  return { tensors, metadata, meta };
}

/**
 * The exact tensor specs of a shard of `n` clips under `index`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardSpecs } from "./shard_codec.ts";
 * const settings = { frames: 2, fps: 10, size: 4, audioSeconds: 0.1, sampleRate: 100, audioSamples: 10,
 *   audioDtype: "float32" as const, maxLength: 3, captionsPerClip: 2, minCoverage: 0.5, clipsPerShard: 8 };
 * const specs = shardSpecs({ settings, labels: { names: ["a", "b"], multiLabel: true } }, 5);
 * assert.deepEqual(specs.audio, { dtype: "F32", shape: [5, 10] });
 * assert.deepEqual(specs.label, { dtype: "U8", shape: [5, 2] });
 * ```
 */
export function shardSpecs(
  index: Pick<DatasetIndex, "settings" | "labels">,
  n: number,
): Record<string, TensorSpec> {
  const s = index.settings;
  const st = storedShape(s);
  return {
    video: { dtype: "U8", shape: [n, st.frames, st.size, st.size, 3] },
    video_frames: { dtype: "I32", shape: [n] },
    audio: { dtype: s.audioDtype === "int16" ? "I16" : "F32", shape: [n, st.audioSamples] },
    audio_samples: { dtype: "I32", shape: [n] },
    audio_mask: { dtype: "U8", shape: [n] },
    video_mask: { dtype: "U8", shape: [n] },
    text: { dtype: "I32", shape: [n, s.captionsPerClip, s.maxLength] },
    text_mask: { dtype: "U8", shape: [n, s.captionsPerClip] },
    label: index.labels.multiLabel
      ? { dtype: "U8", shape: [n, index.labels.names.length] }
      : { dtype: "I32", shape: [n] },
  };
}

/**
 * Reads a shard's bookkeeping back from its metadata (throws on malformed JSON).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShardMeta, SHARD_FORMAT } from "./shard_codec.ts";
 * const meta = parseShardMeta({ format: SHARD_FORMAT, ids: '["a","b"]', dropped_captions: "2" });
 * assert.deepEqual(meta, { ids: ["a", "b"], skipped: [], padded: [], droppedCaptions: 2 });
 * assert.throws(() => parseShardMeta({ format: "other" }), /not a vatt shard/);
 * ```
 */
export function parseShardMeta(metadata: Record<string, string>): ShardMeta {
  if (metadata.format !== SHARD_FORMAT) {
    throw new RangeError(`not a vatt shard (format ${JSON.stringify(metadata.format)})`);
  }
  const ids = JSON.parse(metadata.ids ?? "null");
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === "string")) {
    throw new RangeError("shard ids are not a list of strings");
  }
  const skipped = parseSkippedList(JSON.parse(metadata.skipped ?? "[]"), "skipped", "");
  const padded = parsePaddedList(JSON.parse(metadata.padded ?? "[]"), "padded", "");
  return { ids, skipped, padded, droppedCaptions: Number(metadata.dropped_captions ?? 0) || 0 };
}
