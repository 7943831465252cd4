/**
 * Loading a fixed-length mono window of audio from any media file: in process
 * for WAV, FLAC, MP3, Ogg Vorbis/Opus/FLAC (sniffed from the bytes), through
 * ffmpeg for everything else (the audio track of a video, AAC, …).
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { INPUT_LIMITS, readInputBytes, readInputHead } from "../../io/input.ts";
import { readWavWindow } from "./_wav_window.ts";
import { decodeAudioBytes, sniffAudioFormat, UnsupportedAudioError } from "./audio_decode.ts";
import { decodeAudioWithFfmpeg } from "./ffmpeg_audio.ts";
import { checkAudioRequest } from "./_ffmpeg_process.ts";
import { resample, toMono } from "./resample.ts";

/** Options of {@link loadAudioWindow}. */
export interface LoadAudioOptions {
  /** Output samples per second; a positive integer. */
  sampleRate: number;
  /** Start of the window in seconds from the beginning of the file. Default 0. */
  start?: number;
  /** Length of the window in seconds. */
  seconds: number;
  /** ffmpeg binary for formats not decoded in process; default `ffmpegPath()`. */
  ffmpeg?: string;
  /** The ffmpeg process, when one is needed, is killed after this many milliseconds. Default 60 000. */
  timeoutMs?: number;
}

/** A window of mono audio. */
export interface AudioWindow {
  /** Exactly `round(seconds · sampleRate)` samples; zeros after `validSamples`. */
  samples: Float32Array;
  /** How many leading samples come from the file (fewer when it ends inside the window). */
  validSamples: number;
}

/** Bytes read to sniff the format. */
const HEAD_BYTES = 64 * 1024;
/**
 * Extra audio decoded past the window so the resampling filter sees its
 * right-hand neighbours: its half-width is at most 32 samples of the lower rate.
 */
function marginSeconds(sampleRate: number): number {
  return 0.05 + 64 / sampleRate;
}

async function readHead(path: string): Promise<Uint8Array> {
  try {
    return await readInputHead(path, HEAD_BYTES, { label: "audio file" });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new FormatError("file not found", { path });
    throw new FormatError(`cannot open file: ${(e as Error).message}`, { path, cause: e });
  }
}

/** Most samples one window may hold: 2^28 (1 GiB of float32), as video's 1 GiB bound. */
export const MAX_AUDIO_WINDOW_SAMPLES = 2 ** 28;

/**
 * The bytes to decode for a window: for a WAV only the header and the frames
 * around the window (a long file, or a header claiming 4 GiB, is never read
 * in full; `skip` frames before them are left out); other formats whole,
 * within the size limit.
 */
async function readForWindow(
  path: string,
  head: Uint8Array,
  format: string,
  window: { from: number; until: number; margin: number; outRate: number },
): Promise<{ bytes: Uint8Array; skip: number }> {
  if (format === "wav") {
    const part = await readWavWindow(path, head, window);
    if (part) return part;
  }
  const bytes = await readInputBytes(path, { maxBytes: INPUT_LIMITS.audio, label: "audio file" });
  return { bytes, skip: 0 };
}

/**
 * Loads `seconds` of mono audio at `sampleRate` starting `start` seconds into
 * the file: decodes it (in process when the format is one of ours, else with
 * ffmpeg), mixes the channels to mono, resamples with the band-limited
 * resampler, cuts the window and zero-pads it when the file ends early.
 *
 * Throws `RangeError` on bad options and {@link FormatError} when the file is
 * missing, empty or cannot be decoded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadAudioWindow } from "./audio_load.ts";
 * import { encodeWav } from "./wav.ts";
 * const dir = await Deno.makeTempDir();
 * const tone = Float32Array.from({ length: 22050 }, (_, i) => Math.sin(i / 5));
 * await Deno.writeFile(`${dir}/a.wav`, encodeWav([tone], { sampleRate: 22050 }));
 * const win = await loadAudioWindow(`${dir}/a.wav`, { sampleRate: 16000, start: 0.5, seconds: 1 });
 * assert.equal(win.samples.length, 16000);
 * assert.equal(win.validSamples, 8000);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadAudioWindow(
  path: string,
  options: LoadAudioOptions,
): Promise<AudioWindow> {
  const { sampleRate, seconds } = options;
  const start = options.start ?? 0;
  checkAudioRequest(path, { sampleRate, start }, "load audio");
  const length = Math.round(seconds * sampleRate);
  if (!Number.isFinite(seconds) || seconds <= 0 || length < 1) {
    throw new RangeError(
      `Cannot load audio: seconds must give at least one sample, got ${seconds}`,
    );
  }
  if (length > MAX_AUDIO_WINDOW_SAMPLES) {
    throw new RangeError(
      `Cannot load audio: ${seconds} s at ${sampleRate} Hz is ${length} samples, over the limit of ${MAX_AUDIO_WINDOW_SAMPLES} (1 GiB of float32)`,
    );
  }
  const first = Math.round(start * sampleRate);
  const head = await readHead(path);
  if (head.length === 0) throw new FormatError("the file is empty", { path });

  const samples = new Float32Array(length);
  let validSamples: number;
  const format = sniffAudioFormat(head);
  let decoded: { sampleRate: number; channels: Float32Array[] } | undefined;
  let skip = 0; // frames of the file before the decoded ones
  if (format) {
    const margin = marginSeconds(sampleRate);
    const window = { from: start, until: start + seconds, margin, outRate: sampleRate };
    const part = await readForWindow(path, head, format, window);
    skip = part.skip;
    try {
      decoded = await decodeAudioBytes(part.bytes, { path, maxSeconds: start + seconds + margin });
    } catch (e) {
      if (!(e instanceof UnsupportedAudioError)) throw e; // e.g. a μ-law WAV: ffmpeg reads it
    }
  }
  if (decoded) {
    const mono = toMono(decoded.channels);
    const from = decoded.sampleRate;
    const shift = skip * sampleRate / from; // a whole number of output samples, by choice of skip
    const window = resample(mono, from, sampleRate, { start: first - shift, length });
    const total = shift + Math.ceil(mono.length * sampleRate / from - 1e-9);
    validSamples = Math.max(0, Math.min(length, total - first));
    samples.set(window.subarray(0, validSamples));
  } else {
    const audio = await decodeAudioWithFfmpeg(path, {
      sampleRate,
      start,
      duration: seconds,
      ffmpeg: options.ffmpeg,
      timeoutMs: options.timeoutMs,
    });
    validSamples = Math.min(length, audio.length);
    samples.set(audio.subarray(0, validSamples));
  }
  // Extreme (finite) float samples can still overflow when mixed or resampled.
  for (let i = 0; i < validSamples; i++) if (!Number.isFinite(samples[i])) samples[i] = 0;
  return { samples, validSamples };
}
