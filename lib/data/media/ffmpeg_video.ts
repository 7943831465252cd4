/**
 * Decoding video clips to fixed-size RGB frame stacks, and probing media
 * files, through the ffmpeg binary (spawned with an argument array, never a
 * shell).
 *
 * Media files are untrusted: every failure (a missing or empty file, bytes
 * that are not a video, a truncated container, no video stream, a decoder that
 * hangs) ends in a {@link FormatError} carrying ffmpeg's own reason.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { ffmpegPath } from "./ffmpeg_path.ts";
import { lastMeaningfulLine } from "./_ffmpeg_stderr.ts";
import { checkInputFile, checkTimeout, inputUrl, runFfmpeg } from "./_ffmpeg_process.ts";

/** Options of {@link decodeVideoClip}. */
export interface DecodeVideoOptions {
  /** Number of frames in the window (`T`). */
  frames: number;
  /** Sampling rate in frames per second (0.001 to 1000). */
  fps: number;
  /** Side of the square output frames in pixels (`H = W`). */
  size: number;
  /** Start of the window in seconds from the beginning of the file. Default 0. */
  start?: number;
  /** ffmpeg binary; default {@link ffmpegPath}() (`VATT_FFMPEG` or the bundled build). */
  ffmpeg?: string;
  /** The ffmpeg process is killed after this many milliseconds. Default 60 000. */
  timeoutMs?: number;
}

/** A decoded clip. */
export interface VideoClip {
  /** RGB bytes, `[frames, size, size, 3]`, row-major. */
  data: Uint8Array;
  /** How many leading frames were decoded; the rest repeat the last real frame (or are zero). */
  validFrames: number;
}

/** Options of {@link probeMedia}. */
export interface ProbeMediaOptions {
  /** ffmpeg binary; default {@link ffmpegPath}(). */
  ffmpeg?: string;
  /** The ffmpeg process is killed after this many milliseconds. Default 30 000. */
  timeoutMs?: number;
}

/** What {@link probeMedia} learnt about a file. */
export interface MediaInfo {
  /** Container duration in seconds, when ffmpeg reports one. */
  durationSeconds?: number;
  /** Whether the file has at least one video stream (still images count). */
  hasVideo: boolean;
  /** Whether the file has at least one audio stream. */
  hasAudio: boolean;
  /** Display width of the first video stream in pixels (after rotation metadata). */
  width?: number;
  /** Display height of the first video stream in pixels (after rotation metadata). */
  height?: number;
}

const DEFAULT_DECODE_TIMEOUT_MS = 60_000;
const DEFAULT_PROBE_TIMEOUT_MS = 30_000;
/** Largest output buffer decodeVideoClip will allocate (1 GiB). */
const MAX_OUTPUT_BYTES = 1 << 30;
/** How a bad file is reported. */
const INPUT_CHECK = { action: "open media", emptyReason: "file is empty (0 bytes)" };

/**
 * Decodes `frames` frames sampled at `fps` from `start` seconds into `path`,
 * scales each so its short side is `size` (keeping the display aspect ratio),
 * centre-crops it to `size × size`, and returns the RGB bytes. A clip shorter
 * than the window is padded by repeating its last decoded frame (zeros when
 * none was decoded); `validFrames` says how many frames are real.
 *
 * Throws `RangeError` on bad options and {@link FormatError} when the file
 * cannot be decoded (with the last meaningful line of ffmpeg's stderr) or
 * ffmpeg runs past `timeoutMs` (the process is killed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeVideoClip } from "./ffmpeg_video.ts";
 * import { ffmpegPath } from "./ffmpeg_path.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/clip.mp4`;
 * const made = await new Deno.Command(ffmpegPath(), {
 *   args: ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
 *     "-pix_fmt", "yuv420p", path],
 * }).output();
 * assert.ok(made.success);
 * const clip = await decodeVideoClip(path, { frames: 4, fps: 5, size: 16 });
 * assert.equal(clip.data.length, 4 * 16 * 16 * 3);
 * assert.equal(clip.validFrames, 4);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function decodeVideoClip(
  path: string,
  options: DecodeVideoOptions,
): Promise<VideoClip> {
  const { frames, size } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DECODE_TIMEOUT_MS;
  checkVideoOptions(options, timeoutMs);
  const frameBytes = size * size * 3;
  const total = frameBytes * frames;
  await checkInputFile(path, INPUT_CHECK);
  const data = new Uint8Array(total);
  const run = await runFfmpeg(options.ffmpeg ?? ffmpegPath(), videoArgs(path, options), {
    path,
    timeoutMs,
    sink: { limit: total, write: writeAt(data) },
  });
  const validFrames = Math.min(frames, Math.floor(run.bytes / frameBytes));
  if (!(run.success || run.full) && validFrames < frames) {
    throw new FormatError(
      `cannot decode video: ${lastMeaningfulLine(run.stderr, inputUrl(path))}`,
      { path },
    );
  }
  if (validFrames > 0) {
    const last = data.subarray((validFrames - 1) * frameBytes, validFrames * frameBytes);
    for (let f = validFrames; f < frames; f++) data.set(last, f * frameBytes);
  } else {
    data.fill(0);
  }
  return { data, validFrames };
}

/** A sink writer that fills `data` from the start, chunk after chunk. */
function writeAt(data: Uint8Array): (chunk: Uint8Array) => void {
  let offset = 0;
  return (chunk) => {
    data.set(chunk, offset);
    offset += chunk.length;
  };
}

/** Throws `RangeError` on options {@linkcode decodeVideoClip} cannot honour. */
function checkVideoOptions(options: DecodeVideoOptions, timeoutMs: number): void {
  const { frames, fps, size } = options;
  const start = options.start ?? 0;
  if (!Number.isSafeInteger(frames) || frames < 1) {
    throw new RangeError(`Cannot decode video: frames must be a positive integer, got ${frames}`);
  }
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`Cannot decode video: size must be a positive integer, got ${size}`);
  }
  if (!Number.isFinite(fps) || fps < 0.001 || fps > 1000) {
    throw new RangeError(`Cannot decode video: fps must be between 0.001 and 1000, got ${fps}`);
  }
  if (!Number.isFinite(start) || start < 0 || start > 1e9) {
    throw new RangeError(`Cannot decode video: start must be 0 to 1e9 seconds, got ${start}`);
  }
  checkTimeout(timeoutMs);
  const total = size * size * 3 * frames;
  if (total > MAX_OUTPUT_BYTES) {
    throw new RangeError(
      `Cannot decode video: ${frames} frames of ${size}x${size} need ${total} bytes, ` +
        `more than the limit of ${MAX_OUTPUT_BYTES}`,
    );
  }
}

/**
 * The ffmpeg arguments that decode the window: sample at `fps`, scale so the
 * short side of the display frame (width × SAR vs height) is `size`, never
 * letting the long side drop below `size`, then centre-crop in RGB so odd
 * offsets are exact.
 */
function videoArgs(path: string, options: DecodeVideoOptions): string[] {
  const { frames, fps, size } = options;
  const start = options.start ?? 0;
  const landscape = "gte(iw*sar,ih)";
  const long = (ratio: string) => `max(${size},round(${size}*${ratio}))`;
  const filter = [
    `fps=fps=${Number(fps.toFixed(6))}:eof_action=pass`,
    `scale=w='if(${landscape},${long("iw*sar/ih")},${size})'` +
    `:h='if(${landscape},${size},${long("ih/(iw*sar)")})':flags=bilinear`,
    "setsar=1",
    "format=rgb24",
    `crop=${size}:${size}`,
  ].join(",");
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-protocol_whitelist",
    "file",
    "-ss",
    start.toFixed(6), // never exponent notation, which ffmpeg does not parse
    "-i",
    inputUrl(path),
    "-map",
    "0:v:0",
    "-an",
    "-sn",
    "-dn",
    "-vf",
    filter,
    "-frames:v",
    String(frames),
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ];
}

/**
 * Reads duration, stream kinds and video size of a media file from the
 * header ffmpeg prints for `ffmpeg -i path` (ffprobe is not shipped with the
 * bundled ffmpeg). Throws {@link FormatError} when ffmpeg cannot open the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeMedia } from "./ffmpeg_video.ts";
 * import { ffmpegPath } from "./ffmpeg_path.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/clip.mp4`;
 * await new Deno.Command(ffmpegPath(), {
 *   args: ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
 *     "-pix_fmt", "yuv420p", path],
 * }).output();
 * const info = await probeMedia(path);
 * assert.ok(info.hasVideo);
 * assert.ok(!info.hasAudio);
 * assert.equal(info.width, 64);
 * assert.equal(info.height, 48);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function probeMedia(
  path: string,
  options: ProbeMediaOptions = {},
): Promise<MediaInfo> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  checkTimeout(timeoutMs);
  await checkInputFile(path, INPUT_CHECK);
  const args = ["-hide_banner", "-nostdin", "-protocol_whitelist", "file", "-i", inputUrl(path)];
  // With no output file ffmpeg always exits 1 after printing the input's description.
  const run = await runFfmpeg(options.ffmpeg ?? ffmpegPath(), args, { path, timeoutMs });
  return parseProbe(run.stderr, path);
}

/** Parses the `Input #0` section of `ffmpeg -i` stderr. */
function parseProbe(stderr: string, path: string): MediaInfo {
  const lines = stderr.split(/\r?\n/);
  const inputAt = lines.findIndex((l) => /^Input #0,/.test(l));
  if (inputAt < 0) {
    throw new FormatError(
      `cannot read media: ${lastMeaningfulLine(stderr, inputUrl(path))}`,
      { path },
    );
  }
  const info: MediaInfo = { hasVideo: false, hasAudio: false };
  for (const line of lines.slice(inputAt + 1)) {
    if (/^(Input|Output) #\d+/.test(line)) break; // only the first input
    const duration = /^\s+Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(line);
    if (duration) {
      info.durationSeconds = Number(duration[1]) * 3600 + Number(duration[2]) * 60 +
        Number(duration[3]);
      continue;
    }
    const stream = /^\s+Stream #0:\d+.*?: (Video|Audio): (.*)$/.exec(line);
    if (stream?.[1] === "Audio") info.hasAudio = true;
    if (stream?.[1] === "Video") {
      const first = !info.hasVideo;
      info.hasVideo = true;
      const dims = /(?:^|[ ,])(\d{1,6})x(\d{1,6})(?=[ ,\[]|$)/.exec(stream[2]);
      if (first && dims) {
        info.width = Number(dims[1]);
        info.height = Number(dims[2]);
      }
    }
    const rotation = /rotation of (-?\d+(?:\.\d+)?) degrees/.exec(line);
    if (rotation && info.width !== undefined && info.height !== undefined) {
      const quarter = Math.round(Number(rotation[1]) / 90);
      if (Math.abs(quarter) % 2 === 1) [info.width, info.height] = [info.height, info.width];
    }
  }
  return info;
}
