/**
 * The safetensors format: named tensors behind a JSON header, used for
 * dataset shards, checkpoints and exported embeddings.
 *
 * A file is an 8-byte little-endian header length `n`, `n` bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`
 * (padded with spaces to a multiple of 8 when written here), then the data.
 * Files are untrusted: every check of the reference implementation is made
 * before any allocation sized by the file, and any malformed input is a
 * `FormatError` (from `lib/util/errors.ts`).
 *
 * Writers lay tensors out in name order, so equal inputs give identical bytes.
 *
 * @module
 */
import { MismatchError } from "../util/errors.ts";
import {
  arrayFromBytes,
  arrayOnBuffer,
  assertLittleEndian,
  bytesOf,
  DTYPES,
  type NamedArray,
  type TensorDtype,
} from "./_dtype.ts";
import { readExactly, SerialQueue } from "./_file.ts";
import {
  buildHeader,
  checkExpected,
  parseHeader,
  readHeaderLength,
  type SafetensorsHeader,
  type TensorEntry,
  type TensorSpec,
} from "./_safetensors_header.ts";
import { writeFileAtomic } from "./atomic.ts";
import { INPUT_LIMITS, openInput, readInputBytes } from "./input.ts";

export type { NamedArray, TensorDtype, TypedArray } from "./_dtype.ts";
export type { SafetensorsHeader, TensorEntry, TensorSpec } from "./_safetensors_header.ts";
export { MAX_HEADER_BYTES } from "./_safetensors_header.ts";
export {
  SafetensorsStreamWriter,
  type SafetensorsStreamWriterOptions,
} from "./_safetensors_stream.ts";

/** Options of {@linkcode encodeSafetensors} and {@linkcode writeSafetensors}. */
export interface EncodeSafetensorsOptions {
  /** String pairs stored as `__metadata__` (sorted by key). */
  metadata?: Record<string, string>;
}

/** Options of {@linkcode decodeSafetensors} and {@linkcode openSafetensors}. */
export interface DecodeSafetensorsOptions {
  /** File name for error messages. */
  path?: string;
  /**
   * The exact tensors required: same names, dtypes and shapes, or a
   * {@linkcode MismatchError} naming the offending tensor.
   */
  expect?: Record<string, TensorSpec>;
  /** Names in `expect` that a file may lack (a tensor older files do not have). */
  mayLack?: readonly string[];
}

/** The content of a safetensors file. */
export interface DecodedSafetensors {
  /** Tensors by name, each in its own aligned typed array. */
  tensors: Record<string, NamedArray>;
  /** The `__metadata__` string pairs (empty when absent). */
  metadata: Record<string, string>;
}

/**
 * Encodes tensors as a safetensors file (in memory). Tensors are laid out in
 * name order; the same input always gives the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   { w: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } },
 *   { metadata: { step: "10" } },
 * );
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * assert.equal(tensors.w.data[3], 4);
 * assert.equal(metadata.step, "10");
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, NamedArray>,
  options: EncodeSafetensorsOptions = {},
): Uint8Array {
  assertLittleEndian();
  const header = buildHeader(tensors, options.metadata);
  const out = new Uint8Array(header.bytes.length + header.dataLength);
  out.set(header.bytes, 0);
  for (const name of header.order) {
    const [begin] = header.offsets.get(name)!;
    out.set(bytesOf(tensors[name].data), header.bytes.length + begin);
  }
  return out;
}

/**
 * Decodes and checks a safetensors file held in memory. Each tensor's data is
 * copied into a fresh, aligned typed array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FormatError } from "../util/errors.ts";
 * import { decodeSafetensors } from "./safetensors.ts";
 * // The header length (255 bytes) runs past the end of the file.
 * assert.throws(() => decodeSafetensors(new Uint8Array([255, 0, 0, 0, 0, 0, 0, 0, 123])), FormatError);
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: DecodeSafetensorsOptions = {},
): DecodedSafetensors {
  assertLittleEndian();
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Cannot decode safetensors from ${Object.prototype.toString.call(bytes)}`);
  }
  const { path } = options;
  const length = readHeaderLength(bytes, bytes.length, path);
  const header = parseHeader(bytes.subarray(8, 8 + length), bytes.length, path);
  if (options.expect) checkExpected(header.tensors, options.expect, path, options.mayLack);
  const tensors = Object.entries(header.tensors).map(([name, entry]): [string, NamedArray] => {
    const [begin, end] = entry.dataOffsets;
    const data = arrayFromBytes(
      entry.dtype,
      bytes.subarray(header.dataStart + begin, header.dataStart + end),
    );
    return [name, { dtype: entry.dtype, shape: [...entry.shape], data }];
  });
  return { tensors: Object.fromEntries(tensors), metadata: header.metadata };
}

/**
 * Writes tensors to `path` as safetensors, atomically (temporary file, then
 * rename). The whole file is built in memory; for data larger than memory use
 * {@linkcode SafetensorsStreamWriter}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const dir = Deno.makeTempDirSync();
 * await writeSafetensors(`${dir}/m.safetensors`, {
 *   label: { dtype: "I32", shape: [3], data: new Int32Array([0, 2, 1]) },
 * });
 * const { tensors } = await readSafetensors(`${dir}/m.safetensors`);
 * assert.equal(tensors.label.data[1], 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, NamedArray>,
  options: EncodeSafetensorsOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, options));
}

/**
 * Reads a whole safetensors file (checked like {@linkcode decodeSafetensors}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const dir = Deno.makeTempDirSync();
 * const spec = { x: { dtype: "U8" as const, shape: [2] } };
 * await writeSafetensors(`${dir}/a.safetensors`, { x: { ...spec.x, data: new Uint8Array(2) } });
 * const { tensors } = await readSafetensors(`${dir}/a.safetensors`, { expect: spec });
 * assert.equal(tensors.x.shape[0], 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSafetensors(
  path: string,
  options: Omit<DecodeSafetensorsOptions, "path"> = {},
): Promise<DecodedSafetensors> {
  const bytes = await readInputBytes(path, {
    maxBytes: INPUT_LIMITS.table,
    label: "safetensors file",
  });
  return decodeSafetensors(bytes, { ...options, path });
}

/** Options of {@linkcode SafetensorsFile.readTensor}. */
export interface ReadTensorOptions {
  /** Only rows `[start, end)` along the first axis (read from disk alone). */
  rows?: [number, number];
}

/**
 * An open safetensors file whose header has been read and checked; tensors
 * (or row ranges of them) are read on demand, so a file larger than memory
 * can be used a batch at a time.
 */
export interface SafetensorsFile {
  /** The file's name. */
  readonly path: string;
  /** Tensor specs and byte ranges, metadata, and where the data starts. */
  readonly header: SafetensorsHeader;
  /** Names of the tensors, sorted. */
  readonly names: string[];
  /** Reads one tensor, or rows `[start, end)` of its first axis. */
  readTensor(name: string, options?: ReadTensorOptions): Promise<NamedArray>;
  /** Reads every tensor (or the named ones). */
  readTensors(names?: string[]): Promise<Record<string, NamedArray>>;
  /** Closes the file; later reads throw. */
  close(): void;
  /** Same as {@linkcode SafetensorsFile.close}, for `using`. */
  [Symbol.dispose](): void;
}

class OpenSafetensors implements SafetensorsFile {
  readonly path: string;
  readonly header: SafetensorsHeader;
  readonly names: string[];
  #file: Deno.FsFile;
  #queue = new SerialQueue();
  #closed = false;

  constructor(path: string, file: Deno.FsFile, header: SafetensorsHeader) {
    this.path = path;
    this.#file = file;
    this.header = header;
    this.names = Object.keys(header.tensors).sort();
  }

  async readTensor(name: string, options: ReadTensorOptions = {}): Promise<NamedArray> {
    if (this.#closed) throw new TypeError(`Cannot read "${name}": ${this.path} is closed`);
    if (!Object.hasOwn(this.header.tensors, name)) {
      throw new MismatchError(
        `${this.path}: no tensor "${name}" (has ${this.names.slice(0, 10).join(", ")})`,
      );
    }
    const entry: TensorEntry = this.header.tensors[name];
    let shape = [...entry.shape];
    let [begin, end] = entry.dataOffsets;
    if (options.rows !== undefined) {
      const [start, stop] = checkRows(name, entry, options.rows);
      const rowBytes = shape.length === 0 || shape[0] === 0 ? 0 : (end - begin) / shape[0];
      shape = [stop - start, ...shape.slice(1)];
      begin += start * rowBytes;
      end = begin + (stop - start) * rowBytes;
    }
    const offset = this.header.dataStart + begin;
    return await this.#queue.run(async () => {
      const bytes = await readExactly(this.#file, offset, end - begin, this.path);
      return { dtype: entry.dtype, shape, data: arrayOnBuffer(entry.dtype, bytes.buffer) };
    });
  }

  async readTensors(names: string[] = this.names): Promise<Record<string, NamedArray>> {
    const out: [string, NamedArray][] = [];
    for (const name of names) out.push([name, await this.readTensor(name)]);
    return Object.fromEntries(out);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function checkRows(name: string, entry: TensorSpec, rows: unknown): [number, number] {
  if (entry.shape.length === 0) {
    throw new RangeError(`Cannot read rows of "${name}": it is a scalar`);
  }
  const n = entry.shape[0];
  if (
    !Array.isArray(rows) || rows.length !== 2 || !rows.every(Number.isSafeInteger) ||
    !(0 <= rows[0] && rows[0] <= rows[1] && rows[1] <= n)
  ) {
    throw new RangeError(
      `Cannot read rows ${JSON.stringify(rows)} of "${name}": need 0 <= start <= end <= ${n}`,
    );
  }
  return [rows[0], rows[1]];
}

/**
 * Opens a safetensors file and checks its header (bounded by the real file
 * size) without reading the data. Tensors are then read on demand, whole or
 * by rows of the first axis, straight from disk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSafetensors, writeSafetensors } from "./safetensors.ts";
 * const dir = Deno.makeTempDirSync();
 * const video = new Uint8Array(4 * 6).map((_, i) => i); // [4 clips, 6 values]
 * await writeSafetensors(`${dir}/shard.safetensors`, {
 *   video: { dtype: "U8", shape: [4, 6], data: video },
 * });
 * const shard = await openSafetensors(`${dir}/shard.safetensors`);
 * const batch = await shard.readTensor("video", { rows: [1, 3] });
 * shard.close();
 * assert.equal(batch.shape[0], 2);
 * assert.equal(batch.data[0], 6);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openSafetensors(
  path: string,
  options: Omit<DecodeSafetensorsOptions, "path"> = {},
): Promise<SafetensorsFile> {
  assertLittleEndian();
  const file = await openInput(path, { label: "safetensors file" });
  try {
    const size = (await file.stat()).size;
    const prefix = await readExactly(file, 0, Math.min(8, size), path);
    const length = readHeaderLength(prefix, size, path);
    const json = await readExactly(file, 8, length, path);
    const header = parseHeader(json, size, path);
    if (options.expect) checkExpected(header.tensors, options.expect, path, options.mayLack);
    return new OpenSafetensors(path, file, header);
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Byte size of one element of `dtype`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeItemsize } from "./safetensors.ts";
 * assert.equal(dtypeItemsize("F32"), 4);
 * assert.equal(dtypeItemsize("I64"), 8);
 * ```
 */
export function dtypeItemsize(dtype: TensorDtype): number {
  if (!Object.hasOwn(DTYPES, dtype)) throw new TypeError(`Unknown dtype ${JSON.stringify(dtype)}`);
  return DTYPES[dtype].itemsize;
}
