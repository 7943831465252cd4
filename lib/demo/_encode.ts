/**
 * Encodes a demo clip's rendered frames and sound with ffmpeg: H.264 mp4
 * (with an AAC track when the clip keeps its sound inside the video) and the
 * compressed audio formats. Inputs are piped to ffmpeg's stdin; outputs carry
 * no timestamps or encoder metadata that would differ between runs.
 *
 * Private to `lib/demo/`.
 *
 * @module
 */
import type { DemoAudioFormat } from "./_spec.ts";

/** Flags that keep encoder versions, dates and titles out of the output. */
const BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact"];

/** ffmpeg codec flags and file extension of each separately stored compressed format. */
export const COMPRESSED_AUDIO: Readonly<
  Record<Exclude<DemoAudioFormat, "wav" | "mp4">, { ext: string; args: string[] }>
> = {
  flac: { ext: "flac", args: ["-c:a", "flac", "-compression_level", "5", "-f", "flac"] },
  mp3: { ext: "mp3", args: ["-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3"] },
  ogg: { ext: "ogg", args: ["-c:a", "libvorbis", "-q:a", "3", "-f", "ogg"] },
  opus: { ext: "opus", args: ["-c:a", "libopus", "-b:a", "32k", "-f", "opus"] },
};

/**
 * Runs ffmpeg with `input` on its stdin and throws, with the tail of its
 * error output, when it fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ffmpegPath } from "../data/media/ffmpeg_path.ts";
 * import { runFfmpeg } from "./_encode.ts";
 * const args = ["-f", "f32le", "-ar", "8000", "-ac", "1", "-i", "-", "-f", "null", "-"];
 * await assert.doesNotReject(runFfmpeg(ffmpegPath(), args, new Uint8Array(4 * 800), "a test tone"));
 * await assert.rejects(
 *   runFfmpeg(ffmpegPath(), ["-f", "no-such-format", "-i", "-", "-f", "null", "-"], new Uint8Array(4), "x"),
 *   /ffmpeg failed with exit code \d+ for x/,
 * );
 * ```
 */
export async function runFfmpeg(
  ffmpeg: string,
  args: string[],
  input: Uint8Array,
  what: string,
): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(ffmpeg, {
      args: ["-hide_banner", "-nostats", "-v", "error", "-y", ...args],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (cause) {
    throw new Error(`Cannot run ffmpeg at ${ffmpeg} (for ${what})`, { cause });
  }
  const stderr = new Response(child.stderr).text();
  let writeError: unknown;
  const writer = child.stdin.getWriter();
  try {
    await writer.write(input);
  } catch (e) {
    writeError = e; // ffmpeg exited early; its status and stderr tell why
  }
  try {
    await writer.close();
  } catch {
    // already closed by the broken pipe
  }
  const [status, log] = await Promise.all([child.status, stderr]);
  if (!status.success) {
    const tail = log.trim().split("\n").slice(-4).join(" | ");
    throw new Error(`ffmpeg failed with exit code ${status.code} for ${what}: ${tail}`, {
      cause: writeError,
    });
  }
  if (writeError) throw new Error(`Cannot pipe data to ffmpeg for ${what}`, { cause: writeError });
}

/** Settings of one mp4 encode. */
export interface VideoEncode {
  /** Frame width, pixels (even). */
  width: number;
  /** Frame height, pixels (even). */
  height: number;
  /** Frames per second. */
  fps: number;
  /** Raw f32le mono audio file to mux in as AAC, if any. */
  audioFile?: string;
  /** Sample rate of `audioFile`, Hz. */
  sampleRate: number;
}

/**
 * ffmpeg arguments that read rgb24 frames from stdin and write an H.264 mp4 to `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { videoArgs } from "./_encode.ts";
 * const args = videoArgs("a.mp4", { width: 64, height: 48, fps: 10, sampleRate: 16000 });
 * assert.ok(args.includes("libx264"));
 * assert.ok(args.includes("-an"));
 * ```
 */
export function videoArgs(out: string, e: VideoEncode): string[] {
  const args = [
    ...["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${e.width}x${e.height}`, "-r", `${e.fps}`],
    ...["-i", "-"],
  ];
  if (e.audioFile) {
    args.push("-f", "f32le", "-ar", `${e.sampleRate}`, "-ac", "1", "-i", e.audioFile);
    args.push("-map", "0:v", "-map", "1:a");
  }
  args.push(
    ...["-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p"],
    ...["-g", `${Math.max(1, Math.round(e.fps))}`, "-threads", "1", "-flags:v", "+bitexact"],
  );
  if (e.audioFile) args.push("-c:a", "aac", "-b:a", "64k", "-flags:a", "+bitexact");
  else args.push("-an");
  args.push(...BITEXACT, "-f", "mp4", out);
  return args;
}

/**
 * ffmpeg arguments that read f32le mono from stdin and write `format` to `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { audioArgs } from "./_encode.ts";
 * const args = audioArgs("a.opus", "opus", 16000);
 * assert.deepEqual(args.slice(0, 8), ["-f", "f32le", "-ar", "16000", "-ac", "1", "-i", "-"]);
 * assert.ok(args.includes("libopus"));
 * assert.equal(args.at(-1), "a.opus");
 * ```
 */
export function audioArgs(
  out: string,
  format: keyof typeof COMPRESSED_AUDIO,
  sampleRate: number,
): string[] {
  return [
    ...["-f", "f32le", "-ar", `${sampleRate}`, "-ac", "1", "-i", "-"],
    ...COMPRESSED_AUDIO[format].args,
    ...["-flags:a", "+bitexact", ...BITEXACT, out],
  ];
}
