/**
 * Exporting the embeddings of a dataset to a file, batch by batch: memory
 * stays bounded by one batch (plus a Parquet row group and a few bytes per
 * clip of bookkeeping), the file is written under a temporary name and
 * renamed into place only when complete, and an existing file is replaced
 * only when asked to. Rows and formats are described in `format.ts`.
 *
 * @module
 */
import { dirname } from "node:path";
import { DEFAULT_EXPORT_SPACE } from "../../config/eval_config.ts";
import { MODALITIES, type Modality } from "../../config/modality.ts";
import type { Dataset } from "../../data/shards/dataset.ts";
import { FormatError, MismatchError } from "../../util/errors.ts";
import type { VattModel } from "../../model/vatt.ts";
import { checkModelFitsData } from "../../data/fit.ts";
import { pathExists } from "../../io/atomic.ts";
import { type ClipMeta, readClipMeta } from "./_clip_meta.ts";
import { openSink, type Rows } from "./_sinks.ts";
import { embedDataset, type EmbeddedBatch, embeddingDims, type EmbeddingSpace } from "./embed.ts";
import { EXPORT_FORMATS, type ExportFormat, formatFromPath, npyRowsPath } from "./format.ts";

/** The modalities each space holds. */
export const SPACE_MODALITIES: Readonly<Record<EmbeddingSpace, readonly Modality[]>> = {
  va: ["video", "audio"],
  vt: ["video", "text"],
  backbone: ["video", "audio", "text"],
};

/** Options of {@linkcode exportEmbeddings}. */
export interface ExportOptions {
  /** The file to write. */
  out: string;
  /** The embedding space. Default {@linkcode DEFAULT_EXPORT_SPACE}. */
  space?: EmbeddingSpace;
  /** Modalities to export, all in `space`. Default: every modality of the space. */
  modalities?: Modality[];
  /** File format. Default: from the extension of `out`. */
  format?: ExportFormat;
  /** Clips per forward pass. Default `DEFAULT_EVAL_BATCH_SIZE` (`lib/config/eval_config.ts`). */
  batchSize?: number;
  /** Replace an existing `out` (and its `.rows.jsonl`). Default false. */
  force?: boolean;
  /** Extra string pairs stored in safetensors / Parquet metadata (e.g. `checkpoint`). */
  metadata?: Record<string, string>;
  /**
   * L2-normalise each vector (as retrieval's cosine does), stated in the
   * metadata as `normalized`. Default {@linkcode normalizesByDefault}.
   */
  normalize?: boolean;
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
  /** Whether each vector is L2-normalised. */
  normalize: boolean;
}

/**
 * Whether an export of `space` L2-normalises its vectors when not told: yes
 * for the common spaces `va` and `vt` (the losses and retrieval compare them
 * by cosine), no for `backbone` (raw aggregation tokens).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizesByDefault } from "./export.ts";
 * assert.equal(normalizesByDefault("va"), true);
 * assert.equal(normalizesByDefault("vt"), true);
 * assert.equal(normalizesByDefault("backbone"), false);
 * ```
 */
export function normalizesByDefault(space: EmbeddingSpace): boolean {
  return space !== "backbone";
}

/**
 * Divides each vector of `rows` by its L2 norm, in place (by
 * `sqrt(max(Σx², 1e-12))`, as `tf.l2Normalize` does, so a zero vector stays 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeRows } from "./export.ts";
 * const v = new Float32Array([3, 4]);
 * normalizeRows([v, new Float32Array(2)]);
 * assert.deepEqual([...v], [0.6000000238418579, 0.800000011920929]); // 3/5, 4/5 as float32
 * ```
 */
export function normalizeRows(vectors: Float32Array[]): void {
  for (const v of vectors) {
    let sum = 0;
    for (let j = 0; j < v.length; j++) sum += v[j] * v[j];
    const norm = Math.sqrt(Math.max(sum, 1e-12));
    for (let j = 0; j < v.length; j++) v[j] /= norm;
  }
}

/**
 * Resolves and checks the options of an export against a model (space,
 * modalities, format, vector lengths) without touching a file.
 *
 * @throws {RangeError} as {@linkcode exportEmbeddings} does for bad options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import { planExport } from "./export.ts";
 * const p = planExport({ config: PRESETS.tiny }, { out: "emb.npy", space: "vt" });
 * assert.deepEqual(p.files, ["emb.npy", "emb.npy.rows.jsonl"]);
 * assert.deepEqual(p.modalities, ["video", "text"]);
 * assert.throws(() => planExport({ config: PRESETS.tiny }, { out: "e.npy", modalities: ["text"] }));
 * ```
 */
export function planExport(
  model: Pick<VattModel, "config">,
  options: ExportOptions,
): ExportPlan {
  const space = options.space ?? DEFAULT_EXPORT_SPACE;
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
  const normalize = options.normalize ?? normalizesByDefault(space);
  return { out: options.out, format, space, modalities, dims, files, normalize };
}

/**
 * Throws naming the first row whose embedding holds NaN or ±Infinity (a
 * diverged checkpoint, an overflowing input): checked before the rows reach
 * the file, so the export writes nothing.
 */
function assertFiniteRows(rows: Rows): void {
  for (let r = 0; r < rows.vectors.length; r++) {
    const v = rows.vectors[r];
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j])) {
        throw new Error(
          `the ${rows.modality[r]} embedding of clip ${JSON.stringify(rows.ids[r])} (row ${
            rows.index[r]
          }) holds ${v[j]} at dimension ${j}; nothing was written`,
        );
      }
    }
  }
}

/**
 * Embeds every clip of `data` with `model` and writes the rows to
 * `options.out` (see `format.ts` for rows and formats).
 *
 * @throws {RangeError} for a modality outside the space, an unknown format or
 *   mixed vector lengths in npy/parquet; {MismatchError} when `out` exists
 *   without `force` or the dataset does not fit the model; {FormatError} when
 *   the dataset's shards disagree with themselves. Nothing is left at `out`
 *   on failure (an earlier file there is untouched).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportEmbeddings } from "./export.ts";
 * // Needs a model and a dataset; the options are checked before either is read.
 * await assert.rejects(
 *   exportEmbeddings({ config: {} } as never, {} as never, { out: "emb.csv" }),
 *   /Cannot tell the format of emb.csv/,
 * );
 * ```
 */
export async function exportEmbeddings(
  model: VattModel,
  data: Dataset,
  options: ExportOptions,
): Promise<ExportResult> {
  const p = planExport(model, options);
  checkModelFitsData(model.config, data);
  if (!options.force) await refuseExisting(p.files, "already exists");
  const meta = await readClipMeta(data);
  const extra = { ...(options.metadata ?? {}), normalized: String(p.normalize) };
  await Deno.mkdir(dirname(p.out) || ".", { recursive: true });
  const sink = await openSink(p, { meta, extra });
  const rows: Record<Modality, number> = { video: 0, audio: 0, text: 0 };
  try {
    for await (
      const b of embedDataset(model, data, {
        modalities: p.modalities,
        space: p.space,
        batchSize: options.batchSize,
        onProgress: options.onProgress,
      })
    ) {
      checkBatchMasks(b, { meta, path: data.dir });
      const out = rowsOfBatch(b, { plan: p, captionsPerClip: meta.captionsPerClip });
      for (const m of out.modality) rows[m]++;
      assertFiniteRows(out);
      if (p.normalize) normalizeRows(out.vectors);
      await sink.write(out);
    }
    if (!options.force) await refuseExisting(p.files, "appeared while exporting");
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

/** Throws a {@linkcode MismatchError} if one of `files` exists (`why`: how it came to). */
async function refuseExisting(files: readonly string[], why: string): Promise<void> {
  for (const f of files) {
    if (await pathExists(f)) throw new MismatchError(`${f} ${why}; use --force to replace it`);
  }
}

/** Checks that each clip of a batch has the id and masks the shard bookkeeping said. */
function checkBatchMasks(b: EmbeddedBatch, options: { meta: ClipMeta; path: string }): void {
  const { meta } = options;
  const pc = meta.captionsPerClip;
  b.ids.forEach((id, j) => {
    const g = b.indices[j];
    const same = meta.ids[g] === id && meta.audioMask[g] === b.audioMask[j] &&
      meta.textMask.subarray(g * pc, g * pc + pc).every((m, k) => m === b.textMask[j * pc + k]);
    if (!same) {
      throw new FormatError(`clip ${g} (${id}) reads differently from its shard's masks`, {
        path: options.path,
      });
    }
  });
}

/** The rows of one embedded batch, clip by clip: video, audio (when present), captions. */
function rowsOfBatch(
  b: EmbeddedBatch,
  options: { plan: ExportPlan; captionsPerClip: number },
): Rows {
  const { plan, captionsPerClip: pc } = options;
  const out: Rows = { ids: [], modality: [], index: [], vectors: [] };
  b.ids.forEach((id, j) => {
    const add = (m: Modality, index: number, v: Float32Array) => {
      out.ids.push(id);
      out.modality.push(m);
      out.index.push(index);
      out.vectors.push(v);
    };
    for (const m of plan.modalities) {
      const d = plan.dims[m];
      const all = b[m]!;
      if (m === "video" && (b.videoMask?.[j] ?? 1)) add(m, 0, all.subarray(j * d, (j + 1) * d));
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
  return out;
}
