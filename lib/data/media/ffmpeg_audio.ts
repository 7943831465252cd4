/**
 * Decoding the audio track of any container (mp4, mkv, webm, m4a, …) to mono
 * float samples at a chosen rate through the ffmpeg binary, spawned with an
 * argument array (never a shell).
 *
 * Media files are untrusted: a missing or empty file, bytes ffmpeg cannot
 * read, a file without an audio stream or a decoder that hangs (killed after
 * `timeoutMs`) all end in a {@link FormatError} carrying ffmpeg's own reason.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { ffmpegPath } from "./ffmpeg_path.ts";
import { lastMeaningfulLine } from "./_ffmpeg_stderr.ts";
import {
  checkAudioRequest,
  checkInputFile,
  checkTimeout,
  type FfmpegRun,
  inputUrl,
  runFfmpeg,
} from "./_ffmpeg_process.ts";

/** Options of {@link decodeAudioWithFfmpeg}. */
export interface FfmpegAudioOptions {
  /** Output samples per second (ffmpeg resamples); a positive integer. */
  sampleRate: number;
  /** Seconds to skip from the start of the file. Default 0. */
  start?: number;
  /** Seconds to decode from `start`. Default: to the end of the file. */
  duration?: number;
  /** ffmpeg binary; default {@link ffmpegPath}() (`VATT_FFMPEG` or the bundled build). */
  ffmpeg?: string;
  /** The ffmpeg process is killed after this many milliseconds. Default 60 000. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** Most output kept: 2^28 samples (1 GiB of float32, about 93 minutes at 48 kHz). */
const MAX_OUTPUT_SAMPLES = 2 ** 28;
/** Seconds as ffmpeg reads them. */
function seconds(x: number): string {
  return x.toFixed(6); // never exponent notation
}

/**
 * Decodes the first audio stream of a media file to mono float samples at
 * `sampleRate` (ffmpeg mixes the channels down and resamples), optionally
 * only `duration` seconds from `start`. A window starting past the end of the
 * file gives an empty array.
 *
 * Throws `RangeError` on bad options and {@link FormatError} when the file is
 * missing or empty, has no audio stream (`"no audio stream"`), ffmpeg cannot
 * decode it (with the last meaningful line of its stderr), it would produce
 * more than 2^28 samples, or ffmpeg runs past `timeoutMs` (it is killed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeAudioWithFfmpeg } from "./ffmpeg_audio.ts";
 * import { ffmpegPath } from "./ffmpeg_path.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/tone.m4a`;
 * const made = await new Deno.Command(ffmpegPath(), {
 *   args: ["-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", path],
 * }).output();
 * assert.ok(made.success);
 * const samples = await decodeAudioWithFfmpeg(path, { sampleRate: 16000, start: 0.25, duration: 0.5 });
 * assert.equal(samples.length, 8000);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function decodeAudioWithFfmpeg(
  path: string,
  options: FfmpegAudioOptions,
): Promise<Float32Array> {
  const { sampleRate, duration } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkAudioOptions(path, options, timeoutMs);
  await checkInputFile(path, { action: "decode audio", emptyReason: "the file is empty" });
  // a little more than asked for, in case ffmpeg rounds the window up
  const wanted = duration === undefined ? Infinity : Math.ceil(duration * sampleRate) + 16;
  const limitSamples = Math.min(wanted, MAX_OUTPUT_SAMPLES + 1);
  const chunks: Uint8Array[] = [];
  const run = await runFfmpeg(options.ffmpeg ?? ffmpegPath(), audioArgs(path, options), {
    path,
    timeoutMs,
    sink: { limit: limitSamples * 4, write: (chunk) => chunks.push(chunk) },
  });
  checkAudioRun(run, { path, tooLong: limitSamples > MAX_OUTPUT_SAMPLES });
  const count = Math.min(Math.floor(run.bytes / 4), wanted - 16);
  const bytes = new Uint8Array(count * 4);
  let at = 0;
  for (const chunk of chunks) {
    if (at >= bytes.length) break;
    const take = Math.min(chunk.length, bytes.length - at);
    bytes.set(chunk.subarray(0, take), at);
    at += take;
  }
  return new Float32Array(bytes.buffer);
}

/** Throws `TypeError`/`RangeError` on a path or options ffmpeg cannot be asked for. */
function checkAudioOptions(path: string, options: FfmpegAudioOptions, timeoutMs: number): void {
  const { sampleRate, duration } = options;
  const start = options.start ?? 0;
  checkAudioRequest(path, { sampleRate, start }, "decode audio");
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0)) {
    throw new RangeError(
      `Cannot decode audio: duration must be a positive number, got ${duration}`,
    );
  }
  checkTimeout(timeoutMs, "decode audio");
}

/** The ffmpeg arguments that decode the window to mono float32 at `sampleRate`. */
function audioArgs(path: string, options: FfmpegAudioOptions): string[] {
  const { sampleRate, duration } = options;
  const start = options.start ?? 0;
  const args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-protocol_whitelist", "file"];
  if (start > 0) args.push("-ss", seconds(start));
  args.push("-i", inputUrl(path));
  if (duration !== undefined) args.push("-t", seconds(duration));
  args.push(
    ...["-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", String(sampleRate)],
    ...["-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"],
  );
  return args;
}

/** Throws {@link FormatError} when the output is too long or ffmpeg failed before giving enough. */
function checkAudioRun(run: FfmpegRun, options: { path: string; tooLong: boolean }): void {
  const path = options.path;
  if (run.full && options.tooLong) {
    throw new FormatError(`audio decodes to more than ${MAX_OUTPUT_SAMPLES} samples`, { path });
  }
  if (!run.success && !run.full) {
    if (/Stream map '0:a:0' matches no streams|does not contain any stream/.test(run.stderr)) {
      throw new FormatError("no audio stream", { path });
    }
    const reason = lastMeaningfulLine(run.stderr, inputUrl(path));
    throw new FormatError(`cannot decode audio: ${reason}`, { path });
  }
}
