/**
 * Fuzz targets of the media decoders: the in-house WAV reader, the in-process
 * WebAssembly decoders (FLAC, MP3, Ogg Vorbis, Opus) behind
 * `decodeAudioBytes`, `loadAudioWindow` (which falls back to ffmpeg), and
 * video containers through ffmpeg (`decodeVideoClip`, `probeMedia`):
 * mutated, truncated, zero-length and misnamed files.
 *
 * @module
 */
import fc from "fast-check";
import * as path from "node:path";
import { decodeAudioBytes } from "../../lib/data/media/audio_decode.ts";
import { loadAudioWindow } from "../../lib/data/media/audio_load.ts";
import { decodeVideoClip, probeMedia } from "../../lib/data/media/ffmpeg_video.ts";
import { decodeWav } from "../../lib/data/media/wav.ts";
import { applyBytePlan, bytePlan, draw, fraction, INTERESTING_INTS, seedCase } from "./_mutate.ts";
import { caseDir, expect, readSeed, type Target } from "./_target.ts";

function checkChannels(
  a: { sampleRate: number; channels: Float32Array[] },
  maxSamples = Infinity,
): void {
  expect(a.sampleRate > 0 && Number.isFinite(a.sampleRate), `sample rate ${a.sampleRate}`);
  expect(a.channels.length >= 1, "no channels");
  const n = a.channels[0].length;
  expect(a.channels.every((c) => c.length === n), "channels differ in length");
  expect(n <= maxSamples, `${n} samples, more than asked for (${maxSamples})`);
  expect(a.channels.every((c) => c.every(Number.isFinite)), "non-finite sample");
}

/** A made-up RIFF file: chunks with ids and sizes that may lie. */
const riffPlan = fc.record({
  riffSize: fc.oneof(
    fc.constant(-1),
    fc.constantFrom(...INTERESTING_INTS.filter((v) => v < 2n ** 32n)).map(Number),
  ),
  chunks: fc.array(
    fc.record({
      id: fc.oneof(
        fc.constantFrom("fmt ", "data", "LIST", "fact", "JUNK", "data"),
        fc.string({ minLength: 4, maxLength: 4 }),
      ),
      size: fc.oneof(
        fc.constant(-1),
        fc.constantFrom(0, 1, 16, 18, 40, 0x7fffffff, 0xffffffff, 0xfffffffe),
      ),
      body: fc.uint8Array({ maxLength: 64 }),
      fmt: fc.record({
        tag: fc.constantFrom(1, 3, 0xfffe, 2, 6, 0),
        channels: fc.constantFrom(0, 1, 2, 255, 256, 257, 65535),
        rate: fc.constantFrom(0, 1, 8000, 0xffffffff),
        bits: fc.constantFrom(0, 8, 16, 24, 32, 64, 12, 65535),
        align: fc.constantFrom(-1, 0, 1, 3, 65535),
      }),
    }),
    { maxLength: 5 },
  ),
});

function le(value: number, bytes: number): number[] {
  return Array.from({ length: bytes }, (_, i) => Math.floor(value / 2 ** (8 * i)) & 0xff);
}

function buildRiff(p: typeof riffPlan extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  const parts: number[] = [];
  for (const c of p.chunks) {
    const f = c.fmt;
    const body = c.id === "fmt "
      ? [
        ...le(f.tag, 2),
        ...le(f.channels, 2),
        ...le(f.rate, 4),
        ...le(f.rate * 4, 4),
        ...le(f.align < 0 ? f.channels * (f.bits / 8) : f.align, 2),
        ...le(f.bits, 2),
        ...c.body,
      ]
      : [...c.body];
    parts.push(
      ...Array.from({ length: 4 }, (_, k) => c.id.charCodeAt(k) & 0xff),
      ...le(c.size < 0 ? body.length : c.size, 4),
    );
    parts.push(...body);
    if (body.length & 1 && c.size < 0) parts.push(0);
  }
  const size = p.riffSize < 0 ? 4 + parts.length : p.riffSize;
  return new Uint8Array([0x52, 0x49, 0x46, 0x46, ...le(size, 4), 0x57, 0x41, 0x56, 0x45, ...parts]);
}

/** The in-house WAV reader. */
export const wavTarget: Target = {
  name: "wav",
  description: "decodeWav (strict and lenient): mutated WAV files and made-up RIFF chunk lists",
  timeoutMs: 10_000,
  allocLimit: (bytes) => 8 * bytes + (1 << 16),
  cases(ctx, seed, count) {
    const files = ctx.seeds.audio.filter((f) => f.endsWith(".wav"));
    const plans = draw(
      fc.record({
        source: fc.nat(),
        synth: fc.boolean(),
        bp: bytePlan,
        riff: riffPlan,
        strict: fc.boolean(),
      }),
      seed,
      count,
    );
    return async (i) => {
      const { valid, p, file } = seedCase(files, plans, i);
      const bytes = valid
        ? await readSeed(file)
        : p.synth
        ? buildRiff(p.riff)
        : applyBytePlan(await readSeed(file), p.bp, 80);
      const run = () => {
        try {
          checkChannels(decodeWav(bytes, { strict: valid || p.strict }));
        } catch (e) {
          // a μ-law seed is a valid file of a codec the reader does not take
          if (valid && file.endsWith("mulaw.wav") && /unsupported/.test((e as Error).message)) {
            return Promise.resolve();
          }
          throw e;
        }
        return Promise.resolve();
      };
      const input = `${path.basename(file)} ${valid ? "valid" : p.synth ? "synth" : "bytes"}`;
      return { testCase: { input, run, valid }, bytes: bytes.length };
    };
  },
};

/** The in-process decoders (and the ffmpeg fallback of loadAudioWindow). */
export const audioTarget: Target = {
  name: "audio",
  description:
    "decodeAudioBytes (WAV/FLAC/MP3/Ogg Vorbis/Opus, strict or lenient, bounded or not) and loadAudioWindow: mutated and truncated files",
  timeoutMs: 30_000,
  allocLimit: (bytes) => 1024 * bytes + (64 << 20),
  cases(ctx, seed, count) {
    const files = ctx.seeds.audio;
    const plans = draw(
      fc.record({
        source: fc.nat(),
        kind: fc.constantFrom("bytes", "bytes", "bytes", "truncate", "window"),
        bp: bytePlan,
        cut: fraction,
        maxSeconds: fc.constantFrom(undefined, 0.1, 2),
        strict: fc.boolean(),
        start: fc.constantFrom(0, 0.1, 5),
      }),
      seed,
      count,
    );
    return async (i) => {
      const { valid, p, file } = seedCase(files, plans, i);
      const original = await readSeed(file);
      const kind = valid ? "window" : p.kind;
      const bytes = valid
        ? original
        : kind === "truncate"
        ? original.slice(0, Math.floor(p.cut * original.length))
        : applyBytePlan(original, p.bp, 512);
      const run = async () => {
        if (kind === "window") {
          const dir = await caseDir(ctx);
          const target = path.join(dir, `x${path.extname(file)}`);
          await Deno.writeFile(target, bytes);
          const start = valid ? 0 : p.start;
          const w = await loadAudioWindow(target, {
            sampleRate: 8000,
            start,
            seconds: 0.25,
            timeoutMs: 20_000,
          });
          expect(w.samples.length === 2000, "window length");
          expect(w.validSamples >= 0 && w.validSamples <= 2000, "valid samples");
          expect(w.samples.every(Number.isFinite), "non-finite sample");
          return;
        }
        const a = await decodeAudioBytes(bytes, { maxSeconds: p.maxSeconds, strict: p.strict });
        checkChannels(
          a,
          p.maxSeconds === undefined ? Infinity : Math.ceil(p.maxSeconds * a.sampleRate) + 1,
        );
      };
      return {
        testCase: { input: `${path.basename(file)} ${valid ? "valid" : kind}`, run, valid },
        bytes: bytes.length,
      };
    };
  },
};

/** Video containers through ffmpeg. */
export const videoTarget: Target = {
  name: "video",
  description:
    "decodeVideoClip / probeMedia through ffmpeg: mutated, truncated, zero-length and misnamed containers",
  timeoutMs: 40_000,
  allocLimit: (bytes) => 16 * bytes + (64 << 20),
  cases(ctx, seed, count) {
    const files = ctx.seeds.video;
    const plans = draw(
      fc.record({
        source: fc.nat(),
        kind: fc.constantFrom(
          "bytes",
          "bytes",
          "truncate",
          "truncate",
          "empty",
          "rename",
          "garbage",
        ),
        bp: bytePlan,
        cut: fraction,
        ext: fc.constantFrom(".avi", ".wav", ".txt", ".mp4", ".mkv", ""),
        probe: fc.boolean(),
        start: fc.constantFrom(0, 0, 0.2, 100),
        garbage: fc.uint8Array({ minLength: 1, maxLength: 2048 }),
      }),
      seed,
      count,
    );
    return async (i) => {
      const { valid, p, file } = seedCase(files, plans, i);
      const original = await readSeed(file);
      const kind = valid ? "valid" : p.kind;
      const bytes = kind === "valid" || kind === "rename"
        ? original
        : kind === "truncate"
        ? original.slice(0, Math.floor(p.cut * original.length))
        : kind === "empty"
        ? new Uint8Array()
        : kind === "garbage"
        ? p.garbage
        : applyBytePlan(original, p.bp, 1024);
      const ext = kind === "valid"
        ? path.extname(file)
        : kind === "rename"
        ? p.ext
        : path.extname(file);
      const run = async () => {
        const dir = await caseDir(ctx);
        const target = path.join(dir, `-clip${ext}`); // a name that looks like an ffmpeg option
        await Deno.writeFile(target, bytes);
        if (p.probe && !valid) {
          const info = await probeMedia(target, { timeoutMs: 30_000 });
          expect(
            typeof info.hasVideo === "boolean" && typeof info.hasAudio === "boolean",
            "probe result",
          );
          return;
        }
        const clip = await decodeVideoClip(target, {
          frames: 4,
          fps: 5,
          size: 16,
          start: valid ? 0 : p.start,
          timeoutMs: 30_000,
        });
        expect(clip.data.length === 4 * 16 * 16 * 3, "clip length");
        expect(clip.validFrames >= 0 && clip.validFrames <= 4, "valid frames");
        if (valid) expect(clip.validFrames >= 1, "a valid clip decoded no frame");
      };
      return {
        testCase: {
          input: `${path.basename(file)} ${kind}${
            kind === "rename" ? ` as ${ext || "(none)"}` : ""
          }`,
          run,
          valid,
        },
        bytes: bytes.length,
      };
    };
  },
};
