/**
 * Early fusion by concatenation: `z = ReLU(W·[v_1; …; v_M; m_1; …; m_M] + b)`, then a linear
 * classifier on `z`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkInteger, resolveFusionBase } from "./_config.ts";
import { BaseFusionHead, type HiddenClassifier } from "./_layers.ts";
import type { FusionBaseConfig, FusionConfigInput } from "./fusion_head.ts";

/** Config of {@linkcode ConcatFusionHead}. */
export interface ConcatFusionConfig extends FusionBaseConfig {
  /** Width `H` of the ReLU hidden layer on the concatenated features. */
  hiddenDim: number;
}

/** Defaults of the optional {@linkcode ConcatFusionConfig} fields. */
export const DEFAULT_CONCAT_FUSION_CONFIG: Omit<
  ConcatFusionConfig,
  "inputDims" | "numClasses" | "seed"
> = { hiddenDim: 256, dropout: 0 };

/** What a caller passes to build a {@linkcode ConcatFusionHead}. */
export type ConcatFusionInput = FusionConfigInput<ConcatFusionConfig>;

/**
 * Fills in defaults and validates (TypeError for a wrong type or unknown key, RangeError for a
 * value out of range, each naming the value). Needs at least one modality.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveConcatFusionConfig } from "./concat_fusion.ts";
 * const c = resolveConcatFusionConfig({ inputDims: [8, 4], numClasses: 3, seed: 0 });
 * assert.equal(c.hiddenDim, 256);
 * ```
 */
export function resolveConcatFusionConfig(input: ConcatFusionInput): ConcatFusionConfig {
  const what = "concat fusion";
  const base = resolveFusionBase(input, { what, minModalities: 1, extraKeys: ["hiddenDim"] });
  const hiddenDim = checkInteger(
    input.hiddenDim ?? DEFAULT_CONCAT_FUSION_CONFIG.hiddenDim,
    `${what} hiddenDim`,
    1,
  );
  return { ...base, hiddenDim };
}

/**
 * Concatenation fusion head.
 *
 * Missing modality: the clip's vector of that modality is replaced by zeros, and the M masks
 * are always appended to the concatenation as extra input features (all ones when `apply`
 * gets no masks), so the hidden layer can tell "missing" from "all-zero features".
 *
 * Weights (`I = ΣD_m + M`): `fusion/concat/hidden/kernel` `[I, H]`, `fusion/concat/hidden/bias`
 * `[H]`, `fusion/concat/classifier/kernel` `[H, C]`, `fusion/concat/classifier/bias` `[C]`;
 * `I·H + H + H·C + C` parameters. Dropout (when training) acts on the hidden activations.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { ConcatFusionHead } from "./concat_fusion.ts";
 * const head = new ConcatFusionHead({ inputDims: [4, 3], numClasses: 2, seed: 1, hiddenDim: 8 });
 * assert.equal(head.parameterCount(), (4 + 3 + 2) * 8 + 8 + 8 * 2 + 2);
 * const logits = head.apply([tf.ones([5, 4]), tf.ones([5, 3])], { masks: [tf.ones([5]), tf.zeros([5])] });
 * assert.equal(logits.shape[1], 2);
 * head.dispose();
 * ```
 */
export class ConcatFusionHead extends BaseFusionHead<ConcatFusionConfig> {
  readonly #layers: HiddenClassifier;

  constructor(config: ConcatFusionInput) {
    const resolved = resolveConcatFusionConfig(config);
    super("concat", resolved);
    const { inputDims, hiddenDim } = resolved;
    const width = inputDims.reduce((a, b) => a + b, 0) + inputDims.length;
    this.#layers = this.addHiddenClassifier(width, hiddenDim);
  }

  protected forward(
    features: tf.Tensor2D[],
    masks: tf.Tensor2D[],
    options: { training: boolean },
  ): tf.Tensor2D {
    const present = features.map((x, m) => tf.mul(x, masks[m]) as tf.Tensor2D); // [B, D_m]
    const joined = tf.concat([...present, ...masks], 1); // [B, ΣD_m + M]
    return this.classifyThroughHidden(joined, this.#layers, options); // [B, C]
  }
}
