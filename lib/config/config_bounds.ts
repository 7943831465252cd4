/**
 * Checks on a model config from a file, before anything is allocated: the
 * keys that no field of the config has (a misplaced or misspelt key would be
 * silently ignored), and the model's size — parameters and the activations
 * of one clip, estimated from the widths — refused beyond a bound with the
 * estimate in the message.
 *
 * @module
 */
import { audioTokenCount, videoTokenGrid } from "./token_counts.ts";
import { DEFAULT_VATT_CONFIG, type VattConfig } from "./vatt_config.ts";

/** Most parameters a config may ask for: 4·10⁹ (16 GB of float32 weights). */
export const MAX_MODEL_PARAMETERS = 4e9;
/** Most bytes of float32 activations one clip may need in one forward pass: 16 GiB. */
export const MAX_CLIP_ACTIVATION_BYTES = 16 * 1024 ** 3;

/** Known keys below each object key of a config; `true`: a leaf. */
type KeyTree = { [key: string]: KeyTree | true };

function treeOf(value: unknown): KeyTree | true {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return true;
  const out: KeyTree = {};
  for (const [k, v] of Object.entries(value)) out[k] = treeOf(v);
  return out;
}

/** Every key a config may hold: the default's, plus the optional ones. */
const KNOWN = (() => {
  const t = treeOf(DEFAULT_VATT_CONFIG) as KeyTree;
  (t.text as KeyTree).wordVectors = { dim: true, activation: true, bias: true, vocabSha256: true };
  return t;
})();

/**
 * The dotted names of the keys of `input` that no config field has (e.g.
 * `"video.backbone.layer"`, `"layers"`), in the order found; a value under a
 * known leaf (an array, a number) is not looked into.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unknownConfigKeys } from "./config_bounds.ts";
 * assert.deepEqual(
 *   unknownConfigKeys({ seed: 1, layers: 4, video: { backbone: { layer: 2, heads: 4 } } }),
 *   ["layers", "video.backbone.layer"],
 * );
 * assert.deepEqual(unknownConfigKeys({ text: { wordVectors: { dim: 50 } } }), []);
 * ```
 */
export function unknownConfigKeys(input: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, known: KeyTree, prefix: string) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const name = prefix + k;
      const sub = Object.hasOwn(known, k) ? known[k] : undefined;
      if (sub === undefined) out.push(name);
      else if (sub !== true) walk(v, sub, name + ".");
    }
  };
  walk(input, KNOWN, "");
  return out;
}

/** Parameters and one clip's activations of a backbone over `tokens` tokens. */
function backboneSize(
  b: VattConfig["video"]["backbone"],
  tokens: number,
): { params: number; activations: number } {
  const perLayer = 4 * b.hidden * b.hidden + 2 * b.hidden * b.mlp + 9 * b.hidden + b.mlp;
  // Per layer: the residual stream, q/k/v/out, the MLP's inner layer, the attention maps.
  const acts = tokens * (6 * b.hidden + b.mlp) + b.heads * tokens * tokens;
  return { params: b.layers * perLayer, activations: b.layers * acts };
}

/**
 * An estimate of a config's size: its parameters (backbones, embeddings,
 * heads) and the float32 bytes of activations for one clip in one forward
 * pass. Used to refuse an absurd config before any weight is allocated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateModelSize } from "./config_bounds.ts";
 * import { PRESETS } from "./vatt_config.ts";
 * const base = estimateModelSize(PRESETS.base);
 * // Three backbones (12 × 768, 12 × 768, 6 × 512) and a 65536-word table: about 2·10⁸.
 * assert.ok(base.parameters > 1.5e8 && base.parameters < 3e8, String(base.parameters));
 * ```
 */
export function estimateModelSize(c: VattConfig): { parameters: number; activationBytes: number } {
  const videoTokens = videoTokenGrid(c.video).count + 1;
  const audioTokens = audioTokenCount(c.audio) + 1;
  const textTokens = c.text.maxLength + 1;
  const parts = [
    backboneSize(c.video.backbone, videoTokens),
    backboneSize(c.audio.backbone, audioTokens),
    backboneSize(c.text.backbone, textTokens),
  ];
  const [pt, ph, pw] = c.video.patch;
  const embeddings = pt * ph * pw * 3 * c.video.backbone.hidden +
    videoTokens * c.video.backbone.hidden + c.audio.patch * c.audio.backbone.hidden +
    audioTokens * c.audio.backbone.hidden +
    c.text.vocabSize * (c.text.wordVectors ? 1 : c.text.backbone.hidden);
  const heads = (c.video.backbone.hidden + c.audio.backbone.hidden) * c.heads.vaDim +
    (c.heads.vaDim + c.text.backbone.hidden) * c.heads.vtDim;
  const shared = c.agnostic ? parts[0].params : parts.reduce((s, p) => s + p.params, 0);
  return {
    parameters: shared + embeddings + heads,
    activationBytes: 4 * parts.reduce((s, p) => s + p.activations, 0),
  };
}

/**
 * Throws a RangeError with the estimate when a config's model is larger than
 * {@linkcode MAX_MODEL_PARAMETERS} or one clip's activations exceed
 * {@linkcode MAX_CLIP_ACTIVATION_BYTES}: a `--config` of 10⁶ layers is refused
 * at once instead of allocating until memory runs out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkModelSize } from "./config_bounds.ts";
 * import { PRESETS } from "./vatt_config.ts";
 * checkModelSize(PRESETS.large);
 * const huge = structuredClone(PRESETS.tiny);
 * huge.video.backbone.layers = 1e6;
 * // 10⁶ layers × (4·64² + 2·64·128 + 9·64 + 128 = 33472) parameters: 3.3·10¹⁰.
 * assert.throws(() => checkModelSize(huge), /about 3\.3e\+10 parameters, over the limit of 4\.0e\+9/);
 * ```
 */
export function checkModelSize(c: VattConfig): void {
  const { parameters, activationBytes } = estimateModelSize(c);
  const e = (x: number) => x.toExponential(1);
  if (!(parameters <= MAX_MODEL_PARAMETERS)) {
    throw new RangeError(
      `The model would have about ${e(parameters)} parameters, over the limit of ${
        e(MAX_MODEL_PARAMETERS)
      }: reduce layers, hidden, mlp or vocabSize`,
    );
  }
  if (!(activationBytes <= MAX_CLIP_ACTIVATION_BYTES)) {
    throw new RangeError(
      `One clip would need about ${
        e(activationBytes / 1024 ** 3)
      } GiB of activations, over the limit of ${
        MAX_CLIP_ACTIVATION_BYTES / 1024 ** 3
      } GiB: reduce the input size, the patch count, layers or widths`,
    );
  }
}
