/**
 * One streaming writer per embeddings format (see `format.ts`) behind one
 * interface, {@linkcode Sink}: `export.ts` hands it rows batch by batch and
 * finishes or aborts it. Private to `lib/eval/embeddings/`.
 *
 * @module
 */
import type { Modality } from "../../config/modality.ts";
import { JsonlStreamWriter } from "../../io/jsonl.ts";
import { NpyStreamWriter } from "../../io/npy.ts";
import { ParquetEmbeddingWriter } from "../../io/parquet.ts";
import { SafetensorsStreamWriter } from "../../io/safetensors.ts";
import type { ClipMeta } from "./_clip_meta.ts";
import type { EmbeddingSpace } from "./embed.ts";
import { EMBEDDINGS_FORMAT, type ExportFormat, npyRowsPath } from "./format.ts";

/** One batch of rows in output order. */
export interface Rows {
  ids: string[];
  modality: Modality[];
  index: number[];
  /** One vector per row (all of one length for npy/parquet). */
  vectors: Float32Array[];
}

/** A format's writer behind one interface. */
export interface Sink {
  write(rows: Rows): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/** What a sink needs to know of an export. */
export interface SinkPlan {
  out: string;
  format: ExportFormat;
  space: EmbeddingSpace;
  modalities: Modality[];
  dims: Record<Modality, number>;
}

/**
 * Opens the writer of `plan.format` at `plan.out`; `meta` sizes the files
 * whose header needs the row counts (npy, safetensors), `extra` is stored in
 * the metadata of the formats that have one (safetensors, Parquet).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSink } from "./_sinks.ts";
 * const out = `${Deno.makeTempDirSync()}/e.jsonl`;
 * const meta = {
 *   ids: ["a"], audioMask: new Uint8Array([0]), textMask: new Uint8Array([0]), captionsPerClip: 1,
 *   label: new Int32Array([-1]), labelNames: [], multiLabel: false,
 * };
 * const sink = await openSink({
 *   out, format: "jsonl", space: "va", modalities: ["video"], dims: { video: 2, audio: 2, text: 0 },
 * }, { meta, extra: {} });
 * await sink.write({ ids: ["a"], modality: ["video"], index: [0], vectors: [new Float32Array([1, 2])] });
 * await sink.finish();
 * assert.deepEqual(JSON.parse(Deno.readTextFileSync(out)).vector, [1, 2]);
 * ```
 */
export function openSink(
  plan: SinkPlan,
  options: { meta: ClipMeta; extra: Record<string, string> },
): Promise<Sink> {
  switch (plan.format) {
    case "npy":
      return openNpySink(plan, options.meta);
    case "parquet":
      return openParquetSink(plan, options.extra);
    case "jsonl":
      return openJsonlSink(plan);
    case "safetensors":
      return openSafetensorsSink(plan, options);
  }
}

/** Rows each modality will have, from the dataset's masks. */
function countRows(meta: ClipMeta): Record<Modality, number> {
  let audio = 0;
  let text = 0;
  let video = 0;
  for (const m of meta.audioMask) audio += m ? 1 : 0;
  for (const m of meta.textMask) text += m ? 1 : 0;
  for (let i = 0; i < meta.ids.length; i++) video += hasVideo(meta, i) ? 1 : 0;
  return { video, audio, text };
}

/** Whether clip `i` has video (an audio-only clip exports no video row). */
function hasVideo(meta: ClipMeta, i: number): boolean {
  return (meta.videoMask?.[i] ?? 1) === 1;
}

/** The vectors of a batch end to end. */
function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deletes `path` when it is a regular file (an earlier export being replaced); anything else stays. */
async function removeRegularFile(path: string): Promise<void> {
  try {
    if ((await Deno.lstat(path)).isFile) await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** `npy`: the matrix, and its row list beside it. */
async function openNpySink(plan: SinkPlan, meta: ClipMeta): Promise<Sink> {
  const counts = countRows(meta);
  const total = plan.modalities.reduce((s, m) => s + counts[m], 0);
  const dim = plan.dims[plan.modalities[0]];
  const matrix = await NpyStreamWriter.create(plan.out, { dtype: "F32", shape: [total, dim] });
  let rows: JsonlStreamWriter;
  try {
    rows = await JsonlStreamWriter.create(npyRowsPath(plan.out));
  } catch (e) {
    await matrix.abort();
    throw e;
  }
  return {
    async write(r) {
      await matrix.append(concat(r.vectors));
      for (let i = 0; i < r.ids.length; i++) {
        await rows.write({ id: r.ids[i], modality: r.modality[i], index: r.index[i] });
      }
    },
    async finish() {
      // The matrix lands last, and an earlier matrix goes first: a run killed between the
      // renames leaves no matrix (never one without its row list, nor an old one with new rows).
      await removeRegularFile(plan.out);
      await rows.finish();
      await matrix.finish();
    },
    async abort() {
      await matrix.abort();
      await rows.abort();
    },
  };
}

/** `parquet`: one row group per batch (as the writer buffers them). */
async function openParquetSink(plan: SinkPlan, extra: Record<string, string>): Promise<Sink> {
  const metadata: Record<string, string> = { "vatt.embeddings.space": plan.space };
  for (const [k, v] of Object.entries(extra)) metadata[`vatt.${k}`] = v;
  const dim = plan.dims[plan.modalities[0]];
  const out = await ParquetEmbeddingWriter.create(plan.out, { dim, metadata });
  return {
    write: (r) =>
      out.append({
        ids: r.ids,
        modality: r.modality,
        index: r.index,
        vectors: concat(r.vectors),
      }),
    finish: () => out.finish(),
    abort: () => out.abort(),
  };
}

/** `jsonl`: one object per row. */
async function openJsonlSink(plan: SinkPlan): Promise<Sink> {
  const out = await JsonlStreamWriter.create(plan.out);
  return {
    async write(r) {
      for (let i = 0; i < r.ids.length; i++) {
        await out.write({
          id: r.ids[i],
          modality: r.modality[i],
          index: r.index[i],
          vector: Array.from(r.vectors[i]),
        });
      }
    },
    finish: () => out.finish(),
    abort: () => out.abort(),
  };
}

/** `safetensors`: one tensor per modality, row ids in the metadata. */
async function openSafetensorsSink(
  plan: SinkPlan,
  options: { meta: ClipMeta; extra: Record<string, string> },
): Promise<Sink> {
  const { meta, extra } = options;
  const counts = countRows(meta);
  const ids: Record<Modality, string[]> = { video: [], audio: [], text: [] };
  const textIndex: number[] = [];
  const p = meta.captionsPerClip;
  meta.ids.forEach((id, i) => {
    if (hasVideo(meta, i)) ids.video.push(id);
    if (meta.audioMask[i]) ids.audio.push(id);
    for (let k = 0; k < p; k++) {
      if (meta.textMask[i * p + k]) {
        ids.text.push(id);
        textIndex.push(k);
      }
    }
  });
  const specs: Record<string, { dtype: "F32"; shape: number[] }> = {};
  const metadata: Record<string, string> = {
    ...extra,
    format: EMBEDDINGS_FORMAT,
    space: plan.space,
  };
  for (const m of plan.modalities) {
    specs[m] = { dtype: "F32", shape: [counts[m], plan.dims[m]] };
    metadata[`${m}_ids`] = JSON.stringify(ids[m]);
    if (m === "text") metadata.text_index = JSON.stringify(textIndex);
  }
  const out = await SafetensorsStreamWriter.create(plan.out, specs, { metadata });
  return {
    async write(r) {
      for (const m of plan.modalities) {
        const parts = r.vectors.filter((_, i) => r.modality[i] === m);
        if (parts.length > 0) await out.append(m, concat(parts));
      }
    },
    finish: () => out.finish(),
    abort: () => out.abort(),
  };
}
