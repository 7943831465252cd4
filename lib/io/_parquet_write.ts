/**
 * Writing the embeddings table as Parquet, a row group at a time, over the
 * atomic streaming writer. Private to `lib/io/` (re-exported by `parquet.ts`).
 *
 * @module
 */
import { ByteWriter, ParquetWriter, type SchemaElement } from "hyparquet-writer";
import { DIM_KEY } from "./_parquet_footer.ts";
import { type EmbeddingBatch, EMBEDDINGS_PARQUET_VERSION, VERSION_KEY } from "./_parquet_table.ts";
import { AtomicFile } from "./atomic.ts";
import { AtomicStreamWriter } from "./stream_writer.ts";

/** Options of {@linkcode ParquetEmbeddingWriter.create} and {@linkcode writeEmbeddingsParquet}. */
export interface ParquetEmbeddingWriterOptions {
  /** Length of every vector (required). */
  dim: number;
  /** Rows per row group; default about 8 MiB of vectors (2^21 / dim rows, 64–65536). */
  rowGroupSize?: number;
  /** Extra string pairs for the file's key-value metadata. */
  metadata?: Record<string, string>;
  /** Compression of the pages (default `"SNAPPY"`). */
  codec?: "SNAPPY" | "UNCOMPRESSED";
}

function schemaFor(): SchemaElement[] {
  return [
    { name: "root", num_children: 4 },
    { name: "id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    { name: "modality", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    { name: "index", type: "INT32", repetition_type: "REQUIRED" },
    { name: "vector", repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", type: "FLOAT", repetition_type: "REQUIRED" },
  ];
}

/** A hyparquet writer whose row groups go to disk as they are finished. */
class FileSink extends ByteWriter {
  #out: AtomicFile;

  constructor(out: AtomicFile) {
    super(1 << 16);
    this.#out = out;
  }

  async flush(): Promise<void> {
    if (this.index === 0) return;
    await this.#out.write(new Uint8Array(this.buffer, 0, this.index));
    this.index = 0;
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

function checkBatch(batch: EmbeddingBatch, dim: number): number {
  const rows = batch.ids?.length;
  if (!Array.isArray(batch.ids) || batch.ids.some((id) => typeof id !== "string")) {
    throw new TypeError("Cannot write embeddings: ids must be an array of strings");
  }
  if (!(batch.vectors instanceof Float32Array) || batch.vectors.length !== rows * dim) {
    throw new RangeError(
      `Cannot write embeddings: ${rows} rows of dim ${dim} need ${
        rows * dim
      } floats, got ${batch.vectors?.length}`,
    );
  }
  if (Array.isArray(batch.modality)) {
    if (batch.modality.length !== rows || batch.modality.some((m) => typeof m !== "string")) {
      throw new RangeError(`Cannot write embeddings: need ${rows} modality strings`);
    }
  } else if (typeof batch.modality !== "string") {
    throw new TypeError(`Cannot write embeddings: modality ${String(batch.modality)}`);
  }
  if (batch.index !== undefined) {
    if (batch.index.length !== rows) {
      throw new RangeError(
        `Cannot write embeddings: ${rows} rows but ${batch.index.length} index values`,
      );
    }
    for (let i = 0; i < rows; i++) {
      const v = batch.index[i];
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
        throw new RangeError(`Cannot write embeddings: index ${v} is not an int32`);
      }
    }
  }
  return rows;
}

/**
 * Streams embeddings to a Parquet file: rows are buffered and written a row
 * group at a time to a temporary file, renamed into place by
 * {@linkcode ParquetEmbeddingWriter.finish}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEmbeddingsParquet } from "./_parquet_read.ts";
 * import { ParquetEmbeddingWriter } from "./_parquet_write.ts";
 * const dir = Deno.makeTempDirSync();
 * const out = await ParquetEmbeddingWriter.create(`${dir}/e.parquet`, { dim: 2 });
 * await out.append({ ids: ["a", "b"], modality: "video", vectors: new Float32Array([1, 2, 3, 4]) });
 * await out.append({ ids: ["a"], modality: "text", index: [1], vectors: new Float32Array([5, 6]) });
 * await out.finish();
 * const table = await readEmbeddingsParquet(`${dir}/e.parquet`);
 * assert.equal(table.ids.length, 3);
 * assert.equal(table.modality[2], "text");
 * assert.equal(table.vectors[5], 6);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ParquetEmbeddingWriter {
  /** Where the file lands on finish. */
  readonly path: string;
  /** Length of every vector. */
  readonly dim: number;
  /** Rows per row group. */
  readonly rowGroupSize: number;
  #out: AtomicStreamWriter;
  #writer: ParquetWriter;
  #ids: string[] = [];
  #modality: string[] = [];
  #index: number[] = [];
  #vectors: number[][] = [];
  #rows = 0;

  private constructor(
    out: AtomicStreamWriter,
    table: { writer: ParquetWriter; dim: number; rowGroupSize: number },
  ) {
    this.path = out.path;
    this.#out = out;
    this.#writer = table.writer;
    this.dim = table.dim;
    this.rowGroupSize = table.rowGroupSize;
  }

  /** Opens a temporary file next to `path` and writes the Parquet magic. */
  static async create(
    path: string,
    options: ParquetEmbeddingWriterOptions,
  ): Promise<ParquetEmbeddingWriter> {
    const { dim } = options;
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new RangeError(`Cannot write embeddings: dim ${dim} is not a non-negative integer`);
    }
    const rowGroupSize = options.rowGroupSize ??
      Math.min(65536, Math.max(64, Math.floor(2 ** 21 / Math.max(dim, 1))));
    if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
      throw new RangeError(`Cannot write embeddings: rowGroupSize ${rowGroupSize}`);
    }
    const extra = Object.entries(options.metadata ?? {});
    for (const [key, value] of extra) {
      if (typeof value !== "string") {
        throw new TypeError(`Cannot write metadata "${key}": ${String(value)} is not a string`);
      }
    }
    const file = await AtomicFile.create(path);
    const writer = new ParquetWriter({
      writer: new FileSink(file),
      schema: schemaFor(),
      codec: options.codec ?? "SNAPPY",
      kvMetadata: [
        { key: VERSION_KEY, value: EMBEDDINGS_PARQUET_VERSION },
        { key: DIM_KEY, value: String(dim) },
        ...extra.map(([key, value]) => ({ key, value })),
      ],
      createdBy: "vatt",
    });
    return new ParquetEmbeddingWriter(new AtomicStreamWriter(file), { writer, dim, rowGroupSize });
  }

  /** Rows appended so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends rows; a row group is written whenever `rowGroupSize` rows are buffered. */
  async append(batch: EmbeddingBatch): Promise<void> {
    this.#out.assertOpen(`append to ${this.path}`);
    const rows = checkBatch(batch, this.dim);
    for (let i = 0; i < rows; i++) {
      this.#ids.push(batch.ids[i]);
      this.#modality.push(typeof batch.modality === "string" ? batch.modality : batch.modality[i]);
      this.#index.push(batch.index === undefined ? 0 : batch.index[i]);
      this.#vectors.push(Array.from(batch.vectors.subarray(i * this.dim, (i + 1) * this.dim)));
    }
    this.#rows += rows;
    await this.#out.run(async () => {
      while (this.#ids.length >= this.rowGroupSize) await this.#writeGroup(this.rowGroupSize);
    });
  }

  /** Writes the buffered rows and the footer, then renames the file into place. */
  finish(): Promise<void> {
    return this.#out.finish(async () => {
      if (this.#ids.length > 0) await this.#writeGroup(this.#ids.length);
      await this.#writer.finish();
    });
  }

  /** Stops writing and removes the temporary file; `path` is not touched. */
  abort(): Promise<void> {
    return this.#out.abort();
  }

  /** Aborts unless finished, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }

  /** Hands the first `rows` buffered rows to hyparquet-writer as one row group (in a queued task). */
  async #writeGroup(rows: number): Promise<void> {
    const ids = this.#ids.splice(0, rows);
    const modality = this.#modality.splice(0, rows);
    const index = Int32Array.from(this.#index.splice(0, rows));
    const vectors = this.#vectors.splice(0, rows);
    await this.#writer.write({
      columnData: [
        { name: "id", data: ids },
        { name: "modality", data: modality },
        { name: "index", data: index },
        { name: "vector", data: vectors },
      ],
      rowGroupSize: rows,
    });
  }
}

/**
 * Writes a whole table of embeddings to `path` (atomically, row group by row group).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEmbeddingsParquet } from "./_parquet_read.ts";
 * import { writeEmbeddingsParquet } from "./_parquet_write.ts";
 * const dir = Deno.makeTempDirSync();
 * await writeEmbeddingsParquet(
 *   `${dir}/e.parquet`,
 *   { ids: ["x"], modality: "audio", vectors: new Float32Array([0.5, -1, 2]) },
 *   { dim: 3 },
 * );
 * assert.equal((await readEmbeddingsParquet(`${dir}/e.parquet`)).dim, 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeEmbeddingsParquet(
  path: string,
  batch: EmbeddingBatch,
  options: ParquetEmbeddingWriterOptions,
): Promise<void> {
  const out = await ParquetEmbeddingWriter.create(path, options);
  try {
    await out.append(batch);
  } catch (e) {
    await out.abort();
    throw e;
  }
  await out.finish();
}
