/**
 * The embeddings file format (version `vatt-embeddings/1`), shared by
 * `export.ts`, which writes it, and `read.ts`, which reads it back.
 *
 * ## Rows
 * One row per clip for video, one per clip that has audio for audio (a clip
 * without audio has no audio row), one per real caption for text. Each row
 * has `id` (the clip id), `modality` (`video`, `audio`, `text`), `index` (the
 * caption's slot 0…P−1 for text, 0 otherwise) and `vector`. Row formats list
 * rows clip by clip: a clip's video row, its audio row, then its captions.
 *
 * ## Formats
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
import { extname } from "node:path";

/** The version written into exported files. */
export const EMBEDDINGS_FORMAT = "vatt-embeddings/1";

/** A file format of an embeddings export. */
export type ExportFormat = "npy" | "safetensors" | "parquet" | "jsonl";

/** Every export format. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ["npy", "safetensors", "parquet", "jsonl"];

/**
 * The format a file name implies: `.npy`, `.safetensors`, `.parquet`,
 * `.jsonl` / `.ndjson`; `undefined` for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFromPath } from "./format.ts";
 * assert.equal(formatFromPath("out/emb.parquet"), "parquet");
 * assert.equal(formatFromPath("EMB.NDJSON"), "jsonl");
 * assert.equal(formatFromPath("emb.csv"), undefined);
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
 * import assert from "node:assert/strict";
 * import { npyRowsPath } from "./format.ts";
 * assert.equal(npyRowsPath("e.npy"), "e.npy.rows.jsonl");
 * ```
 */
export function npyRowsPath(path: string): string {
  return `${path}.rows.jsonl`;
}
