/**
 * The small per-clip tensors of a dataset (ids, audio and caption masks,
 * labels), read straight from the shards without touching video or audio, so
 * exports can size their files and plots can colour points before (or
 * without) a pass over the media. Private to `lib/eval/`.
 *
 * @module
 */
import * as path from "node:path";
import type { Dataset } from "../data/dataset.ts";
import { parseShardMeta } from "../data/shard_codec.ts";
import { FormatError } from "../errors.ts";
import { openSafetensors } from "../io/safetensors.ts";

/** Bookkeeping of every clip, in dataset order. */
export interface ClipMeta {
  /** Clip ids. */
  ids: string[];
  /** `[N]`, 1 = the clip has audio. */
  audioMask: Uint8Array;
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
 * import { readClipMeta } from "./_clip_meta.ts";
 * // const meta = await readClipMeta(await Dataset.open("data"));
 * console.assert(typeof readClipMeta === "function");
 * ```
 */
export async function readClipMeta(data: Dataset): Promise<ClipMeta> {
  const n = data.size;
  const p = data.index.settings.captionsPerClip;
  const { names, multiLabel } = data.index.labels;
  const c = names.length;
  const meta: ClipMeta = {
    ids: [],
    audioMask: new Uint8Array(n),
    textMask: new Uint8Array(n * p),
    captionsPerClip: p,
    label: multiLabel ? new Uint8Array(n * c) : new Int32Array(n),
    labelNames: [...names],
    multiLabel,
  };
  let at = 0;
  for (const entry of data.index.shards) {
    if (entry.clips === 0) continue;
    const file = path.join(data.dir, entry.file);
    const shard = await openSafetensors(file);
    try {
      let ids: string[];
      try {
        ids = parseShardMeta(shard.header.metadata).ids;
      } catch (e) {
        throw new FormatError(`bad shard metadata: ${(e as Error).message}`, { path: file });
      }
      if (ids.length !== entry.clips) {
        throw new FormatError(`shard lists ${ids.length} ids for ${entry.clips} clips`, {
          path: file,
        });
      }
      const read = async (name: string, length: number) => {
        const t = await shard.readTensor(name);
        if (t.data.length !== length) {
          throw new FormatError(`tensor ${name} has ${t.data.length} values, expected ${length}`, {
            path: file,
          });
        }
        return t.data;
      };
      meta.ids.push(...ids);
      meta.audioMask.set(await read("audio_mask", entry.clips) as Uint8Array, at);
      meta.textMask.set(await read("text_mask", entry.clips * p) as Uint8Array, at * p);
      const label = await read("label", entry.clips * (multiLabel ? c : 1));
      if (meta.label instanceof Uint8Array) meta.label.set(label as Uint8Array, at * c);
      else meta.label.set(label as Int32Array, at);
      at += entry.clips;
    } finally {
      shard.close();
    }
  }
  if (at !== n) throw new FormatError(`shards hold ${at} clips, index.json says ${n}`);
  return meta;
}

/**
 * The label of clip `i` as text: its class name, class names joined by `+`
 * (multi-label), or `undefined` when it has none.
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
