/**
 * Every weight of a VATT model as data: stable name, shape, initialiser and
 * whether it trains. The model builder allocates from this list, and
 * parameter counts are sums over it, so counts for the large presets need no
 * memory.
 *
 * Names (stable; they are the keys of `model.safetensors`):
 * - `video/patch/kernel` `[t·h·w·3, d]`, `video/patch/bias`, `video/pos/temporal` `[ceil(T/t), d]`,
 *   `video/pos/vertical` `[ceil(H/h), d]`, `video/pos/horizontal` `[ceil(W/w), d]`, `video/agg_token` `[d]`;
 *   with `positionNorm`, `video/pos/ln/{gamma,beta}` `[d]` (LayerNorm on the summed positions)
 * - `audio/patch/kernel` `[t', d]`, `audio/patch/bias`, `audio/pos` `[ceil(T'/t'), d]`, `audio/agg_token`;
 *   with `positionNorm`, `audio/pos/ln/{gamma,beta}` `[d]`
 * - `text/embedding` `[V, d]`, `text/agg_token`; with `text.wordVectors` (see `word_embedding.ts`)
 *   `text/word_vectors/table` `[V, D_wv]` (frozen), `…/oov` `[D_wv]`, `…/proj/kernel` `[D_wv, d]`
 *   (and `…/proj/bias` `[d]`) instead of `text/embedding`
 * - `backbone/<video|audio|text|shared>/layer_NN/{ln1,ln2}/{gamma,beta}`,
 *   `…/attn/{q,k,v,o}/{kernel,bias}`, `…/mlp/{fc1,fc2}/{kernel,bias}`, `…/final_ln/{gamma,beta}`;
 *   the backbone that reads text also has one `backbone/<text|shared>/rel_bias` `[buckets, heads]`
 *   used by every layer (`t5-shared`), or in every layer `…/attn/rel_bias` `[buckets, heads]` (`t5`)
 *   or `…/attn/rel_key`, `…/attn/rel_value` `[2k+1, d/heads]` (`shaw`)
 * - `heads/video_va/{fc1,fc2}/kernel`, `heads/video_va/{bn1,bn2}/{gamma,beta,moving_mean,moving_var}`,
 *   `heads/video_vt/fc/kernel`, `heads/video_vt/bn/…`, `heads/audio_va/kernel`, `heads/text_vt/kernel`;
 *   with `heads.projectionBias`, `heads/audio_va/bias` `[vaDim]` and `heads/text_vt/bias` `[vtDim]`
 *
 * @module
 */
import { audioTokenCount, videoTokenGrid } from "../config/token_counts.ts";
import type { BackboneConfig, VattConfig } from "../config/vatt_config.ts";

/** How a weight starts. */
export type Init =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "normal"; std: number }
  | { kind: "glorot" };

/** One weight of the model. */
export interface WeightSpec {
  /** Stable name, `/`-separated. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Initialiser. */
  init: Init;
  /** `false` for BatchNorm moving statistics. */
  trainable: boolean;
}

/** The modules a weight belongs to, for parameter counts. */
export type ModuleName = "video" | "audio" | "text" | "shared" | "heads";

/** Which backbone each modality runs through. */
export function backboneName(config: VattConfig, modality: "video" | "audio" | "text"): string {
  return config.agnostic ? "shared" : modality;
}

function dense(name: string, inDim: number, outDim: number, bias = true): WeightSpec[] {
  const specs: WeightSpec[] = [{
    name: `${name}/kernel`,
    shape: [inDim, outDim],
    init: { kind: "glorot" },
    trainable: true,
  }];
  if (bias) {
    specs.push({ name: `${name}/bias`, shape: [outDim], init: { kind: "zeros" }, trainable: true });
  }
  return specs;
}

function norm(name: string, dim: number): WeightSpec[] {
  return [
    { name: `${name}/gamma`, shape: [dim], init: { kind: "ones" }, trainable: true },
    { name: `${name}/beta`, shape: [dim], init: { kind: "zeros" }, trainable: true },
  ];
}

function batchNorm(name: string, dim: number): WeightSpec[] {
  return [
    ...norm(name, dim),
    { name: `${name}/moving_mean`, shape: [dim], init: { kind: "zeros" }, trainable: false },
    { name: `${name}/moving_var`, shape: [dim], init: { kind: "ones" }, trainable: false },
  ];
}

function embedding(name: string, shape: number[]): WeightSpec {
  return { name, shape, init: { kind: "normal", std: 0.02 }, trainable: true };
}

/** The frozen word-vector table, its trained OOV row and projection (`word_embedding.ts`). */
function wordVectorSpecs(t: VattConfig["text"], d: number): WeightSpec[] {
  const dim = t.wordVectors!.dim;
  return [
    {
      name: "text/word_vectors/table",
      shape: [t.vocabSize, dim],
      init: { kind: "zeros" },
      trainable: false,
    },
    embedding("text/word_vectors/oov", [dim]),
    ...dense("text/word_vectors/proj", dim, d, t.wordVectors!.bias),
  ];
}

function backboneSpecs(
  prefix: string,
  b: BackboneConfig,
  text: VattConfig["text"] | null,
): WeightSpec[] {
  const specs: WeightSpec[] = [];
  const headDim = b.hidden / b.heads;
  for (let l = 0; l < b.layers; l++) {
    const p = `${prefix}/layer_${String(l).padStart(2, "0")}`;
    specs.push(...norm(`${p}/ln1`, b.hidden));
    for (const m of ["q", "k", "v", "o"]) {
      specs.push(...dense(`${p}/attn/${m}`, b.hidden, b.hidden));
    }
    if (text?.relativePosition === "shaw") {
      const n = 2 * text.clipDistance + 1;
      specs.push(embedding(`${p}/attn/rel_key`, [n, headDim]));
      specs.push(embedding(`${p}/attn/rel_value`, [n, headDim]));
    } else if (text?.relativePosition === "t5") {
      specs.push(embedding(`${p}/attn/rel_bias`, [text.buckets, b.heads]));
    }
    specs.push(...norm(`${p}/ln2`, b.hidden));
    specs.push(...dense(`${p}/mlp/fc1`, b.hidden, b.mlp));
    specs.push(...dense(`${p}/mlp/fc2`, b.mlp, b.hidden));
  }
  specs.push(...norm(`${prefix}/final_ln`, b.hidden));
  if (text?.relativePosition === "t5-shared") {
    specs.push(embedding(`${prefix}/rel_bias`, [text.buckets, b.heads]));
  }
  return specs;
}

/**
 * Every weight of the model described by `config`, in a fixed order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { weightSpecs } from "./weight_specs.ts";
 * const specs = weightSpecs(resolveVattConfig({ preset: "tiny" }));
 * assert.ok(specs.some((s) => s.name === "video/patch/kernel"));
 * ```
 */
export function weightSpecs(config: VattConfig): WeightSpec[] {
  const specs: WeightSpec[] = [];
  const v = config.video;
  const grid = videoTokenGrid(v);
  const dv = v.backbone.hidden;
  specs.push(...dense("video/patch", v.patch[0] * v.patch[1] * v.patch[2] * 3, dv));
  specs.push(embedding("video/pos/temporal", [grid.nt, dv]));
  specs.push(embedding("video/pos/vertical", [grid.nh, dv]));
  specs.push(embedding("video/pos/horizontal", [grid.nw, dv]));
  specs.push(embedding("video/agg_token", [dv]));
  if (config.positionNorm) specs.push(...norm("video/pos/ln", dv));
  const a = config.audio;
  const da = a.backbone.hidden;
  specs.push(...dense("audio/patch", a.patch, da));
  specs.push(embedding("audio/pos", [audioTokenCount(a), da]));
  specs.push(embedding("audio/agg_token", [da]));
  if (config.positionNorm) specs.push(...norm("audio/pos/ln", da));
  const t = config.text;
  const dt = t.backbone.hidden;
  if (t.wordVectors) specs.push(...wordVectorSpecs(t, dt));
  else specs.push(embedding("text/embedding", [t.vocabSize, dt]));
  specs.push(embedding("text/agg_token", [dt]));
  if (config.agnostic) {
    specs.push(...backboneSpecs("backbone/shared", v.backbone, t));
  } else {
    specs.push(...backboneSpecs("backbone/video", v.backbone, null));
    specs.push(...backboneSpecs("backbone/audio", a.backbone, null));
    specs.push(...backboneSpecs("backbone/text", t.backbone, t));
  }
  const h = config.heads;
  specs.push(...dense("heads/video_va/fc1", dv, h.vaDim, false));
  specs.push(...batchNorm("heads/video_va/bn1", h.vaDim));
  specs.push(...dense("heads/video_va/fc2", h.vaDim, h.vaDim, false));
  specs.push(...batchNorm("heads/video_va/bn2", h.vaDim));
  specs.push(...dense("heads/video_vt/fc", h.vaDim, h.vtDim, false));
  specs.push(...batchNorm("heads/video_vt/bn", h.vtDim));
  specs.push(...dense("heads/audio_va", da, h.vaDim, h.projectionBias));
  specs.push(...dense("heads/text_vt", dt, h.vtDim, h.projectionBias));
  return specs;
}

/** The module a weight belongs to. */
export function moduleOf(name: string): ModuleName {
  if (name.startsWith("heads/")) return "heads";
  if (name.startsWith("backbone/shared/")) return "shared";
  const first = name.startsWith("backbone/") ? name.split("/")[1] : name.split("/")[0];
  if (first === "video" || first === "audio" || first === "text") return first;
  throw new RangeError(`Cannot place weight ${JSON.stringify(name)} in a module`);
}

/** Parameter counts per module. */
export interface ParameterCounts {
  /** Video patch embedding, positions, aggregation token and (unless agnostic) the video transformer. */
  video: number;
  /** Audio patch embedding, positions, aggregation token and (unless agnostic) the audio transformer. */
  audio: number;
  /** Text embedding, aggregation token and (unless agnostic) the text transformer with its relative positions. */
  text: number;
  /** The shared transformer of the modality-agnostic variant (0 otherwise). */
  shared: number;
  /** The common-space projection heads (trainable weights only). */
  heads: number;
  /** All trainable parameters. */
  total: number;
  /** Non-trainable values (BatchNorm moving statistics, a frozen word-vector table). */
  nonTrainable: number;
}

/**
 * Trainable parameters per module, computed from the specs (no allocation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { countParameters } from "./weight_specs.ts";
 * const c = countParameters(resolveVattConfig({ preset: "base" }));
 * assert.ok(Math.abs(c.video - 87.9e6) / 87.9e6 < 0.02);
 * ```
 */
export function countParameters(config: VattConfig): ParameterCounts {
  const counts: ParameterCounts = {
    video: 0,
    audio: 0,
    text: 0,
    shared: 0,
    heads: 0,
    total: 0,
    nonTrainable: 0,
  };
  for (const spec of weightSpecs(config)) {
    const size = spec.shape.reduce((p, d) => p * d, 1);
    if (!spec.trainable) {
      counts.nonTrainable += size;
      continue;
    }
    counts[moduleOf(spec.name)] += size;
    counts.total += size;
  }
  return counts;
}
