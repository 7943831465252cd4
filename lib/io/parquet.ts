/**
 * The embeddings table as Parquet: one row per embedding, with columns
 * `id` (string, the clip id), `modality` (string: `video`, `audio`, `text`),
 * `index` (int32: the caption number for text, else 0) and `vector`
 * (list of float32, all of one length `dim`).
 *
 * Written with `hyparquet-writer` (format-2 data pages, snappy by default), read
 * with `hyparquet`. The writer buffers rows and hands hyparquet-writer one row
 * group at a time; each is flushed straight to a temporary file (renamed into
 * place on finish), so memory stays bounded by one row group plus a few bytes
 * of footer per row group. (hyparquet-writer's own `fileWriter` writes
 * synchronously; the sink here writes asynchronously through its `flush` hook.)
 *
 * Files are untrusted when read: the footer is checked against the table's
 * schema and the file size, and every page of the row groups read is checked
 * before hyparquet decodes it (see `_parquet_check.ts`), since hyparquet sizes
 * arrays and loops by counts in the file. Readable: PLAIN and dictionary
 * encodings, uncompressed or snappy, format-1 or format-2 pages, required or
 * optional columns (as pyarrow and DuckDB write them); anything else is a
 * `FormatError`.
 *
 * @module
 */
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { ByteWriter, ParquetWriter, type SchemaElement } from "hyparquet-writer";
import { FormatError } from "../util/errors.ts";
import { readExactly, SerialQueue } from "./_file.ts";
import {
  boundedSnappy,
  type CheckedFooter,
  checkFooter,
  checkPages,
  chunkRange,
  COLUMNS,
  DIM_KEY,
} from "./_parquet_check.ts";
import { AtomicFile } from "./atomic.ts";

/** Version written to the `vatt.embeddings.version` key of the file metadata. */
export const EMBEDDINGS_PARQUET_VERSION = "1";
const VERSION_KEY = "vatt.embeddings.version";

/** A block of embeddings in columns; row `i` is `vectors[i*dim .. (i+1)*dim)`. */
export interface EmbeddingBatch {
  /** Clip id of each row. */
  ids: string[];
  /** Modality of each row, or one for every row. */
  modality: string | string[];
  /** Caption number of each row (int32; 0 for video and audio). Default all 0. */
  index?: ArrayLike<number>;
  /** Row-major `[rows, dim]` vectors. */
  vectors: Float32Array;
}

/** Embeddings read back from a file. */
export interface EmbeddingTable {
  /** Clip id of each row. */
  ids: string[];
  /** Modality of each row. */
  modality: string[];
  /** Caption number of each row. */
  index: Int32Array;
  /** Row-major `[rows, dim]` vectors. */
  vectors: Float32Array;
  /** Length of every vector. */
  dim: number;
}

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
 * import { ParquetEmbeddingWriter, readEmbeddingsParquet } from "./parquet.ts";
 * const dir = await Deno.makeTempDir();
 * const out = await ParquetEmbeddingWriter.create(`${dir}/e.parquet`, { dim: 2 });
 * await out.append({ ids: ["a", "b"], modality: "video", vectors: new Float32Array([1, 2, 3, 4]) });
 * await out.append({ ids: ["a"], modality: "text", index: [1], vectors: new Float32Array([5, 6]) });
 * await out.finish();
 * const table = await readEmbeddingsParquet(`${dir}/e.parquet`);
 * console.assert(table.ids.length === 3 && table.modality[2] === "text" && table.vectors[5] === 6);
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
  #out: AtomicFile;
  #writer: ParquetWriter;
  #queue = new SerialQueue();
  #ids: string[] = [];
  #modality: string[] = [];
  #index: number[] = [];
  #vectors: number[][] = [];
  #rows = 0;

  private constructor(
    path: string,
    out: AtomicFile,
    writer: ParquetWriter,
    dim: number,
    rowGroupSize: number,
  ) {
    this.path = path;
    this.#out = out;
    this.#writer = writer;
    this.dim = dim;
    this.rowGroupSize = rowGroupSize;
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
    const out = await AtomicFile.create(path);
    const writer = new ParquetWriter({
      writer: new FileSink(out),
      schema: schemaFor(),
      codec: options.codec ?? "SNAPPY",
      kvMetadata: [
        { key: VERSION_KEY, value: EMBEDDINGS_PARQUET_VERSION },
        { key: DIM_KEY, value: String(dim) },
        ...extra.map(([key, value]) => ({ key, value })),
      ],
      createdBy: "vatt",
    });
    return new ParquetEmbeddingWriter(path, out, writer, dim, rowGroupSize);
  }

  /** Rows appended so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends rows; a row group is written whenever `rowGroupSize` rows are buffered. */
  async append(batch: EmbeddingBatch): Promise<void> {
    if (this.#out.done) throw new TypeError(`Cannot append to ${this.path}: writer is closed`);
    const rows = checkBatch(batch, this.dim);
    for (let i = 0; i < rows; i++) {
      this.#ids.push(batch.ids[i]);
      this.#modality.push(typeof batch.modality === "string" ? batch.modality : batch.modality[i]);
      this.#index.push(batch.index === undefined ? 0 : batch.index[i]);
      this.#vectors.push(Array.from(batch.vectors.subarray(i * this.dim, (i + 1) * this.dim)));
    }
    this.#rows += rows;
    await this.#queue.run(async () => {
      while (this.#ids.length >= this.rowGroupSize) await this.#writeGroup(this.rowGroupSize);
    });
  }

  /** Writes the buffered rows and the footer, then renames the file into place. */
  finish(): Promise<void> {
    return this.#queue.run(async () => {
      try {
        if (this.#ids.length > 0) await this.#writeGroup(this.#ids.length);
        await this.#writer.finish();
      } catch (e) {
        await this.#out.abort();
        throw e;
      }
      await this.#out.commit();
    });
  }

  /** Stops writing and removes the temporary file; `path` is not touched. */
  abort(): Promise<void> {
    return this.#queue.run(() => this.#out.abort());
  }

  /** Aborts unless finished, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }

  async #writeGroup(rows: number): Promise<void> {
    const ids = this.#ids.splice(0, rows);
    const modality = this.#modality.splice(0, rows);
    const index = Int32Array.from(this.#index.splice(0, rows));
    const vectors = this.#vectors.splice(0, rows);
    try {
      await this.#writer.write({
        columnData: [
          { name: "id", data: ids },
          { name: "modality", data: modality },
          { name: "index", data: index },
          { name: "vector", data: vectors },
        ],
        rowGroupSize: rows,
      });
    } catch (e) {
      await this.#out.abort();
      throw e;
    }
  }
}

/**
 * Writes a whole table of embeddings to `path` (atomically, row group by row group).
 *
 * @example
 * ```ts
 * import { readEmbeddingsParquet, writeEmbeddingsParquet } from "./parquet.ts";
 * const dir = await Deno.makeTempDir();
 * await writeEmbeddingsParquet(
 *   `${dir}/e.parquet`,
 *   { ids: ["x"], modality: "audio", vectors: new Float32Array([0.5, -1, 2]) },
 *   { dim: 3 },
 * );
 * console.assert((await readEmbeddingsParquet(`${dir}/e.parquet`)).dim === 3);
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

/**
 * A hyparquet AsyncBuffer over an open file. Reads outside the file are
 * FormatErrors. hyparquet prefetches ranges and may abandon some when a read
 * fails, so every returned promise is marked handled (the caller that awaits
 * it still sees its rejection), and `drain` waits for reads in flight before
 * the file is closed.
 */
function fileBuffer(file: Deno.FsFile, size: number, path: string) {
  const queue = new SerialQueue();
  let closed = false;
  const read = (start: number, end: number): Promise<ArrayBuffer> => {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end))) {
      return Promise.reject(new FormatError(`read of bytes ${start}..${end}`, { path }));
    }
    if (start < 0 || end < start || end > size) {
      return Promise.reject(
        new FormatError(`read of bytes ${start}..${end} outside the ${size}-byte file`, { path }),
      );
    }
    return queue.run(async () => {
      if (closed) throw new FormatError("read after the file was closed", { path });
      return (await readExactly(file, start, end - start, path)).buffer;
    });
  };
  const buffer: AsyncBuffer = {
    byteLength: size,
    slice(start: number, end: number = size): Promise<ArrayBuffer> {
      const result = read(start, end);
      result.catch(() => undefined);
      return result;
    },
  };
  return {
    buffer,
    /** Resolves once every read queued so far has finished. */
    drain: () => queue.run(() => Promise.resolve()),
    close: () => {
      if (!closed) file.close();
      closed = true;
    },
  };
}

/** Options of {@linkcode EmbeddingsParquetFile.read}. */
export interface ReadEmbeddingsOptions {
  /** First row to read (default 0). */
  rowStart?: number;
  /** Row after the last to read (default all rows). */
  rowEnd?: number;
}

/** An open embeddings Parquet file: footer read and checked, rows read on demand. */
export interface EmbeddingsParquetFile {
  /** The file's name. */
  readonly path: string;
  /** Rows in the file. */
  readonly numRows: number;
  /** Vector length from the file's metadata, if it records one. */
  readonly dim: number | undefined;
  /** The file's key-value metadata. */
  readonly metadata: Record<string, string>;
  /** Reads rows `[rowStart, rowEnd)`; only the row groups they touch are read from disk. */
  read(options?: ReadEmbeddingsOptions): Promise<EmbeddingTable>;
  /** Closes the file. */
  close(): void;
  /** Same as close(), for `using`. */
  [Symbol.dispose](): void;
}

function wrap(e: unknown, path: string): unknown {
  if (e instanceof FormatError || e instanceof Deno.errors.NotFound) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new FormatError(`not a readable embeddings Parquet file: ${message}`, {
    path,
    cause: e,
  });
}

function toTable(rows: Record<string, unknown>[], dim: number | undefined, path: string) {
  const fail = (row: number, what: string) => new FormatError(`row ${row}: ${what}`, { path });
  const n = rows.length;
  const first = rows[0]?.vector as ArrayLike<unknown> | null | undefined;
  const width = dim ?? (first && typeof first.length === "number" ? first.length : 0);
  // Check every row before allocating by the (file-given) width.
  for (let i = 0; i < n; i++) {
    const { id, modality, index, vector } = rows[i];
    if (typeof id !== "string") throw fail(i, "id is not a string");
    if (typeof modality !== "string") throw fail(i, "modality is not a string");
    if (typeof index !== "number" || !Number.isInteger(index)) throw fail(i, "index is not an int");
    const v = vector as ArrayLike<unknown> | null;
    if (v === null || typeof v !== "object" || v.length !== width) {
      throw fail(i, `vector does not have ${width} values`);
    }
  }
  const table: EmbeddingTable = {
    ids: new Array(n),
    modality: new Array(n),
    index: new Int32Array(n),
    vectors: new Float32Array(n * width),
    dim: width,
  };
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const v = row.vector as ArrayLike<unknown>;
    for (let j = 0; j < width; j++) {
      const x = v[j];
      if (typeof x !== "number") throw fail(i, "vector holds a non-number");
      table.vectors[i * width + j] = x;
    }
    table.ids[i] = row.id as string;
    table.modality[i] = row.modality as string;
    table.index[i] = row.index as number;
  }
  return table;
}

/**
 * Opens an embeddings Parquet file and checks its footer; rows are read on
 * demand, a range at a time.
 *
 * @example
 * ```ts
 * import { openEmbeddingsParquet, writeEmbeddingsParquet } from "./parquet.ts";
 * const dir = await Deno.makeTempDir();
 * const vectors = new Float32Array(10 * 4).map((_, i) => i);
 * const ids = Array.from({ length: 10 }, (_, i) => `clip-${i}`);
 * await writeEmbeddingsParquet(`${dir}/e.parquet`, { ids, modality: "video", vectors }, {
 *   dim: 4,
 *   rowGroupSize: 3,
 * });
 * using file = await openEmbeddingsParquet(`${dir}/e.parquet`);
 * const part = await file.read({ rowStart: 4, rowEnd: 6 });
 * console.assert(file.numRows === 10 && part.ids[0] === "clip-4" && part.vectors[0] === 16);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openEmbeddingsParquet(path: string): Promise<EmbeddingsParquetFile> {
  const file = await Deno.open(path, { read: true });
  let source: ReturnType<typeof fileBuffer>;
  try {
    source = fileBuffer(file, (await file.stat()).size, path);
  } catch (e) {
    file.close();
    throw e;
  }
  const { buffer, drain } = source;
  let footer: CheckedFooter;
  try {
    footer = checkFooter(await parquetMetadataAsync(buffer), buffer.byteLength, path);
  } catch (e) {
    await drain();
    source.close();
    throw wrap(e, path);
  }
  const { metadata, numRows, dim } = footer;
  let closed = false;
  const close = () => {
    closed = true;
    source.close();
  };

  /** Reads and checks the chunks hyparquet will decode for these rows; returns them by range. */
  const prefetch = async (rowStart: number, rowEnd: number) => {
    const chunks = new Map<string, ArrayBuffer>();
    let groupStart = 0;
    for (const group of metadata.row_groups) {
      const groupEnd = groupStart + Number(group.num_rows);
      if (groupStart < rowEnd && groupEnd > rowStart) {
        for (const chunk of group.columns) {
          const meta = chunk.meta_data!;
          if (!(COLUMNS as readonly string[]).includes(meta.path_in_schema[0])) continue;
          const [start, end] = chunkRange(meta);
          const bytes = await buffer.slice(start, end);
          const levels = footer.levels.get(JSON.stringify(meta.path_in_schema))!;
          checkPages(new Uint8Array(bytes), meta, levels, path);
          chunks.set(`${start}:${end}`, bytes);
        }
      }
      groupStart = groupEnd;
    }
    return chunks;
  };

  return {
    path,
    numRows,
    dim,
    metadata: footer.kv,
    async read(options: ReadEmbeddingsOptions = {}): Promise<EmbeddingTable> {
      const rowStart = options.rowStart ?? 0;
      const rowEnd = options.rowEnd ?? numRows;
      if (
        !Number.isSafeInteger(rowStart) || !Number.isSafeInteger(rowEnd) || rowStart < 0 ||
        rowStart > rowEnd || rowEnd > numRows
      ) {
        throw new RangeError(
          `Cannot read rows ${rowStart}..${rowEnd} of ${path}: it has ${numRows}`,
        );
      }
      if (closed) throw new TypeError(`Cannot read ${path}: it is closed`);
      if (rowStart === rowEnd) return toTable([], dim, path);
      let rows: Record<string, unknown>[];
      try {
        const chunks = await prefetch(rowStart, rowEnd);
        const checked: AsyncBuffer = {
          byteLength: buffer.byteLength,
          slice: (start: number, end?: number) =>
            chunks.get(`${start}:${end}`) ?? buffer.slice(start, end),
        };
        rows = await parquetReadObjects({
          file: checked,
          metadata,
          rowStart,
          rowEnd,
          columns: [...COLUMNS],
          compressors: { SNAPPY: boundedSnappy },
        });
      } catch (e) {
        throw wrap(e, path);
      } finally {
        await drain();
      }
      if (rows.length !== rowEnd - rowStart) {
        throw new FormatError(`read ${rows.length} rows, expected ${rowEnd - rowStart}`, { path });
      }
      return toTable(rows, dim, path);
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * Reads embeddings from a Parquet file (all rows, or a range).
 *
 * @example
 * ```ts
 * import { FormatError } from "../util/errors.ts";
 * import { readEmbeddingsParquet } from "./parquet.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/bad.parquet`, "PAR1 not really PAR1");
 * try {
 *   await readEmbeddingsParquet(`${dir}/bad.parquet`);
 * } catch (e) {
 *   console.assert(e instanceof FormatError);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readEmbeddingsParquet(
  path: string,
  options: ReadEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  using file = await openEmbeddingsParquet(path);
  return await file.read(options);
}
