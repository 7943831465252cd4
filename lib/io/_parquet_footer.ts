/**
 * Checks an untrusted Parquet file's footer against the embeddings table
 * before hyparquet reads it (the pages are checked by `_parquet_pages.ts`).
 * Private to `lib/io/`.
 *
 * hyparquet trusts the file: it sizes arrays and loops by counts in page
 * headers (one forged `num_values` can hang a read or exhaust memory), and it
 * starts reading some column chunks before resolving the schema path of
 * others (a chunk naming no column leaves a failed read unobserved). So the
 * footer is checked whole, page indexes are dropped (every chunk is then read
 * whole), and every page header of a chunk is checked before decoding: counts
 * are bounded by the chunk's value count, itself bounded by the row count,
 * itself bounded by the file size.
 *
 * @module
 */
import {
  type ColumnChunk,
  type ColumnMetaData,
  type FileMetaData,
  parquetSchema,
  type RowGroup,
  type SchemaTree,
} from "hyparquet";
import { FormatError } from "../util/errors.ts";

/** Most rows (or values) accepted per byte of file. */
const MAX_VALUES_PER_BYTE = 64;
/** Key-value metadata key holding the vector length. */
export const DIM_KEY = "vatt.embeddings.dim";
/** The columns read, in order. */
export const COLUMNS = ["id", "modality", "index", "vector"] as const;

/** What a checked footer tells the reader. */
export interface CheckedFooter {
  /** The footer with page indexes removed, for hyparquet. */
  metadata: FileMetaData;
  /** Rows in the file. */
  numRows: number;
  /** Vector length recorded in the key-value metadata, if any. */
  dim: number | undefined;
  /** The key-value metadata. */
  kv: Record<string, string>;
  /** Level depths of each leaf column, keyed by `JSON.stringify(path_in_schema)`. */
  levels: Map<string, Levels>;
}

/** Maximum repetition and definition levels of a leaf column. */
export interface Levels {
  /** Repeated ancestors (and self). */
  maxRep: number;
  /** Non-required ancestors (and self). */
  maxDef: number;
}

function child(tree: SchemaTree, name: string): SchemaTree | undefined {
  return tree.children.find((c) => c.element.name === name);
}

function leafPaths(
  tree: SchemaTree,
  out = new Map<string, SchemaTree & Levels>(),
  levels: Levels = { maxRep: 0, maxDef: 0 },
): Map<string, SchemaTree & Levels> {
  for (const c of tree.children) {
    const repetition = c.element.repetition_type ?? "REQUIRED";
    const next = {
      maxRep: levels.maxRep + (repetition === "REPEATED" ? 1 : 0),
      maxDef: levels.maxDef + (repetition === "REQUIRED" ? 0 : 1),
    };
    if (c.children.length === 0) out.set(JSON.stringify(c.path), { ...c, ...next });
    else leafPaths(c, out, next);
  }
  return out;
}

/** Whether `n` is a non-negative safe integer. */
export function isCount(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** Byte range `[start, end)` of a column chunk, computed as hyparquet does. */
export function chunkRange(meta: ColumnMetaData): [number, number] {
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return [start, start + Number(meta.total_compressed_size)];
}

/** Builds the FormatError of a bad footer. */
type Fail = (what: string) => FormatError;

/** A column of a plain (non-repeated) leaf of `type`. */
function isPlainLeaf(tree: SchemaTree | undefined, type: string): boolean {
  return tree?.element.type === type && tree.children.length === 0 &&
    tree.element.repetition_type !== "REPEATED";
}

/**
 * Checks that the schema holds the table's four columns; returns the leaf of
 * `vector` (its float elements).
 */
function checkSchema(root: SchemaTree, fail: Fail): SchemaTree {
  if (!isPlainLeaf(child(root, "id"), "BYTE_ARRAY")) throw fail("no string column `id`");
  if (!isPlainLeaf(child(root, "modality"), "BYTE_ARRAY")) {
    throw fail("no string column `modality`");
  }
  if (!isPlainLeaf(child(root, "index"), "INT32")) throw fail("no int32 column `index`");
  const vector = child(root, "vector");
  const list = vector?.children.length === 1 ? vector.children[0] : undefined;
  const leaf = list?.children.length === 1 ? list.children[0] : undefined;
  if (
    vector?.element.repetition_type === "REPEATED" ||
    list?.element.repetition_type !== "REPEATED" || !isPlainLeaf(leaf, "FLOAT")
  ) {
    throw fail("no list<float32> column `vector`");
  }
  return leaf!;
}

/** The file's row count, checked against its row groups and its size. */
function checkRowCount(metadata: FileMetaData, file: { size: number; fail: Fail }): number {
  const { size, fail } = file;
  const numRows = Number(metadata.num_rows);
  const groupRows = metadata.row_groups.reduce((sum, g) => sum + Number(g.num_rows), 0);
  if (!isCount(numRows) || numRows !== groupRows) {
    throw fail(`num_rows ${metadata.num_rows} does not match its row groups (${groupRows})`);
  }
  if (numRows > size * MAX_VALUES_PER_BYTE) {
    throw fail(`num_rows ${numRows} is impossible in a ${size}-byte file`);
  }
  return numRows;
}

/** The vector length recorded under {@linkcode DIM_KEY}, if any, checked against the size. */
function checkDim(
  kv: Record<string, string>,
  file: { numRows: number; size: number; fail: Fail },
): number | undefined {
  if (!Object.hasOwn(kv, DIM_KEY)) return undefined;
  const dim = Number(kv[DIM_KEY]);
  if (!isCount(dim) || file.numRows * Math.max(dim, 1) > file.size * MAX_VALUES_PER_BYTE) {
    throw file.fail(`invalid ${DIM_KEY} ${JSON.stringify(kv[DIM_KEY])}`);
  }
  return dim;
}

/** What a row group's chunks are checked against. */
interface ChunkContext {
  /** The schema's leaf columns by `JSON.stringify(path)`. */
  leaves: Map<string, SchemaTree & Levels>;
  /** The key of the `vector` leaf. */
  vectorKey: string;
  /** The vector length, if the file records it. */
  dim: number | undefined;
  /** The real file size. */
  size: number;
  /** Builds the error. */
  fail: Fail;
}

/** Where a chunk sits: row group `g` of `rows` rows, whose columns `seen` so far. */
interface ChunkPlace extends ChunkContext {
  /** Row group number. */
  g: number;
  /** Rows in the group. */
  rows: number;
  /** Keys of the group's columns checked so far. */
  seen: Set<string>;
}

/** Checks one column chunk of a row group; returns it without page indexes. */
function checkChunk(chunk: ColumnChunk, place: ChunkPlace): ColumnChunk {
  const { g, rows, seen, leaves, vectorKey, dim, size, fail } = place;
  const meta = chunk.meta_data;
  if (!meta || chunk.file_path !== undefined) {
    throw fail(`row group ${g} has a column chunk without metadata or in another file`);
  }
  const key = JSON.stringify(meta.path_in_schema);
  const element = leaves.get(key)?.element;
  if (!element) throw fail(`row group ${g} has a chunk for unknown column ${key}`);
  if (seen.has(key)) throw fail(`row group ${g} has two chunks for column ${key}`);
  seen.add(key);
  if (meta.type !== element.type) {
    throw fail(`row group ${g}: column ${key} is ${meta.type}, schema says ${element.type}`);
  }
  if (meta.codec !== "SNAPPY" && meta.codec !== "UNCOMPRESSED") {
    throw fail(`row group ${g}: column ${key} uses unsupported codec ${meta.codec}`);
  }
  const [start, end] = chunkRange(meta);
  if (!(isCount(start) && isCount(end) && end <= size)) {
    throw fail(`row group ${g}: column ${key} lies outside the ${size}-byte file`);
  }
  const values = Number(meta.num_values);
  const limit = key !== vectorKey
    ? rows
    : dim === undefined
    ? size * MAX_VALUES_PER_BYTE
    : rows * Math.max(dim, 1);
  if (!isCount(values) || values > limit || (key !== vectorKey && values !== rows)) {
    throw fail(`row group ${g}: column ${key} claims ${meta.num_values} values`);
  }
  // Without page indexes hyparquet reads each chunk whole, as checked here.
  return { ...chunk, offset_index_offset: undefined, offset_index_length: undefined };
}

/** Checks row group `context.g` and its chunks; returns it without page indexes. */
function checkRowGroup(group: RowGroup, context: ChunkContext & { g: number }): RowGroup {
  const { g } = context;
  const rows = Number(group.num_rows);
  if (!isCount(rows)) throw context.fail(`row group ${g} has ${group.num_rows} rows`);
  const seen = new Set<string>();
  const columns = group.columns.map((chunk) => checkChunk(chunk, { ...context, g, rows, seen }));
  for (const name of COLUMNS) {
    if (![...seen].some((key) => JSON.parse(key)[0] === name)) {
      throw context.fail(`row group ${g} has no data for column ${name}`);
    }
  }
  return { ...group, columns };
}

/**
 * Checks the schema, row counts and every column chunk of a footer; throws
 * FormatError. `size` is the real file size.
 */
export function checkFooter(metadata: FileMetaData, size: number, path: string): CheckedFooter {
  const fail = (what: string) => new FormatError(what, { path });
  const root = parquetSchema(metadata);
  const vectorLeaf = checkSchema(root, fail);
  const numRows = checkRowCount(metadata, { size, fail });
  const kv: Record<string, string> = Object.fromEntries(
    (metadata.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]),
  );
  const dim = checkDim(kv, { numRows, size, fail });
  const leaves = leafPaths(root);
  const context = { leaves, vectorKey: JSON.stringify(vectorLeaf.path), dim, size, fail };
  const row_groups = metadata.row_groups.map((group, g) => checkRowGroup(group, { ...context, g }));
  const levels = new Map(
    [...leaves].map(([key, leaf]) => [key, { maxRep: leaf.maxRep, maxDef: leaf.maxDef }]),
  );
  return { metadata: { ...metadata, row_groups }, numRows, dim, kv, levels };
}
