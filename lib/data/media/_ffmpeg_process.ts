/**
 * Running the ffmpeg binary on an untrusted media file: checking the file
 * first, spawning ffmpeg with an argument array (never a shell), streaming
 * its stdout into a sink, keeping the tail of its stderr, and killing it when
 * it runs too long or has given all that is needed. Private to `lib/data/media/`
 * (video and audio decoding).
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { FormatError } from "../../util/errors.ts";
import { readTail } from "./_ffmpeg_stderr.ts";

/**
 * Throws `RangeError` unless `timeoutMs` is a positive number; the message
 * starts with `Cannot <action>: ` when an action is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTimeout } from "./_ffmpeg_process.ts";
 * checkTimeout(1000);
 * assert.throws(() => checkTimeout(0, "decode audio"), /^RangeError: Cannot decode audio: timeoutMs/);
 * ```
 */
export function checkTimeout(timeoutMs: number, action?: string): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    const prefix = action ? `Cannot ${action}: ` : "";
    throw new RangeError(`${prefix}timeoutMs must be a positive number, got ${timeoutMs}`);
  }
}

/**
 * Throws `TypeError` on a path that cannot name a file (empty, not a string,
 * holding a NUL byte).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMediaPath } from "./_ffmpeg_process.ts";
 * assert.throws(() => checkMediaPath("", "open media"), /^TypeError: Cannot open media: invalid path ""/);
 * ```
 */
export function checkMediaPath(path: string, action: string): void {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new TypeError(`Cannot ${action}: invalid path ${JSON.stringify(path)}`);
  }
}

/**
 * Throws on an audio request that names no file or no window start: the path
 * as {@linkcode checkMediaPath}, a sample rate that is not a positive integer,
 * a start that is not a non-negative number (`RangeError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkAudioRequest } from "./_ffmpeg_process.ts";
 * checkAudioRequest("a.wav", { sampleRate: 16000, start: 0 }, "load audio");
 * assert.throws(
 *   () => checkAudioRequest("a.wav", { sampleRate: 0, start: 0 }, "load audio"),
 *   /^RangeError: Cannot load audio: sampleRate must be a positive integer, got 0/,
 * );
 * ```
 */
export function checkAudioRequest(
  path: string,
  request: { sampleRate: number; start: number },
  action: string,
): void {
  const { sampleRate, start } = request;
  checkMediaPath(path, action);
  if (!Number.isSafeInteger(sampleRate) || sampleRate < 1) {
    throw new RangeError(
      `Cannot ${action}: sampleRate must be a positive integer, got ${sampleRate}`,
    );
  }
  if (!Number.isFinite(start) || start < 0) {
    throw new RangeError(`Cannot ${action}: start must be a non-negative number, got ${start}`);
  }
}

/** Options of {@linkcode checkInputFile}. */
export interface CheckInputFileOptions {
  /** What the caller does, for the message of an invalid path (`"open media"`). */
  action: string;
  /** The reason given for an empty file. */
  emptyReason: string;
}

/**
 * Fails early, with a clear reason, on an invalid path or a missing,
 * non-regular or empty file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInputFile } from "./_ffmpeg_process.ts";
 * await assert.rejects(
 *   checkInputFile("/no/such/file.mp4", { action: "open media", emptyReason: "file is empty" }),
 *   /file not found/,
 * );
 * ```
 */
export async function checkInputFile(path: string, options: CheckInputFileOptions): Promise<void> {
  checkMediaPath(path, options.action);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new FormatError("file not found", { path });
    throw new FormatError(`cannot open file: ${(e as Error).message}`, { path, cause: e });
  }
  if (!info.isFile) throw new FormatError("not a regular file", { path });
  if (info.size === 0) throw new FormatError(options.emptyReason, { path });
}

/**
 * An absolute `file:` URL, so names like `http:…`, `pipe:1` or `-x` are never misread.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inputUrl } from "./_ffmpeg_process.ts";
 * assert.equal(inputUrl("/data/pipe:1"), "file:/data/pipe:1");
 * ```
 */
export function inputUrl(path: string): string {
  return `file:${isAbsolute(path) ? path : resolve(path)}`;
}

/** Where ffmpeg's stdout goes. */
export interface StdoutSink {
  /** Most bytes wanted: once they have arrived ffmpeg is stopped and the rest is discarded. */
  limit: number;
  /** Takes the next chunk (already cut at the limit). */
  write(chunk: Uint8Array): void;
}

/** Options of {@linkcode runFfmpeg}. */
export interface RunFfmpegOptions {
  /** The media file, named by errors. */
  path: string;
  /** ffmpeg is killed after this many milliseconds (a {@link FormatError} follows). */
  timeoutMs: number;
  /** Receives stdout; without one stdout is discarded. */
  sink?: StdoutSink;
}

/** What an ffmpeg run gave. */
export interface FfmpegRun {
  /** Whether ffmpeg exited successfully (it is killed once the sink is full). */
  success: boolean;
  /** Whether the sink received its `limit` bytes. */
  full: boolean;
  /** Bytes written into the sink. */
  bytes: number;
  /** The tail of ffmpeg's stderr. */
  stderr: string;
}

/** Spawns `binary`; a binary that cannot run is a `TypeError`. */
function spawn(binary: string, args: string[], piped: boolean): Deno.ChildProcess {
  try {
    return new Deno.Command(binary, {
      args,
      stdin: "null",
      stdout: piped ? "piped" : "null",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw new TypeError(`Cannot run ffmpeg at ${binary}: ${(e as Error).message}`, { cause: e });
  }
}

/** Copies a stream into `sink` until it has `sink.limit` bytes or ends; returns the bytes taken. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, sink: StdoutSink) {
  let bytes = 0;
  while (bytes < sink.limit) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = Math.min(value.length, sink.limit - bytes);
    sink.write(take === value.length ? value : value.subarray(0, take));
    bytes += take;
  }
  return bytes;
}

/**
 * Runs ffmpeg with `args`, streams its stdout into `options.sink` until the
 * sink is full (then kills ffmpeg, which has nothing more to give), keeps the
 * tail of stderr, and kills it after `timeoutMs` ({@link FormatError}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFfmpeg } from "./_ffmpeg_process.ts";
 * import { ffmpegPath } from "./ffmpeg_path.ts";
 * const chunks: Uint8Array[] = [];
 * const args = ["-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "1",
 *   "-f", "s16le", "pipe:1"];
 * const run = await runFfmpeg(ffmpegPath(), args, {
 *   path: "anullsrc", timeoutMs: 10_000, sink: { limit: 100, write: (c) => chunks.push(c) },
 * });
 * assert.equal(run.full, true);
 * assert.equal(run.bytes, 100);
 * ```
 */
export async function runFfmpeg(
  binary: string,
  args: string[],
  options: RunFfmpegOptions,
): Promise<FfmpegRun> {
  const sink = options.sink;
  const child = spawn(binary, args, sink !== undefined);
  const out = sink ? child.stdout.getReader() : undefined;
  const err = child.stderr.getReader();
  const stop = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
    // A grandchild could keep the pipes open: stop reading them rather than wait.
    out?.cancel().catch(() => {});
    err.cancel().catch(() => {});
  }, options.timeoutMs);
  try {
    const stderrText = readTail(err);
    let bytes = 0;
    if (out && sink) {
      bytes = await drain(out, sink);
      // Everything needed has arrived: ffmpeg has nothing more to give.
      if (bytes === sink.limit) stop();
      await out.cancel().catch(() => {});
    }
    const [status, stderr] = await Promise.all([child.status, stderrText]);
    if (timedOut) {
      throw new FormatError(`ffmpeg did not finish within ${options.timeoutMs} ms (killed)`, {
        path: options.path,
      });
    }
    const full = sink !== undefined && bytes === sink.limit;
    return { success: status.success, full, bytes, stderr };
  } finally {
    clearTimeout(timer);
  }
}
