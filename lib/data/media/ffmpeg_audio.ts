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
import { isAbsolute, resolve } from "node:path";
import { FormatError } from "../../util/errors.ts";
import { ffmpegPath } from "./ffmpeg_path.ts";
import { lastMeaningfulLine, readTail } from "./_ffmpeg_stderr.ts";

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
/** How much of ffmpeg's stderr is kept (the tail). */

/** Reads a byte stream until it ends or `limit` bytes have come; returns the chunks. */
async function readUpTo(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<{ chunks: Uint8Array[]; bytes: number; full: boolean }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    while (bytes < limit) {
      const { done, value } = await reader.read();
      if (done) return { chunks, bytes, full: false };
      const take = Math.min(value.length, limit - bytes);
      chunks.push(take === value.length ? value : value.subarray(0, take));
      bytes += take;
    }
    return { chunks, bytes, full: true };
  } finally {
    await reader.cancel().catch(() => {});
  }
}

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
 * import { decodeAudioWithFfmpeg } from "./ffmpeg_audio.ts";
 * import { ffmpegPath } from "./ffmpeg_path.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/tone.m4a`;
 * const made = await new Deno.Command(ffmpegPath(), {
 *   args: ["-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", path],
 * }).output();
 * console.assert(made.success);
 * const samples = await decodeAudioWithFfmpeg(path, { sampleRate: 16000, start: 0.25, duration: 0.5 });
 * console.assert(samples.length === 8000);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function decodeAudioWithFfmpeg(
  path: string,
  options: FfmpegAudioOptions,
): Promise<Float32Array> {
  const { sampleRate, duration } = options;
  const start = options.start ?? 0;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new TypeError(`Cannot decode audio: invalid path ${JSON.stringify(path)}`);
  }
  if (!Number.isSafeInteger(sampleRate) || sampleRate < 1) {
    throw new RangeError(
      `Cannot decode audio: sampleRate must be a positive integer, got ${sampleRate}`,
    );
  }
  if (!Number.isFinite(start) || start < 0) {
    throw new RangeError(`Cannot decode audio: start must be a non-negative number, got ${start}`);
  }
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0)) {
    throw new RangeError(
      `Cannot decode audio: duration must be a positive number, got ${duration}`,
    );
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(
      `Cannot decode audio: timeoutMs must be a positive number, got ${timeoutMs}`,
    );
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new FormatError("file not found", { path });
    throw new FormatError(`cannot open file: ${(e as Error).message}`, { path, cause: e });
  }
  if (!info.isFile) throw new FormatError("not a regular file", { path });
  if (info.size === 0) throw new FormatError("the file is empty", { path });

  const url = `file:${isAbsolute(path) ? path : resolve(path)}`;
  const args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-protocol_whitelist", "file"];
  if (start > 0) args.push("-ss", seconds(start));
  args.push("-i", url);
  if (duration !== undefined) args.push("-t", seconds(duration));
  args.push(
    ...["-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", String(sampleRate)],
    ...["-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"],
  );
  // a little more than asked for, in case ffmpeg rounds the window up
  const wanted = duration === undefined ? Infinity : Math.ceil(duration * sampleRate) + 16;
  const limitSamples = Math.min(wanted, MAX_OUTPUT_SAMPLES + 1);

  const binary = options.ffmpeg ?? ffmpegPath();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(binary, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .spawn();
  } catch (e) {
    throw new TypeError(`Cannot run ffmpeg at ${binary}: ${(e as Error).message}`, { cause: e });
  }
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  let out: Awaited<ReturnType<typeof readUpTo>>;
  let status: Deno.CommandStatus;
  let stderr: string;
  try {
    const stderrText = readTail(child.stderr.getReader());
    out = await readUpTo(child.stdout, limitSamples * 4);
    if (out.full) kill(); // everything needed has arrived (or too much): stop ffmpeg
    [status, stderr] = await Promise.all([child.status, stderrText]);
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) {
    throw new FormatError(`ffmpeg did not finish within ${timeoutMs} ms (killed)`, { path });
  }
  if (out.full && limitSamples > MAX_OUTPUT_SAMPLES) {
    throw new FormatError(`audio decodes to more than ${MAX_OUTPUT_SAMPLES} samples`, { path });
  }
  if (!status.success && !out.full) {
    if (/Stream map '0:a:0' matches no streams|does not contain any stream/.test(stderr)) {
      throw new FormatError("no audio stream", { path });
    }
    throw new FormatError(`cannot decode audio: ${lastMeaningfulLine(stderr, url)}`, { path });
  }
  const count = Math.min(Math.floor(out.bytes / 4), wanted - 16);
  const bytes = new Uint8Array(count * 4);
  let at = 0;
  for (const chunk of out.chunks) {
    if (at >= bytes.length) break;
    const take = Math.min(chunk.length, bytes.length - at);
    bytes.set(chunk.subarray(0, take), at);
    at += take;
  }
  return new Float32Array(bytes.buffer);
}
