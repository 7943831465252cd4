/**
 * An in-house RIFF/WAVE reader and writer.
 *
 * Reads integer PCM (8-bit unsigned, 16, 24 and 32-bit signed) and IEEE float
 * (32 and 64-bit), plain or `WAVE_FORMAT_EXTENSIBLE`, with any extra chunks and
 * odd-size chunk padding. WAV files are untrusted: every size field is checked
 * against the real byte length before anything is read or allocated, and every
 * malformed file ends in a {@link FormatError} with a one-line reason.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { floatToPcm16, pcm16ToFloat } from "./pcm16.ts";

/** Options of {@link decodeWav}. */
export interface DecodeWavOptions {
  /** Name of the file, used in error messages. */
  path?: string;
  /**
   * When `false`, a `data` chunk that declares more bytes than the file holds
   * is read up to the end of the file instead of being rejected. Default `true`.
   */
  strict?: boolean;
}

/** Decoded audio: one `Float32Array` per channel, samples nominally in [-1, 1]. */
export interface WavAudio {
  /** Samples per second (per channel). */
  sampleRate: number;
  /** One array per channel, all of the same length. */
  channels: Float32Array[];
}

/** Options of {@link encodeWav}. */
export interface EncodeWavOptions {
  /** Samples per second; a positive integer. */
  sampleRate: number;
  /** Sample format: 16-bit signed PCM (clipped to [-1, 1]) or 32-bit IEEE float. Default `"pcm16"`. */
  format?: "pcm16" | "float32";
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs (the first two hold the format tag). */
const GUID_TAIL = [
  0x00,
  0x00,
  0x00,
  0x00,
  0x10,
  0x00,
  0x80,
  0x00,
  0x00,
  0xaa,
  0x00,
  0x38,
  0x9b,
  0x71,
];
/** More channels than this is taken as a corrupt header. */
const MAX_CHANNELS = 256;

/** The parsed `fmt ` chunk. */
interface WavFormat {
  /** 1 (integer PCM) or 3 (float), after resolving WAVE_FORMAT_EXTENSIBLE. */
  tag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
}

function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/** A printable form of a chunk id from an untrusted file. */
function printable(id: string): string {
  return JSON.stringify(id.replace(/[^\x20-\x7e]/g, "?"));
}

function parseFormat(
  view: DataView,
  at: number,
  size: number,
  fail: (m: string) => never,
): WavFormat {
  if (size < 16) fail(`fmt chunk is ${size} bytes, expected at least 16`);
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) fail(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, expected 40`);
    const subTag = view.getUint16(at + 24, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (view.getUint8(at + 26 + i) !== GUID_TAIL[i]) {
        fail("unsupported WAVE_FORMAT_EXTENSIBLE sub-format GUID");
      }
    }
    tag = subTag;
  }
  if (tag !== WAVE_FORMAT_PCM && tag !== WAVE_FORMAT_IEEE_FLOAT) {
    fail(`unsupported WAV format tag ${tag} (only PCM and IEEE float are read)`);
  }
  if (channels < 1 || channels > MAX_CHANNELS) fail(`bad channel count ${channels}`);
  if (sampleRate < 1) fail(`bad sample rate ${sampleRate}`);
  const allowed = tag === WAVE_FORMAT_PCM ? [8, 16, 24, 32] : [32, 64];
  if (!allowed.includes(bitsPerSample)) {
    fail(`unsupported ${tag === WAVE_FORMAT_PCM ? "PCM" : "float"} bit depth ${bitsPerSample}`);
  }
  const expectedAlign = channels * (bitsPerSample / 8);
  if (blockAlign !== expectedAlign) {
    fail(
      `block align ${blockAlign} does not match ${channels} channels × ${bitsPerSample / 8} bytes`,
    );
  }
  return { tag, channels, sampleRate, bitsPerSample, blockAlign };
}

/** Converts interleaved little-endian samples at `offset` into one Float32Array per channel. */
function deinterleave(
  bytes: Uint8Array,
  offset: number,
  frames: number,
  fmt: WavFormat,
): Float32Array[] {
  const { channels: n, bitsPerSample: bits, tag } = fmt;
  const out = Array.from({ length: n }, () => new Float32Array(frames));
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, frames * fmt.blockAlign);
  const step = bits / 8;
  let p = 0;
  if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    for (let i = 0; i < frames; i++) {
      for (let c = 0; c < n; c++, p += step) {
        // A float64 beyond the float32 range would become ±Infinity in the output.
        const v = Math.fround(bits === 32 ? view.getFloat32(p, true) : view.getFloat64(p, true));
        out[c][i] = Number.isFinite(v) ? v : 0;
      }
    }
    return out;
  }
  const src = new Uint8Array(bytes.buffer, bytes.byteOffset + offset, frames * fmt.blockAlign);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++, p += step) {
      let v: number;
      if (bits === 8) {
        v = (src[p] - 128) / 128;
      } else if (bits === 16) {
        v = pcm16ToFloat(view.getInt16(p, true));
      } else if (bits === 24) {
        const u = src[p] | (src[p + 1] << 8) | (src[p + 2] << 16);
        v = ((u << 8) >> 8) / 8388608;
      } else {
        v = view.getInt32(p, true) / 2147483648;
      }
      out[c][i] = v;
    }
  }
  return out;
}

/**
 * Decodes a RIFF/WAVE file held in memory.
 *
 * Integer samples are scaled by 2^(bits-1) (8-bit ones are unsigned, centred
 * on 128), so they lie in [-1, 1); float samples are kept as they are, with
 * NaN and ±Infinity replaced by 0. A trailing partial frame is dropped. A
 * `data` chunk whose size is the streaming placeholder (0 or 0xFFFFFFFF) runs
 * to the end of the file.
 *
 * Throws {@link FormatError} on anything that is not a readable WAV file: no
 * RIFF/WAVE header, a chunk running past the end of the file, a missing `fmt `
 * or `data` chunk, an unsupported format tag or bit depth.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWav, encodeWav } from "./wav.ts";
 * const tone = Float32Array.from({ length: 800 }, (_, i) => 0.5 * Math.sin(i / 10));
 * const bytes = encodeWav([tone], { sampleRate: 8000, format: "float32" });
 * const { sampleRate, channels } = decodeWav(bytes);
 * assert.equal(sampleRate, 8000);
 * assert.equal(channels.length, 1);
 * assert.equal(channels[0][10], tone[10]);
 * ```
 */
export function decodeWav(bytes: Uint8Array, options: DecodeWavOptions = {}): WavAudio {
  const strict = options.strict ?? true;
  const fail = (message: string): never => {
    throw new FormatError(`not a readable WAV file: ${message}`, { path: options.path });
  };
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`decodeWav() needs a Uint8Array, got ${typeof bytes}`);
  }
  if (bytes.length === 0) fail("the file is empty");
  if (bytes.length < 12) fail(`the file is ${bytes.length} bytes, shorter than a RIFF header`);
  if (fourCC(bytes, 0) !== "RIFF" || fourCC(bytes, 8) !== "WAVE") fail("no RIFF/WAVE header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let fmt: WavFormat | undefined;
  let data: { offset: number; size: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourCC(bytes, at);
    const declared = view.getUint32(at + 4, true);
    const body = at + 8;
    const remaining = bytes.length - body;
    if (id === "data") {
      let size = declared;
      if (declared === 0xffffffff || (declared === 0 && remaining > 0)) {
        size = remaining; // written while streaming: the size was never filled in
      } else if (declared > remaining) {
        if (strict) fail(`data chunk declares ${declared} bytes but only ${remaining} remain`);
        size = remaining;
      }
      data = { offset: body, size };
      if (fmt) break; // samples found; ignore whatever follows
    } else if (declared > remaining) {
      if (fmt && data) break; // trailing metadata cut short: the audio is complete
      fail(`chunk ${printable(id)} declares ${declared} bytes but only ${remaining} remain`);
    } else if (id === "fmt ") {
      if (fmt) fail("more than one fmt chunk");
      fmt = parseFormat(view, body, declared, fail);
      if (data) break;
    }
    at = body + declared + (declared & 1);
  }
  if (!fmt) fail("no fmt chunk");
  if (!data) fail("no data chunk");
  const format = fmt as WavFormat;
  const { offset, size } = data as { offset: number; size: number };
  const frames = Math.floor(size / format.blockAlign);
  return { sampleRate: format.sampleRate, channels: deinterleave(bytes, offset, frames, format) };
}

/**
 * Encodes channels of equal length as a RIFF/WAVE file: 16-bit PCM (samples
 * clipped to [-1, 1] and rounded) or 32-bit IEEE float.
 *
 * Throws `RangeError` when there are no channels, the channels differ in
 * length, the sample rate is not a positive integer, or the result would not
 * fit a RIFF file (4 GiB).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWav } from "./wav.ts";
 * const bytes = encodeWav([new Float32Array(100), new Float32Array(100)], { sampleRate: 16000 });
 * assert.equal(bytes.length, 44 + 100 * 2 * 2);
 * ```
 */
export function encodeWav(channels: Float32Array[], options: EncodeWavOptions): Uint8Array {
  const format = options.format ?? "pcm16";
  const { sampleRate } = options;
  if (!Array.isArray(channels) || channels.length === 0 || channels.length > MAX_CHANNELS) {
    throw new RangeError(
      `Cannot encode WAV: need 1 to ${MAX_CHANNELS} channels, got ${channels?.length}`,
    );
  }
  const frames = channels[0].length;
  for (const [c, ch] of channels.entries()) {
    if (ch.length !== frames) {
      throw new RangeError(
        `Cannot encode WAV: channel ${c} has ${ch.length} samples, channel 0 has ${frames}`,
      );
    }
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffffff) {
    throw new RangeError(`Cannot encode WAV: sample rate ${sampleRate} is not a positive integer`);
  }
  if (format !== "pcm16" && format !== "float32") {
    throw new RangeError(`Cannot encode WAV: unknown format ${JSON.stringify(format)}`);
  }
  const n = channels.length;
  const bytesPerSample = format === "pcm16" ? 2 : 4;
  const blockAlign = n * bytesPerSample;
  const dataSize = frames * blockAlign;
  const isFloat = format === "float32";
  // float files carry the 18-byte fmt chunk (cbSize = 0) and a fact chunk, as the spec asks
  const fmtSize = isFloat ? 18 : 16;
  const headerSize = 12 + 8 + fmtSize + (isFloat ? 12 : 0) + 8;
  if (headerSize - 8 + dataSize > 0xffffffff) {
    throw new RangeError(
      `Cannot encode WAV: ${dataSize} bytes of samples exceed the 4 GiB RIFF limit`,
    );
  }
  const out = new Uint8Array(headerSize + dataSize);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, out.length - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, n, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bytesPerSample * 8, true);
  let at = 36;
  if (isFloat) {
    view.setUint16(at, 0, true); // cbSize
    ascii(at + 2, "fact");
    view.setUint32(at + 6, 4, true);
    view.setUint32(at + 10, frames, true);
    at += 14;
  }
  ascii(at, "data");
  view.setUint32(at + 4, dataSize, true);
  let p = at + 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++, p += bytesPerSample) {
      const v = channels[c][i];
      if (isFloat) {
        view.setFloat32(p, v, true);
      } else {
        view.setInt16(p, floatToPcm16(v), true);
      }
    }
  }
  return out;
}

/** Where a WAV file's samples lie, from {@linkcode wavLayout}. */
export interface WavLayout {
  /** Byte offset of the `data` chunk's size field (4 bytes before the samples). */
  sizeField: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of samples the `data` chunk declares (0 or 0xFFFFFFFF: up to the end of the file). */
  declared: number;
  /** Bytes per frame (all channels). */
  blockAlign: number;
  /** Frames per second. */
  sampleRate: number;
}

/**
 * The layout of a WAV file found from its first bytes `head`, which must
 * reach the start of the `data` chunk: where the samples start, the frame
 * size and rate; `undefined` when `head` does not show both `fmt ` and `data`
 * (the full decoder then reads the file and says what is wrong). Lets a short
 * window be read from a long file, or from a header that claims 4 GiB,
 * without reading the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWav, wavLayout } from "./wav.ts";
 * const bytes = encodeWav([new Float32Array(1000)], { sampleRate: 8000 });
 * assert.deepEqual(wavLayout(bytes.subarray(0, 64)), {
 *   sizeField: 40, dataOffset: 44, declared: 2000, blockAlign: 2, sampleRate: 8000,
 * });
 * assert.equal(wavLayout(bytes.subarray(0, 20)), undefined);
 * ```
 */
export function wavLayout(head: Uint8Array): WavLayout | undefined {
  if (head.length < 12 || fourCC(head, 0) !== "RIFF" || fourCC(head, 8) !== "WAVE") {
    return undefined;
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let blockAlign = 0;
  let sampleRate = 0;
  let at = 12;
  while (at + 8 <= head.length) {
    const id = fourCC(head, at);
    const declared = view.getUint32(at + 4, true);
    if (id === "fmt " && at + 8 + 14 <= head.length) {
      sampleRate = view.getUint32(at + 12, true);
      blockAlign = view.getUint16(at + 20, true);
    }
    if (id === "data") {
      if (!blockAlign || !sampleRate) return undefined;
      return { sizeField: at + 4, dataOffset: at + 8, declared, blockAlign, sampleRate };
    }
    at += 8 + declared + (declared & 1);
  }
  return undefined;
}
