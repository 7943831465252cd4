/**
 * A small but real multimodal demo dataset, generated from a seed: mp4 clips
 * of a coloured shape moving left or right over a noisy background, a sound
 * per clip whose pitch encodes the colour and whose sweep encodes the
 * direction (WAV, FLAC, MP3, Ogg Vorbis, Opus, or the mp4's own AAC track),
 * 3–5 paraphrased captions per clip, and a class label, listed in
 * `manifest.jsonl` (`{id, video, audio?, captions, label}`, paths relative to
 * the folder) with `classes.txt`.
 *
 * The same seed and options give the same manifest and the same raw frames
 * and samples. The folder appears only when complete: clips are written to a
 * hidden sibling folder that is renamed at the end (moved file by file into a
 * non-empty folder with `force`, `manifest.jsonl` last). `demo-data.json`
 * lists the files written: `force` replaces those, never anything else.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { ffmpegPath } from "../data/media/ffmpeg_path.ts";
import { checkInteger, checkNumber } from "../config/validate.ts";
import { demoClassNames, type DemoClipSpec } from "./_spec.ts";
import { planDemoClipSpecs } from "./_plan.ts";
import { encodeWav16, float32LeBytes, synthesizeClipAudio } from "./_audio.ts";
import { renderClipFrames } from "./_render.ts";
import { audioArgs, COMPRESSED_AUDIO, runFfmpeg, videoArgs } from "./_encode.ts";
import { moveInto, OWNED_FILE, ownedRecord } from "./_owned.ts";

export {
  DEMO_AUDIO_FORMATS,
  DEMO_COLOURS,
  DEMO_HUES,
  DEMO_MOTIONS,
  DEMO_PITCHES,
  DEMO_SHAPES,
  demoClassNames,
} from "./_spec.ts";
export type {
  DemoAudioFormat,
  DemoAudioParams,
  DemoClipSpec,
  DemoColour,
  DemoDistractor,
  DemoMotion,
  DemoShape,
  DemoVideoParams,
} from "./_spec.ts";
export { synthesizeClipAudio } from "./_audio.ts";
export { renderClipFrames, shapeCentre } from "./_render.ts";

/** Options of {@linkcode generateDemoData}. */
export interface DemoDataOptions {
  /** Number of clips (classes are balanced over them). */
  clips: number;
  /** Seed of every random choice. */
  seed: number;
  /** ffmpeg binary; default: {@linkcode ffmpegPath} (`VATT_FFMPEG` or the bundled one). */
  ffmpeg?: string;
  /** Frame width, pixels (even, 32–1024). */
  width: number;
  /** Frame height, pixels (even, 32–1024). */
  height: number;
  /** Clip length, seconds (1–60). */
  seconds: number;
  /** Frames per second (integer, 1–60). */
  fps: number;
  /** Audio sample rate, Hz: 8000, 12000, 16000, 24000 or 48000 (rates Opus accepts). */
  sampleRate: number;
  /** ffmpeg processes run at once. */
  concurrency: number;
  /** Replace a non-empty `outDir` instead of refusing it. */
  force: boolean;
  /** Called after each finished clip with (clips done, clips in all). */
  onProgress?: (done: number, total: number) => void;
}

/** Defaults of {@linkcode DemoDataOptions}: 96 clips of 5 s, 128×96 at 15 fps, 16 kHz sound. */
export const DEFAULT_DEMO_DATA_OPTIONS: Readonly<DemoDataOptions> = {
  clips: 96,
  seed: 0,
  width: 128,
  height: 96,
  seconds: 5,
  fps: 15,
  sampleRate: 16000,
  concurrency: 2,
  force: false,
};

/** What {@linkcode generateDemoData} wrote. */
export interface DemoDataResult {
  /** Path of `manifest.jsonl` inside the output folder. */
  manifestPath: string;
  /** Number of clips written. */
  clips: number;
  /** Class names in label order (also in `classes.txt`). */
  classes: string[];
}

/** One row of the demo `manifest.jsonl`. */
export interface DemoManifestRow {
  /** Clip id. */
  id: string;
  /** Path of the mp4, relative to the folder. */
  video: string;
  /** Path of the separate sound file, relative to the folder; absent when the sound is the mp4's own track. */
  audio?: string;
  /** 3–5 captions. */
  captions: string[];
  /** Class name. */
  label: string;
}

const SAMPLE_RATES = [8000, 12000, 16000, 24000, 48000];

/**
 * Merges `partial` with {@linkcode DEFAULT_DEMO_DATA_OPTIONS} and validates it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveDemoDataOptions } from "./demo_data.ts";
 * assert.equal(resolveDemoDataOptions({ clips: 8 }).width, 128);
 * assert.throws(() => resolveDemoDataOptions({ width: 33 }), RangeError);
 * ```
 */
export function resolveDemoDataOptions(partial: Partial<DemoDataOptions> = {}): DemoDataOptions {
  const defined = Object.fromEntries(
    Object.entries(partial).filter(([, v]) => v !== undefined),
  ) as Partial<DemoDataOptions>;
  const o: DemoDataOptions = { ...DEFAULT_DEMO_DATA_OPTIONS, ...defined };
  checkInteger(o.clips, "clips", { min: 1, max: 1_000_000 });
  checkInteger(o.seed, "seed");
  checkInteger(o.width, "width", { min: 32, max: 1024 });
  checkInteger(o.height, "height", { min: 32, max: 1024 });
  if (o.width % 2 || o.height % 2) {
    throw new RangeError(
      `Cannot generate demo data: H.264 needs an even frame size, got ${o.width}×${o.height}`,
    );
  }
  checkInteger(o.fps, "fps", { min: 1, max: 60 });
  checkNumber(o.seconds, "seconds", { min: 1, max: 60 });
  if (!SAMPLE_RATES.includes(o.sampleRate)) {
    throw new RangeError(
      `Cannot generate demo data: sampleRate ${o.sampleRate} is not one of ${
        SAMPLE_RATES.join(", ")
      }`,
    );
  }
  checkInteger(o.concurrency, "concurrency", { min: 1, max: 64 });
  return o;
}

/**
 * Plans every clip (no files): what {@linkcode generateDemoData} would render,
 * synthesise and caption for these options. Pure and deterministic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planDemoClips, renderClipFrames, synthesizeClipAudio } from "./demo_data.ts";
 * const specs = planDemoClips({ clips: 2, seconds: 1, width: 64, height: 48 });
 * assert.equal(specs[0].id, "clip-00000");
 * assert.ok(specs[0].captions.length >= 3);
 * assert.equal(renderClipFrames(specs[0]).length, 15 * 48 * 64 * 3);
 * assert.equal(synthesizeClipAudio(specs[0]).length, 16000);
 * ```
 */
export function planDemoClips(options: Partial<DemoDataOptions> = {}): DemoClipSpec[] {
  const o = resolveDemoDataOptions(options);
  return planDemoClipSpecs(o);
}

/** Relative paths of a clip's files. */
function clipPaths(spec: DemoClipSpec): { video: string; audio?: string } {
  const video = `video/${spec.id}.mp4`;
  if (spec.audioFormat === "mp4") return { video };
  const ext = spec.audioFormat === "wav" ? "wav" : COMPRESSED_AUDIO[spec.audioFormat].ext;
  return { video, audio: `audio/${spec.id}.${ext}` };
}

/** Renders, synthesises and encodes one clip into `root`. */
async function writeClip(spec: DemoClipSpec, root: string, ffmpeg: string): Promise<void> {
  const paths = clipPaths(spec);
  const samples = synthesizeClipAudio(spec);
  const frames = renderClipFrames(spec);
  const encode = {
    width: spec.width,
    height: spec.height,
    fps: spec.fps,
    sampleRate: spec.sampleRate,
  };
  if (spec.audioFormat === "mp4") {
    const raw = join(root, ".work", `${spec.id}.f32`);
    await Deno.writeFile(raw, float32LeBytes(samples));
    await runFfmpeg(
      ffmpeg,
      videoArgs(join(root, paths.video), { ...encode, audioFile: raw }),
      frames,
      `${spec.id} video`,
    );
    await Deno.remove(raw);
    return;
  }
  await runFfmpeg(ffmpeg, videoArgs(join(root, paths.video), encode), frames, `${spec.id} video`);
  const audioOut = join(root, paths.audio!);
  if (spec.audioFormat === "wav") {
    await Deno.writeFile(audioOut, encodeWav16(samples, spec.sampleRate));
  } else {
    await runFfmpeg(
      ffmpeg,
      audioArgs(audioOut, spec.audioFormat, spec.sampleRate),
      float32LeBytes(samples),
      `${spec.id} audio`,
    );
  }
}

/** Whether `path` exists; throws a RangeError when it is a non-empty folder or not a folder. */
async function checkOutDir(path: string, force: boolean): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  if (!info.isDirectory) {
    throw new RangeError(`Cannot generate demo data into ${path}: it exists and is not a folder`);
  }
  if (!force) {
    for await (const _ of Deno.readDir(path)) {
      throw new RangeError(
        `Cannot generate demo data into ${path}: the folder is not empty (pass force to replace it)`,
      );
    }
  }
  return true;
}

/**
 * Generates the demo dataset into `outDir` (which must be absent or empty,
 * unless `options.force`) and returns where its manifest is. The files it
 * writes are listed in `demo-data.json`; with `force`, a non-empty folder
 * keeps every other file: only the files an earlier run listed there and the
 * names this run writes are replaced (never a device, FIFO or socket).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDemoData } from "./demo_data.ts";
 * const dir = await Deno.makeTempDir();
 * const out = `${dir}/demo`;
 * const { manifestPath, clips, classes } = await generateDemoData(out, { clips: 2, seconds: 1 });
 * assert.equal(clips, 2);
 * assert.equal(classes.length, 8);
 * const rows = (await Deno.readTextFile(manifestPath)).trim().split("\n").map((l) => JSON.parse(l));
 * assert.equal(rows.length, 2);
 * assert.equal(rows[0].video, "video/clip-00000.mp4");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function generateDemoData(
  outDir: string,
  options: Partial<DemoDataOptions> = {},
): Promise<DemoDataResult> {
  if (typeof outDir !== "string" || outDir === "") {
    throw new TypeError(`Cannot generate demo data: outDir must be a folder path, got ${outDir}`);
  }
  const o = resolveDemoDataOptions(options);
  const ffmpeg = ffmpegPath({ override: o.ffmpeg });
  const specs = planDemoClipSpecs(o);
  const classes = demoClassNames();
  await checkOutDir(outDir, o.force);

  const target = resolve(outDir);
  const parent = dirname(target);
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: `.${basename(target)}.partial-` });
  try {
    for (const sub of ["video", "audio", ".work"]) await Deno.mkdir(join(tmp, sub));
    await writeAllClips(specs, tmp, ffmpeg, o);
    await Deno.remove(join(tmp, ".work"), { recursive: true });

    const rows = specs.map((spec): DemoManifestRow => {
      const paths = clipPaths(spec);
      return {
        id: spec.id,
        video: paths.video,
        ...(paths.audio ? { audio: paths.audio } : {}),
        captions: spec.captions,
        label: spec.label,
      };
    });
    await Deno.writeTextFile(
      join(tmp, "manifest.jsonl"),
      rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
    await Deno.writeTextFile(join(tmp, "classes.txt"), classes.join("\n") + "\n");
    const files = [
      ...rows.flatMap((r) => r.audio ? [r.video, r.audio] : [r.video]),
      "classes.txt",
      "manifest.jsonl",
    ];
    await Deno.writeTextFile(join(tmp, OWNED_FILE), ownedRecord(files));
    await swapInto(tmp, target, outDir, o.force, files);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  return { manifestPath: join(outDir, "manifest.jsonl"), clips: specs.length, classes };
}

/** Renders and encodes every clip into `tmp`, `o.concurrency` at a time. */
async function writeAllClips(
  specs: DemoClipSpec[],
  tmp: string,
  ffmpeg: string,
  o: DemoDataOptions,
): Promise<void> {
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < specs.length) {
      const spec = specs[next++];
      try {
        await writeClip(spec, tmp, ffmpeg);
      } catch (e) {
        failed = true;
        throw e;
      }
      done++;
      o.onProgress?.(done, specs.length);
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(o.concurrency, specs.length) }, worker),
  );
  const failure = results.find((r) => r.status === "rejected");
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

/**
 * Puts the finished folder `tmp` in place: renamed to `target` when that is
 * absent or empty, else (force) its files moved into `target`, replacing
 * only what demo-data owns there.
 */
async function swapInto(
  tmp: string,
  target: string,
  outDir: string,
  force: boolean,
  files: string[],
): Promise<void> {
  const exists = await checkOutDir(outDir, force);
  let empty = true;
  if (exists) { for await (const _ of Deno.readDir(target)) empty = false; }
  if (!empty) {
    await moveInto(tmp, target, files);
    await Deno.remove(tmp, { recursive: true });
    return;
  }
  if (exists) await Deno.remove(target); // an empty folder
  await Deno.rename(tmp, target);
}
