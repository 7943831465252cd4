/**
 * Synthesises the sound of a planned demo clip (a tone whose pitch encodes the
 * colour and whose sweep encodes the direction, with random timbre, beeping,
 * level and background noise) and writes 16-bit WAV files.
 *
 * Private to `lib/demo/`.
 *
 * @module
 */
import { Rng } from "../util/rng.ts";
import type { DemoClipSpec } from "./_spec.ts";

/**
 * The clip's sound: mono float samples in [-1, 1], `round(seconds × sampleRate)` long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planDemoClipSpecs } from "./_plan.ts";
 * import { synthesizeClipAudio } from "./_audio.ts";
 * const [spec] = planDemoClipSpecs({ clips: 1, seed: 0, width: 64, height: 48, seconds: 1, fps: 10, sampleRate: 16000 });
 * const samples = synthesizeClipAudio(spec);
 * assert.equal(samples.length, 16000);
 * ```
 */
export function synthesizeClipAudio(spec: DemoClipSpec): Float32Array {
  const a = spec.audio;
  const sr = spec.sampleRate;
  const n = Math.round(spec.seconds * sr);
  const out = new Float32Array(n);
  const rng = new Rng(a.noiseSeed);
  const norm = a.harmonics.reduce((s, h) => s + h, 0);
  const fade = Math.max(1, Math.round(0.03 * sr));
  const ramp = 0.01 * a.pulseHz; // 10 ms edges, in beep periods
  const noiseGain = a.noiseSmoothing > 0
    ? Math.sqrt((1 + a.noiseSmoothing) / (1 - a.noiseSmoothing))
    : 1;
  let phase = 0;
  let lowpassed = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const u = t / spec.seconds;
    const f = a.f0 * 2 ** (a.sweepOctaves * (u - 0.5));
    phase += (2 * Math.PI * f) / sr;
    let tone = 0;
    for (let k = 0; k < a.harmonics.length; k++) {
      if ((k + 1) * f < 0.45 * sr) tone += a.harmonics[k] * Math.sin((k + 1) * phase + a.phases[k]);
    }
    let env = 1;
    if (a.pulseHz > 0) {
      const p = (t * a.pulseHz + a.pulsePhase) % 1;
      env = p < a.pulseDuty ? Math.min(1, p / ramp, (a.pulseDuty - p) / ramp) : 0;
    }
    const edge = Math.min(1, i / fade, (n - 1 - i) / fade);
    // Uniform noise with unit variance, optionally smoothed (variance restored by noiseGain).
    const white = (rng.nextFloat() - 0.5) * Math.sqrt(12);
    lowpassed = a.noiseSmoothing * lowpassed + (1 - a.noiseSmoothing) * white;
    const noise = a.noiseSmoothing > 0 ? lowpassed * noiseGain : white;
    const value = (a.level * env * edge * tone) / norm + a.noiseLevel * noise;
    out[i] = value < -1 ? -1 : value > 1 ? 1 : value;
  }
  return out;
}

/**
 * Mono float samples as a 16-bit PCM WAV file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWav16 } from "./_audio.ts";
 * const bytes = encodeWav16(new Float32Array([0, 0.5, -1]), 16000);
 * assert.equal(bytes.length, 44 + 6);
 * assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "RIFF");
 * ```
 */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + 2 * i, Math.round(s * 32767), true);
  }
  return bytes;
}

/**
 * Mono float samples as raw little-endian f32 bytes (ffmpeg's `-f f32le`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float32LeBytes } from "./_audio.ts";
 * assert.equal(float32LeBytes(new Float32Array([1, 2])).length, 8);
 * ```
 */
export function float32LeBytes(samples: Float32Array): Uint8Array {
  const bytes = new Uint8Array(samples.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) view.setFloat32(4 * i, samples[i], true);
  return bytes;
}
