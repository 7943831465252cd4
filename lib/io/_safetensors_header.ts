/**
 * The safetensors header: building it for writers, and parsing and checking
 * an untrusted one for readers. Private to `lib/io/`.
 *
 * Layout: 8-byte little-endian u64 `n`, then `n` bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`,
 * then the data buffer; offsets are relative to the buffer, and tensors cover
 * it exactly, without gaps or overlaps.
 *
 * @module
 */
import { FormatError, MismatchError } from "../util/errors.ts";
import { checkArray, DTYPES, isTensorDtype, shapeSize, type TensorDtype } from "./_dtype.ts";

/** Upper bound on the JSON header, as in the reference implementation. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Name and shape of a tensor, without its data. */
export interface TensorSpec {
  /** Element type. */
  dtype: TensorDtype;
  /** Dimensions, outermost first (C order). */
  shape: number[];
}

/** A tensor's entry in a parsed header. */
export interface TensorEntry extends TensorSpec {
  /** `[begin, end)` byte range of its data, relative to the start of the data buffer. */
  dataOffsets: [number, number];
}

/** A parsed and checked safetensors header. */
export interface SafetensorsHeader {
  /** Tensors by name. */
  tensors: Record<string, TensorEntry>;
  /** The `__metadata__` map (empty when absent). */
  metadata: Record<string, string>;
  /** File offset of the data buffer (8 + header length). */
  dataStart: number;
  /** Bytes in the data buffer. */
  dataLength: number;
}

const METADATA_KEY = "__metadata__";

/**
 * Reads and checks the 8-byte header length against the file size; returns it
 * as a number (at most {@linkcode MAX_HEADER_BYTES}).
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, path?: string): number {
  if (fileSize < 8 || prefix.length < 8) {
    throw new FormatError(`file of ${fileSize} bytes is too short for a safetensors header`, {
      path,
    });
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(fileSize - 8)) {
    throw new FormatError(
      `header length ${length} exceeds the ${fileSize - 8} bytes after the length field`,
      { path },
    );
  }
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(`header length ${length} exceeds the limit of ${MAX_HEADER_BYTES}`, {
      path,
    });
  }
  if (length < 2n) {
    throw new FormatError(`header length ${length} is too short for a JSON object`, { path });
  }
  return Number(length);
}

function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  }
  if (Array.isArray(value)) {
    if (value.length > 8) return `an array of ${value.length} items`;
    return `[${value.map((v) => typeof v === "object" && v !== null ? "..." : describe(v))}]`;
  }
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseEntry(
  name: string,
  raw: unknown,
  dataLength: number,
  path?: string,
): TensorEntry {
  const fail = (what: string) => new FormatError(`tensor "${name}": ${what}`, { path });
  if (!isPlainObject(raw)) throw fail(`entry is ${describe(raw)}, not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isTensorDtype(dtype)) throw fail(`unknown dtype ${describe(dtype)}`);
  const size = shapeSize(shape);
  if (size === undefined) throw fail(`invalid shape ${describe(shape)}`);
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw fail(`invalid data_offsets ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    throw fail(`data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data buffer`);
  }
  const expected = size * DTYPES[dtype].itemsize;
  if (end - begin !== expected) {
    throw fail(
      `shape ${describe(shape)} of ${dtype} needs ${expected} bytes, data_offsets give ${
        end - begin
      }`,
    );
  }
  return { dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] };
}

/**
 * Parses the JSON header bytes (the `n` bytes after the length field) of a
 * file of `fileSize` bytes, checking every entry and that the tensors tile the
 * data buffer exactly.
 */
export function parseHeader(
  json: Uint8Array,
  fileSize: number,
  path?: string,
): SafetensorsHeader {
  const dataStart = 8 + json.length;
  const dataLength = fileSize - dataStart;
  if (dataLength < 0) {
    throw new FormatError(`header of ${json.length} bytes is longer than the file`, { path });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(json);
  } catch (cause) {
    throw new FormatError("header is not valid UTF-8", { path, cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new FormatError(`header is not valid JSON: ${(cause as Error).message}`, {
      path,
      cause,
    });
  }
  if (!isPlainObject(parsed)) {
    throw new FormatError(`header is ${describe(parsed)}, not a JSON object`, { path });
  }
  const tensors: [string, TensorEntry][] = [];
  let metadata: [string, string][] = [];
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(raw)) {
        throw new FormatError(`__metadata__ is ${describe(raw)}, not an object`, { path });
      }
      metadata = Object.entries(raw).map(([key, value]) => {
        if (typeof value !== "string") {
          throw new FormatError(
            `__metadata__ value of "${key}" is ${describe(value)}, not a string`,
            { path },
          );
        }
        return [key, value];
      });
      continue;
    }
    tensors.push([name, parseEntry(name, raw, dataLength, path)]);
  }
  checkTiling(tensors, dataLength, path);
  return {
    tensors: Object.fromEntries(tensors),
    metadata: Object.fromEntries(metadata),
    dataStart,
    dataLength,
  };
}

function checkTiling(tensors: [string, TensorEntry][], dataLength: number, path?: string): void {
  const ordered = [...tensors].sort(([, a], [, b]) =>
    a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]
  );
  let cursor = 0;
  for (const [name, entry] of ordered) {
    const [begin, end] = entry.dataOffsets;
    if (begin !== cursor) {
      const what = begin < cursor
        ? "overlap the tensor before them"
        : `leave bytes ${cursor}..${begin - 1} unused`;
      throw new FormatError(`tensor "${name}": data_offsets [${begin}, ${end}] ${what}`, { path });
    }
    cursor = end;
  }
  if (cursor !== dataLength) {
    throw new FormatError(
      `data buffer has ${dataLength} bytes but tensors cover only ${cursor}`,
      { path },
    );
  }
}

/** The header a writer puts in front of the data, and where each tensor goes. */
export interface BuiltHeader {
  /** Length field, JSON and space padding: the first `dataStart` bytes of the file. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Names in buffer order (sorted). */
  order: string[];
  /** `[begin, end)` of each tensor in the data buffer. */
  offsets: Map<string, [number, number]>;
  /** Bytes in the data buffer. */
  dataLength: number;
}

/** Checks metadata before writing: a plain object of string values. */
function checkMetadata(metadata: unknown): [string, string][] {
  if (metadata === undefined) return [];
  if (!isPlainObject(metadata)) {
    throw new TypeError(`Cannot write metadata ${describe(metadata)}: not an object`);
  }
  return Object.entries(metadata).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(
    ([key, value]) => {
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot write metadata "${key}": value ${describe(value)} is not a string`,
        );
      }
      return [key, value];
    },
  );
}

/**
 * Builds the header for tensors laid out in name order. `specs` carry
 * `data` only when the caller wants it checked against dtype and shape.
 */
export function buildHeader(
  specs: Record<string, TensorSpec & { data?: unknown }>,
  metadata?: Record<string, string>,
): BuiltHeader {
  if (!isPlainObject(specs)) throw new TypeError(`Cannot write tensors ${describe(specs)}`);
  const order = Object.keys(specs).sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  const json: Record<string, unknown> = {};
  const meta = checkMetadata(metadata);
  if (meta.length > 0) json[METADATA_KEY] = Object.fromEntries(meta);
  const offsets = new Map<string, [number, number]>();
  let cursor = 0;
  for (const name of order) {
    if (name === METADATA_KEY || name === "") {
      throw new RangeError(`Cannot write a tensor named ${JSON.stringify(name)}`);
    }
    const spec = specs[name];
    let bytes: number;
    if (spec.data !== undefined) {
      bytes = checkArray(name, spec);
    } else {
      const size = shapeSize(spec.shape);
      if (!isTensorDtype(spec.dtype)) {
        throw new TypeError(`Cannot write tensor "${name}": unknown dtype ${describe(spec.dtype)}`);
      }
      if (size === undefined) {
        throw new RangeError(
          `Cannot write tensor "${name}": invalid shape ${describe(spec.shape)}`,
        );
      }
      bytes = size * DTYPES[spec.dtype].itemsize;
    }
    const range: [number, number] = [cursor, cursor + bytes];
    offsets.set(name, range);
    Object.defineProperty(json, name, {
      value: { dtype: spec.dtype, shape: [...spec.shape], data_offsets: range },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    cursor += bytes;
  }
  if (!Number.isSafeInteger(cursor)) {
    throw new RangeError(`Cannot write ${cursor} bytes of tensors: too large`);
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(text.length / 8) * 8;
  const bytes = new Uint8Array(8 + padded);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(text, 8);
  bytes.fill(0x20, 8 + text.length);
  return { bytes, order, offsets, dataLength: cursor };
}

/**
 * Checks a header against the expected tensors: the same names, dtypes and
 * shapes, exactly. Throws MismatchError naming the first offending tensors.
 */
export function checkExpected(
  tensors: Record<string, TensorSpec>,
  expect: Record<string, TensorSpec>,
  path?: string,
  mayLack: readonly string[] = [],
): void {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(expect)) {
    if (!Object.hasOwn(tensors, name)) {
      if (mayLack.includes(name)) continue;
      problems.push(`tensor "${name}" is missing`);
      continue;
    }
    const got = tensors[name];
    if (got.dtype !== want.dtype) {
      problems.push(`tensor "${name}" is ${got.dtype}, expected ${want.dtype}`);
    }
    if (
      got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])
    ) {
      problems.push(
        `tensor "${name}" has shape [${got.shape}], expected [${want.shape}]`,
      );
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!Object.hasOwn(expect, name)) problems.push(`unexpected tensor "${name}"`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join("; ");
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : "";
    throw new MismatchError(`${path ? `${path}: ` : ""}${shown}${more}`);
  }
}
