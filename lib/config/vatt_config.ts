/**
 * The one typed configuration of a VATT model: inputs, backbones, heads and
 * DropToken, with presets and a validating resolver.
 *
 * @module
 */

/** Names of the built-in presets. */
export type PresetName = "tiny" | "small" | "base" | "medium" | "large";

/** The sizes of one transformer encoder. */
export interface BackboneConfig {
  /** Number of encoder layers. */
  layers: number;
  /** Model width `d` (token dimension). */
  hidden: number;
  /** Width of the MLP's inner layer. */
  mlp: number;
  /** Attention heads; must divide `hidden`. */
  heads: number;
}

/** Video input and its tokenizer. */
export interface VideoConfig {
  /** Frames per clip `T`. */
  frames: number;
  /** Frame height `H` in pixels. */
  height: number;
  /** Frame width `W` in pixels. */
  width: number;
  /** Voxel patch `[t, h, w]`: frames × pixels × pixels per token. */
  patch: [number, number, number];
  /** Sampling rate of frames, frames per second (used by `vatt tokenize`). */
  fps: number;
  /** The video transformer. */
  backbone: BackboneConfig;
}

/** Audio input and its tokenizer. */
export interface AudioConfig {
  /** Sampling rate in Hz. */
  sampleRate: number;
  /** Waveform length `T'` in samples. */
  samples: number;
  /** Samples per token `t'`. */
  patch: number;
  /** The audio transformer. */
  backbone: BackboneConfig;
}

/** Relative position schemes of the text transformer. */
export type RelativePosition = "shaw" | "t5";

/** Text input and its tokenizer. */
export interface TextConfig {
  /** Vocabulary size including id 0 (padding). */
  vocabSize: number;
  /** Tokens per caption `L`. */
  maxLength: number;
  /**
   * `"shaw"`: relative position keys and values added inside attention, with
   * distances clipped to `clipDistance` (the seed paper's description);
   * `"t5"`: a learned per-head bias over log-spaced distance buckets (the official code).
   */
  relativePosition: RelativePosition;
  /** `k` in `a_ij = w_clip(j − i, k)` (Shaw form). */
  clipDistance: number;
  /** Number of buckets (T5 form). */
  buckets: number;
  /** Largest distance with its own buckets (T5 form). */
  maxDistance: number;
  /** The text transformer. */
  backbone: BackboneConfig;
}

/** The common-space projection heads. */
export interface HeadsConfig {
  /** Dimension of the video–audio space. */
  vaDim: number;
  /** Dimension of the video–text space. */
  vtDim: number;
  /** Moving-average decay of BatchNorm statistics. */
  bnMomentum: number;
  /** BatchNorm epsilon. */
  bnEpsilon: number;
}

/** A whole VATT model. */
export interface VattConfig {
  /** The preset this config started from (informational). */
  preset: PresetName | "custom";
  /** One backbone shared by all modalities (`true`) or one per modality. */
  agnostic: boolean;
  /** Fraction of video and audio tokens dropped during training (DropToken). */
  dropToken: number;
  /** Seed of the weight initialisers. */
  seed: number;
  video: VideoConfig;
  audio: AudioConfig;
  text: TextConfig;
  heads: HeadsConfig;
}

/** A partial config: any field may be left out and comes from the preset. */
export type VattConfigInput = {
  preset?: PresetName | "custom";
  agnostic?: boolean;
  dropToken?: number;
  seed?: number;
  video?: Partial<Omit<VideoConfig, "backbone">> & { backbone?: Partial<BackboneConfig> };
  audio?: Partial<Omit<AudioConfig, "backbone">> & { backbone?: Partial<BackboneConfig> };
  text?: Partial<Omit<TextConfig, "backbone">> & { backbone?: Partial<BackboneConfig> };
  heads?: Partial<HeadsConfig>;
};

/** The paper's backbone sizes (Table 1 of the VATT paper). */
export const BACKBONES: Readonly<
  Record<"tiny" | "small" | "base" | "medium" | "large", BackboneConfig>
> = {
  tiny: { layers: 2, hidden: 64, mlp: 128, heads: 4 },
  small: { layers: 6, hidden: 512, mlp: 2048, heads: 8 },
  base: { layers: 12, hidden: 768, mlp: 3072, heads: 12 },
  medium: { layers: 12, hidden: 1024, mlp: 4096, heads: 16 },
  large: { layers: 24, hidden: 1024, mlp: 4096, heads: 16 },
};

const PAPER_INPUTS = {
  video: {
    frames: 32,
    height: 224,
    width: 224,
    patch: [4, 16, 16] as [number, number, number],
    fps: 10,
  },
  audio: { sampleRate: 48000, samples: 153600, patch: 128 },
  text: {
    vocabSize: 65536,
    maxLength: 16,
    relativePosition: "t5" as RelativePosition,
    clipDistance: 16,
    buckets: 32,
    maxDistance: 64,
  },
  heads: { vaDim: 512, vtDim: 256, bnMomentum: 0.9, bnEpsilon: 1e-5 },
};

function paperPreset(
  name: PresetName,
  video: BackboneConfig,
  audio: BackboneConfig,
  text: BackboneConfig,
): VattConfig {
  return {
    preset: name,
    agnostic: false,
    dropToken: 0.5,
    seed: 0,
    video: { ...PAPER_INPUTS.video, patch: [...PAPER_INPUTS.video.patch], backbone: { ...video } },
    audio: { ...PAPER_INPUTS.audio, backbone: { ...audio } },
    text: { ...PAPER_INPUTS.text, backbone: { ...text } },
    heads: { ...PAPER_INPUTS.heads },
  };
}

/**
 * The presets. `small`…`large` use the paper's inputs (32 frames of 224², patch
 * 4×16×16; 153,600 samples at 48 kHz, patch 128; vocabulary 2^16) and name the
 * VIDEO backbone's size; as in the paper's VATT-BBS/MBS/LBS, the audio backbone
 * is Base and the text backbone Small (except `small`, which is Small
 * throughout). `tiny` is sized to train on two CPU cores: 8 frames of 32² at
 * 10 fps, 0.8 s of 8 kHz audio, 2-layer 64-wide transformers.
 */
export const PRESETS: Readonly<Record<PresetName, VattConfig>> = {
  tiny: {
    preset: "tiny",
    agnostic: false,
    dropToken: 0.5,
    seed: 0,
    video: {
      frames: 8,
      height: 32,
      width: 32,
      patch: [2, 8, 8],
      fps: 10,
      backbone: { ...BACKBONES.tiny },
    },
    audio: { sampleRate: 8000, samples: 6400, patch: 128, backbone: { ...BACKBONES.tiny } },
    text: {
      vocabSize: 1024,
      maxLength: 16,
      relativePosition: "t5",
      clipDistance: 8,
      buckets: 32,
      maxDistance: 64,
      backbone: { ...BACKBONES.tiny },
    },
    heads: { vaDim: 128, vtDim: 64, bnMomentum: 0.9, bnEpsilon: 1e-5 },
  },
  small: paperPreset("small", BACKBONES.small, BACKBONES.small, BACKBONES.small),
  base: paperPreset("base", BACKBONES.base, BACKBONES.base, BACKBONES.small),
  medium: paperPreset("medium", BACKBONES.medium, BACKBONES.base, BACKBONES.small),
  large: paperPreset("large", BACKBONES.large, BACKBONES.base, BACKBONES.small),
};

/** The default config: the `tiny` preset. */
export const DEFAULT_VATT_CONFIG: Readonly<VattConfig> = PRESETS.tiny;

/** Whether `name` is a preset. */
export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${JSON.stringify(value)}`);
  }
  if (value <= 0) throw new RangeError(`${what} must be positive, got ${value}`);
  return value;
}

function checkBackbone(b: BackboneConfig, what: string): void {
  positiveInt(b.layers, `${what}.layers`);
  positiveInt(b.hidden, `${what}.hidden`);
  positiveInt(b.mlp, `${what}.mlp`);
  positiveInt(b.heads, `${what}.heads`);
  if (b.hidden % b.heads !== 0) {
    throw new RangeError(`${what}: heads ${b.heads} do not divide hidden size ${b.hidden}`);
  }
}

/**
 * Merges `input` over its preset (default `tiny`) and validates every field.
 * Throws `TypeError` for a wrong type and `RangeError` for a value out of
 * range, naming the field and the offending value.
 *
 * @example
 * ```ts
 * import { resolveVattConfig } from "./vatt_config.ts";
 * const c = resolveVattConfig({ preset: "base" });
 * console.assert(c.video.backbone.layers === 12);
 * try {
 *   resolveVattConfig({ video: { patch: [2, 64, 8] } });
 * } catch (e) {
 *   console.assert(e instanceof RangeError); // patch 64 is larger than frame height 32
 * }
 * ```
 */
export function resolveVattConfig(input: VattConfigInput = {}): VattConfig {
  if (input === null || typeof input !== "object") {
    throw new TypeError(`A config must be an object, got ${JSON.stringify(input)}`);
  }
  const presetName = input.preset ?? "tiny";
  if (presetName !== "custom" && !isPresetName(presetName)) {
    throw new RangeError(
      `Unknown preset ${JSON.stringify(presetName)}: expected one of ${
        Object.keys(PRESETS).join(", ")
      }`,
    );
  }
  const base = structuredClone(
    PRESETS[presetName === "custom" ? "tiny" : presetName],
  ) as VattConfig;
  const c: VattConfig = {
    preset: presetName,
    agnostic: input.agnostic ?? base.agnostic,
    dropToken: input.dropToken ?? base.dropToken,
    seed: input.seed ?? base.seed,
    video: {
      ...base.video,
      ...input.video,
      backbone: { ...base.video.backbone, ...input.video?.backbone },
    },
    audio: {
      ...base.audio,
      ...input.audio,
      backbone: { ...base.audio.backbone, ...input.audio?.backbone },
    },
    text: {
      ...base.text,
      ...input.text,
      backbone: { ...base.text.backbone, ...input.text?.backbone },
    },
    heads: { ...base.heads, ...input.heads },
  };
  if (typeof c.agnostic !== "boolean") {
    throw new TypeError(`agnostic must be a boolean, got ${JSON.stringify(c.agnostic)}`);
  }
  if (c.agnostic) {
    // One shared transformer: every modality uses the video backbone's sizes.
    c.audio.backbone = { ...c.video.backbone };
    c.text.backbone = { ...c.video.backbone };
  }
  if (typeof c.dropToken !== "number" || !(c.dropToken >= 0 && c.dropToken < 1)) {
    throw new RangeError(`dropToken must be in [0, 1), got ${JSON.stringify(c.dropToken)}`);
  }
  if (typeof c.seed !== "number" || !Number.isInteger(c.seed)) {
    throw new TypeError(`seed must be an integer, got ${JSON.stringify(c.seed)}`);
  }
  const v = c.video;
  positiveInt(v.frames, "video.frames");
  positiveInt(v.height, "video.height");
  positiveInt(v.width, "video.width");
  if (!Array.isArray(v.patch) || v.patch.length !== 3) {
    throw new TypeError(`video.patch must be [t, h, w], got ${JSON.stringify(v.patch)}`);
  }
  v.patch.forEach((p, i) => positiveInt(p, `video.patch[${i}]`));
  if (v.patch[0] > v.frames) {
    throw new RangeError(`video patch ${v.patch[0]} is longer than ${v.frames} frames`);
  }
  if (v.patch[1] > v.height) {
    throw new RangeError(`video patch ${v.patch[1]} is larger than frame height ${v.height}`);
  }
  if (v.patch[2] > v.width) {
    throw new RangeError(`video patch ${v.patch[2]} is larger than frame width ${v.width}`);
  }
  if (typeof v.fps !== "number" || !(v.fps > 0)) {
    throw new RangeError(`video.fps must be positive, got ${v.fps}`);
  }
  checkBackbone(v.backbone, "video.backbone");
  const a = c.audio;
  positiveInt(a.sampleRate, "audio.sampleRate");
  positiveInt(a.samples, "audio.samples");
  positiveInt(a.patch, "audio.patch");
  if (a.patch > a.samples) {
    throw new RangeError(`audio patch ${a.patch} is longer than ${a.samples} samples`);
  }
  checkBackbone(a.backbone, "audio.backbone");
  const t = c.text;
  positiveInt(t.vocabSize, "text.vocabSize");
  if (t.vocabSize < 2) {
    throw new RangeError(`text.vocabSize must be at least 2, got ${t.vocabSize}`);
  }
  positiveInt(t.maxLength, "text.maxLength");
  if (t.relativePosition !== "shaw" && t.relativePosition !== "t5") {
    throw new RangeError(
      `text.relativePosition must be "shaw" or "t5", got ${JSON.stringify(t.relativePosition)}`,
    );
  }
  positiveInt(t.clipDistance, "text.clipDistance");
  positiveInt(t.buckets, "text.buckets");
  positiveInt(t.maxDistance, "text.maxDistance");
  if (t.buckets < 4) throw new RangeError(`text.buckets must be at least 4, got ${t.buckets}`);
  if (t.maxDistance < t.buckets / 2) {
    throw new RangeError(
      `text.maxDistance ${t.maxDistance} must be at least half of buckets ${t.buckets}`,
    );
  }
  checkBackbone(t.backbone, "text.backbone");
  const h = c.heads;
  positiveInt(h.vaDim, "heads.vaDim");
  positiveInt(h.vtDim, "heads.vtDim");
  if (!(h.bnMomentum >= 0 && h.bnMomentum < 1)) {
    throw new RangeError(`heads.bnMomentum must be in [0, 1), got ${h.bnMomentum}`);
  }
  if (!(h.bnEpsilon > 0)) {
    throw new RangeError(`heads.bnEpsilon must be positive, got ${h.bnEpsilon}`);
  }
  return c;
}

/** Number of video tokens: `ceil(T/t)·ceil(H/h)·ceil(W/w)`, and the grid. */
export function videoTokenGrid(v: Pick<VideoConfig, "frames" | "height" | "width" | "patch">): {
  nt: number;
  nh: number;
  nw: number;
  count: number;
} {
  const nt = Math.ceil(v.frames / v.patch[0]);
  const nh = Math.ceil(v.height / v.patch[1]);
  const nw = Math.ceil(v.width / v.patch[2]);
  return { nt, nh, nw, count: nt * nh * nw };
}

/** Number of audio tokens: `ceil(T'/t')`. */
export function audioTokenCount(a: Pick<AudioConfig, "samples" | "patch">): number {
  return Math.ceil(a.samples / a.patch);
}

/** Number of tokens kept by DropToken out of `n` (at least one). */
export function keptTokenCount(n: number, dropRate: number): number {
  return Math.max(1, Math.floor(n * (1 - dropRate)));
}
