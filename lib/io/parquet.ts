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
 * before hyparquet decodes it (see `_parquet_footer.ts`, `_parquet_pages.ts`), since hyparquet sizes
 * arrays and loops by counts in the file. Readable: PLAIN and dictionary
 * encodings, uncompressed or snappy, format-1 or format-2 pages, required or
 * optional columns (as pyarrow and DuckDB write them); anything else is a
 * `FormatError`.
 *
 * @module
 */
export {
  type EmbeddingBatch,
  EMBEDDINGS_PARQUET_VERSION,
  type EmbeddingTable,
} from "./_parquet_table.ts";
export {
  ParquetEmbeddingWriter,
  type ParquetEmbeddingWriterOptions,
  writeEmbeddingsParquet,
} from "./_parquet_write.ts";
export {
  type EmbeddingsParquetFile,
  openEmbeddingsParquet,
  type ReadEmbeddingsOptions,
  readEmbeddingsParquet,
} from "./_parquet_read.ts";
