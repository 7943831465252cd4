/**
 * The one typed configuration of a VATT model: inputs, backbones, heads and
 * DropToken, with presets and a validating resolver.
 *
 * @module
 */
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkPositiveInteger,
} from "./validate.ts";
import { resolveTextWordVectors, type WordVectorsConfig } from "./word_vectors_config.ts";

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
export type RelativePosition = "t5-shared" | "t5" | "shaw";

/** Text input and its tokenizer. */
export interface TextConfig {
  /** Vocabulary size including id 0 (padding). */
  vocabSize: number;
  /** Tokens per caption `L`. */
  maxLength: number;
  /**
   * `"t5-shared"`: a per-head bias over log-spaced distance buckets from one table used by
   * every layer (official T5 encoder; default); `"t5"`: one such table per layer; `"shaw"`:
   * relative keys and values inside attention, distances clipped to `clipDistance` (paper).
   */
  relativePosition: RelativePosition;
  /** `k` in `a_ij = w_clip(j − i, k)` (Shaw form). */
  clipDistance: number;
  /** Number of buckets (T5 form). */
  buckets: number;
  /** Largest distance with its own buckets (T5 form). */
  maxDistance: number;
  /** Frozen word vectors + trained OOV row and projection; absent: a learned embedding table. */
  wordVectors?: WordVectorsConfig;
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
  /** Bias in the audio → va and text → vt linear projections (the official Dense layers have one). */
  projectionBias: boolean;
}

/** A whole VATT model. */
export interface VattConfig {
  /** The preset this config started from (informational). */
  preset: PresetName | "custom";
  /** One backbone shared by all modalities (`true`) or one per modality. */
  agnostic: boolean;
  /** Fraction of video and audio tokens dropped during training (DropToken). */
  dropToken: number;
  /** Training dropout on embeddings, residual branches, MLP inner layer, final LN output (official 0.1). */
  dropout: number;
  /** Dropout rate on the attention probabilities in training (official 0.1; 0 keeps the fused wasm kernel). */
  attentionDropout: number;
  /** LayerNorm on the summed video/audio position embeddings before they join the tokens (official). */
  positionNorm: boolean;
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
  dropout?: number;
  attentionDropout?: number;
  positionNorm?: boolean;
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

/**
 * The paper's inputs, shared by the presets `small`…`large`: 32 frames of
 * 224² at 10 fps, patch 4×16×16; 153,600 samples at 48 kHz, patch 128; a
 * vocabulary of 2^16 words, 16 tokens per caption.
 */
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
    relativePosition: "t5-shared" as RelativePosition,
    clipDistance: 16,
    buckets: 32,
    maxDistance: 64,
  },
  heads: { vaDim: 512, vtDim: 256, bnMomentum: 0.9, bnEpsilon: 1e-5, projectionBias: true },
};

/** The official code's dropout 0.1 and LayerNorm on the positions. */
const OFFICIAL_REGULARISATION = { dropout: 0.1, attentionDropout: 0.1, positionNorm: true };

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
    ...OFFICIAL_REGULARISATION,
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
 * 10 fps, 0.8 s of 8 kHz audio, 2-layer 64-wide transformers; no position LN
 * (it drowns the small audio tokens: demo audio probe 17% with it, 92% without).
 */
export const PRESETS: Readonly<Record<PresetName, VattConfig>> = {
  tiny: {
    preset: "tiny",
    agnostic: false,
    dropToken: 0.5,
    ...OFFICIAL_REGULARISATION,
    positionNorm: false,
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
      relativePosition: "t5-shared",
      clipDistance: 8,
      buckets: 32,
      maxDistance: 64,
      backbone: { ...BACKBONES.tiny },
    },
    heads: { vaDim: 128, vtDim: 64, bnMomentum: 0.9, bnEpsilon: 1e-5, projectionBias: true },
  },
  small: paperPreset("small", BACKBONES.small, BACKBONES.small, BACKBONES.small),
  base: paperPreset("base", BACKBONES.base, BACKBONES.base, BACKBONES.small),
  medium: paperPreset("medium", BACKBONES.medium, BACKBONES.base, BACKBONES.small),
  large: paperPreset("large", BACKBONES.large, BACKBONES.base, BACKBONES.small),
};

/** The preset a config starts from when it names none. */
export const DEFAULT_PRESET: PresetName = "tiny";

/** The default config: the {@linkcode DEFAULT_PRESET}. */
export const DEFAULT_VATT_CONFIG: Readonly<VattConfig> = PRESETS[DEFAULT_PRESET];

/**
 * Whether `name` is a preset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPresetName } from "./vatt_config.ts";
 * assert.ok(isPresetName("base"));
 * assert.ok(!isPresetName("huge"));
 * ```
 */
export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

/** The relative position schemes, for validation. */
const RELATIVE_POSITIONS: readonly RelativePosition[] = ["t5-shared", "t5", "shaw"];

function checkBackbone(b: BackboneConfig, what: string): void {
  checkPositiveInteger(b.layers, `${what}.layers`);
  checkPositiveInteger(b.hidden, `${what}.hidden`);
  checkPositiveInteger(b.mlp, `${what}.mlp`);
  checkPositiveInteger(b.heads, `${what}.heads`);
  if (b.hidden % b.heads !== 0) {
    throw new RangeError(`${what}: heads ${b.heads} do not divide hidden size ${b.hidden}`);
  }
}

/** `input` over its preset, field by field (no validation yet). */
function mergeOverPreset(input: VattConfigInput): VattConfig {
  const presetName = input.preset ?? DEFAULT_PRESET;
  if (presetName !== "custom" && !isPresetName(presetName)) {
    throw new RangeError(
      `Unknown preset ${JSON.stringify(presetName)}: expected one of ${
        Object.keys(PRESETS).join(", ")
      }`,
    );
  }
  const base = structuredClone(
    PRESETS[presetName === "custom" ? DEFAULT_PRESET : presetName],
  ) as VattConfig;
  const merge = <T extends { backbone: BackboneConfig }>(
    preset: T,
    given?: Partial<Omit<T, "backbone">> & { backbone?: Partial<BackboneConfig> },
  ): T => ({ ...preset, ...given, backbone: { ...preset.backbone, ...given?.backbone } });
  return {
    preset: presetName,
    agnostic: input.agnostic ?? base.agnostic,
    dropToken: input.dropToken ?? base.dropToken,
    dropout: input.dropout ?? base.dropout,
    attentionDropout: input.attentionDropout ?? base.attentionDropout,
    positionNorm: input.positionNorm ?? base.positionNorm,
    seed: input.seed ?? base.seed,
    video: merge(base.video, input.video),
    audio: merge(base.audio, input.audio),
    text: merge(base.text, input.text),
    heads: { ...base.heads, ...input.heads },
  };
}

function checkVideo(v: VideoConfig): void {
  checkPositiveInteger(v.frames, "video.frames");
  checkPositiveInteger(v.height, "video.height");
  checkPositiveInteger(v.width, "video.width");
  if (!Array.isArray(v.patch) || v.patch.length !== 3) {
    throw new TypeError(`video.patch must be [t, h, w], got ${JSON.stringify(v.patch)}`);
  }
  v.patch.forEach((p, i) => checkPositiveInteger(p, `video.patch[${i}]`));
  if (v.patch[0] > v.frames) {
    throw new RangeError(`video patch ${v.patch[0]} is longer than ${v.frames} frames`);
  }
  if (v.patch[1] > v.height) {
    throw new RangeError(`video patch ${v.patch[1]} is larger than frame height ${v.height}`);
  }
  if (v.patch[2] > v.width) {
    throw new RangeError(`video patch ${v.patch[2]} is larger than frame width ${v.width}`);
  }
  checkNumber(v.fps, "video.fps", { above: 0 });
  checkBackbone(v.backbone, "video.backbone");
}

function checkAudio(a: AudioConfig): void {
  checkPositiveInteger(a.sampleRate, "audio.sampleRate");
  checkPositiveInteger(a.samples, "audio.samples");
  checkPositiveInteger(a.patch, "audio.patch");
  if (a.patch > a.samples) {
    throw new RangeError(`audio patch ${a.patch} is longer than ${a.samples} samples`);
  }
  checkBackbone(a.backbone, "audio.backbone");
}

function checkText(t: TextConfig): void {
  checkInteger(t.vocabSize, "text.vocabSize", { min: 2 });
  checkPositiveInteger(t.maxLength, "text.maxLength");
  checkOneOf(t.relativePosition, RELATIVE_POSITIONS, "text.relativePosition");
  checkPositiveInteger(t.clipDistance, "text.clipDistance");
  checkInteger(t.buckets, "text.buckets", { min: 4 });
  checkPositiveInteger(t.maxDistance, "text.maxDistance");
  if (t.maxDistance < t.buckets / 2) {
    throw new RangeError(
      `text.maxDistance ${t.maxDistance} must be at least half of buckets ${t.buckets}`,
    );
  }
  resolveTextWordVectors(t);
  checkBackbone(t.backbone, "text.backbone");
}

function checkHeads(h: HeadsConfig): void {
  checkPositiveInteger(h.vaDim, "heads.vaDim");
  checkPositiveInteger(h.vtDim, "heads.vtDim");
  checkNumber(h.bnMomentum, "heads.bnMomentum", { min: 0, below: 1 });
  checkNumber(h.bnEpsilon, "heads.bnEpsilon", { above: 0 });
  checkBoolean(h.projectionBias, "heads.projectionBias");
}

/**
 * Merges `input` over its preset (default `tiny`) and validates every field.
 * Throws `TypeError` for a wrong type and `RangeError` for a value out of
 * range, naming the field and the offending value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "./vatt_config.ts";
 * const c = resolveVattConfig({ preset: "base" });
 * assert.equal(c.video.backbone.layers, 12);
 * assert.throws(
 *   () => resolveVattConfig({ video: { patch: [2, 64, 8] } }),
 *   /patch 64 is larger than frame height 32/,
 * );
 * ```
 */
export function resolveVattConfig(input: VattConfigInput = {}): VattConfig {
  if (input === null || typeof input !== "object") {
    throw new TypeError(`A config must be an object, got ${JSON.stringify(input)}`);
  }
  const c = mergeOverPreset(input);
  checkBoolean(c.agnostic, "agnostic");
  if (c.agnostic) {
    // One shared transformer: every modality uses the video backbone's sizes.
    c.audio.backbone = { ...c.video.backbone };
    c.text.backbone = { ...c.video.backbone };
  }
  checkNumber(c.dropToken, "dropToken", { min: 0, below: 1 });
  checkNumber(c.dropout, "dropout", { min: 0, below: 1 });
  checkNumber(c.attentionDropout, "attentionDropout", { min: 0, below: 1 });
  checkBoolean(c.positionNorm, "positionNorm");
  checkInteger(c.seed, "seed");
  checkVideo(c.video);
  checkAudio(c.audio);
  checkText(c.text);
  checkHeads(c.heads);
  return c;
}
