/**
 * The embeddings table's row types and version, shared by the Parquet writer
 * and reader. Private to `lib/io/`.
 *
 * @module
 */

/** Version written to the `vatt.embeddings.version` key of the file metadata. */
export const EMBEDDINGS_PARQUET_VERSION = "1";
/** Key-value metadata key holding {@linkcode EMBEDDINGS_PARQUET_VERSION}. */
export const VERSION_KEY = "vatt.embeddings.version";

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
