/**
 * Element types shared by the safetensors and npy codecs: names, sizes and the
 * typed array that holds each one. Private to `lib/io/`.
 *
 * @module
 */

/**
 * Element type of a stored tensor, named as in safetensors. `F16` and `BF16`
 * are kept as raw 16-bit patterns in a `Uint16Array`; `I64`/`U64` use
 * `BigInt64Array`/`BigUint64Array`; `BOOL` is one byte per value.
 */
export type TensorDtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** The typed arrays that hold tensor data. */
export type TypedArray =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** A tensor with its data: `data.length` is the product of `shape`, in C order. */
export interface NamedArray<T extends TypedArray = TypedArray> {
  /** Element type; fixes the typed array (`F32` → `Float32Array`, `I64` → `BigInt64Array`, …). */
  dtype: TensorDtype;
  /** Dimensions, outermost first. */
  shape: number[];
  /** The elements, row-major. */
  data: T;
}

type TypedArrayCtor = new (buffer: ArrayBuffer) => TypedArray;

interface DtypeInfo {
  /** Bytes per element. */
  itemsize: number;
  /** Constructor of the typed array that holds it. */
  ctor: TypedArrayCtor;
}

/** Size and container of every {@linkcode TensorDtype}. */
export const DTYPES: Readonly<Record<TensorDtype, DtypeInfo>> = {
  F64: { itemsize: 8, ctor: Float64Array },
  F32: { itemsize: 4, ctor: Float32Array },
  F16: { itemsize: 2, ctor: Uint16Array },
  BF16: { itemsize: 2, ctor: Uint16Array },
  I64: { itemsize: 8, ctor: BigInt64Array },
  I32: { itemsize: 4, ctor: Int32Array },
  I16: { itemsize: 2, ctor: Int16Array },
  I8: { itemsize: 1, ctor: Int8Array },
  U64: { itemsize: 8, ctor: BigUint64Array },
  U32: { itemsize: 4, ctor: Uint32Array },
  U16: { itemsize: 2, ctor: Uint16Array },
  U8: { itemsize: 1, ctor: Uint8Array },
  BOOL: { itemsize: 1, ctor: Uint8Array },
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws on a big-endian host, where typed arrays would not match the files' byte order. */
export function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) {
    throw new RangeError("Cannot read or write tensor files on a big-endian host");
  }
}

/** Whether `value` names a known {@linkcode TensorDtype}. */
export function isTensorDtype(value: unknown): value is TensorDtype {
  return typeof value === "string" && Object.hasOwn(DTYPES, value);
}

/**
 * Number of elements of `shape`, or `undefined` when a dimension is not a
 * non-negative safe integer or the product is not a safe integer.
 */
export function shapeSize(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let size = 1;
  for (const dim of shape) {
    if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 0) return undefined;
    size *= dim;
  }
  if (!Number.isSafeInteger(size)) {
    // A zero dimension makes any product zero, even after an overflowing one.
    return shape.includes(0) ? 0 : undefined;
  }
  return size;
}

/**
 * Checks that `shape` and `data` fit `dtype` before writing (TypeError /
 * RangeError naming `name`), and returns the byte size of the data.
 */
export function checkArray(
  name: string,
  array: { dtype: unknown; shape: unknown; data?: unknown },
): number {
  const { dtype, shape, data } = array;
  if (!isTensorDtype(dtype)) {
    throw new TypeError(`Cannot write tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`);
  }
  const size = shapeSize(shape);
  if (size === undefined) {
    throw new RangeError(
      `Cannot write tensor "${name}": invalid shape ${JSON.stringify(shape)}`,
    );
  }
  const info = DTYPES[dtype];
  if (!(data instanceof info.ctor)) {
    throw new TypeError(
      `Cannot write tensor "${name}": dtype ${dtype} needs a ${info.ctor.name}, got ${
        containerName(data)
      }`,
    );
  }
  if (data.length !== size) {
    throw new RangeError(
      `Cannot write tensor "${name}": shape ${
        JSON.stringify(shape)
      } has ${size} elements, data has ${data.length}`,
    );
  }
  return size * info.itemsize;
}

/** The class name of `data` for error messages (`Float64Array`, …), or `data` as text. */
function containerName(data: unknown): string {
  return (data as object | null)?.constructor?.name ?? String(data);
}

/**
 * Checks that `data` is the typed array of `dtype` before a streamed append:
 * a TypeError `Cannot append to <target>: F32 needs a Float32Array, got …`.
 */
export function checkAppendData(
  data: unknown,
  into: { dtype: TensorDtype; target: string },
): asserts data is TypedArray {
  const { dtype, target } = into;
  const { ctor } = DTYPES[dtype];
  if (!(data instanceof ctor)) {
    throw new TypeError(
      `Cannot append to ${target}: ${dtype} needs a ${ctor.name}, got ${containerName(data)}`,
    );
  }
}

/** The bytes of a typed array (a view, not a copy). */
export function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Copies `bytes` into a fresh, aligned typed array of `dtype`
 * (`bytes.length` must be a multiple of the item size).
 */
export function arrayFromBytes(dtype: TensorDtype, bytes: Uint8Array): TypedArray {
  const copy = bytes.slice();
  return new DTYPES[dtype].ctor(copy.buffer);
}

/**
 * Wraps a freshly allocated buffer (offset 0, so aligned) as a typed array of
 * `dtype` without copying.
 */
export function arrayOnBuffer(dtype: TensorDtype, buffer: ArrayBuffer): TypedArray {
  return new DTYPES[dtype].ctor(buffer);
}
