/**
 * The labels of a dataset (read alone, without the media), and the seeded
 * train/validation split by clip used by fine-tuning.
 *
 * @module
 */
import * as path from "node:path";
import type { Dataset } from "./dataset.ts";
import {
  OPTIONAL_SHARD_TENSORS,
  parseShardMeta,
  readVideoMask,
  shardSpecs,
} from "./shard_codec.ts";
import { FormatError, MismatchError } from "../../util/errors.ts";
import { openSafetensors } from "../../io/safetensors.ts";
import { hashString, Rng } from "../../util/rng.ts";

/** Every clip's id and label, in dataset order. */
export interface DatasetLabels {
  ids: string[];
  /** `[N]` class index (−1 = none) or `[N, C]` multi-hot. */
  labels: Int32Array | Uint8Array;
  /** Class names. */
  names: string[];
  multiLabel: boolean;
  /** `[N]` 1 where the clip has audio. */
  audioMask: Uint8Array;
  /** `[N]` 1 where the clip has at least one caption. */
  captionMask: Uint8Array;
  /** `[N]` 1 where the clip has video (absent: every clip has). */
  videoMask?: Uint8Array;
}

/**
 * Reads the `label` tensor, the masks and the ids of every shard (not the
 * media), after verifying every shard's checksum (`Dataset.verifyAll`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readDatasetLabels } from "./split.ts";
 * import { Dataset } from "./dataset.ts";
 * // An index without shards is enough to read the class names.
 * const dir = Deno.makeTempDirSync();
 * const settings = { frames: 1, fps: 1, size: 2, audioSeconds: 1, sampleRate: 4, audioSamples: 4,
 *   audioDtype: "int16", maxLength: 2, captionsPerClip: 1, minCoverage: 0, clipsPerShard: 1 };
 * const text = { kind: "vocab", file: "vocab.txt", vocabSize: 2, sha256: "" };
 * const labels = { names: ["cat", "dog"], multiLabel: false };
 * Deno.writeTextFileSync(`${dir}/index.json`, JSON.stringify({ format: "vatt-dataset", version: 1,
 *   settings, text, labels, numShards: 0, shards: [], clips: 0 }));
 * const read = await readDatasetLabels(await Dataset.open(dir));
 * assert.deepEqual(read.names, ["cat", "dog"]);
 * assert.deepEqual(read.ids, []);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function readDatasetLabels(data: Dataset): Promise<DatasetLabels> {
  await data.verifyAll();
  const { names, multiLabel } = data.index.labels;
  const c = names.length;
  const ids: string[] = [];
  const labels = multiLabel ? new Uint8Array(data.size * c) : new Int32Array(data.size);
  const audioMask = new Uint8Array(data.size);
  const captionMask = new Uint8Array(data.size);
  const videoMask = new Uint8Array(data.size);
  const p = data.index.settings.captionsPerClip;
  let at = 0;
  for (const entry of data.index.shards) {
    if (entry.clips === 0) continue;
    const file = path.join(data.dir, entry.file);
    const f = await openSafetensors(file, {
      expect: shardSpecs(data.index, entry.clips),
      mayLack: OPTIONAL_SHARD_TENSORS,
    });
    try {
      let meta;
      try {
        meta = parseShardMeta(f.header.metadata);
      } catch (e) {
        throw new FormatError(`bad shard metadata: ${(e as Error).message}`, { path: file });
      }
      ids.push(...meta.ids);
      const arr = (await f.readTensor("label")).data as Int32Array | Uint8Array;
      labels.set(arr, multiLabel ? at * c : at);
      audioMask.set((await f.readTensor("audio_mask")).data as Uint8Array, at);
      videoMask.set(await readVideoMask(f, [0, entry.clips]), at);
      const text = (await f.readTensor("text_mask")).data as Uint8Array;
      for (let i = 0; i < entry.clips; i++) {
        captionMask[at + i] = text.subarray(i * p, i * p + p).some((m) => m) ? 1 : 0;
      }
      at += entry.clips;
    } finally {
      f.close();
    }
  }
  return { ids, labels, names, multiLabel, audioMask, captionMask, videoMask };
}

/**
 * Throws a MismatchError unless the dataset has labels to learn from: class
 * names, and at least one labelled clip (single-label: a label ≥ 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requireLabels } from "./split.ts";
 * import { MismatchError } from "../../util/errors.ts";
 * const none = new Uint8Array(1);
 * const l = { ids: ["a"], labels: new Int32Array([-1]), names: ["x"], multiLabel: false };
 * assert.throws(() => requireLabels({ ...l, audioMask: none, captionMask: none }, "d"), MismatchError);
 * requireLabels({ ...l, labels: new Int32Array([0]), audioMask: none, captionMask: none }, "d");
 * ```
 */
export function requireLabels(l: DatasetLabels, where: string): void {
  const labelled = l.multiLabel ? l.ids.length : l.labels.filter((y) => y >= 0).length;
  if (l.names.length === 0 || labelled === 0) {
    throw new MismatchError(
      `${where} has no labels to fine-tune on; give the manifest a "label" column and tokenize again`,
    );
  }
}

/**
 * Throws a MismatchError when a modality in `modalities` is absent from the
 * whole dataset (no clip with audio, or no clip with a caption).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requireModalities } from "./split.ts";
 * const l = { ids: ["a"], labels: new Int32Array([0]), names: ["x"], multiLabel: false };
 * const masks = { audioMask: new Uint8Array([1]), captionMask: new Uint8Array([0]) };
 * requireModalities({ ...l, ...masks }, { modalities: ["video", "audio"], where: "d" });
 * assert.throws(() => requireModalities({ ...l, ...masks }, { modalities: ["text"], where: "d" }));
 * ```
 */
export function requireModalities(
  l: DatasetLabels,
  options: { modalities: readonly string[]; where: string },
): void {
  const has = (mask: Uint8Array) => mask.some((m) => m === 1);
  if (options.modalities.includes("video") && l.videoMask && !has(l.videoMask)) {
    throw new MismatchError(`${options.where} has no video (every clip is audio-only)`);
  }
  if (options.modalities.includes("audio") && !has(l.audioMask)) {
    throw new MismatchError(`${options.where} has no audio (no clip has a sound track)`);
  }
  if (options.modalities.includes("text") && !has(l.captionMask)) {
    throw new MismatchError(`${options.where} has no text (no clip has a caption)`);
  }
}

/**
 * Indices of the clips that carry a label: single-label clips with a class
 * ≥ 0 (unlabelled ones, −1, are left out); every multi-label clip (a row
 * without any class is a valid all-negative example).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelledIndices } from "./split.ts";
 * const m = new Uint8Array(2);
 * const l = { ids: ["a", "b"], labels: new Int32Array([-1, 2]), names: ["x", "y", "z"], multiLabel: false };
 * assert.equal(labelledIndices({ ...l, audioMask: m, captionMask: m }).join(), "1");
 * ```
 */
export function labelledIndices(l: DatasetLabels): number[] {
  const out: number[] = [];
  for (let i = 0; i < l.ids.length; i++) if (l.multiLabel || l.labels[i] >= 0) out.push(i);
  return out;
}

/**
 * Splits the labelled clips into training and validation by clip, seeded:
 * each clip gets a key from `(seed, id)`, so a clip's side does not depend
 * on the order of the dataset. Single-label data is stratified: in each
 * class the `round(fraction·n_c)` clips with the smallest keys go to
 * validation (at least one when the class has two clips or more and the
 * fraction is above 0). Multi-label data: `round(fraction·N)` clips overall.
 * Both lists come back in dataset order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitByClip } from "./split.ts";
 * const m = new Uint8Array(4);
 * const l = { ids: ["a", "b", "c", "d"], labels: new Int32Array([0, 0, 1, 1]), names: ["x", "y"], multiLabel: false };
 * const s = splitByClip({ ...l, audioMask: m, captionMask: m }, { valFraction: 0.5, seed: 0 });
 * assert.equal(s.train.length, 2);
 * assert.equal(s.val.length, 2);
 * ```
 */
export function splitByClip(
  l: DatasetLabels,
  options: { valFraction: number; seed: number },
): { train: number[]; val: number[] } {
  const f = options.valFraction;
  if (!(f >= 0 && f < 1)) throw new RangeError(`validation fraction must be in [0, 1), got ${f}`);
  const key = (i: number) => new Rng((options.seed ^ hashString(`split/${l.ids[i]}`)) >>> 0);
  const keys = new Map<number, number>();
  const keyOf = (i: number) => {
    let k = keys.get(i);
    if (k === undefined) keys.set(i, k = key(i).nextFloat());
    return k;
  };
  const groups = new Map<number, number[]>();
  for (const i of labelledIndices(l)) {
    const g = l.multiLabel ? 0 : l.labels[i];
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(i);
  }
  const val = new Set<number>();
  for (const members of groups.values()) {
    let n = Math.round(f * members.length);
    if (f > 0 && n === 0 && members.length >= 2 && !l.multiLabel) n = 1;
    const sorted = [...members].sort((a, b) => keyOf(a) - keyOf(b) || a - b);
    for (const i of sorted.slice(0, n)) val.add(i);
  }
  const all = labelledIndices(l);
  return { train: all.filter((i) => !val.has(i)), val: all.filter((i) => val.has(i)) };
}

/**
 * Whether clip `i` has one of `modalities` (video: `videoMask`, absent = all
 * have video; audio: `audioMask`; text: a caption).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasAnyModality } from "./split.ts";
 * const l = { ids: ["a", "b"], labels: new Int32Array([0, 1]), names: ["x", "y"], multiLabel: false,
 *   audioMask: Uint8Array.of(1, 1), captionMask: Uint8Array.of(0, 0), videoMask: Uint8Array.of(1, 0) };
 * assert.equal(hasAnyModality(l, ["video"], 1), false); // an audio-only clip
 * assert.equal(hasAnyModality(l, ["video", "audio"], 1), true);
 * ```
 */
export function hasAnyModality(
  labels: DatasetLabels,
  modalities: readonly string[],
  i: number,
): boolean {
  return modalities.some((m) =>
    m === "video"
      ? (labels.videoMask?.[i] ?? 1) === 1
      : m === "audio"
      ? labels.audioMask[i] === 1
      : labels.captionMask[i] === 1
  );
}
