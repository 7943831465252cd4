/**
 * What a synthetic demo clip is made of: the colours, directions, shapes and
 * audio storages it can have, and the JSON-serialisable plan of one clip that
 * rendering, sound synthesis and captioning read.
 *
 * Private to `lib/demo/`: the public API is `demo_data.ts`.
 *
 * @module
 */

/** Colours of the moving shape; each colour also has its own pitch in the sound. */
export const DEMO_COLOURS = ["red", "green", "blue", "yellow"] as const;
/** Directions of the moving shape; each also has its own pitch sweep in the sound. */
export const DEMO_MOTIONS = ["left", "right"] as const;
/** Shapes: a nuisance factor for the class, but named in the captions. */
export const DEMO_SHAPES = ["circle", "square", "triangle"] as const;
/** Where a clip's sound is stored: a separate file of that format, or the mp4's own track. */
export const DEMO_AUDIO_FORMATS = ["wav", "flac", "mp3", "ogg", "opus", "mp4"] as const;

/** A colour of {@linkcode DEMO_COLOURS}. */
export type DemoColour = typeof DEMO_COLOURS[number];
/** A direction of {@linkcode DEMO_MOTIONS}. */
export type DemoMotion = typeof DEMO_MOTIONS[number];
/** A shape of {@linkcode DEMO_SHAPES}. */
export type DemoShape = typeof DEMO_SHAPES[number];
/** A storage of {@linkcode DEMO_AUDIO_FORMATS}. */
export type DemoAudioFormat = typeof DEMO_AUDIO_FORMATS[number];

/** Nominal hue (degrees) of each colour; clips jitter it by up to ±10°. */
export const DEMO_HUES: Readonly<Record<DemoColour, number>> = {
  red: 0,
  yellow: 55,
  green: 120,
  blue: 225,
};

/** Nominal pitch (Hz, at the middle of the clip) of each colour; clips jitter it by ±0.08 octave. */
export const DEMO_PITCHES: Readonly<Record<DemoColour, number>> = {
  red: 220,
  green: 440,
  blue: 880,
  yellow: 1760,
};

/** A grey shape that moves mostly vertically: it is there so the coloured shape is not the only thing moving. */
export interface DemoDistractor {
  /** Its shape. */
  shape: DemoShape;
  /** Its colour, RGB in 0–255 (low saturation). */
  rgb: [number, number, number];
  /** Radius in pixels. */
  radius: number;
  /** Centre at time 0, pixels. */
  x0: number;
  /** Centre at time 0, pixels. */
  y0: number;
  /** Velocity, pixels per second. */
  vx: number;
  /** Velocity, pixels per second. */
  vy: number;
  /** Rotation, radians. */
  rotation: number;
}

/** Everything {@linkcode renderClipFrames} needs besides the clip size. */
export interface DemoVideoParams {
  /** Colour of the moving shape, RGB in 0–255. */
  rgb: [number, number, number];
  /** Radius of the shape in pixels. */
  radius: number;
  /** Rotation of the shape, radians. */
  rotation: number;
  /** Centre at time 0, pixels. */
  x0: number;
  /** Centre at time 0, pixels. */
  y0: number;
  /** Velocity, pixels per second (its sign is the class's direction). */
  vx: number;
  /** Vertical drift, pixels per second. */
  vy: number;
  /** Vertical bobbing amplitude, pixels. */
  bobAmplitude: number;
  /** Bobbing frequency, Hz. */
  bobHz: number;
  /** Bobbing phase, radians. */
  bobPhase: number;
  /** Background tint, RGB in 0–255. */
  backgroundRgb: [number, number, number];
  /** Background brightness gradient, levels per pixel along x and y. */
  gradient: [number, number];
  /** Amplitude (levels) of the smooth blotches in the background. */
  blotchAmplitude: number;
  /** Size of a blotch cell, pixels. */
  blotchCell: number;
  /** Standard deviation (levels) of the fixed per-pixel grain. */
  grain: number;
  /** Standard deviation (levels) of the noise redrawn every frame. */
  temporalNoise: number;
  /** Amplitude (levels) of a global brightness flicker. */
  flickerAmplitude: number;
  /** Flicker frequency, Hz. */
  flickerHz: number;
  /** Grey distractor shapes, drawn under the main one. */
  distractors: DemoDistractor[];
  /** Seed of the background grain and per-frame noise. */
  noiseSeed: number;
}

/** Everything {@linkcode synthesizeClipAudio} needs besides the length and rate. */
export interface DemoAudioParams {
  /** Pitch at the middle of the clip, Hz (encodes the colour). */
  f0: number;
  /** Pitch change over the whole clip, octaves: positive rises (moving right), negative falls (left). */
  sweepOctaves: number;
  /** Amplitudes of harmonics 1, 2, 3 (the first is 1). */
  harmonics: number[];
  /** Starting phases of the harmonics, radians. */
  phases: number[];
  /** Beeps per second; 0 for a continuous tone. */
  pulseHz: number;
  /** Fraction of each beep period that sounds. */
  pulseDuty: number;
  /** Phase of the beeps, in periods. */
  pulsePhase: number;
  /** Peak level of the tone, 0–1 (larger shapes are louder). */
  level: number;
  /** RMS level of the background noise. */
  noiseLevel: number;
  /** One-pole smoothing of the noise in [0, 1): 0 is white, near 1 is a low rumble. */
  noiseSmoothing: number;
  /** Seed of the noise. */
  noiseSeed: number;
}

/** The complete, JSON-serialisable description of one demo clip. */
export interface DemoClipSpec {
  /** Clip id, e.g. `clip-00007`. */
  id: string;
  /** Position of the clip in the dataset. */
  index: number;
  /** Class name, e.g. `red moving left`. */
  label: string;
  /** Index of the class in {@linkcode demoClassNames}. */
  classIndex: number;
  /** Colour of the moving shape. */
  colour: DemoColour;
  /** Direction of the moving shape. */
  motion: DemoMotion;
  /** Shape of the moving object. */
  shape: DemoShape;
  /** Size of the shape, in words. */
  size: "small" | "medium" | "large";
  /** Speed of the shape, in words. */
  speed: "slow" | "medium" | "fast";
  /** Where the sound is stored. */
  audioFormat: DemoAudioFormat;
  /** Frame width, pixels. */
  width: number;
  /** Frame height, pixels. */
  height: number;
  /** Frames per second. */
  fps: number;
  /** Number of frames. */
  frames: number;
  /** Duration, seconds. */
  seconds: number;
  /** Audio sample rate, Hz. */
  sampleRate: number;
  /** Picture parameters. */
  video: DemoVideoParams;
  /** Sound parameters. */
  audio: DemoAudioParams;
  /** 3–5 different captions naming the colour, shape and motion (sometimes the sound). */
  captions: string[];
}

/** The sizes and seed shared by every clip of a plan. */
export interface DemoPlanSettings {
  /** Number of clips. */
  clips: number;
  /** Seed of every random choice. */
  seed: number;
  /** Frame width, pixels (even). */
  width: number;
  /** Frame height, pixels (even). */
  height: number;
  /** Clip length, seconds. */
  seconds: number;
  /** Frames per second. */
  fps: number;
  /** Audio sample rate, Hz. */
  sampleRate: number;
}

/**
 * The class names, in label order: every colour × direction, e.g. `red moving left`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { demoClassNames } from "./_spec.ts";
 * assert.equal(demoClassNames().length, 8);
 * assert.equal(demoClassNames()[0], "red moving left");
 * ```
 */
export function demoClassNames(): string[] {
  return DEMO_COLOURS.flatMap((c) => DEMO_MOTIONS.map((m) => `${c} moving ${m}`));
}
