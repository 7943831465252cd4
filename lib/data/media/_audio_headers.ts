/**
 * Reading the headers of audio files (private to `lib/data/media/`): format sniffing
 * from magic bytes, ID3v2 tags, MPEG audio frame headers, FLAC STREAMINFO and
 * Ogg page walking. Every reader bounds-checks against the real byte length.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";

/** Audio formats decoded in process. */
export type AudioFormat = "wav" | "flac" | "mp3" | "ogg-vorbis" | "ogg-opus" | "ogg-flac";

/**
 * A well-formed file in a format or codec the in-process decoders do not read
 * (a μ-law WAV, Speex in Ogg, …); ffmpeg may still decode it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedAudioError } from "./_audio_headers.ts";
 * import { FormatError } from "../../util/errors.ts";
 * assert.ok(new UnsupportedAudioError("speex in Ogg") instanceof FormatError);
 * ```
 */
export class UnsupportedAudioError extends FormatError {
  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options);
    this.name = "UnsupportedAudioError";
  }
}

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Byte length of a leading ID3v2 tag (0 when there is none). May exceed `bytes.length`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { id3v2Length } from "./_audio_headers.ts";
 * // "ID3", version 4.0, no flags, synchsafe size 128
 * assert.equal(id3v2Length(Uint8Array.of(0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 1, 0)), 138);
 * assert.equal(id3v2Length(new Uint8Array(10)), 0);
 * ```
 */
export function id3v2Length(bytes: Uint8Array): number {
  if (bytes.length < 10 || !startsWith(bytes, 0, "ID3")) return 0;
  if (bytes[3] === 0xff || bytes[4] === 0xff) return 0;
  let size = 0;
  for (let i = 6; i < 10; i++) {
    if (bytes[i] & 0x80) return 0; // not synchsafe: not a tag
    size = size * 128 + bytes[i];
  }
  const footer = bytes[5] & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

const BITRATES_KBPS = {
  v1l1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  v1l2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  v1l3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2l1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  v2l23: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES = [44100, 48000, 32000];

/** A parsed MPEG audio (layer I/II/III) frame header. */
export interface MpegFrameHeader {
  /** Samples per second. */
  sampleRate: number;
  /** 1 for single-channel mode, else 2. */
  channels: number;
  /** Frame length in bytes, header included. */
  length: number;
}

/**
 * Parses the 4-byte MPEG audio frame header at `at`; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpegFrameHeader } from "./_audio_headers.ts";
 * // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, mono
 * assert.deepEqual(mpegFrameHeader(Uint8Array.of(0xff, 0xfb, 0x90, 0xc0), 0), {
 *   sampleRate: 44100, channels: 1, length: 417,
 * });
 * assert.equal(mpegFrameHeader(Uint8Array.of(0, 0, 0, 0), 0), undefined);
 * ```
 */
export function mpegFrameHeader(bytes: Uint8Array, at: number): MpegFrameHeader | undefined {
  if (at + 4 > bytes.length) return undefined;
  const b1 = bytes[at + 1], b2 = bytes[at + 2], b3 = bytes[at + 3];
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
  const layer = (b1 >> 1) & 3; // 1: III, 2: II, 3: I
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (
    version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3
  ) {
    return undefined; // reserved values, or free-format bitrate (length unknown)
  }
  const v1 = version === 3;
  const table = layer === 3
    ? (v1 ? BITRATES_KBPS.v1l1 : BITRATES_KBPS.v2l1)
    : v1
    ? (layer === 2 ? BITRATES_KBPS.v1l2 : BITRATES_KBPS.v1l3)
    : BITRATES_KBPS.v2l23;
  const bitrate = table[bitrateIndex] * 1000;
  const sampleRate = SAMPLE_RATES[rateIndex] / (v1 ? 1 : version === 2 ? 2 : 4);
  const padding = (b2 >> 1) & 1;
  let length: number;
  if (layer === 3) length = (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
  else if (layer === 1 && !v1) length = Math.floor((72 * bitrate) / sampleRate) + padding;
  else length = Math.floor((144 * bitrate) / sampleRate) + padding;
  return { sampleRate, channels: (b3 >> 6) === 3 ? 1 : 2, length };
}

/**
 * Offset of the first MPEG audio frame after an ID3v2 tag and zero padding, or -1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstMpegFrame } from "./_audio_headers.ts";
 * const bytes = new Uint8Array(2 + 417 + 4); // two zero bytes, then two frames
 * bytes.set([0xff, 0xfb, 0x90, 0xc0], 2);
 * bytes.set([0xff, 0xfb, 0x90, 0xc0], 2 + 417);
 * assert.equal(firstMpegFrame(bytes), 2);
 * assert.equal(firstMpegFrame(bytes.subarray(3)), -1);
 * ```
 */
export function firstMpegFrame(bytes: Uint8Array): number {
  let at = id3v2Length(bytes);
  const limit = Math.min(bytes.length, at + 4096);
  while (at < limit && bytes[at] === 0) at++;
  const first = mpegFrameHeader(bytes, at);
  if (!first) return -1;
  const next = at + first.length;
  // a second frame right after the first makes random bytes very unlikely to pass
  if (next + 4 <= bytes.length && !mpegFrameHeader(bytes, next)) return -1;
  return at;
}

/**
 * Names the audio format from the file's first bytes (never its extension).
 * `undefined` when the bytes are none of {@link AudioFormat}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sniffFormat } from "./_audio_headers.ts";
 * assert.equal(sniffFormat(new TextEncoder().encode("RIFF\0\0\0\0WAVEfmt ")), "wav");
 * assert.equal(sniffFormat(new TextEncoder().encode("ftypisom")), undefined);
 * ```
 */
export function sniffFormat(head: Uint8Array): AudioFormat | undefined {
  if (startsWith(head, 0, "RIFF") && startsWith(head, 8, "WAVE")) return "wav";
  if (startsWith(head, 0, "fLaC")) return "flac";
  if (startsWith(head, 0, "OggS")) {
    // the first page's first packet names the codec
    if (head.length < 27) return undefined;
    const packet = 27 + head[26];
    if (startsWith(head, packet, "OpusHead")) return "ogg-opus";
    if (startsWith(head, packet, "\x01vorbis")) return "ogg-vorbis";
    if (startsWith(head, packet, "\x7fFLAC")) return "ogg-flac";
    return undefined;
  }
  const tag = id3v2Length(head);
  if (tag > 0 && startsWith(head, tag, "fLaC")) return "flac";
  if (firstMpegFrame(head) >= 0) return "mp3";
  // a tag larger than the bytes at hand hides what follows: ID3v2 is almost always MP3
  if (tag > head.length) return "mp3";
  return undefined;
}

/** What STREAMINFO says about a FLAC stream. */
export interface FlacInfo {
  /** Byte offset of the `fLaC` marker. */
  offset: number;
  sampleRate: number;
  channels: number;
  /** Samples per channel; 0 when the encoder did not know. */
  totalSamples: number;
}

/**
 * Reads the STREAMINFO block of a native FLAC stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flacInfo } from "./_audio_headers.ts";
 * const bytes = new Uint8Array(4 + 4 + 34);
 * bytes.set(new TextEncoder().encode("fLaC"));
 * bytes.set([0x80, 0, 0, 34], 4); // last block, STREAMINFO, 34 bytes
 * bytes.set([0x0a, 0xc4, 0x42, 0, 0, 0, 0x03, 0xe8], 8 + 10); // 44100 Hz, 2 channels, 1000 samples
 * assert.deepEqual(flacInfo(bytes), { offset: 0, sampleRate: 44100, channels: 2, totalSamples: 1000 });
 * assert.throws(() => flacInfo(new Uint8Array(8)), /no fLaC marker/);
 * ```
 */
export function flacInfo(bytes: Uint8Array, path?: string): FlacInfo {
  const offset = id3v2Length(bytes);
  const fail = (m: string): never => {
    throw new FormatError(`not a readable FLAC file: ${m}`, { path });
  };
  if (!startsWith(bytes, offset, "fLaC")) fail("no fLaC marker");
  const block = offset + 4;
  if (block + 4 + 34 > bytes.length) fail("truncated before the end of STREAMINFO");
  const type = bytes[block] & 0x7f;
  const length = (bytes[block + 1] << 16) | (bytes[block + 2] << 8) | bytes[block + 3];
  if (type !== 0 || length < 34) fail("the first metadata block is not STREAMINFO");
  const s = block + 4;
  const sampleRate = (bytes[s + 10] << 12) | (bytes[s + 11] << 4) | (bytes[s + 12] >> 4);
  const channels = ((bytes[s + 12] >> 1) & 7) + 1;
  const totalSamples = (bytes[s + 13] & 0x0f) * 2 ** 32 +
    ((bytes[s + 14] << 24) >>> 0) + (bytes[s + 15] << 16) + (bytes[s + 16] << 8) + bytes[s + 17];
  if (sampleRate === 0) fail("STREAMINFO sample rate is 0");
  return { offset, sampleRate, channels, totalSamples };
}

/** What walking the pages of an Ogg file found. */
export interface OggScan {
  /** Bytes up to the end of the last complete page. */
  completeLength: number;
  /** Byte offset where a page header was expected but not found, if any. */
  corruptAt?: number;
  /** Whether the bytes end inside a page. */
  partialPage: boolean;
  /** Whether the last complete page has the end-of-stream flag. */
  endOfStream: boolean;
  /** Whether more than one logical stream (serial number) appears. */
  multipleStreams: boolean;
  /** Granule position of the last complete page that has one (-1 when none). */
  lastGranule: number;
  /** Pre-skip from OpusHead (Opus only), in 48 kHz samples. */
  preSkip: number;
}

/**
 * Walks the Ogg pages, checking every page header and length against the bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanOgg } from "./_audio_headers.ts";
 * // One end-of-stream page: granule 100, serial 1, one 3-byte segment.
 * const page = new Uint8Array(27 + 1 + 3);
 * page.set(new TextEncoder().encode("OggS"));
 * page[5] = 4;
 * page[6] = 100;
 * page[14] = 1;
 * page[26] = 1;
 * page[27] = 3;
 * const scan = scanOgg(page);
 * assert.equal(scan.completeLength, 31);
 * assert.equal(scan.endOfStream, true);
 * assert.equal(scan.lastGranule, 100);
 * assert.equal(scanOgg(page.subarray(0, 30)).partialPage, true);
 * ```
 */
export function scanOgg(bytes: Uint8Array): OggScan {
  const scan: OggScan = {
    completeLength: 0,
    partialPage: false,
    endOfStream: false,
    multipleStreams: false,
    lastGranule: -1,
    preSkip: 0,
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let serial: number | undefined;
  let at = 0;
  while (at < bytes.length) {
    if (at + 27 > bytes.length) {
      scan.partialPage = true;
      break;
    }
    if (!startsWith(bytes, at, "OggS") || bytes[at + 4] !== 0) {
      scan.corruptAt = at;
      break;
    }
    const segments = bytes[at + 26];
    if (at + 27 + segments > bytes.length) {
      scan.partialPage = true;
      break;
    }
    let bodyLength = 0;
    for (let i = 0; i < segments; i++) bodyLength += bytes[at + 27 + i];
    const end = at + 27 + segments + bodyLength;
    if (end > bytes.length) {
      scan.partialPage = true;
      break;
    }
    const pageSerial = view.getUint32(at + 14, true);
    if (serial === undefined) {
      serial = pageSerial;
      const body = at + 27 + segments;
      if (startsWith(bytes, body, "OpusHead") && body + 12 <= end) {
        scan.preSkip = view.getUint16(body + 10, true);
      }
    } else if (pageSerial !== serial) {
      scan.multipleStreams = true;
    }
    const low = view.getUint32(at + 6, true), high = view.getUint32(at + 10, true);
    if (!(low === 0xffffffff && high === 0xffffffff) && high < 0x200000) {
      scan.lastGranule = high * 2 ** 32 + low;
    }
    scan.endOfStream = (bytes[at + 5] & 4) !== 0;
    scan.completeLength = end;
    at = end;
  }
  return scan;
}
