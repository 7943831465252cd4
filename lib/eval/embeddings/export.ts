/**
 * Exporting the embeddings of a dataset to a file, batch by batch: memory
 * stays bounded by one batch (plus a Parquet row group and a few bytes per
 * clip of bookkeeping), the file is written under a temporary name and
 * renamed into place only when complete, and an existing file is replaced
 * only when asked to.
 *
 * ## Rows
 * One row per clip for video, one per clip that has audio for audio (a clip
 * without audio has no audio row), one per real caption for text. Each row
 * has `id` (the clip id), `modality` (`video`, `audio`, `text`), `index` (the
 * caption's slot 0…P−1 for text, 0 otherwise) and `vector`. Row formats list
 * rows clip by clip: a clip's video row, its audio row, then its captions.
 *
 * ## Formats (version `vatt-embeddings/1`)
 * - `npy`: `FILE` is a float32 `[rows, D]` matrix (`numpy.load(FILE)`), and
 *   `FILE.rows.jsonl` lists `{"id", "modality", "index"}` for each row in the
 *   same order (`pandas.read_json(FILE + ".rows.jsonl", lines=True)`).
 * - `safetensors`: one float32 tensor per modality (`video` `[N_v, D]`,
 *   `audio` `[N_a, D]`, `text` `[N_t, D]`); `__metadata__` holds `format`,
 *   `space`, the row ids of each tensor as JSON lists (`video_ids`,
 *   `audio_ids`, `text_ids`), the caption slots `text_index`, and any extra
 *   pairs given (for example the checkpoint).
 * - `parquet`: columns `id`, `modality`, `index`, `vector` (list of float32),
 *   see `lib/io/parquet.ts`; key-value metadata `vatt.embeddings.space` and
 *   the extra pairs, each under `vatt.`.
 * - `jsonl`: one `{"id", "modality", "index", "vector"}` object per line.
 *
 * `npy` and `parquet` hold one vector length, so every modality exported to
 * them must have the same dimension (true in the `va` and `vt` spaces; in the
 * backbone space of a model whose backbones differ, export one modality at a
 * time or use `safetensors`/`jsonl`).
 *
 * @module
 */
import { dirname, extname } from "node:path";
import type { Dataset } from "../../data/shards/dataset.ts";
import { FormatError, MismatchError } from "../../util/errors.ts";
import { JsonlStreamWriter } from "../../io/jsonl.ts";
import { NpyStreamWriter } from "../../io/npy.ts";
import { ParquetEmbeddingWriter } from "../../io/parquet.ts";
import { SafetensorsStreamWriter } from "../../io/safetensors.ts";
import type { VattModel } from "../../model/vatt.ts";
import { checkModelFitsData } from "../../train/pretrain.ts";
import { type ClipMeta, readClipMeta } from "../_clip_meta.ts";
import { embedDataset, embeddingDims, type EmbeddingSpace } from "./embed.ts";
import { pathExists } from "../../io/atomic.ts";

/** The version written into exported files. */
export const EMBEDDINGS_FORMAT = "vatt-embeddings/1";

/** A file format of {@linkcode exportEmbeddings}. */
export type ExportFormat = "npy" | "safetensors" | "parquet" | "jsonl";

/** Every export format. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ["npy", "safetensors", "parquet", "jsonl"];

/** A modality that can be exported. */
export type Modality = "video" | "audio" | "text";

const MODALITIES: readonly Modality[] = ["video", "audio", "text"];

/** The modalities each space holds. */
export const SPACE_MODALITIES: Readonly<Record<EmbeddingSpace, readonly Modality[]>> = {
  va: ["video", "audio"],
  vt: ["video", "text"],
  backbone: ["video", "audio", "text"],
};

/**
 * The format a file name implies: `.npy`, `.safetensors`, `.parquet`,
 * `.jsonl` / `.ndjson`; `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { formatFromPath } from "./export.ts";
 * console.assert(formatFromPath("out/emb.parquet") === "parquet");
 * console.assert(formatFromPath("emb.csv") === undefined);
 * ```
 */
export function formatFromPath(path: string): ExportFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === ".ndjson") return "jsonl";
  const name = ext.slice(1);
  return (EXPORT_FORMATS as readonly string[]).includes(name) ? name as ExportFormat : undefined;
}

/**
 * The row list that goes with an `npy` export: `FILE.rows.jsonl`.
 *
 * @example
 * ```ts
 * import { npyRowsPath } from "./export.ts";
 * console.assert(npyRowsPath("e.npy") === "e.npy.rows.jsonl");
 * ```
 */
export function npyRowsPath(path: string): string {
  return `${path}.rows.jsonl`;
}

/** Options of {@linkcode exportEmbeddings}. */
export interface ExportOptions {
  /** The file to write. */
  out: string;
  /** The embedding space. Default `va`. */
  space?: EmbeddingSpace;
  /** Modalities to export, all in `space`. Default: every modality of the space. */
  modalities?: Modality[];
  /** File format. Default: from the extension of `out`. */
  format?: ExportFormat;
  /** Clips per forward pass. Default 16. */
  batchSize?: number;
  /** Replace an existing `out` (and its `.rows.jsonl`). Default false. */
  force?: boolean;
  /** Extra string pairs stored in safetensors / Parquet metadata (e.g. `checkpoint`). */
  metadata?: Record<string, string>;
  /** Called after each batch with (clips done, clips in all). */
  onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode exportEmbeddings} wrote. */
export interface ExportResult {
  format: ExportFormat;
  space: EmbeddingSpace;
  modalities: Modality[];
  /** Files written (the matrix and its row list for npy). */
  files: string[];
  /** Rows written per modality. */
  rows: Record<Modality, number>;
  /** Vector length per modality. */
  dims: Record<Modality, number>;
}

/** Resolved options of an export, checked before any file is touched. */
export interface ExportPlan {
  out: string;
  format: ExportFormat;
  space: EmbeddingSpace;
  modalities: Modality[];
  dims: Record<Modality, number>;
  files: string[];
}

/**
 * Resolves and checks the options of an export against a model (space,
 * modalities, format, vector lengths) without touching a file.
 *
 * @throws {RangeError} as {@linkcode exportEmbeddings} does for bad options.
 *
 * @example
 * ```ts
 * import { planExport } from "./export.ts";
 * import { VattModel } from "../../model/vatt.ts";
 * // const p = planExport(model, { out: "emb.npy", space: "vt" });
 * // p.files → ["emb.npy", "emb.npy.rows.jsonl"]
 * console.assert(typeof planExport === "function" && typeof VattModel === "function");
 * ```
 */
export function planExport(model: VattModel, options: ExportOptions): ExportPlan {
  const space = options.space ?? "va";
  if (!Object.hasOwn(SPACE_MODALITIES, space)) {
    throw new RangeError(
      `Unknown embedding space ${JSON.stringify(space)}: expected va, vt or backbone`,
    );
  }
  const holds = SPACE_MODALITIES[space];
  const asked = options.modalities ?? [...holds];
  if (asked.length === 0) throw new RangeError("Cannot export embeddings: no modality asked for");
  for (const m of asked) {
    if (!MODALITIES.includes(m)) {
      throw new RangeError(
        `Unknown modality ${JSON.stringify(m)}: expected ${MODALITIES.join(", ")}`,
      );
    }
    if (!holds.includes(m)) {
      throw new RangeError(
        `The ${space} space holds ${holds.join(" and ")} embeddings, not ${m}`,
      );
    }
  }
  const modalities = MODALITIES.filter((m) => asked.includes(m));
  const format = options.format ?? formatFromPath(options.out);
  if (format === undefined) {
    throw new RangeError(
      `Cannot tell the format of ${options.out} from its extension: use .npy, .safetensors, .parquet or .jsonl, or give the format`,
    );
  }
  if (!EXPORT_FORMATS.includes(format)) {
    throw new RangeError(
      `Unknown export format ${JSON.stringify(format)}: expected ${EXPORT_FORMATS.join(", ")}`,
    );
  }
  const dims = embeddingDims(model.config, space);
  if (format === "npy" || format === "parquet") {
    const distinct = new Set(modalities.map((m) => dims[m]));
    if (distinct.size > 1) {
      throw new RangeError(
        `Cannot put ${
          modalities.map((m) => `${m} (${dims[m]})`).join(", ")
        } vectors in one ${format} table: their lengths differ; export one modality at a time or use safetensors or jsonl`,
      );
    }
  }
  const files = format === "npy" ? [options.out, npyRowsPath(options.out)] : [options.out];
  return { out: options.out, format, space, modalities, dims, files };
}

/** One batch of rows in output order. */
interface Rows {
  ids: string[];
  modality: Modality[];
  index: number[];
  /** Row-major vectors (all of one length for npy/parquet). */
  vectors: Float32Array[];
}

/** A format's writer behind one interface. */
interface Sink {
  write(rows: Rows): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Rows each modality will have, from the dataset's masks. */
function countRows(meta: ClipMeta): Record<Modality, number> {
  let audio = 0;
  let text = 0;
  for (const m of meta.audioMask) audio += m ? 1 : 0;
  for (const m of meta.textMask) text += m ? 1 : 0;
  return { video: meta.ids.length, audio, text };
}

async function openSink(
  p: ExportPlan,
  meta: ClipMeta,
  extra: Record<string, string>,
): Promise<Sink> {
  const counts = countRows(meta);
  const total = p.modalities.reduce((s, m) => s + counts[m], 0);
  const dim = p.dims[p.modalities[0]];
  if (p.format === "npy") {
    const matrix = await NpyStreamWriter.create(p.out, { dtype: "F32", shape: [total, dim] });
    let rows: JsonlStreamWriter;
    try {
      rows = await JsonlStreamWriter.create(npyRowsPath(p.out));
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
        await matrix.finish();
        await rows.finish();
      },
      async abort() {
        await matrix.abort();
        await rows.abort();
      },
    };
  }
  if (p.format === "parquet") {
    const metadata: Record<string, string> = { "vatt.embeddings.space": p.space };
    for (const [k, v] of Object.entries(extra)) metadata[`vatt.${k}`] = v;
    const out = await ParquetEmbeddingWriter.create(p.out, { dim, metadata });
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
  if (p.format === "jsonl") {
    const out = await JsonlStreamWriter.create(p.out);
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
  // safetensors: one tensor per modality, row ids in the metadata.
  const ids: Record<Modality, string[]> = { video: [], audio: [], text: [] };
  const textIndex: number[] = [];
  const p_ = meta.captionsPerClip;
  meta.ids.forEach((id, i) => {
    ids.video.push(id);
    if (meta.audioMask[i]) ids.audio.push(id);
    for (let k = 0; k < p_; k++) {
      if (meta.textMask[i * p_ + k]) {
        ids.text.push(id);
        textIndex.push(k);
      }
    }
  });
  const specs: Record<string, { dtype: "F32"; shape: number[] }> = {};
  const metadata: Record<string, string> = { ...extra, format: EMBEDDINGS_FORMAT, space: p.space };
  for (const m of p.modalities) {
    specs[m] = { dtype: "F32", shape: [counts[m], p.dims[m]] };
    metadata[`${m}_ids`] = JSON.stringify(ids[m]);
    if (m === "text") metadata.text_index = JSON.stringify(textIndex);
  }
  const out = await SafetensorsStreamWriter.create(p.out, specs, { metadata });
  return {
    async write(r) {
      for (const m of p.modalities) {
        const parts = r.vectors.filter((_, i) => r.modality[i] === m);
        if (parts.length > 0) await out.append(m, concat(parts));
      }
    },
    finish: () => out.finish(),
    abort: () => out.abort(),
  };
}

/**
 * Embeds every clip of `data` with `model` and writes the rows to
 * `options.out` (see the module documentation for rows and formats).
 *
 * @throws {RangeError} for a modality outside the space, an unknown format or
 *   mixed vector lengths in npy/parquet; {MismatchError} when `out` exists
 *   without `force` or the dataset does not fit the model; {FormatError} when
 *   the dataset's shards disagree with themselves. Nothing is left at `out`
 *   on failure (an earlier file there is untouched).
 *
 * @example
 * ```ts
 * import { exportEmbeddings } from "./export.ts";
 * // await exportEmbeddings(model, data, { out: "emb.parquet", space: "vt" });
 * console.assert(typeof exportEmbeddings === "function");
 * ```
 */
export async function exportEmbeddings(
  model: VattModel,
  data: Dataset,
  options: ExportOptions,
): Promise<ExportResult> {
  const p = planExport(model, options);
  checkModelFitsData(model.config, data);
  if (!options.force) {
    for (const f of p.files) {
      if (await pathExists(f)) {
        throw new MismatchError(`${f} already exists; use --force to replace it`);
      }
    }
  }
  const meta = await readClipMeta(data);
  const extra = { ...(options.metadata ?? {}) };
  await Deno.mkdir(dirname(p.out) || ".", { recursive: true });
  const sink = await openSink(p, meta, extra);
  const rows: Record<Modality, number> = { video: 0, audio: 0, text: 0 };
  try {
    const pc = meta.captionsPerClip;
    for await (
      const b of embedDataset(model, data, {
        modalities: p.modalities,
        space: p.space,
        batchSize: options.batchSize,
        onProgress: options.onProgress,
      })
    ) {
      const out: Rows = { ids: [], modality: [], index: [], vectors: [] };
      b.ids.forEach((id, j) => {
        const g = b.indices[j];
        const same = meta.ids[g] === id && meta.audioMask[g] === b.audioMask[j] &&
          meta.textMask.subarray(g * pc, g * pc + pc).every((m, k) => m === b.textMask[j * pc + k]);
        if (!same) {
          throw new FormatError(`clip ${g} (${id}) reads differently from its shard's masks`, {
            path: data.dir,
          });
        }
        const add = (m: Modality, index: number, v: Float32Array) => {
          out.ids.push(id);
          out.modality.push(m);
          out.index.push(index);
          out.vectors.push(v);
          rows[m]++;
        };
        for (const m of p.modalities) {
          const d = p.dims[m];
          const all = b[m]!;
          if (m === "video") add(m, 0, all.subarray(j * d, (j + 1) * d));
          if (m === "audio" && b.audioMask[j]) add(m, 0, all.subarray(j * d, (j + 1) * d));
          if (m === "text") {
            for (let k = 0; k < pc; k++) {
              if (!b.textMask[j * pc + k]) continue;
              const at = (j * pc + k) * d;
              add(m, k, all.subarray(at, at + d));
            }
          }
        }
      });
      await sink.write(out);
    }
    if (!options.force) {
      for (const f of p.files) {
        if (await pathExists(f)) {
          throw new MismatchError(`${f} appeared while exporting; use --force to replace it`);
        }
      }
    }
    await sink.finish();
  } catch (e) {
    await sink.abort();
    throw e;
  }
  return {
    format: p.format,
    space: p.space,
    modalities: p.modalities,
    files: p.files,
    rows,
    dims: p.dims,
  };
}
