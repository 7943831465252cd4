/**
 * Reading a dataset folder written by `vatt tokenize`: the validated index,
 * shards opened lazily with their checksum verified on first use, and clips
 * read by global position (only the needed rows come from disk).
 *
 * @module
 */
import * as path from "node:path";
import { FormatError } from "../../util/errors.ts";
import { openSafetensors, type SafetensorsFile } from "../../io/safetensors.ts";
import { sha256File } from "../../io/sha256.ts";
import { INPUT_LIMITS, readInputText } from "../../io/input.ts";
import { type DatasetIndex, parseDatasetIndex, storedShape } from "./dataset_index.ts";
import {
  OPTIONAL_SHARD_TENSORS,
  parseShardMeta,
  readVideoMask,
  shardSpecs,
} from "./shard_codec.ts";
import { checkShardValues } from "./_shard_values.ts";

/** Clips read from a dataset, stacked along the first axis. */
export interface ClipBatch {
  /** Number of clips. */
  count: number;
  /** Clip ids. */
  ids: string[];
  /** `[n, T, S, S, 3]` uint8: the stored span and size (`storedShape(settings)`). */
  video: Uint8Array;
  /** `[n]` real frames of each clip (the rest repeat its last frame); absent: all are real. */
  videoFrames?: Int32Array;
  /** `[n, A]` int16 or float32: the stored audio span. */
  audio: Int16Array | Float32Array;
  /** `[n]`, 1 = has audio. */
  audioMask: Uint8Array;
  /** `[n]`, 1 = has video (0: an audio-only clip, its frames zeros); absent: every clip has video. */
  videoMask?: Uint8Array;
  /** `[n, P, L]` caption ids. */
  text: Int32Array;
  /** `[n, P]`, 1 = real caption. */
  textMask: Uint8Array;
  /** `[n]` class (−1 = none), or `[n, C]` multi-hot. */
  label: Int32Array | Uint8Array;
}

interface OpenShard {
  file: SafetensorsFile;
  ids: string[];
}

/**
 * A dataset folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Dataset } from "./dataset.ts";
 * import { buildShard } from "./shard_codec.ts";
 * import { shardFileName } from "./dataset_index.ts";
 * import { writeSafetensors } from "../../io/safetensors.ts";
 * import { sha256File } from "../../io/sha256.ts";
 * // A dataset of one clip, written the way `vatt tokenize` writes one.
 * const dir = Deno.makeTempDirSync();
 * const settings = { frames: 1, fps: 1, size: 2, audioSeconds: 1, sampleRate: 4, audioSamples: 4,
 *   audioDtype: "float32" as const, maxLength: 2, captionsPerClip: 1, minCoverage: 0, clipsPerShard: 1 };
 * const labels = { names: [], multiLabel: false };
 * const clip = { ok: true as const, id: "a", video: new Uint8Array(12).fill(7), videoFrames: 1,
 *   audio: new Float32Array(4), audioSamples: 4, hasAudio: true, text: Int32Array.of(1, 0),
 *   textMask: Uint8Array.of(1), droppedCaptions: 0, labels: [] };
 * const shard = buildShard([clip], { settings, labels, skipped: [] });
 * const file = shardFileName(0, 1);
 * await writeSafetensors(`${dir}/${file}`, shard.tensors, { metadata: shard.metadata });
 * const entry = { file, index: 0, clips: 1, sha256: await sha256File(`${dir}/${file}`),
 *   bytes: Deno.statSync(`${dir}/${file}`).size };
 * Deno.writeTextFileSync(`${dir}/index.json`, JSON.stringify({ format: "vatt-dataset", version: 1,
 *   settings, text: { kind: "vocab", file: "vocab.txt", vocabSize: 2, sha256: "" }, labels,
 *   numShards: 1, shards: [entry], clips: 1, skipped: [], padded: [], droppedCaptions: 0 }));
 *
 * const data = await Dataset.open(dir);
 * const batch = await data.readClips([0]);
 * assert.equal(data.size, 1);
 * assert.deepEqual(batch.ids, ["a"]);
 * assert.deepEqual([...batch.video.subarray(0, 3)], [7, 7, 7]);
 * data.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class Dataset {
  /** The folder. */
  readonly dir: string;
  /** The validated `index.json`. */
  readonly index: DatasetIndex;
  #starts: number[];
  #open = new Map<number, Promise<OpenShard>>();

  private constructor(dir: string, index: DatasetIndex) {
    this.dir = dir;
    this.index = index;
    this.#starts = [];
    let s = 0;
    for (const e of index.shards) {
      this.#starts.push(s);
      s += e.clips;
    }
  }

  /** Opens `dir`; throws `FormatError` when it is not a complete dataset. */
  static async open(dir: string): Promise<Dataset> {
    const indexPath = path.join(dir, "index.json");
    let text: string;
    try {
      text = await readInputText(indexPath, { maxBytes: INPUT_LIMITS.json, label: "index.json" });
    } catch (e) {
      if (e instanceof FormatError) throw e;
      if (e instanceof Deno.errors.NotFound) {
        throw new FormatError("not a dataset folder written by vatt tokenize (no index.json)", {
          path: dir,
        });
      }
      throw new FormatError(`cannot read index.json: ${(e as Error).message}`, { path: dir });
    }
    const index = parseDatasetIndex(text, { path: indexPath });
    if (index.slice) {
      throw new FormatError("this is one slice's index; run vatt tokenize --merge first", {
        path: indexPath,
      });
    }
    for (const e of index.shards) {
      let size: number;
      try {
        size = (await Deno.stat(path.join(dir, e.file))).size;
      } catch {
        throw new FormatError(`shard ${e.file} is missing`, { path: dir });
      }
      if (size !== e.bytes) {
        throw new FormatError(`shard ${e.file} has ${size} bytes, index.json says ${e.bytes}`, {
          path: dir,
        });
      }
    }
    return new Dataset(dir, index);
  }

  /** Number of clips. */
  get size(): number {
    return this.index.clips;
  }

  /** Which shard holds global clip `i`, and where in it. */
  locate(i: number): { shard: number; row: number } {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new RangeError(`clip ${i} is outside 0..${this.size - 1}`);
    }
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    // Skip empty shards that share a start.
    while (
      this.index.shards[lo].clips === 0 || i - this.#starts[lo] >= this.index.shards[lo].clips
    ) lo++;
    return { shard: lo, row: i - this.#starts[lo] };
  }

  #shard(k: number): Promise<OpenShard> {
    let p = this.#open.get(k);
    if (!p) {
      p = (async () => {
        const entry = this.index.shards[k];
        const file = path.join(this.dir, entry.file);
        const sha = await sha256File(file);
        if (sha !== entry.sha256) {
          throw new FormatError("checksum does not match index.json", { path: file });
        }
        const f = await openSafetensors(file, {
          expect: shardSpecs(this.index, entry.clips),
          mayLack: OPTIONAL_SHARD_TENSORS,
        });
        let ids: string[];
        try {
          ids = parseShardMeta(f.header.metadata).ids;
        } catch (e) {
          f.close();
          throw new FormatError(`bad shard metadata: ${(e as Error).message}`, { path: file });
        }
        if (ids.length !== entry.clips) {
          f.close();
          throw new FormatError(`shard lists ${ids.length} ids for ${entry.clips} clips`, {
            path: file,
          });
        }
        try {
          await checkShardValues(f, { vocabSize: this.index.text.vocabSize, ids });
        } catch (e) {
          f.close();
          throw e;
        }
        return { file: f, ids };
      })();
      p.catch(() => this.#open.delete(k));
      this.#open.set(k, p);
    }
    return p;
  }

  /**
   * Verifies every shard's checksum now (instead of on first use), so a long
   * run fails before its first step rather than hours into it.
   */
  async verifyAll(): Promise<void> {
    for (let k = 0; k < this.index.shards.length; k++) await this.#shard(k);
  }

  /** Every clip id in dataset order. */
  async ids(): Promise<string[]> {
    const out: string[] = [];
    for (let k = 0; k < this.index.shards.length; k++) {
      if (this.index.shards[k].clips > 0) out.push(...(await this.#shard(k)).ids);
    }
    return out;
  }

  /** Reads the clips at global positions `indices`, in that order. */
  async readClips(indices: number[]): Promise<ClipBatch> {
    // The sizes below come from index.json, which is untrusted: open (and so
    // check against their real sizes) the shards needed before allocating.
    const places = indices.map((i) => this.locate(i));
    const open = new Map<number, OpenShard>();
    for (const { shard } of places) if (!open.has(shard)) open.set(shard, await this.#shard(shard));
    const s = this.index.settings;
    const st = storedShape(s);
    const n = indices.length;
    const frameBytes = st.frames * st.size * st.size * 3;
    const tl = s.captionsPerClip * s.maxLength;
    const c = this.index.labels.names.length;
    const batch: ClipBatch = {
      count: n,
      ids: new Array(n),
      video: new Uint8Array(n * frameBytes),
      videoFrames: new Int32Array(n),
      audio: s.audioDtype === "int16"
        ? new Int16Array(n * st.audioSamples)
        : new Float32Array(n * st.audioSamples),
      audioMask: new Uint8Array(n),
      videoMask: new Uint8Array(n),
      text: new Int32Array(n * tl),
      textMask: new Uint8Array(n * s.captionsPerClip),
      label: this.index.labels.multiLabel ? new Uint8Array(n * c) : new Int32Array(n),
    };
    for (let j = 0; j < n; j++) {
      const { shard, row } = places[j];
      const { file, ids } = open.get(shard)!;
      const rows: [number, number] = [row, row + 1];
      const read = async (name: string) => (await file.readTensor(name, { rows })).data;
      batch.ids[j] = ids[row];
      batch.video.set(await read("video") as Uint8Array, j * frameBytes);
      batch.videoFrames!.set(await read("video_frames") as Int32Array, j);
      batch.audio.set(await read("audio") as Int16Array & Float32Array, j * st.audioSamples);
      batch.audioMask.set(await read("audio_mask") as Uint8Array, j);
      batch.videoMask!.set(await readVideoMask(file, rows), j);
      batch.text.set(await read("text") as Int32Array, j * tl);
      batch.textMask.set(await read("text_mask") as Uint8Array, j * s.captionsPerClip);
      const label = await read("label");
      if (batch.label instanceof Uint8Array) batch.label.set(label as Uint8Array, j * c);
      else batch.label.set(label as Int32Array, j);
    }
    return batch;
  }

  /** Closes every open shard. */
  close(): void {
    for (const p of this.#open.values()) p.then((s) => s.file.close(), () => {});
    this.#open.clear();
  }
}
