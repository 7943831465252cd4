/**
 * The VATT baseline for the fusion comparison: a linear classifier on the concatenation of
 * VATT's common-space embeddings (given as the features), `W·[e_1; …; e_M; m_1; …; m_M] + b`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { l2Normalize } from "../../loss/l2_normalize.ts";
import { resolveFusionBase } from "./_config.ts";
import { BaseFusionHead, dense } from "./_layers.ts";
import type { FusionBaseConfig, FusionConfigInput } from "./fusion_head.ts";

/** Config of {@linkcode VattFusionHead}. */
export interface VattFusionConfig extends FusionBaseConfig {
  /**
   * L2-normalise each embedding before the classifier (VATT compares common-space embeddings
   * by cosine similarity). A zero vector stays zero.
   */
  normalize: boolean;
}

/** Defaults of the optional {@linkcode VattFusionConfig} fields. */
export const DEFAULT_VATT_FUSION_CONFIG: Omit<
  VattFusionConfig,
  "inputDims" | "numClasses" | "seed"
> = { normalize: false, dropout: 0 };

/** What a caller passes to build a {@linkcode VattFusionHead}. */
export type VattFusionInput = FusionConfigInput<VattFusionConfig>;

/**
 * Fills in defaults and validates (TypeError for a wrong type or unknown key, RangeError for a
 * value out of range). Needs at least one modality.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattFusionConfig } from "./vatt_fusion.ts";
 * assert.equal(resolveVattFusionConfig({ inputDims: [8], numClasses: 3, seed: 0 }).normalize, false);
 * ```
 */
export function resolveVattFusionConfig(input: VattFusionInput): VattFusionConfig {
  const what = "vatt fusion";
  const base = resolveFusionBase(input, { what, minModalities: 1, extraKeys: ["normalize"] });
  const normalize = input.normalize ?? DEFAULT_VATT_FUSION_CONFIG.normalize;
  if (typeof normalize !== "boolean") {
    throw new TypeError(`${what} normalize must be a boolean, got ${String(normalize)}`);
  }
  return { ...base, normalize };
}

/**
 * Linear classifier on concatenated VATT embeddings.
 *
 * Missing modality: that embedding is replaced by zeros and the M masks are always appended
 * as extra input features (ones when `apply` gets no masks).
 *
 * Weights (`I = ΣD_m + M`): `fusion/vatt/classifier/kernel` `[I, C]`,
 * `fusion/vatt/classifier/bias` `[C]`; `I·C + C` parameters. Dropout (when training) acts on
 * the embeddings, not on the mask features.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { VattFusionHead } from "./vatt_fusion.ts";
 * const head = new VattFusionHead({ inputDims: [4, 4, 4], numClasses: 5, seed: 0 });
 * assert.equal(head.parameterCount(), (12 + 3) * 5 + 5);
 * const x = tf.ones([2, 4]) as tf.Tensor2D;
 * assert.equal(head.apply([x, x, x], {}).shape[1], 5);
 * head.dispose();
 * ```
 */
export class VattFusionHead extends BaseFusionHead<VattFusionConfig> {
  readonly #kernel: tf.Variable;
  readonly #bias: tf.Variable;

  constructor(config: VattFusionInput) {
    const resolved = resolveVattFusionConfig(config);
    super("vatt", resolved);
    const { inputDims, numClasses } = resolved;
    const width = inputDims.reduce((a, b) => a + b, 0) + inputDims.length;
    this.#kernel = this.addVariable("classifier/kernel", [width, numClasses], "glorot");
    this.#bias = this.addVariable("classifier/bias", [numClasses], "zeros");
  }

  protected forward(
    features: tf.Tensor2D[],
    masks: tf.Tensor2D[],
    options: { training: boolean },
  ): tf.Tensor2D {
    const embeddings = features.map((e, m) => {
      const unit = this.config.normalize ? l2Normalize(e) : e; // [B, D_m]
      return tf.mul(unit, masks[m]) as tf.Tensor2D; // [B, D_m]
    });
    const joined = this.dropout(tf.concat(embeddings, 1), options.training); // [B, ΣD_m]
    const withMasks = tf.concat([joined, ...masks], 1); // [B, ΣD_m + M]
    return dense(withMasks, this.#kernel, this.#bias); // [B, C]
  }
}
