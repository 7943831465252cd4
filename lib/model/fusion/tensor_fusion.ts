/**
 * Tensor Fusion Network (Zadeh et al., EMNLP 2017): each modality's vector gets a constant 1
 * appended, and the fused representation is the flattened outer product
 * `[z_1; 1] ⊗ [z_2; 1] ⊗ … ⊗ [z_M; 1]`, which holds every unimodal, bimodal and trimodal
 * product term. A ReLU hidden layer and a linear classifier follow.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkInteger, resolveFusionBase } from "./_config.ts";
import { BaseFusionHead, dense, type HiddenClassifier } from "./_layers.ts";
import type { FusionBaseConfig, FusionConfigInput } from "./fusion_head.ts";

/** Largest fused width `Π(d_m + 1)` a head accepts (its hidden kernel is that × hiddenDim). */
export const MAX_TENSOR_FUSION_SIZE = 1 << 20;

/** Config of {@linkcode TensorFusionHead}. */
export interface TensorFusionConfig extends FusionBaseConfig {
  /**
   * Width `F` each modality is projected to (linear + ReLU) before the outer product, or
   * `null` to take the features as they are (then `d_m = D_m`).
   */
  fusionDim: number | null;
  /** Width `H` of the ReLU hidden layer on the fused tensor. */
  hiddenDim: number;
}

/** Defaults of the optional {@linkcode TensorFusionConfig} fields. */
export const DEFAULT_TENSOR_FUSION_CONFIG: Omit<
  TensorFusionConfig,
  "inputDims" | "numClasses" | "seed"
> = { fusionDim: 16, hiddenDim: 128, dropout: 0 };

/** What a caller passes to build a {@linkcode TensorFusionHead}. */
export type TensorFusionInput = FusionConfigInput<TensorFusionConfig>;

/**
 * Fills in defaults and validates (TypeError for a wrong type or unknown key, RangeError for a
 * value out of range). Needs at least two modalities, and a fused width `Π(d_m + 1)` of at
 * most {@linkcode MAX_TENSOR_FUSION_SIZE}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTensorFusionConfig } from "./tensor_fusion.ts";
 * const c = resolveTensorFusionConfig({ inputDims: [8, 4, 6], numClasses: 3, seed: 0 });
 * assert.equal(c.fusionDim, 16);
 * ```
 */
export function resolveTensorFusionConfig(input: TensorFusionInput): TensorFusionConfig {
  const what = "tensor fusion";
  const base = resolveFusionBase(input, {
    what,
    minModalities: 2,
    extraKeys: ["fusionDim", "hiddenDim"],
  });
  const rawFusionDim = input.fusionDim === undefined
    ? DEFAULT_TENSOR_FUSION_CONFIG.fusionDim
    : input.fusionDim;
  const fusionDim = rawFusionDim === null
    ? null
    : checkInteger(rawFusionDim, `${what} fusionDim`, 1);
  const hiddenDim = checkInteger(
    input.hiddenDim ?? DEFAULT_TENSOR_FUSION_CONFIG.hiddenDim,
    `${what} hiddenDim`,
    1,
  );
  const widths = base.inputDims.map((d) => fusionDim ?? d);
  const fused = widths.reduce((a, d) => a * (d + 1), 1);
  if (fused > MAX_TENSOR_FUSION_SIZE) {
    throw new RangeError(
      `${what}: fused width ${
        widths.map((d) => d + 1).join("·")
      } = ${fused} exceeds ${MAX_TENSOR_FUSION_SIZE}; ` +
        `use a smaller fusionDim`,
    );
  }
  return { ...base, fusionDim, hiddenDim };
}

/**
 * The flattened outer product of `[v_m; 1]` over the modalities, per batch row:
 * `[B, d_1], …, [B, d_M]` → `[B, Π(d_m + 1)]`. The first vector's index varies slowest
 * (row-major), and the appended 1 is each vector's last entry, so the last output entry is
 * the constant 1 and the entries just before it are the last vector itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { tensorFusionProduct } from "./tensor_fusion.ts";
 * const fused = tensorFusionProduct([tf.tensor2d([[2]]), tf.tensor2d([[3]])]);
 * // [2, 1] ⊗ [3, 1] = [6, 2, 3, 1]
 * assert.equal((await fused.data()).join(), "6,2,3,1");
 * ```
 */
export function tensorFusionProduct(vectors: tf.Tensor2D[]): tf.Tensor2D {
  if (!Array.isArray(vectors) || vectors.length === 0) {
    throw new RangeError(`tensorFusionProduct() needs at least one vector, got ${vectors}`);
  }
  const batch = vectors[0].shape[0];
  vectors.forEach((v, m) => {
    if (v.rank !== 2 || v.shape[0] !== batch) {
      throw new RangeError(
        `tensorFusionProduct() vectors[${m}] must have shape [${batch}, d], got [${v.shape}]`,
      );
    }
  });
  return tf.tidy(() => {
    const withOne = (v: tf.Tensor2D): tf.Tensor2D => tf.concat([v, tf.ones([batch, 1])], 1); // [B, d + 1]
    let fused = withOne(vectors[0]); // [B, P]
    for (const v of vectors.slice(1)) {
      const next = withOne(v); // [B, Q]
      const width = fused.shape[1] * next.shape[1];
      const outer = tf.mul(
        tf.reshape(fused, [batch, fused.shape[1], 1]), // [B, P, 1]
        tf.reshape(next, [batch, 1, next.shape[1]]), // [B, 1, Q]
      ); // [B, P, Q]
      fused = tf.reshape(outer, [batch, width]); // [B, P·Q]
    }
    return fused;
  });
}

/**
 * Tensor Fusion Network head, for two or more modalities.
 *
 * Each modality is projected, `z_m = ReLU(W_m·x_m + b_m)` (`[B, F]`; skipped when `fusionDim`
 * is null), then fused by {@linkcode tensorFusionProduct}, then `h = ReLU(W_h·fused + b_h)` and
 * a linear classifier. Dropout (when training) acts on `h`.
 *
 * Missing modality: that clip's `z_m` is replaced by zeros after the projection, so `[z_m; 1]`
 * becomes `[0; 1]` and the fused tensor keeps exactly the product terms of the present
 * modalities (no extra mask feature is needed).
 *
 * Weights: `fusion/tensor/projection_<m>/kernel` `[D_m, F]` and `…/bias` `[F]` per modality
 * (when projecting), `fusion/tensor/hidden/kernel` `[P, H]` with `P = Π(d_m + 1)`,
 * `fusion/tensor/hidden/bias` `[H]`, `fusion/tensor/classifier/kernel` `[H, C]`,
 * `fusion/tensor/classifier/bias` `[C]`; `Σ(D_m·F + F) + P·H + H + H·C + C` parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { TensorFusionHead } from "./tensor_fusion.ts";
 * const head = new TensorFusionHead({ inputDims: [6, 5], numClasses: 3, seed: 2, fusionDim: 4, hiddenDim: 8 });
 * assert.equal(head.parameterCount(), (6 * 4 + 4) + (5 * 4 + 4) + 25 * 8 + 8 + 8 * 3 + 3);
 * const logits = head.apply([tf.ones([2, 6]), tf.ones([2, 5])], {});
 * assert.equal(logits.shape[1], 3);
 * head.dispose();
 * ```
 */
export class TensorFusionHead extends BaseFusionHead<TensorFusionConfig> {
  readonly #projections: { kernel: tf.Variable; bias: tf.Variable }[];
  readonly #layers: HiddenClassifier;

  constructor(config: TensorFusionInput) {
    const resolved = resolveTensorFusionConfig(config);
    super("tensor", resolved);
    const { inputDims, fusionDim, hiddenDim } = resolved;
    this.#projections = fusionDim === null ? [] : inputDims.map((d, m) => ({
      kernel: this.addVariable(`projection_${m}/kernel`, [d, fusionDim], "he"),
      bias: this.addVariable(`projection_${m}/bias`, [fusionDim], "zeros"),
    }));
    const fused = inputDims.reduce((a, d) => a * ((fusionDim ?? d) + 1), 1);
    this.#layers = this.addHiddenClassifier(fused, hiddenDim);
  }

  protected forward(
    features: tf.Tensor2D[],
    masks: tf.Tensor2D[],
    options: { training: boolean },
  ): tf.Tensor2D {
    const projected = features.map((x, m) => {
      const p = this.#projections[m];
      const z = p ? tf.relu(dense(x, p.kernel, p.bias)) : x; // [B, d_m]
      return tf.mul(z, masks[m]) as tf.Tensor2D; // [B, d_m]
    });
    const fused = tensorFusionProduct(projected); // [B, Π(d_m + 1)]
    return this.classifyThroughHidden(fused, this.#layers, options); // [B, C]
  }
}
