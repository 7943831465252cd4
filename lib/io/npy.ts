/**
 * NumPy `.npy` files (format 1.0 written; 1.0, 2.0 and 3.0 read), for
 * exported embeddings that `numpy.load` opens directly.
 *
 * A file is the magic `\x93NUMPY`, a version, a little-endian header length,
 * a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }`
 * padded with spaces and a newline to a multiple of 64 bytes, then the data in
 * C order. Headers are written byte-for-byte as `numpy.save` writes them.
 * Arrays use the same {@linkcode NamedArray} as safetensors; every dtype but
 * `BF16` (which NumPy lacks) is supported. Files are untrusted: a malformed
 * one is a `FormatError`, and no allocation is sized by the file before it is
 * checked against the real file size.
 *
 * @module
 */
import { FormatError } from "../util/errors.ts";
import {
  arrayFromBytes,
  assertLittleEndian,
  bytesOf,
  checkAppendData,
  checkArray,
  DTYPES,
  type NamedArray,
  shapeSize,
  type TensorDtype,
  type TypedArray,
} from "./_dtype.ts";
import { parsePyLiteral, type PyValue } from "./_py_literal.ts";
import { writeFileAtomic } from "./atomic.ts";
import { INPUT_LIMITS, readInputBytes } from "./input.ts";
import { AtomicStreamWriter } from "./stream_writer.ts";

export type { NamedArray, TensorDtype, TypedArray } from "./_dtype.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
/** numpy leaves room to grow the first axis to 21 digits in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** Largest header accepted when reading. */
export const MAX_NPY_HEADER_BYTES = 1 << 20;

const DESCR: Partial<Record<TensorDtype, string>> = {
  F64: "<f8",
  F32: "<f4",
  F16: "<f2",
  I64: "<i8",
  I32: "<i4",
  I16: "<i2",
  I8: "|i1",
  U64: "<u8",
  U32: "<u4",
  U16: "<u2",
  U8: "|u1",
  BOOL: "|b1",
};

const FROM_DESCR = new Map<string, TensorDtype>(
  Object.entries(DESCR).flatMap(([dtype, descr]) => {
    const pairs: [string, TensorDtype][] = [[descr, dtype as TensorDtype]];
    // One-byte types carry no byte order; accept either mark.
    if (descr.startsWith("|")) pairs.push([`<${descr.slice(1)}`, dtype as TensorDtype]);
    return pairs;
  }),
);

/** The descr string (`'<f4'`, …) of a dtype, or a TypeError for BF16. */
function descrOf(dtype: TensorDtype, what: string): string {
  const descr = Object.hasOwn(DESCR, dtype) ? DESCR[dtype] : undefined;
  if (descr === undefined) {
    throw new TypeError(`Cannot write ${what} as .npy: NumPy has no dtype for ${dtype}`);
  }
  return descr;
}

/** The header bytes numpy.save writes for this dtype and shape. */
function buildNpyHeader(dtype: TensorDtype, shape: number[], what: string): Uint8Array {
  const descr = descrOf(dtype, what);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) dict += " ".repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length);
  let version = 1;
  let lengthBytes = 2;
  const hlen = () => dict.length + 1;
  let pad = ARRAY_ALIGN - ((MAGIC.length + 2 + lengthBytes + hlen()) % ARRAY_ALIGN);
  if (hlen() + pad > 0xffff) {
    version = 2;
    lengthBytes = 4;
    pad = ARRAY_ALIGN - ((MAGIC.length + 2 + lengthBytes + hlen()) % ARRAY_ALIGN);
  }
  const text = dict + " ".repeat(pad) + "\n";
  const prefix = MAGIC.length + 2 + lengthBytes;
  const out = new Uint8Array(prefix + text.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  return out;
}

/**
 * Encodes an array as a `.npy` file (format 1.0, C order), byte-identical to
 * `numpy.save` of the same array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * const bytes = encodeNpy({ dtype: "F32", shape: [2, 3], data: new Float32Array(6).fill(1) });
 * assert.equal(bytes.length, 128 + 24);
 * assert.equal(decodeNpy(bytes).shape[1], 3);
 * ```
 */
export function encodeNpy(array: NamedArray): Uint8Array {
  assertLittleEndian();
  const byteLength = checkArray("array", array);
  const header = buildNpyHeader(array.dtype, array.shape, "array");
  const out = new Uint8Array(header.length + byteLength);
  out.set(header, 0);
  out.set(bytesOf(array.data), header.length);
  return out;
}

/** Options of {@linkcode decodeNpy}. */
export interface DecodeNpyOptions {
  /** File name for error messages. */
  path?: string;
}

interface NpyHeader {
  dtype: TensorDtype;
  shape: number[];
  dataStart: number;
  dataLength: number;
}

function parseNpyHeader(bytes: Uint8Array, path?: string): NpyHeader {
  const fail = (what: string, cause?: unknown) => new FormatError(what, { path, cause });
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw fail("not a .npy file (no \\x93NUMPY magic)");
  }
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) {
    throw fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw fail("file ends inside the .npy header length");
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (hlen > MAX_NPY_HEADER_BYTES) {
    throw fail(`header length ${hlen} exceeds the limit of ${MAX_NPY_HEADER_BYTES}`);
  }
  if (prefix + hlen > bytes.length) {
    throw fail(`header length ${hlen} exceeds the ${bytes.length - prefix} bytes after it`);
  }
  let text: string;
  try {
    const encoding = major === 3 ? "utf-8" : "latin1";
    text = new TextDecoder(encoding, { fatal: true }).decode(bytes.subarray(prefix, prefix + hlen));
  } catch (cause) {
    throw fail("header is not valid text", cause);
  }
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (cause) {
    throw fail(`header is not a Python literal: ${(cause as Error).message}`, cause);
  }
  if (!(dict instanceof Map)) throw fail("header is not a dict");
  const keys = [...dict.keys()].sort().join(",");
  if (keys !== "descr,fortran_order,shape") {
    throw fail(`header keys are {${keys}}, expected {descr, fortran_order, shape}`);
  }
  const descr = dict.get("descr");
  const dtype = typeof descr === "string" ? FROM_DESCR.get(descr) : undefined;
  if (dtype === undefined) {
    throw fail(`unsupported descr ${JSON.stringify(descr)} (little-endian numbers and bools only)`);
  }
  const shape = dict.get("shape");
  const size = Array.isArray(shape) ? shapeSize(shape) : undefined;
  if (size === undefined) throw fail(`invalid shape ${JSON.stringify(shape)}`);
  const fortran = dict.get("fortran_order");
  if (typeof fortran !== "boolean") throw fail(`invalid fortran_order ${String(fortran)}`);
  const dims = shape as number[];
  if (fortran && dims.filter((d) => d !== 1).length > 1) {
    throw fail("Fortran-order arrays are not supported");
  }
  const dataStart = prefix + hlen;
  const dataLength = bytes.length - dataStart;
  const expected = size * DTYPES[dtype].itemsize;
  if (dataLength !== expected) {
    throw fail(
      `shape (${dims.join(", ")}) of ${descr} needs ${expected} data bytes, file has ${dataLength}`,
    );
  }
  return { dtype, shape: [...dims], dataStart, dataLength };
}

/**
 * Decodes and checks a `.npy` file held in memory; the data is copied into a
 * fresh, aligned typed array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FormatError } from "../util/errors.ts";
 * import { decodeNpy } from "./npy.ts";
 * assert.throws(() => decodeNpy(new TextEncoder().encode("not numpy")), FormatError);
 * ```
 */
export function decodeNpy(bytes: Uint8Array, options: DecodeNpyOptions = {}): NamedArray {
  assertLittleEndian();
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Cannot decode .npy from ${Object.prototype.toString.call(bytes)}`);
  }
  const header = parseNpyHeader(bytes, options.path);
  const data = arrayFromBytes(header.dtype, bytes.subarray(header.dataStart));
  return { dtype: header.dtype, shape: header.shape, data };
}

/**
 * Writes an array to `path` as `.npy`, atomically.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readNpy, writeNpy } from "./npy.ts";
 * const dir = Deno.makeTempDirSync();
 * await writeNpy(`${dir}/x.npy`, { dtype: "I16", shape: [3], data: new Int16Array([1, -2, 3]) });
 * assert.equal((await readNpy(`${dir}/x.npy`)).data[1], -2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeNpy(path: string, array: NamedArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array));
}

/**
 * Reads and checks a `.npy` file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readNpy, writeNpy } from "./npy.ts";
 * const dir = Deno.makeTempDirSync();
 * await writeNpy(`${dir}/x.npy`, { dtype: "U8", shape: [2, 1], data: new Uint8Array([7, 9]) });
 * const x = await readNpy(`${dir}/x.npy`);
 * assert.equal(x.dtype, "U8");
 * assert.equal(x.shape.join(), "2,1");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readNpy(path: string): Promise<NamedArray> {
  const bytes = await readInputBytes(path, { maxBytes: INPUT_LIMITS.table, label: ".npy file" });
  return decodeNpy(bytes, { path });
}

/** Shape and element type of a streamed array. */
export interface NpySpec {
  /** Element type (any but BF16). */
  dtype: TensorDtype;
  /** Full shape, known before the first row is written. */
  shape: number[];
}

/**
 * Writes a `.npy` file whose shape is known up front but whose elements
 * arrive in chunks (rows of embeddings): `append` adds the next elements in
 * C order, {@linkcode NpyStreamWriter.finish} checks the count and renames the
 * temporary file into place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NpyStreamWriter, readNpy } from "./npy.ts";
 * const dir = Deno.makeTempDirSync();
 * const out = await NpyStreamWriter.create(`${dir}/e.npy`, { dtype: "F32", shape: [3, 2] });
 * await out.append(new Float32Array([1, 2, 3, 4]));
 * await out.append(new Float32Array([5, 6]));
 * await out.finish();
 * assert.equal((await readNpy(`${dir}/e.npy`)).data[5], 6);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class NpyStreamWriter {
  /** Where the file lands on finish. */
  readonly path: string;
  /** The array being written. */
  readonly spec: NpySpec;
  #out: AtomicStreamWriter;
  #size: number;
  #written = 0;

  private constructor(spec: NpySpec, out: AtomicStreamWriter, size: number) {
    this.path = out.path;
    this.spec = spec;
    this.#out = out;
    this.#size = size;
  }

  /** Writes the header to a temporary file next to `path`. */
  static async create(path: string, spec: NpySpec): Promise<NpyStreamWriter> {
    assertLittleEndian();
    const size = shapeSize(spec.shape);
    if (size === undefined) {
      throw new RangeError(`Cannot write ${path}: invalid shape ${JSON.stringify(spec.shape)}`);
    }
    if (!Object.hasOwn(DTYPES, spec.dtype)) {
      throw new TypeError(`Cannot write ${path}: unknown dtype ${JSON.stringify(spec.dtype)}`);
    }
    const header = buildNpyHeader(spec.dtype, spec.shape, path);
    const out = await AtomicStreamWriter.create(path, { header });
    return new NpyStreamWriter({ dtype: spec.dtype, shape: [...spec.shape] }, out, size);
  }

  /** Elements written so far. */
  get written(): number {
    return this.#written;
  }

  /** Appends the next elements (in C order); await it before reusing `data`. */
  async append(data: TypedArray): Promise<void> {
    checkAppendData(data, { dtype: this.spec.dtype, target: this.path });
    if (this.#written + data.length > this.#size) {
      throw new RangeError(
        `Cannot append ${data.length} elements to ${this.path}: only ${
          this.#size - this.#written
        } of ${this.#size} remain`,
      );
    }
    this.#out.assertOpen(`append to ${this.path}`);
    this.#written += data.length;
    await this.#out.write(bytesOf(data));
  }

  /**
   * Checks every element was written, then renames the file into place; a
   * short count is a RangeError and removes the temporary file.
   */
  finish(): Promise<void> {
    return this.#out.finish(() => {
      if (this.#written !== this.#size) {
        throw new RangeError(
          `Cannot finish ${this.path}: ${this.#written} of ${this.#size} elements written`,
        );
      }
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
}
