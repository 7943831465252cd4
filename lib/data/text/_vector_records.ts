/**
 * The records of word-vector files (text lines, binary records) and the rows
 * they fill, for `word_vectors.ts`.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import type { ByteReader } from "./_byte_reader.ts";

/** Largest number of float32 values kept from a file (words × dim): 1 GiB. */
export const MAX_WORD_VECTOR_VALUES = 2 ** 28;

/** Longest word of a binary file, in bytes. */
export const MAX_WORD_BYTES = 4096;

const utf8 = new TextDecoder("utf-8");

/** Which words to keep, and how many. */
export interface KeepOptions {
  /** Stop after this many kept words. */
  maxWords?: number;
  /** Maps a file word to the kept word, or `undefined` to skip it. */
  accept?: (word: string) => string | undefined;
}

/**
 * The whitespace-separated fields of a text line (a final `\r` dropped).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textFields } from "./_vector_records.ts";
 * assert.deepEqual(textFields("dog 1  2 \r"), ["dog", "1", "2"]);
 * ```
 */
export function textFields(line: string): string[] {
  return line.replace(/\r$/, "").trim().split(/[ \t]+/);
}

/**
 * Collects kept rows, deduplicated, bounded by {@linkcode MAX_WORD_VECTOR_VALUES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rows } from "./_vector_records.ts";
 * const rows = new Rows(1, 2, { accept: (w) => w.toLowerCase(), maxWords: 2 });
 * rows.add("A", new Float32Array([1]));
 * rows.add("a", new Float32Array([2])); // a repeat: skipped
 * rows.add("b", new Float32Array([3]));
 * assert.deepEqual([rows.words, [...rows.vectors()], rows.skipped, rows.full], [["a", "b"], [1, 3], 1, true]);
 * ```
 */
export class Rows {
  readonly words: string[] = [];
  readonly #seen = new Set<string>();
  #data: Float32Array;
  skipped = 0;
  constructor(readonly dim: number, expected: number, readonly accept: KeepOptions) {
    this.#data = new Float32Array(Math.min(expected, 1024) * dim);
  }

  /** Keeps `values` for `word` unless it is skipped. */
  add(word: string, values: Float32Array): void {
    const kept = this.accept.accept ? this.accept.accept(word) : word;
    if (kept === undefined || this.#seen.has(kept)) {
      this.skipped++;
      return;
    }
    const n = this.words.length;
    if ((n + 1) * this.dim > MAX_WORD_VECTOR_VALUES) {
      throw new RangeError(
        `Cannot keep more than ${MAX_WORD_VECTOR_VALUES} word-vector values: give a smaller vocabulary`,
      );
    }
    if ((n + 1) * this.dim > this.#data.length) {
      const grown = new Float32Array(Math.min(this.#data.length * 2 + this.dim, 2 ** 31 - 1));
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data.set(values, n * this.dim);
    this.#seen.add(kept);
    this.words.push(kept);
  }

  get full(): boolean {
    return this.words.length >= (this.accept.maxWords ?? Infinity);
  }

  vectors(): Float32Array {
    return this.#data.slice(0, this.words.length * this.dim);
  }
}

/**
 * Parses a text record `word f1 … fD` (the word may hold spaces, as in
 * GloVe 840B); a FormatError naming the line otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTextRecord } from "./_vector_records.ts";
 * const [word, values] = parseTextRecord("at home 0.5 -2", 2, 7);
 * assert.deepEqual([word, [...values]], ["at home", [0.5, -2]]);
 * assert.throws(() => parseTextRecord("dog 1 nan", 2, 7), /line 7: value 2 "nan" is not a number/);
 * ```
 */
export function parseTextRecord(line: string, dim: number, lineNo: number): [string, Float32Array] {
  const f = textFields(line);
  if (f.length < dim + 1) {
    throw new FormatError(
      `word vectors line ${lineNo}: expected a word and ${dim} values, got ${
        f.length - 1
      } value(s)`,
    );
  }
  const values = new Float32Array(dim);
  const offset = f.length - dim;
  for (let i = 0; i < dim; i++) {
    const v = Number(f[offset + i]);
    if (!Number.isFinite(v) || f[offset + i] === "") {
      throw new FormatError(
        `word vectors line ${lineNo}: value ${i + 1} ${
          JSON.stringify(f[offset + i])
        } is not a number`,
      );
    }
    values[i] = v;
  }
  return [f.slice(0, offset).join(" "), values];
}

/**
 * Reads the text records of `r` (after any header) into `rows`, up to
 * `limit` records or a full `rows`; returns the records read and whether the
 * file ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader } from "./_byte_reader.ts";
 * import { readTextRecords, Rows } from "./_vector_records.ts";
 * const bytes = new TextEncoder().encode("a 1\nb 2\n");
 * let done = false;
 * const r = new ByteReader({ read: (p: Uint8Array) => Promise.resolve(done ? null : (done = true, p.set(bytes), bytes.length)) });
 * const rows = new Rows(1, 2, {});
 * assert.deepEqual(await readTextRecords(r, rows, { firstLine: 1, limit: Infinity }), { records: 2, ended: true });
 * ```
 */
export async function readTextRecords(
  r: ByteReader,
  rows: Rows,
  options: { firstLine: number; limit: number },
): Promise<{ records: number; ended: boolean }> {
  const maxLine = rows.dim * 40 + MAX_WORD_BYTES;
  let lineNo = options.firstLine - 1;
  let records = 0;
  while (!rows.full && records < options.limit) {
    lineNo++;
    let read;
    try {
      read = await r.readUntil(0x0a, maxLine);
    } catch {
      throw new FormatError(`word vectors line ${lineNo}: longer than ${maxLine} bytes`);
    }
    if (read === null) return { records, ended: true };
    const line = utf8.decode(read.bytes);
    if (line.trim() === "") {
      if (!read.found || (await r.peek()) === null) return { records, ended: true };
      throw new FormatError(`word vectors line ${lineNo}: empty line`);
    }
    const [word, values] = parseTextRecord(line, rows.dim, lineNo);
    rows.add(word, values);
    records++;
  }
  return { records, ended: (await r.peek()) === null };
}

/**
 * Reads the binary records of `r` (after the header) into `rows`: the word,
 * a space, `4·D` bytes of little-endian float32, optional newlines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader } from "./_byte_reader.ts";
 * import { readBinaryRecords, Rows } from "./_vector_records.ts";
 * const bytes = new Uint8Array([0x61, 0x20, 0, 0, 0x80, 0x3f, 0x0a]); // "a ", 1.0f, "\n"
 * let done = false;
 * const r = new ByteReader({ read: (p: Uint8Array) => Promise.resolve(done ? null : (done = true, p.set(bytes), bytes.length)) });
 * const rows = new Rows(1, 1, {});
 * assert.deepEqual(await readBinaryRecords(r, rows, 1), { records: 1, ended: true });
 * assert.deepEqual([...rows.vectors()], [1]);
 * ```
 */
export async function readBinaryRecords(
  r: ByteReader,
  rows: Rows,
  limit: number,
): Promise<{ records: number; ended: boolean }> {
  const bytes = 4 * rows.dim;
  let records = 0;
  while (!rows.full && records < limit) {
    while ((await r.peek()) === 0x0a) r.skip();
    if ((await r.peek()) === null) return { records, ended: true };
    const at = `word vectors record ${records + 1} (byte ${r.offset})`;
    let read;
    try {
      read = await r.readUntil(0x20, MAX_WORD_BYTES);
    } catch {
      throw new FormatError(`${at}: no space after the word within ${MAX_WORD_BYTES} bytes`);
    }
    if (!read?.found) throw new FormatError(`${at}: the file ends inside the word`);
    const word = utf8.decode(read.bytes);
    const raw = await r.readExact(bytes);
    if (raw.length < bytes) {
      throw new FormatError(
        `${at} ${
          JSON.stringify(word)
        }: the file ends inside its vector (${raw.length} of ${bytes} bytes)`,
      );
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values = new Float32Array(rows.dim);
    for (let i = 0; i < rows.dim; i++) {
      values[i] = view.getFloat32(4 * i, true);
      if (!Number.isFinite(values[i])) {
        throw new FormatError(`${at} ${JSON.stringify(word)}: value ${i + 1} is not finite`);
      }
    }
    rows.add(word, values);
    records++;
  }
  while ((await r.peek()) === 0x0a) r.skip();
  return { records, ended: (await r.peek()) === null };
}
