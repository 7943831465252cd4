/**
 * The small per-clip tensors of a dataset (ids, audio and caption masks,
 * labels), read straight from the shards without touching video or audio, so
 * exports can size their files and plots can colour points before (or
 * without) a pass over the media. Private to `lib/eval/embeddings/`.
 *
 * @module
 */
import * as path from "node:path";
import type { Dataset } from "../../data/shards/dataset.ts";
import {
  OPTIONAL_SHARD_TENSORS,
  parseShardMeta,
  readVideoMask,
  shardSpecs,
} from "../../data/shards/shard_codec.ts";
import { FormatError } from "../../util/errors.ts";
import { openSafetensors } from "../../io/safetensors.ts";

/** Bookkeeping of every clip, in dataset order. */
export interface ClipMeta {
  /** Clip ids. */
  ids: string[];
  /** `[N]`, 1 = the clip has audio. */
  audioMask: Uint8Array;
  /** `[N]`, 1 = the clip has video (absent: every clip has). */
  videoMask?: Uint8Array;
  /** `[N, P]`, 1 = a real caption. */
  textMask: Uint8Array;
  /** Caption slots per clip (P). */
  captionsPerClip: number;
  /** `[N]` class (−1 = none) or `[N, C]` multi-hot. */
  label: Int32Array | Uint8Array;
  /** Class names (label order). */
  labelNames: string[];
  /** Whether `label` is multi-hot. */
  multiLabel: boolean;
}

/**
 * Reads ids, masks and labels of every clip of `data` (a few bytes per clip).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import { FormatError } from "../../util/errors.ts";
 * import { readClipMeta } from "./_clip_meta.ts";
 * // Usually: const meta = await readClipMeta(await Dataset.open("data"));
 * const index = {
 *   settings: { captionsPerClip: 2 }, labels: { names: ["cat"], multiLabel: false }, shards: [],
 * };
 * const empty = await readClipMeta({ dir: "d", size: 0, index } as unknown as Dataset);
 * assert.deepEqual(empty.ids, []);
 * assert.equal(empty.captionsPerClip, 2);
 * // index.json is not trusted: its clip count must match the shards'.
 * const lying = { dir: "d", size: 3, index } as unknown as Dataset;
 * await assert.rejects(readClipMeta(lying), FormatError);
 * ```
 */
export async function readClipMeta(data: Dataset): Promise<ClipMeta> {
  const p = data.index.settings.captionsPerClip;
  const { names, multiLabel } = data.index.labels;
  // index.json is untrusted: each shard's header is checked against the shard's
  // real size (and the expected shapes) before anything sized by it is read.
  const ids: string[] = [];
  const parts: {
    audio: Uint8Array;
    video: Uint8Array;
    text: Uint8Array;
    label: Int32Array | Uint8Array;
  }[] = [];
  for (const entry of data.index.shards) {
    if (entry.clips === 0) continue;
    const file = path.join(data.dir, entry.file);
    const shard = await openSafetensors(file, {
      expect: shardSpecs(data.index, entry.clips),
      mayLack: OPTIONAL_SHARD_TENSORS,
    });
    try {
      let shardIds: string[];
      try {
        shardIds = parseShardMeta(shard.header.metadata).ids;
      } catch (e) {
        throw new FormatError(`bad shard metadata: ${(e as Error).message}`, { path: file });
      }
      if (shardIds.length !== entry.clips) {
        throw new FormatError(`shard lists ${shardIds.length} ids for ${entry.clips} clips`, {
          path: file,
        });
      }
      ids.push(...shardIds);
      parts.push({
        audio: (await shard.readTensor("audio_mask")).data as Uint8Array,
        video: await readVideoMask(shard, [0, entry.clips]),
        text: (await shard.readTensor("text_mask")).data as Uint8Array,
        label: (await shard.readTensor("label")).data as Int32Array | Uint8Array,
      });
    } finally {
      shard.close();
    }
  }
  const n = ids.length;
  if (n !== data.size) {
    throw new FormatError(`shards hold ${n} clips, index.json says ${data.size}`);
  }
  const join = <T extends Uint8Array | Int32Array>(chunks: T[], make: (n: number) => T): T => {
    const out = make(chunks.reduce((sum, c) => sum + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  return {
    ids,
    audioMask: join(parts.map((x) => x.audio), (k) => new Uint8Array(k)),
    videoMask: join(parts.map((x) => x.video), (k) => new Uint8Array(k)),
    textMask: join(parts.map((x) => x.text), (k) => new Uint8Array(k)),
    captionsPerClip: p,
    label: multiLabel
      ? join(parts.map((x) => x.label as Uint8Array), (k) => new Uint8Array(k))
      : join(parts.map((x) => x.label as Int32Array), (k) => new Int32Array(k)),
    labelNames: [...names],
    multiLabel,
  };
}

/**
 * The label of clip `i` as text: its class name, class names joined by `+`
 * (multi-label), or `undefined` when it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelText } from "./_clip_meta.ts";
 * const meta = {
 *   ids: ["a", "b"], audioMask: new Uint8Array(2), textMask: new Uint8Array(2), captionsPerClip: 1,
 *   label: new Uint8Array([1, 1, 0, 0]), labelNames: ["cat", "dog"], multiLabel: true,
 * };
 * assert.equal(labelText(meta, 0), "cat+dog");
 * assert.equal(labelText(meta, 1), undefined);
 * ```
 */
export function labelText(meta: ClipMeta, i: number): string | undefined {
  const c = meta.labelNames.length;
  if (meta.multiLabel) {
    const on: string[] = [];
    for (let k = 0; k < c; k++) if (meta.label[i * c + k]) on.push(meta.labelNames[k]);
    return on.length > 0 ? on.join("+") : undefined;
  }
  const k = meta.label[i];
  return k >= 0 && k < c ? meta.labelNames[k] : undefined;
}
