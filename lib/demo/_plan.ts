/**
 * The plan of one synthetic demo clip: every random choice (class, shape,
 * trajectory, background, sound, captions) is drawn here from the seeded
 * {@linkcode Rng}, so rendering and synthesis are pure functions of the plan.
 *
 * Private to `lib/demo/`: the public API is `demo_data.ts`.
 *
 * @module
 */
import { Rng } from "../util/rng.ts";
import { writeCaptions } from "./_captions.ts";
import {
  DEMO_COLOURS,
  DEMO_HUES,
  DEMO_MOTIONS,
  DEMO_PITCHES,
  DEMO_SHAPES,
  type DemoAudioFormat,
  type DemoAudioParams,
  demoClassNames,
  type DemoClipSpec,
  type DemoColour,
  type DemoDistractor,
  type DemoMotion,
  type DemoPlanSettings,
  type DemoVideoParams,
} from "./_spec.ts";

/**
 * Audio storage by clip index, repeating: mostly WAV, some compressed, some
 * only inside the mp4. Any 8 consecutive clips from index 0 see every kind.
 */
const FORMAT_CYCLE: readonly DemoAudioFormat[] = [
  "wav",
  "flac",
  "wav",
  "mp3",
  "mp4",
  "wav",
  "ogg",
  "opus",
  "wav",
  "wav",
  "flac",
  "wav",
  "wav",
  "mp4",
  "wav",
  "wav",
];

/**
 * Plans every clip of a demo dataset: classes are balanced and shuffled (so
 * the id order says nothing about the class), audio formats cycle by index,
 * and each clip's own choices come from `new Rng(seed).fork("clip-N")`, so a
 * clip does not depend on how many others there are (except for its class).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planDemoClipSpecs } from "./_plan.ts";
 * const s = { clips: 4, seed: 1, width: 64, height: 48, seconds: 2, fps: 10, sampleRate: 16000 };
 * const a = planDemoClipSpecs(s);
 * assert.equal(a.length, 4);
 * assert.equal(JSON.stringify(a), JSON.stringify(planDemoClipSpecs(s)));
 * ```
 */
export function planDemoClipSpecs(settings: DemoPlanSettings): DemoClipSpec[] {
  const names = demoClassNames();
  const classes = Array.from({ length: settings.clips }, (_, i) => i % names.length);
  new Rng(settings.seed).fork("classes").shuffle(classes);
  return classes.map((classIndex, index) => planClip(settings, index, classIndex));
}

function planClip(s: DemoPlanSettings, index: number, classIndex: number): DemoClipSpec {
  const colour = DEMO_COLOURS[Math.floor(classIndex / DEMO_MOTIONS.length)];
  const motion = DEMO_MOTIONS[classIndex % DEMO_MOTIONS.length];
  const rng = new Rng(s.seed).fork(`clip-${index}`);
  const videoRng = rng.fork("video");
  const audioRng = rng.fork("audio");
  const captionRng = rng.fork("captions");

  const shape = DEMO_SHAPES[videoRng.nextInt(DEMO_SHAPES.length)];
  const sizeU = videoRng.nextFloat();
  const speedU = videoRng.nextFloat();
  const video = planVideo(s, videoRng, colour, motion, sizeU, speedU);
  const audio = planAudio(audioRng, colour, motion, sizeU, speedU);
  const size = sizeU < 1 / 3 ? "small" : sizeU < 2 / 3 ? "medium" : "large";
  const speed = speedU < 1 / 3 ? "slow" : speedU < 2 / 3 ? "medium" : "fast";
  const spec: DemoClipSpec = {
    id: `clip-${String(index).padStart(5, "0")}`,
    index,
    label: `${colour} moving ${motion}`,
    classIndex,
    colour,
    motion,
    shape,
    size,
    speed,
    audioFormat: FORMAT_CYCLE[index % FORMAT_CYCLE.length],
    width: s.width,
    height: s.height,
    fps: s.fps,
    frames: Math.round(s.seconds * s.fps),
    seconds: s.seconds,
    sampleRate: s.sampleRate,
    video,
    audio,
    captions: [],
  };
  spec.captions = writeCaptions(spec, captionRng);
  return spec;
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.nextFloat();
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * HSV (hue in degrees, s and v in 0–1) to RGB in 0–255.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hsvToRgb } from "./_plan.ts";
 * assert.equal(hsvToRgb(120, 1, 1).join(), "0,255,0");
 * ```
 */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const [r, g, b] = hh < 1
    ? [c, x, 0]
    : hh < 2
    ? [x, c, 0]
    : hh < 3
    ? [0, c, x]
    : hh < 4
    ? [0, x, c]
    : hh < 5
    ? [x, 0, c]
    : [c, 0, x];
  const m = v - c;
  return [
    Math.round((r + m) * 255),
    Math.round((g + m) * 255),
    Math.round((b + m) * 255),
  ];
}

function planVideo(
  s: DemoPlanSettings,
  rng: Rng,
  colour: DemoColour,
  motion: DemoMotion,
  sizeU: number,
  speedU: number,
): DemoVideoParams {
  const { width: w, height: h, seconds } = s;
  const minDim = Math.min(w, h);
  const radius = minDim * (0.09 + 0.09 * sizeU);
  const margin = radius + 2;
  const travel = w * (0.35 + 0.3 * speedU);
  const room = Math.max(0, w - 2 * margin - travel);
  const start = margin + room * rng.nextFloat();
  const dir = motion === "right" ? 1 : -1;
  const x0 = dir > 0 ? start : w - start;
  const y0 = margin + Math.max(0, h - 2 * margin) * rng.nextFloat();
  const y1 = clamp(y0 + 0.1 * h * rng.normal(), margin, Math.max(margin, h - margin));
  const rgb = hsvToRgb(
    DEMO_HUES[colour] + uniform(rng, -10, 10),
    uniform(rng, 0.75, 1),
    uniform(rng, 0.78, 1),
  );
  const gradAngle = uniform(rng, 0, 2 * Math.PI);
  const gradSpan = uniform(rng, 0, 40) / Math.max(w, h);
  const distractors: DemoDistractor[] = [];
  const count = rng.nextInt(3);
  for (let i = 0; i < count; i++) {
    distractors.push({
      shape: DEMO_SHAPES[rng.nextInt(DEMO_SHAPES.length)],
      rgb: hsvToRgb(uniform(rng, 0, 360), uniform(rng, 0, 0.1), uniform(rng, 0.25, 0.85)),
      radius: minDim * uniform(rng, 0.05, 0.12),
      x0: uniform(rng, 0, w),
      y0: uniform(rng, 0, h),
      vx: (0.04 * w * rng.normal()) / seconds,
      vy: ((rng.nextFloat() < 0.5 ? -1 : 1) * uniform(rng, 0.15, 0.5) * h) / seconds,
      rotation: uniform(rng, 0, 2 * Math.PI),
    });
  }
  return {
    rgb,
    radius,
    rotation: uniform(rng, 0, 2 * Math.PI),
    x0,
    y0,
    vx: (dir * travel) / seconds,
    vy: (y1 - y0) / seconds,
    bobAmplitude: uniform(rng, 0, 0.04 * h),
    bobHz: uniform(rng, 0.2, 1),
    bobPhase: uniform(rng, 0, 2 * Math.PI),
    backgroundRgb: hsvToRgb(
      uniform(rng, 0, 360),
      uniform(rng, 0.03, 0.22),
      uniform(rng, 0.2, 0.55),
    ),
    gradient: [gradSpan * Math.cos(gradAngle), gradSpan * Math.sin(gradAngle)],
    blotchAmplitude: uniform(rng, 0, 25),
    blotchCell: uniform(rng, 8, 24),
    grain: uniform(rng, 2, 8),
    temporalNoise: uniform(rng, 0, 4),
    flickerAmplitude: uniform(rng, 0, 6),
    flickerHz: uniform(rng, 0.3, 2),
    distractors,
    noiseSeed: rng.nextUint32(),
  };
}

function planAudio(
  rng: Rng,
  colour: DemoColour,
  motion: DemoMotion,
  sizeU: number,
  speedU: number,
): DemoAudioParams {
  const dir = motion === "right" ? 1 : -1;
  const pulsed = rng.nextFloat() < 0.5;
  return {
    f0: DEMO_PITCHES[colour] * 2 ** uniform(rng, -0.08, 0.08),
    // Faster shapes sweep further: the sound also carries the speed.
    sweepOctaves: dir * (0.35 + 0.35 * speedU + uniform(rng, -0.05, 0.05)),
    harmonics: [1, uniform(rng, 0, 0.5), uniform(rng, 0, 0.35)],
    phases: [0, 1, 2].map(() => uniform(rng, 0, 2 * Math.PI)),
    pulseHz: pulsed ? uniform(rng, 2, 6) : 0,
    pulseDuty: uniform(rng, 0.4, 0.8),
    pulsePhase: rng.nextFloat(),
    // Larger shapes are louder.
    level: clamp(0.15 + 0.25 * sizeU + uniform(rng, -0.04, 0.04), 0.1, 0.45),
    noiseLevel: uniform(rng, 0.01, 0.06),
    noiseSmoothing: rng.nextFloat() < 0.5 ? 0 : uniform(rng, 0.5, 0.95),
    noiseSeed: rng.nextUint32(),
  };
}
