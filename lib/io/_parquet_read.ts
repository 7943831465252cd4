/**
 * Reading the embeddings table from an untrusted Parquet file: footer and
 * pages checked before hyparquet decodes them. Private to `lib/io/`
 * (re-exported by `parquet.ts`).
 *
 * @module
 */
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { FormatError } from "../util/errors.ts";
import { readExactly, SerialQueue } from "./_file.ts";
import { openInput } from "./input.ts";
import { type CheckedFooter, checkFooter, chunkRange, COLUMNS } from "./_parquet_footer.ts";
import { boundedSnappy, checkPages } from "./_parquet_pages.ts";
import type { EmbeddingTable } from "./_parquet_table.ts";

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
 * import assert from "node:assert/strict";
 * import { openEmbeddingsParquet } from "./_parquet_read.ts";
 * import { writeEmbeddingsParquet } from "./_parquet_write.ts";
 * const dir = Deno.makeTempDirSync();
 * const vectors = new Float32Array(10 * 4).map((_, i) => i);
 * const ids = Array.from({ length: 10 }, (_, i) => `clip-${i}`);
 * await writeEmbeddingsParquet(`${dir}/e.parquet`, { ids, modality: "video", vectors }, {
 *   dim: 4,
 *   rowGroupSize: 3,
 * });
 * using file = await openEmbeddingsParquet(`${dir}/e.parquet`);
 * const part = await file.read({ rowStart: 4, rowEnd: 6 });
 * assert.equal(file.numRows, 10);
 * assert.equal(part.ids[0], "clip-4");
 * assert.equal(part.vectors[0], 16);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openEmbeddingsParquet(path: string): Promise<EmbeddingsParquetFile> {
  const { source, footer } = await openChecked(path);
  const { numRows, dim } = footer;
  let closed = false;
  const close = () => {
    closed = true;
    source.close();
  };
  return {
    path,
    numRows,
    dim,
    metadata: footer.kv,
    async read(options: ReadEmbeddingsOptions = {}): Promise<EmbeddingTable> {
      const rows = checkRowRange(options, { numRows, path });
      if (closed) throw new TypeError(`Cannot read ${path}: it is closed`);
      if (rows.start === rows.end) return toTable([], dim, path);
      const read = await readRows(source, { footer, rows, path });
      if (read.length !== rows.end - rows.start) {
        throw new FormatError(`read ${read.length} rows, expected ${rows.end - rows.start}`, {
          path,
        });
      }
      return toTable(read, dim, path);
    },
    close,
    [Symbol.dispose]: close,
  };
}

/** An open file behind a hyparquet AsyncBuffer (see {@linkcode fileBuffer}). */
type FileSource = ReturnType<typeof fileBuffer>;

/** Opens `path` and reads and checks its footer; on failure the file is closed. */
async function openChecked(path: string): Promise<{ source: FileSource; footer: CheckedFooter }> {
  const file = await openInput(path, { label: "Parquet file" });
  let source: FileSource;
  try {
    source = fileBuffer(file, (await file.stat()).size, path);
  } catch (e) {
    file.close();
    throw e;
  }
  const { buffer, drain } = source;
  try {
    const footer = checkFooter(await parquetMetadataAsync(buffer), buffer.byteLength, path);
    return { source, footer };
  } catch (e) {
    await drain();
    source.close();
    throw wrap(e, path);
  }
}

/** Rows `[start, end)` of a file. */
interface RowRange {
  /** First row. */
  start: number;
  /** Row after the last. */
  end: number;
}

/** The rows `options` asks for, checked against the file's `numRows` (a RangeError). */
function checkRowRange(
  options: ReadEmbeddingsOptions,
  file: { numRows: number; path: string },
): RowRange {
  const { numRows, path } = file;
  const rowStart = options.rowStart ?? 0;
  const rowEnd = options.rowEnd ?? numRows;
  if (
    !Number.isSafeInteger(rowStart) || !Number.isSafeInteger(rowEnd) || rowStart < 0 ||
    rowStart > rowEnd || rowEnd > numRows
  ) {
    throw new RangeError(`Cannot read rows ${rowStart}..${rowEnd} of ${path}: it has ${numRows}`);
  }
  return { start: rowStart, end: rowEnd };
}

/** Where and what {@linkcode readRows} reads. */
interface RowRead {
  /** The checked footer. */
  footer: CheckedFooter;
  /** The rows to read. */
  rows: RowRange;
  /** File name for errors. */
  path: string;
}

/**
 * Reads and checks the column chunks hyparquet will decode for `rows`;
 * returns their bytes keyed by `start:end`.
 */
async function prefetchChunks(
  buffer: AsyncBuffer,
  { footer, rows, path }: RowRead,
): Promise<Map<string, ArrayBuffer>> {
  const chunks = new Map<string, ArrayBuffer>();
  let groupStart = 0;
  for (const group of footer.metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    if (groupStart < rows.end && groupEnd > rows.start) {
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
}

/** Decodes `read.rows` with hyparquet, from chunks checked first; errors become FormatErrors. */
async function readRows(source: FileSource, read: RowRead): Promise<Record<string, unknown>[]> {
  const { buffer, drain } = source;
  try {
    const chunks = await prefetchChunks(buffer, read);
    const checked: AsyncBuffer = {
      byteLength: buffer.byteLength,
      slice: (start: number, end?: number) =>
        chunks.get(`${start}:${end}`) ?? buffer.slice(start, end),
    };
    return await parquetReadObjects({
      file: checked,
      metadata: read.footer.metadata,
      rowStart: read.rows.start,
      rowEnd: read.rows.end,
      columns: [...COLUMNS],
      compressors: { SNAPPY: boundedSnappy },
    });
  } catch (e) {
    throw wrap(e, read.path);
  } finally {
    await drain();
  }
}

/**
 * Reads embeddings from a Parquet file (all rows, or a range).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FormatError } from "../util/errors.ts";
 * import { readEmbeddingsParquet } from "./_parquet_read.ts";
 * const dir = Deno.makeTempDirSync();
 * await Deno.writeTextFile(`${dir}/bad.parquet`, "PAR1 not really PAR1");
 * await assert.rejects(readEmbeddingsParquet(`${dir}/bad.parquet`), FormatError);
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
