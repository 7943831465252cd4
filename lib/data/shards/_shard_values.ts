/**
 * Checks the values of a shard as it is opened, before any clip reaches a
 * model: token ids inside the vocabulary (a negative or too-large id would
 * index outside the embedding table) and float audio samples finite. Private
 * to `lib/data/shards/`.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import type { SafetensorsFile } from "../../io/safetensors.ts";

/** What a shard must hold: the vocabulary size and the clip ids in row order. */
export interface ShardValueSpec {
  /** Token ids must lie in `0 .. vocabSize - 1`. */
  vocabSize: number;
  /** The shard's clip ids, for messages. */
  ids: string[];
}

/** The first index where `bad` holds, or -1. */
function firstBad<T extends ArrayLike<number>>(data: T, bad: (v: number) => boolean): number {
  for (let i = 0; i < data.length; i++) if (bad(data[i])) return i;
  return -1;
}

/**
 * Throws a FormatError naming the shard and the clip when a token id in
 * `text` lies outside the vocabulary or a float32 `audio` sample is not
 * finite (NaN or ±Infinity).
 */
export async function checkShardValues(file: SafetensorsFile, spec: ShardValueSpec): Promise<void> {
  const rows = Math.max(1, spec.ids.length);
  const clip = (i: number, n: number) => {
    const row = Math.floor(i / Math.max(1, n / rows));
    return spec.ids[row] ?? `row ${row}`;
  };
  if (file.names.includes("text")) {
    const text = (await file.readTensor("text")).data as Int32Array;
    const i = firstBad(text, (v) => !(v >= 0 && v < spec.vocabSize));
    if (i >= 0) {
      throw new FormatError(
        `clip ${JSON.stringify(clip(i, text.length))}: token id ${
          text[i]
        } is outside the vocabulary (0..${spec.vocabSize - 1})`,
        { path: file.path },
      );
    }
  }
  if (file.names.includes("audio") && file.header.tensors.audio.dtype === "F32") {
    const audio = (await file.readTensor("audio")).data as Float32Array;
    const i = firstBad(audio, (v) => !Number.isFinite(v));
    if (i >= 0) {
      throw new FormatError(
        `clip ${JSON.stringify(clip(i, audio.length))}: audio sample ${
          i % (audio.length / rows)
        } is ${audio[i]}, not a finite number`,
        { path: file.path },
      );
    }
  }
}
