/**
 * Readers of pretrained word-vector files, streamed and bounded:
 * - `word2vec-binary`: a header line `V D`, then per word its bytes, a space,
 *   `D` little-endian float32 values and an optional `\n`;
 * - `word2vec-text`: a header line `V D`, then lines `word f1 … fD`;
 * - `glove`: no header, lines `word f1 … fD`.
 *
 * The format is detected from the file's first bytes unless given. Reading
 * stops as soon as enough words are taken, so only the needed part of a large
 * file is read; nothing is allocated beyond what the kept words need.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { openInput } from "../../io/input.ts";
import { ByteReader } from "./_byte_reader.ts";
import {
  MAX_WORD_BYTES,
  MAX_WORD_VECTOR_VALUES,
  parseTextRecord,
  readBinaryRecords,
  readTextRecords,
  Rows,
  textFields,
} from "./_vector_records.ts";

/** The word-vector file formats. */
export type WordVectorFormat = "word2vec-binary" | "word2vec-text" | "glove";

/** The formats, for validation and help texts. */
export const WORD_VECTOR_FORMATS: readonly WordVectorFormat[] = [
  "word2vec-binary",
  "word2vec-text",
  "glove",
];

/** Largest vector dimension accepted (word2vec: 300, GloVe: 50–300). */
export const MAX_WORD_VECTOR_DIM = 10_000;

export { MAX_WORD_VECTOR_VALUES } from "./_vector_records.ts";

/** Bytes read for format detection. */
const HEAD_BYTES = 1 << 20;

/** Options of {@linkcode readWordVectors}. */
export interface ReadWordVectorsOptions {
  /** The file's format; detected from its first bytes when left out. */
  format?: WordVectorFormat;
  /** Stop after this many kept words (default: read the whole file). */
  maxWords?: number;
  /**
   * Maps a word of the file to the word to keep, or `undefined` to skip it
   * (default: keep it as it is). A word kept twice keeps its first vector.
   */
  accept?: (word: string) => string | undefined;
}

/** What {@linkcode readWordVectors} read. */
export interface WordVectors {
  format: WordVectorFormat;
  /** Vector dimension `D`. */
  dim: number;
  /** The kept words, in file order. */
  words: string[];
  /** Their vectors, row-major `[words.length, D]`. */
  vectors: Float32Array;
  /** Words the header announces (word2vec formats). */
  declared?: number;
  /** Records read (kept or not). */
  records: number;
  /** Records read but not kept (not accepted, or a word kept already). */
  skipped: number;
  /** Whether the whole file was read. */
  complete: boolean;
}

const HEADER = /^\s*(\d+)\s+(\d+)\s*$/;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");

/** Whether `line` is `word f1 … fD` with numeric values. */
function isTextRecord(line: string, dim: number): boolean {
  const f = textFields(line);
  return f.length >= dim + 1 && f.slice(-dim).every((x) => Number.isFinite(Number(x)));
}

/**
 * The format of a word-vector file from its first bytes: a `V D` header line
 * followed by a text line of `D` numbers is `word2vec-text`, followed by
 * anything else `word2vec-binary`; no header is `glove`. Throws
 * {@linkcode FormatError} when the first line is neither.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectWordVectorFormat } from "./word_vectors.ts";
 * const text = (s: string) => new TextEncoder().encode(s);
 * assert.equal(detectWordVectorFormat(text("1 2\ndog 0.5 -1\n")), "word2vec-text");
 * assert.equal(detectWordVectorFormat(text("dog 0.5 -1\n")), "glove");
 * const binary = new Uint8Array([...text("1 2\ndog "), 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
 * assert.equal(detectWordVectorFormat(binary), "word2vec-binary");
 * assert.throws(() => detectWordVectorFormat(text("hello\n")), /line 1/);
 * ```
 */
export function detectWordVectorFormat(head: Uint8Array): WordVectorFormat {
  const end = head.indexOf(0x0a);
  const first = latin1.decode(end < 0 ? head : head.subarray(0, end));
  const header = HEADER.exec(first);
  if (header) {
    const dim = Number(header[2]);
    const rest = head.subarray(end + 1);
    const lineEnd = rest.indexOf(0x0a);
    const second = utf8.decode(lineEnd < 0 ? rest : rest.subarray(0, lineEnd));
    if (end < 0 || rest.length === 0 || (dim > 0 && isTextRecord(second, dim))) {
      return "word2vec-text";
    }
    return "word2vec-binary";
  }
  const fields = textFields(utf8.decode(end < 0 ? head : head.subarray(0, end)));
  if (fields.length >= 2 && Number.isFinite(Number(fields[fields.length - 1]))) return "glove";
  throw new FormatError(
    `word vectors line 1: neither a word2vec header "V D" nor a GloVe line "word f1 … fD": ${
      JSON.stringify(first.slice(0, 60))
    }`,
  );
}

/** The first bytes of `file`, for detection. */
async function readHead(file: string): Promise<Uint8Array> {
  using f = await openInput(file, { label: "word-vector file" });
  const r = new ByteReader(f);
  return await r.readExact(HEAD_BYTES);
}

/** Parses a `V D` header line and checks its bounds. */
function parseHeader(line: string, maxWords: number): { count: number; dim: number } {
  const m = HEADER.exec(line);
  if (!m) {
    throw new FormatError(
      `word vectors line 1: expected the word2vec header "V D", got ${
        JSON.stringify(line.slice(0, 60))
      }`,
    );
  }
  const count = Number(m[1]);
  const dim = checkDim(Number(m[2]), 1);
  if (!Number.isSafeInteger(count)) {
    throw new FormatError(`word vectors line 1: word count ${m[1]} is not a safe integer`);
  }
  checkAllocation(Math.min(count, maxWords), dim);
  return { count, dim };
}

function checkDim(dim: number, lineNo: number): number {
  if (!Number.isSafeInteger(dim) || dim < 1 || dim > MAX_WORD_VECTOR_DIM) {
    throw new FormatError(
      `word vectors line ${lineNo}: dimension ${dim} is not in 1..${MAX_WORD_VECTOR_DIM}`,
    );
  }
  return dim;
}

/** Refuses to keep `words × dim` values past {@linkcode MAX_WORD_VECTOR_VALUES}, before allocating. */
function checkAllocation(words: number, dim: number): void {
  if (words * dim > MAX_WORD_VECTOR_VALUES) {
    throw new RangeError(
      `Cannot read ${words} word vectors of ${dim} values (${
        words * dim
      } values): more than ${MAX_WORD_VECTOR_VALUES}; give a smaller vocabulary`,
    );
  }
}

/** Checks the options of {@linkcode readWordVectors}. */
function checkOptions(options: ReadWordVectorsOptions): number {
  const maxWords = options.maxWords ?? Infinity;
  if (maxWords !== Infinity && (!Number.isSafeInteger(maxWords) || maxWords < 1)) {
    throw new RangeError(`maxWords must be a positive integer, got ${maxWords}`);
  }
  if (options.format !== undefined && !WORD_VECTOR_FORMATS.includes(options.format)) {
    throw new RangeError(
      `Unknown word-vector format ${JSON.stringify(options.format)}: expected one of ${
        WORD_VECTOR_FORMATS.join(", ")
      }`,
    );
  }
  return maxWords;
}

/**
 * Reads a word-vector file (see the module doc for the formats), keeping the
 * words `accept` maps to a word, up to `maxWords`. Malformed input throws a
 * one-line {@linkcode FormatError} with the file, the line (text) or record
 * (binary) and what is wrong; a header whose size would not fit
 * {@linkcode MAX_WORD_VECTOR_VALUES} throws `RangeError` before allocating.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readWordVectors } from "./word_vectors.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/v.txt`, "2 3\nthe 1 2 3\ndog 0.5 0 -1\n");
 * const v = await readWordVectors(`${dir}/v.txt`);
 * assert.equal(v.format, "word2vec-text");
 * assert.deepEqual(v.words, ["the", "dog"]);
 * assert.deepEqual([...v.vectors.subarray(3)], [0.5, 0, -1]);
 * Deno.writeTextFileSync(`${dir}/bad.txt`, "the 1 2 3\ndog 0.5 0\n");
 * await assert.rejects(readWordVectors(`${dir}/bad.txt`), /line 2: expected a word and 3 values, got 2/);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function readWordVectors(
  file: string,
  options: ReadWordVectorsOptions = {},
): Promise<WordVectors> {
  const maxWords = checkOptions(options);
  try {
    const format = options.format ?? detectWordVectorFormat(await readHead(file));
    using f = await openInput(file, { label: "word-vector file" });
    const r = new ByteReader(f);
    if (format === "glove") return await readGlove(r, { ...options, maxWords });
    const line = await r.readUntil(0x0a, 256);
    const { count, dim } = parseHeader(line ? latin1.decode(line.bytes) : "", maxWords);
    if (format === "word2vec-binary") {
      const size = (await f.stat()).size - r.offset;
      if (count * (4 * dim + 2) > size) {
        throw new FormatError(
          `word vectors: the header announces ${count} vectors of ${dim} float32 values, more than the file's ${size} bytes after it hold`,
        );
      }
    }
    const rows = new Rows(dim, Math.min(count, maxWords), options);
    const read = format === "word2vec-text"
      ? await readTextRecords(r, rows, { firstLine: 2, limit: count })
      : await readBinaryRecords(r, rows, count);
    if (read.ended && read.records < count) {
      throw new FormatError(
        `word vectors: the header announces ${count} words but the file ends after ${read.records}`,
      );
    }
    if (read.records === count && !read.ended) {
      const where = format === "word2vec-text" ? `line ${count + 2}` : `record ${count + 1}`;
      throw new FormatError(`word vectors ${where}: more words than the header's ${count}`);
    }
    return result(format, rows, { records: read.records, ended: read.ended, declared: count });
  } catch (e) {
    if (e instanceof FormatError && !e.path) throw new FormatError(e.message, { path: file });
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      throw new FormatError(`cannot read word vectors: ${(e as Error).message}`, { path: file });
    }
    throw e;
  }
}

/** Reads a GloVe file: the dimension from its first line. */
async function readGlove(
  r: ByteReader,
  options: ReadWordVectorsOptions & { maxWords: number },
): Promise<WordVectors> {
  const first = await r.readUntil(0x0a, MAX_WORD_VECTOR_DIM * 40 + MAX_WORD_BYTES).catch(() => {
    throw new FormatError("word vectors line 1: too long");
  });
  if (first === null) throw new FormatError("word vectors: the file is empty");
  const fields = textFields(utf8.decode(first.bytes));
  const numeric = fields.slice(1).filter((x) => Number.isFinite(Number(x))).length;
  const dim = checkDim(numeric, 1);
  if (options.maxWords !== Infinity) checkAllocation(options.maxWords, dim);
  const rows = new Rows(dim, Math.min(options.maxWords, 1024), options);
  const [word, values] = parseTextRecord(utf8.decode(first.bytes), dim, 1);
  rows.add(word, values);
  const read = first.found
    ? await readTextRecords(r, rows, { firstLine: 2, limit: Infinity })
    : { records: 0, ended: true };
  return result("glove", rows, { records: read.records + 1, ended: read.ended });
}

function result(
  format: WordVectorFormat,
  rows: Rows,
  read: { records: number; ended: boolean; declared?: number },
): WordVectors {
  return {
    format,
    dim: rows.dim,
    words: rows.words,
    vectors: rows.vectors(),
    ...(read.declared !== undefined ? { declared: read.declared } : {}),
    records: read.records,
    skipped: rows.skipped,
    complete: read.ended,
  };
}
