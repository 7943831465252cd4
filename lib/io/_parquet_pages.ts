/**
 * Checks every page of an untrusted Parquet column chunk before hyparquet
 * decodes it (see `_parquet_footer.ts` for why). Private to `lib/io/`.
 *
 * @module
 */
import { type ColumnMetaData, type PageHeader, snappyUncompress } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { FormatError } from "../util/errors.ts";
import { chunkRange, isCount, type Levels } from "./_parquet_footer.ts";

/** Largest snappy expansion accepted (the format's own limit is about 21×). */
export const MAX_SNAPPY_RATIO = 32;

/** Encodings whose decoders are bounded by the checks here. */
const VALUE_ENCODINGS = new Set(["PLAIN", "PLAIN_DICTIONARY", "RLE_DICTIONARY"]);

class PageError extends Error {}

/**
 * Walks an RLE/bit-packed hybrid stream of `n` values of `width` bits in
 * `view[offset, end)`, as hyparquet's decoder will read it, refusing runs that
 * would write past `n` values (hyparquet writes RLE runs whole, whatever
 * their length). Returns where the stream ends and how many values equal
 * `target`.
 */
function walkHybrid(
  view: DataView,
  offset: number,
  end: number,
  width: number,
  n: number,
  target = -1,
): { offset: number; matches: number } {
  if (width < 1 || width > 32) throw new PageError(`bit width ${width}`);
  let seen = 0;
  let matches = 0;
  while (seen < n) {
    // The run header, a varint as hyparquet reads it (32-bit arithmetic).
    let header = 0;
    for (let shift = 0;; shift += 7) {
      if (offset >= end || shift > 28) throw new PageError("truncated run header");
      const byte = view.getUint8(offset++);
      header |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    if (header < 0) throw new PageError("run header out of range");
    if (header & 1) {
      const count = (header >> 1) << 3;
      const bytes = (header >> 1) * width;
      if (offset + bytes > end) throw new PageError("bit-packed run past the data");
      if (target >= 0) {
        for (let i = 0; i < count && seen + i < n; i++) {
          let value = 0;
          for (let bit = 0; bit < width; bit++) {
            const at = i * width + bit;
            value += ((view.getUint8(offset + (at >> 3)) >> (at & 7)) & 1) * 2 ** bit;
          }
          if (value === target) matches++;
        }
      }
      offset += bytes;
      seen += count;
    } else {
      const count = header >>> 1;
      if (count > n - seen) throw new PageError(`run of ${count} where ${n - seen} values remain`);
      const bytes = (width + 7) >> 3;
      if (offset + bytes > end) throw new PageError("run value past the data");
      let value = 0;
      for (let i = 0; i < bytes; i++) value += view.getUint8(offset + i) * 2 ** (8 * i);
      if (value === target) matches += count;
      offset += bytes;
      seen += count;
    }
  }
  return { offset, matches };
}

function bitWidth(value: number): number {
  return 32 - Math.clz32(value);
}

function decompress(bytes: Uint8Array, size: number, snappy: boolean): Uint8Array {
  if (!snappy) {
    if (bytes.length !== size) throw new PageError(`${size} bytes stored as ${bytes.length}`);
    return bytes;
  }
  try {
    return boundedSnappy(bytes, size);
  } catch (e) {
    throw new PageError(e instanceof Error ? e.message : String(e));
  }
}

/** Checks a dictionary-index stream (bit width byte, then runs) of `n` values. */
function checkIndices(page: Uint8Array, offset: number, n: number): void {
  if (n === 0) return;
  if (offset >= page.length) throw new PageError("no dictionary indices");
  const width = page[offset];
  if (width === 0) return; // hyparquet fills zeros without reading runs
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  walkHybrid(view, offset + 1, page.length, width, n);
}

/** Checks the levels and values of a format-1 data page (`page` decompressed). */
function checkDataPageV1(page: Uint8Array, header: PageHeader, levels: Levels): void {
  const dph = header.data_page_header!;
  const n = dph.num_values;
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  let offset = 0;
  let nonNull = n;
  for (
    const [max, encoding, isDef] of [
      [levels.maxRep, dph.repetition_level_encoding, false],
      [levels.maxDef, dph.definition_level_encoding, true],
    ] as const
  ) {
    if (max === 0) continue;
    if (encoding !== "RLE") throw new PageError(`level encoding ${encoding}`);
    if (offset + 4 > page.length) throw new PageError("truncated levels");
    const length = view.getUint32(offset, true);
    const end = offset + 4 + length;
    if (end > page.length) throw new PageError("levels run past the page");
    const walked = walkHybrid(view, offset + 4, end, bitWidth(max), n, isDef ? max : -1);
    if (isDef) nonNull = walked.matches;
    offset = end;
  }
  if (dph.encoding !== "PLAIN") checkIndices(page, offset, nonNull);
}

/** Checks the levels and values of a format-2 data page (`raw` as stored). */
function checkDataPageV2(
  raw: Uint8Array,
  header: PageHeader,
  levels: Levels,
  snappy: boolean,
): void {
  const v2 = header.data_page_header_v2!;
  const n = v2.num_values;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const repEnd = v2.repetition_levels_byte_length;
  const defEnd = repEnd + v2.definition_levels_byte_length;
  if (levels.maxRep > 0) walkHybrid(view, 0, repEnd, bitWidth(levels.maxRep), n);
  if (levels.maxDef > 0) walkHybrid(view, repEnd, defEnd, bitWidth(levels.maxDef), n);
  if (v2.encoding === "PLAIN") return;
  const size = header.uncompressed_page_size - defEnd;
  const stored = raw.subarray(defEnd);
  const page = v2.is_compressed !== false && size ? decompress(stored, size, snappy) : stored;
  checkIndices(page, 0, n - v2.num_nulls);
}

/**
 * Walks every page of a column chunk as hyparquet will (until one byte
 * before the end), checking sizes, counts, encodings and the run-length
 * streams whose runs hyparquet would otherwise write unbounded; throws
 * FormatError.
 */
export function checkPages(
  bytes: Uint8Array,
  meta: ColumnMetaData,
  levels: Levels,
  path: string,
): void {
  const expected = Number(meta.num_values);
  const where = `column ${meta.path_in_schema.join(".")} at byte ${chunkRange(meta)[0]}`;
  const fail = (page: number, what: string) =>
    new FormatError(`${where}, page ${page}: ${what}`, { path });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const snappy = meta.codec === "SNAPPY";
  let offset = 0;
  let values = 0;
  let page = 0;
  while (offset < bytes.length - 1) {
    const reader = { view, offset };
    let header: PageHeader;
    try {
      header = parquetHeader(reader);
    } catch (cause) {
      throw fail(page, `unreadable header (${cause instanceof Error ? cause.message : cause})`);
    }
    const compressed = header.compressed_page_size;
    const uncompressed = header.uncompressed_page_size;
    if (!isCount(compressed) || !isCount(uncompressed)) {
      throw fail(page, `invalid sizes ${compressed}/${uncompressed}`);
    }
    const end = reader.offset + compressed;
    if (reader.offset <= offset || end > bytes.length) {
      throw fail(page, `${compressed} bytes run past the column chunk`);
    }
    if (uncompressed > (snappy ? compressed * MAX_SNAPPY_RATIO + 64 : compressed)) {
      throw fail(page, `${uncompressed} bytes cannot come from ${compressed}`);
    }
    const raw = bytes.subarray(reader.offset, end);
    try {
      if (header.type === "DICTIONARY_PAGE") {
        const n = header.dictionary_page_header?.num_values;
        // An int32, float or string dictionary entry takes at least 4 bytes.
        if (!isCount(n) || n * 4 > uncompressed) throw new PageError(`dictionary of ${n} values`);
      } else if (header.type === "DATA_PAGE" || header.type === "DATA_PAGE_V2") {
        const v2 = header.data_page_header_v2;
        const data = header.type === "DATA_PAGE" ? header.data_page_header : v2;
        const n = data?.num_values;
        if (!data || !isCount(n) || n > expected - values) {
          throw new PageError(`${n} values where ${expected - values} remain`);
        }
        if (!VALUE_ENCODINGS.has(data.encoding)) {
          throw new PageError(`unsupported encoding ${data.encoding}`);
        }
        if (header.type === "DATA_PAGE") {
          checkDataPageV1(decompress(raw, uncompressed, snappy), header, levels);
        } else {
          const def = v2!.definition_levels_byte_length;
          const rep = v2!.repetition_levels_byte_length;
          if (
            !isCount(v2!.num_nulls) || v2!.num_nulls > n || !isCount(v2!.num_rows) ||
            !isCount(def) || !isCount(rep) || def + rep > Math.min(compressed, uncompressed)
          ) {
            throw new PageError("invalid v2 data page header");
          }
          checkDataPageV2(raw, header, levels, snappy);
        }
        values += n;
      } else if (header.type !== "INDEX_PAGE") {
        throw new PageError(`unknown page type ${String(header.type)}`);
      }
    } catch (e) {
      if (e instanceof PageError) throw fail(page, e.message);
      throw e;
    }
    offset = end;
    page++;
  }
  if (values !== expected) {
    throw new FormatError(`${where}: pages hold ${values} of ${expected} values`, { path });
  }
}

/** Snappy decompression that refuses page sizes no real page reaches. */
export function boundedSnappy(input: Uint8Array, outputLength: number): Uint8Array {
  if (!(outputLength <= input.length * MAX_SNAPPY_RATIO + 64)) {
    throw new Error(`snappy page claims ${outputLength} bytes from ${input.length}`);
  }
  const output = new Uint8Array(outputLength);
  snappyUncompress(input, output);
  return output;
}
