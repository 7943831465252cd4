/**
 * Decoding audio files in process: WAV with the in-house reader, FLAC, Ogg
 * Vorbis, Ogg Opus, Ogg FLAC and MP3 with the WebAssembly decoders pinned in
 * `deno.json`. The format is sniffed from the file's first bytes, never taken
 * from its extension.
 *
 * Files are untrusted: empty, truncated, corrupt or unknown data ends in a
 * {@link FormatError} naming the file and the reason, and the decoders' own
 * console messages are kept out of the output.
 *
 * @module
 */
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { OggVorbisDecoder } from "@wasm-audio-decoders/ogg-vorbis";
import { MPEGDecoder } from "mpg123-decoder";
import { OggOpusDecoder } from "ogg-opus-decoder";
import { FormatError } from "../../util/errors.ts";
import { INPUT_LIMITS, readInputBytes } from "../../io/input.ts";
import {
  type AudioFormat,
  firstMpegFrame,
  flacInfo,
  mpegFrameHeader,
  scanOgg,
  sniffFormat,
  UnsupportedAudioError,
} from "./_audio_headers.ts";
import { decodeWav } from "./wav.ts";

export { type AudioFormat, UnsupportedAudioError };

/** Options of {@link decodeAudioBytes} and {@link decodeAudioFile}. */
export interface DecodeAudioOptions {
  /** Name of the file, used in error messages (`decodeAudioFile` sets it). */
  path?: string;
  /**
   * Decode only the first `maxSeconds` seconds (decoding stops early, which
   * also bounds memory). Default: the whole file.
   */
  maxSeconds?: number;
  /**
   * When `true` (the default), a truncated file or one with decoding errors
   * is rejected; when `false`, whatever audio could be decoded is returned
   * (still an error when there is none).
   */
  strict?: boolean;
}

/** Decoded audio: one `Float32Array` per channel, samples nominally in [-1, 1]. */
export interface DecodedAudio {
  /** Samples per second (per channel). */
  sampleRate: number;
  /** One array per channel, all of the same length. */
  channels: Float32Array[];
}

/** Most samples (all channels together) one decode may produce: 2^29, i.e. 2 GiB of float32. */
export const MAX_DECODED_SAMPLES = 2 ** 29;
/** Compressed bytes handed to a wasm decoder per call. */
const CHUNK_BYTES = 64 * 1024;
const MAX_CHANNELS = 256;

/** What one call of a wasm decoder returns. */
interface DecoderOutput {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

/** The common surface of the four wasm decoders. */
interface StreamDecoder {
  ready: Promise<void>;
  free(): void;
  decode(data: Uint8Array): DecoderOutput | Promise<DecoderOutput>;
  flush?(): Promise<DecoderOutput>;
}

// ---- keeping the decoders' console messages out of lib/ output ----

const DECODER_NOISE =
  /^(mpg123-decoder|@wasm-audio-decoders|libopus|ogg-opus-decoder|codec-parser)/;
let quietDepth = 0;
let saved: { error: typeof console.error; warn: typeof console.warn } | undefined;

/** Runs `fn` with the wasm decoders' console messages filtered out (others pass). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  if (quietDepth++ === 0) {
    const original = { error: console.error, warn: console.warn };
    saved = original;
    const filter = (log: (...args: unknown[]) => void) => (...args: unknown[]) => {
      if (typeof args[0] === "string" && DECODER_NOISE.test(args[0])) return;
      log(...args);
    };
    console.error = filter(original.error);
    console.warn = filter(original.warn);
  }
  try {
    return await fn();
  } finally {
    if (--quietDepth === 0 && saved) {
      console.error = saved.error;
      console.warn = saved.warn;
      saved = undefined;
    }
  }
}

// ---- collecting decoder output ----

/** Accumulates decoder output and enforces the limits. */
class Collector {
  sampleRate = 0;
  channelCount = 0;
  samples = 0;
  errorCount = 0;
  firstError = "";
  #parts: Float32Array[][] = [];
  /** Samples per channel wanted before stopping (from maxSeconds). */
  wanted = Infinity;

  constructor(readonly fail: (message: string) => never, readonly maxSeconds: number) {}

  add(out: DecoderOutput): void {
    for (const e of out.errors ?? []) {
      if (this.errorCount++ === 0) this.firstError = String(e?.message ?? e);
    }
    const n = out.samplesDecoded;
    if (!n) return;
    const data = out.channelData;
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`decoder reported ${n} samples`);
    if (data.length < 1 || data.length > MAX_CHANNELS) {
      this.fail(`decoder reported ${data.length} channels`);
    }
    if (!(out.sampleRate > 0)) this.fail(`decoder reported sample rate ${out.sampleRate}`);
    if (this.channelCount === 0) {
      this.channelCount = data.length;
      this.sampleRate = out.sampleRate;
      this.wanted = Math.ceil(this.maxSeconds * this.sampleRate);
    } else if (data.length !== this.channelCount || out.sampleRate !== this.sampleRate) {
      this.fail(
        `stream changes from ${this.channelCount} channels at ${this.sampleRate} Hz to ` +
          `${data.length} at ${out.sampleRate} Hz`,
      );
    }
    const part = data.map((ch) => ch.subarray(0, Math.min(n, ch.length)));
    this.#parts.push(part);
    this.samples += Math.min(n, ...part.map((ch) => ch.length));
    if (this.samples * this.channelCount > MAX_DECODED_SAMPLES) {
      this.fail(`decodes to more than ${MAX_DECODED_SAMPLES} samples; pass maxSeconds`);
    }
  }

  get done(): boolean {
    return this.samples >= this.wanted;
  }

  /** Concatenates the parts into `channels`, keeping at most `limit` samples. */
  channels(limit = Infinity): Float32Array[] {
    const length = Math.min(this.samples, this.wanted, limit);
    const out = Array.from({ length: this.channelCount }, () => new Float32Array(length));
    let at = 0;
    for (const part of this.#parts) {
      if (at >= length) break;
      const take = Math.min(length - at, ...part.map((ch) => ch.length));
      for (let c = 0; c < this.channelCount; c++) out[c].set(part[c].subarray(0, take), at);
      at += take;
    }
    return out;
  }
}

/** Feeds `bytes` to a fresh decoder in chunks until done, then frees it. */
async function runDecoder(
  make: () => StreamDecoder,
  bytes: Uint8Array,
  sink: Collector,
): Promise<void> {
  await quietly(async () => {
    const decoder = make();
    try {
      await decoder.ready;
      for (let at = 0; at < bytes.length && !sink.done; at += CHUNK_BYTES) {
        sink.add(await decoder.decode(bytes.subarray(at, at + CHUNK_BYTES)));
      }
      if (!sink.done && decoder.flush) sink.add(await decoder.flush());
    } catch (e) {
      if (e instanceof FormatError) throw e;
      sink.fail(`decoder failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      decoder.free();
    }
  });
}

/**
 * Names the audio format of a file from its first bytes (at least 64 bytes
 * are needed; a few KiB make MP3 detection surer). `undefined` when the bytes
 * are none of the formats decoded in process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sniffAudioFormat } from "./audio_decode.ts";
 * assert.equal(sniffAudioFormat(new TextEncoder().encode("fLaC\0\0\0\x22")), "flac");
 * assert.equal(sniffAudioFormat(new TextEncoder().encode("hello, world")), undefined);
 * ```
 */
export function sniffAudioFormat(head: Uint8Array): AudioFormat | undefined {
  return sniffFormat(head);
}

function checkMaxSeconds(maxSeconds: number): void {
  if (!(maxSeconds > 0)) {
    throw new RangeError(`Cannot decode audio: maxSeconds ${maxSeconds} is not a positive number`);
  }
}

/**
 * Decodes an audio file held in memory (WAV, FLAC, MP3, Ogg Vorbis, Ogg Opus
 * or Ogg FLAC, sniffed from the bytes).
 *
 * Throws {@link FormatError} naming `options.path` when the bytes are empty,
 * in no known format ({@link UnsupportedAudioError}), truncated or corrupt
 * (unless `strict: false`), or decode to no audio.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeAudioBytes } from "./audio_decode.ts";
 * import { encodeWav } from "./wav.ts";
 * const wav = encodeWav([new Float32Array(16000)], { sampleRate: 16000 });
 * const audio = await decodeAudioBytes(wav, { path: "silence.wav" });
 * assert.equal(audio.sampleRate, 16000);
 * assert.equal(audio.channels[0].length, 16000);
 * ```
 */
export async function decodeAudioBytes(
  bytes: Uint8Array,
  options: DecodeAudioOptions = {},
): Promise<DecodedAudio> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Cannot decode audio: expected a Uint8Array, got ${typeof bytes}`);
  }
  const { path } = options;
  const maxSeconds = options.maxSeconds ?? Infinity;
  checkMaxSeconds(maxSeconds);
  const fail = (message: string): never => {
    throw new FormatError(message, { path });
  };
  const ctx: DecodeContext = { path, strict: options.strict ?? true, maxSeconds, fail };
  if (bytes.length === 0) fail("the file is empty");
  const format = sniffFormat(bytes);
  if (!format) {
    const ogg = bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === "OggS";
    throw new UnsupportedAudioError(ogg ? "unsupported codec in Ogg" : "unknown audio format", {
      path,
    });
  }
  if (format === "wav") return decodeWavBytes(bytes, ctx);
  if (format === "flac") return await decodeFlacBytes(bytes, ctx);
  if (format === "mp3") return await decodeMp3Bytes(bytes, ctx);
  return await decodeOggBytes(bytes, { ...ctx, format });
}

/** What every decoding step needs: the file's name, strictness, the window and the error. */
interface DecodeContext {
  path?: string;
  strict: boolean;
  maxSeconds: number;
  fail: (message: string) => never;
}

/** WAV through the in-house reader, cut to `maxSeconds`. */
function decodeWavBytes(bytes: Uint8Array, ctx: DecodeContext): DecodedAudio {
  const { path, fail, maxSeconds } = ctx;
  let audio;
  try {
    audio = decodeWav(bytes, { strict: ctx.strict });
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    // a WAV codec we do not read (μ-law, ADPCM, …) is unsupported, not corrupt
    const Kind = /unsupported/.test(e.message) ? UnsupportedAudioError : FormatError;
    throw new Kind(e.message, { path, cause: e });
  }
  if (audio.channels[0].length === 0) fail("no audio frames decoded (empty data chunk)");
  if (Number.isFinite(maxSeconds)) {
    const keep = Math.ceil(maxSeconds * audio.sampleRate);
    audio.channels = audio.channels.map((ch) => ch.length > keep ? ch.slice(0, keep) : ch);
  }
  return audio;
}

/** The collected audio, at most `limit` samples; an error when there is none or (strict) any error. */
function finish(sink: Collector, ctx: DecodeContext, limit?: number): DecodedAudio {
  if (sink.samples === 0) {
    ctx.fail(`no audio frames decoded${sink.firstError ? ` (${sink.firstError})` : ""}`);
  }
  if (ctx.strict && sink.errorCount > 0) {
    ctx.fail(`corrupt audio: ${sink.errorCount} decode error(s), first: ${sink.firstError}`);
  }
  return { sampleRate: sink.sampleRate, channels: sink.channels(limit) };
}

/** FLAC: the stream header says how many samples there are (a shorter decode is truncated). */
async function decodeFlacBytes(bytes: Uint8Array, ctx: DecodeContext): Promise<DecodedAudio> {
  const sink = new Collector(ctx.fail, ctx.maxSeconds);
  const info = flacInfo(bytes, ctx.path);
  await runDecoder(() => new FLACDecoder(), bytes.subarray(info.offset), sink);
  const short = sink.samples > 0 && sink.samples < info.totalSamples;
  if (ctx.strict && !sink.done && short) {
    ctx.fail(`truncated FLAC: decoded ${sink.samples} of ${info.totalSamples} samples`);
  }
  return finish(sink, ctx, info.totalSamples > 0 ? info.totalSamples : undefined);
}

/** MP3: mono streams come back with one channel (mpg123 always hands out two). */
async function decodeMp3Bytes(bytes: Uint8Array, ctx: DecodeContext): Promise<DecodedAudio> {
  const sink = new Collector(ctx.fail, ctx.maxSeconds);
  const at = firstMpegFrame(bytes);
  const header = at >= 0 ? mpegFrameHeader(bytes, at) : undefined;
  await runDecoder(() => new MPEGDecoder(), bytes, sink);
  const audio = finish(sink, ctx);
  // mpg123 always hands out two channels; a mono stream's second is a copy
  if (header?.channels === 1 && audio.channels.length === 2) audio.channels = [audio.channels[0]];
  return audio;
}

/** Ogg (Opus, Vorbis, FLAC): hand the decoder complete pages only, and check the page structure. */
async function decodeOggBytes(
  bytes: Uint8Array,
  ctx: DecodeContext & { format: AudioFormat },
): Promise<DecodedAudio> {
  const { fail, format } = ctx;
  const sink = new Collector(fail, ctx.maxSeconds);
  const scan = scanOgg(bytes);
  if (ctx.strict) {
    if (scan.corruptAt !== undefined) {
      fail(`corrupt Ogg stream: no page header at byte ${scan.corruptAt}`);
    }
    if (scan.partialPage) fail("truncated Ogg stream: the file ends inside a page");
    if (!scan.endOfStream) fail("truncated Ogg stream: no end-of-stream page");
  }
  const pages = bytes.subarray(0, scan.completeLength);
  const make: () => StreamDecoder = format === "ogg-opus"
    ? () => new OggOpusDecoder()
    : format === "ogg-vorbis"
    ? () => new OggVorbisDecoder()
    : () => new FLACDecoder();
  await runDecoder(make, pages, sink);
  let limit: number | undefined;
  if (!scan.multipleStreams && scan.lastGranule >= 0) {
    // the last granule position counts the real samples (Opus: at 48 kHz, plus pre-skip)
    limit = format === "ogg-opus" ? Math.max(0, scan.lastGranule - scan.preSkip) : scan.lastGranule;
  }
  return finish(sink, ctx, limit);
}

/**
 * Reads and decodes an audio file; see {@link decodeAudioBytes}. A file that
 * cannot be read (missing, a folder, no permission) is a {@link FormatError} too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeAudioFile } from "./audio_decode.ts";
 * import { encodeWav } from "./wav.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/a.wav`, encodeWav([new Float32Array(800)], { sampleRate: 8000 }));
 * const audio = await decodeAudioFile(`${dir}/a.wav`);
 * assert.equal(audio.channels[0].length, 800);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function decodeAudioFile(
  path: string,
  options: Omit<DecodeAudioOptions, "path"> = {},
): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputBytes(path, { maxBytes: INPUT_LIMITS.audio, label: "audio file" });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new FormatError("file not found", { path });
    throw new FormatError(`cannot read file: ${(e as Error).message}`, { path, cause: e });
  }
  return await decodeAudioBytes(bytes, { ...options, path });
}
