/**
 * Reading back an embeddings file written by `exportEmbeddings` (any of its
 * four formats) as a list of rows, for plots and checks. The whole file is
 * read into memory. Files are untrusted: anything that does not match the
 * layout documented in `format.ts` is a `FormatError`.
 *
 * @module
 */
import { isModality, MODALITIES } from "../../config/modality.ts";
import { FormatError } from "../../util/errors.ts";
import { iterJsonl } from "../../io/jsonl.ts";
import { readNpy } from "../../io/npy.ts";
import { openEmbeddingsParquet } from "../../io/parquet.ts";
import { readSafetensors } from "../../io/safetensors.ts";
import { type ExportFormat, formatFromPath, npyRowsPath } from "./format.ts";

/** Embeddings read from a file, one entry per row. */
export interface EmbeddingRows {
  /** Clip id of each row. */
  ids: string[];
  /** Modality of each row. */
  modality: string[];
  /** Caption slot of each text row, 0 for the others. */
  index: Int32Array;
  /** The vector of each row. */
  vectors: Float32Array[];
  /** The embedding space, when the file records it. */
  space?: string;
}

/** Options of {@linkcode readEmbeddings}. */
export interface ReadEmbeddingsFileOptions {
  /** Format of the file. Default: from its extension. */
  format?: ExportFormat;
}

function rowInfo(value: unknown, line: number, path: string) {
  const v = value as { id?: unknown; modality?: unknown; index?: unknown; vector?: unknown };
  const fail = (what: string) => new FormatError(`line ${line}: ${what}`, { path });
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw fail("not a JSON object");
  if (typeof v.id !== "string") throw fail("id is not a string");
  if (typeof v.modality !== "string") throw fail("modality is not a string");
  const index = v.index ?? 0;
  if (typeof index !== "number" || !Number.isInteger(index) || Math.abs(index) >= 2 ** 31) {
    throw fail("index is not an int32");
  }
  return { id: v.id, modality: v.modality, index, vector: v.vector, fail };
}

async function readJsonlRows(path: string): Promise<EmbeddingRows> {
  const out: EmbeddingRows = { ids: [], modality: [], index: new Int32Array(0), vectors: [] };
  const index: number[] = [];
  for await (const { line, value } of iterJsonl(path)) {
    const r = rowInfo(value, line, path);
    if (!Array.isArray(r.vector) || r.vector.some((x) => typeof x !== "number")) {
      throw r.fail("vector is not a list of numbers");
    }
    out.ids.push(r.id);
    out.modality.push(r.modality);
    index.push(r.index);
    out.vectors.push(Float32Array.from(r.vector as number[]));
  }
  out.index = Int32Array.from(index);
  return out;
}

async function readNpyRows(path: string): Promise<EmbeddingRows> {
  const matrix = await readNpy(path);
  if (matrix.dtype !== "F32" || matrix.shape.length !== 2) {
    throw new FormatError(
      `expected a float32 [rows, dim] matrix, found ${matrix.dtype} [${matrix.shape.join(", ")}]`,
      { path },
    );
  }
  const [n, d] = matrix.shape;
  const rowsPath = npyRowsPath(path);
  const out: EmbeddingRows = { ids: [], modality: [], index: new Int32Array(n), vectors: [] };
  let at = 0;
  try {
    for await (const { line, value } of iterJsonl(rowsPath)) {
      const r = rowInfo(value, line, rowsPath);
      if (at >= n) throw r.fail(`more rows than the ${n} of ${path}`);
      out.ids.push(r.id);
      out.modality.push(r.modality);
      out.index[at++] = r.index;
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new FormatError(`its row list ${rowsPath} is missing`, { path });
    }
    throw e;
  }
  if (at !== n) throw new FormatError(`lists ${at} rows for a matrix of ${n}`, { path: rowsPath });
  const data = matrix.data as Float32Array;
  for (let i = 0; i < n; i++) out.vectors.push(data.subarray(i * d, (i + 1) * d));
  return out;
}

async function readParquetRows(path: string): Promise<EmbeddingRows> {
  using file = await openEmbeddingsParquet(path);
  const t = await file.read();
  const vectors: Float32Array[] = [];
  for (let i = 0; i < t.ids.length; i++) {
    vectors.push(t.vectors.subarray(i * t.dim, (i + 1) * t.dim));
  }
  const out: EmbeddingRows = { ids: t.ids, modality: t.modality, index: t.index, vectors };
  const space = file.metadata["vatt.embeddings.space"];
  if (space !== undefined) out.space = space;
  return out;
}

function jsonList(meta: Record<string, string>, key: string, path: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(meta[key] ?? "null");
  } catch {
    throw new FormatError(`metadata ${key} is not valid JSON`, { path });
  }
  if (!Array.isArray(v)) throw new FormatError(`metadata ${key} is not a list`, { path });
  return v;
}

async function readSafetensorsRows(path: string): Promise<EmbeddingRows> {
  const { tensors, metadata } = await readSafetensors(path);
  const out: EmbeddingRows = { ids: [], modality: [], index: new Int32Array(0), vectors: [] };
  const index: number[] = [];
  const unknown = Object.keys(tensors).filter((k) => !isModality(k));
  if (unknown.length > 0) {
    throw new FormatError(`unexpected tensor ${unknown[0]} (expected video, audio, text)`, {
      path,
    });
  }
  for (const m of MODALITIES) {
    const t = tensors[m];
    if (!t) continue;
    if (t.dtype !== "F32" || t.shape.length !== 2) {
      throw new FormatError(`tensor ${m} is not a float32 [rows, dim] matrix`, { path });
    }
    const [n, d] = t.shape;
    const ids = jsonList(metadata, `${m}_ids`, path);
    if (ids.length !== n || ids.some((x) => typeof x !== "string")) {
      throw new FormatError(`metadata ${m}_ids does not list ${n} string ids`, { path });
    }
    const slots = m === "text" ? jsonList(metadata, "text_index", path) : undefined;
    if (slots && (slots.length !== n || slots.some((x) => !Number.isInteger(x)))) {
      throw new FormatError(`metadata text_index does not list ${n} integers`, { path });
    }
    const data = t.data as Float32Array;
    for (let i = 0; i < n; i++) {
      out.ids.push(ids[i] as string);
      out.modality.push(m);
      index.push(slots ? slots[i] as number : 0);
      out.vectors.push(data.subarray(i * d, (i + 1) * d));
    }
  }
  out.index = Int32Array.from(index);
  if (metadata.space !== undefined) out.space = metadata.space;
  return out;
}

/** `rows`, after checking every value is finite: a FormatError names the first row that is not. */
function finiteRows(rows: EmbeddingRows, path: string): EmbeddingRows {
  for (let r = 0; r < rows.vectors.length; r++) {
    const v = rows.vectors[r];
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j])) {
        throw new FormatError(
          `row ${r} (${rows.modality[r]} of clip ${JSON.stringify(rows.ids[r])}) holds ${
            v[j]
          } at dimension ${j}`,
          { path },
        );
      }
    }
  }
  return rows;
}
/**
 * Reads an embeddings file (npy with its `.rows.jsonl`, safetensors, parquet
 * or jsonl).
 *
 * @throws {RangeError} when the format is neither given nor implied by the
 *   extension; {FormatError} for a malformed file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEmbeddings } from "./read.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/e.jsonl`, '{"id":"a","modality":"video","index":0,"vector":[1,2]}\n');
 * const rows = await readEmbeddings(`${dir}/e.jsonl`);
 * assert.equal(rows.ids[0], "a");
 * assert.equal(rows.vectors[0][1], 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readEmbeddings(
  path: string,
  options: ReadEmbeddingsFileOptions = {},
): Promise<EmbeddingRows> {
  const format = options.format ?? formatFromPath(path);
  switch (format) {
    case "jsonl":
      return finiteRows(await readJsonlRows(path), path);
    case "npy":
      return finiteRows(await readNpyRows(path), path);
    case "parquet":
      return finiteRows(await readParquetRows(path), path);
    case "safetensors":
      return finiteRows(await readSafetensorsRows(path), path);
    default:
      throw new RangeError(
        `Cannot tell the format of ${path}: expected .npy, .safetensors, .parquet or .jsonl`,
      );
  }
}
