/**
 * Test helpers for the audio decoders: fixtures made at test time with the
 * bundled ffmpeg, and signal measurements (frequency, amplitude).
 *
 * @module
 */
import { ffmpegPath } from "../../../lib/data/media/ffmpeg_path.ts";

/** Amplitude of ffmpeg's `sine` source. */
export const SINE_AMPLITUDE = 1 / 8;

/** Runs ffmpeg with `args` and fails the test on a non-zero exit. */
export async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command(ffmpegPath(), {
    args: ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`ffmpeg ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** What tone file to make. */
export interface ToneSpec {
  /** One frequency per channel (Hz). */
  freqs: number[];
  /** Sample rate of the source (Hz). */
  rate: number;
  /** Seconds. */
  seconds: number;
  /** Encoder arguments, e.g. `["-c:a", "pcm_s16le"]`. */
  codec: string[];
}

/** Writes a tone file to `path` with ffmpeg: channel c is a sine at `freqs[c]`. */
export async function makeTone(path: string, spec: ToneSpec): Promise<string> {
  const inputs = spec.freqs.flatMap((f) => [
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=${f}:sample_rate=${spec.rate}:duration=${spec.seconds}`,
  ]);
  const n = spec.freqs.length;
  const mix = n === 1 ? [] : [
    "-filter_complex",
    `${spec.freqs.map((_, i) => `[${i}:a]`).join("")}amerge=inputs=${n}`,
  ];
  await ffmpeg([...inputs, ...mix, ...spec.codec, path]);
  return path;
}

/**
 * Estimates the frequency of a tone (Hz) from its upward zero crossings,
 * interpolated between samples, with hysteresis against codec noise. The first
 * and last `skip` samples are ignored (codec fade-in and padding).
 */
export function toneFrequency(x: Float32Array, rate: number, skip = Math.round(rate / 50)): number {
  let peak = 0;
  for (let i = skip; i < x.length - skip; i++) peak = Math.max(peak, Math.abs(x[i]));
  const low = -0.3 * peak;
  let armed = false;
  let first = -1, last = -1, count = 0;
  for (let i = skip + 1; i < x.length - skip; i++) {
    if (x[i] < low) armed = true;
    if (armed && x[i - 1] < 0 && x[i] >= 0) {
      const t = i - 1 + x[i - 1] / (x[i - 1] - x[i]);
      if (first < 0) first = t;
      last = t;
      count++;
      armed = false;
    }
  }
  if (count < 2) return 0;
  return ((count - 1) / (last - first)) * rate;
}

/** Root mean square of `x` without its first and last `skip` samples. */
export function rms(x: Float32Array, skip = 0): number {
  let sum = 0;
  const n = x.length - 2 * skip;
  for (let i = skip; i < x.length - skip; i++) sum += x[i] * x[i];
  return n > 0 ? Math.sqrt(sum / n) : 0;
}

/** RMS of a sine of amplitude `a`. */
export function sineRms(a: number): number {
  return a / Math.SQRT2;
}

/** A sine tone as a Float32Array. */
export function tone(freq: number, rate: number, length: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length },
    (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate),
  );
}

/** Asserts `actual` is within `fraction` (relative) of `expected`. */
export function assertNear(actual: number, expected: number, fraction: number, what: string): void {
  if (!(Math.abs(actual - expected) <= Math.abs(expected) * fraction)) {
    throw new Error(`${what}: ${actual} is not within ${fraction * 100}% of ${expected}`);
  }
}
