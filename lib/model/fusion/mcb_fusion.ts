/**
 * Multimodal Compact Bilinear pooling (Fukui et al., EMNLP 2016): each modality is Count
 * Sketched to `d` entries, the sketches are circularly convolved (the sketch of the outer
 * product), then a signed square root, L2 normalisation and a linear classifier.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { l2Normalize } from "../../loss/l2_normalize.ts";
import { checkInteger, resolveFusionBase } from "./_config.ts";
import { BaseFusionHead, dense } from "./_layers.ts";
import {
  circularConvolution,
  createDftBasis,
  type DftBasis,
  FFT_MODES,
  type FftMode,
  MAX_DFT_SIZE,
  resolveFftMode,
} from "./compact_bilinear.ts";
import { type CountSketch, countSketchMatrix, makeCountSketch } from "./count_sketch.ts";
import type { FusionBaseConfig, FusionConfigInput } from "./fusion_head.ts";

/** Config of {@linkcode McbFusionHead}. */
export interface McbFusionConfig extends FusionBaseConfig {
  /** Sketch width `d` (the pooled vector's length); Fukui et al. use 16 000. */
  outputDim: number;
  /**
   * How the circular convolution is computed (see `compact_bilinear.ts`), resolved each time
   * `apply` runs: `"auto"` takes the matmul DFT for `outputDim ≤ 2048` or on backends without
   * FFT kernels (wasm), else the FFT; `"dft"` needs `outputDim ≤ 4096`.
   */
  fftMode: FftMode;
}

/** Defaults of the optional {@linkcode McbFusionConfig} fields. */
export const DEFAULT_MCB_FUSION_CONFIG: Omit<
  McbFusionConfig,
  "inputDims" | "numClasses" | "seed"
> = { outputDim: 1024, fftMode: "auto", dropout: 0 };

/** What a caller passes to build a {@linkcode McbFusionHead}. */
export type McbFusionInput = FusionConfigInput<McbFusionConfig>;

/** Smallest `|y|` used in the gradient of the signed square root. */
const EPSILON = 1e-12;

/**
 * Fills in defaults and validates (TypeError for a wrong type or unknown key, RangeError for a
 * value out of range). Needs at least two modalities.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveMcbFusionConfig } from "./mcb_fusion.ts";
 * const c = resolveMcbFusionConfig({ inputDims: [8, 4], numClasses: 3, seed: 0 });
 * assert.equal(c.outputDim, 1024);
 * assert.equal(c.fftMode, "auto");
 * ```
 */
export function resolveMcbFusionConfig(input: McbFusionInput): McbFusionConfig {
  const what = "mcb fusion";
  const base = resolveFusionBase(input, {
    what,
    minModalities: 2,
    extraKeys: ["outputDim", "fftMode"],
  });
  const outputDim = checkInteger(
    input.outputDim ?? DEFAULT_MCB_FUSION_CONFIG.outputDim,
    `${what} outputDim`,
    1,
  );
  const fftMode = input.fftMode ?? DEFAULT_MCB_FUSION_CONFIG.fftMode;
  if (!FFT_MODES.includes(fftMode)) {
    throw new RangeError(
      `${what} fftMode must be one of ${FFT_MODES.join(", ")}, got ${String(fftMode)}`,
    );
  }
  if (fftMode === "dft" && outputDim > MAX_DFT_SIZE) {
    throw new RangeError(
      `${what} outputDim ${outputDim} is above ${MAX_DFT_SIZE}, the most fftMode "dft" allows`,
    );
  }
  return { ...base, outputDim, fftMode };
}

/**
 * `sign(y)·√|y|`, element-wise. Its gradient `1 / (2√|y|)` is taken at `|y| ≥ 1e-12`, so it
 * stays finite where `y` is 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { signedSqrt } from "./mcb_fusion.ts";
 * assert.equal((await signedSqrt(tf.tensor1d([-4, 0, 9])).data()).join(), "-2,0,3");
 * ```
 */
export function signedSqrt<T extends tf.Tensor>(y: T): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([x]);
    return {
      value: tf.mul(tf.sign(x), tf.sqrt(tf.abs(x))),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) =>
        tf.div(dy, tf.mul(2, tf.sqrt(tf.maximum(tf.abs(saved), EPSILON)))),
    };
  });
  return op(y) as T;
}

/**
 * Multimodal Compact Bilinear pooling head, for two or more modalities.
 *
 * `y = Ψ_1(x_1) ⊛ … ⊛ Ψ_M(x_M)` (`[B, d]`), `y ← sign(y)√|y|`, `y ← y / √max(‖y‖², 1e-12)`,
 * dropout (when training), then a linear classifier. The Count Sketches are fixed (not
 * trained), drawn from the seed with label `fusion/mcb/sketch/<m>`; their `[D_m, d]`
 * matrices (and, on the DFT path, the DFT basis, built on first use) are held by the head
 * and freed by `dispose`.
 *
 * Missing modality: that clip's vector is replaced by zeros and its sketch by the unit
 * impulse `δ = [1, 0, …, 0]`, the identity of circular convolution, so the pooled vector falls
 * back to the compact bilinear product of the present modalities (a zero sketch would make
 * the whole product zero). A clip with every modality missing pools to `δ`.
 *
 * Weights: `fusion/mcb/classifier/kernel` `[d, C]`, `fusion/mcb/classifier/bias` `[C]`;
 * `d·C + C` parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { McbFusionHead } from "./mcb_fusion.ts";
 * const head = new McbFusionHead({ inputDims: [6, 5], numClasses: 3, seed: 0, outputDim: 16 });
 * assert.equal(head.parameterCount(), 16 * 3 + 3);
 * const logits = head.apply([tf.ones([2, 6]), tf.ones([2, 5])], {});
 * assert.equal(logits.shape[1], 3);
 * head.dispose();
 * ```
 */
export class McbFusionHead extends BaseFusionHead<McbFusionConfig> {
  /** The fixed Count Sketch of each modality. */
  readonly sketches: readonly CountSketch[];
  readonly #matrices: tf.Tensor2D[];
  readonly #impulse: tf.Tensor2D;
  readonly #kernel: tf.Variable;
  readonly #bias: tf.Variable;
  #basis: DftBasis | undefined;

  constructor(config: McbFusionInput) {
    const resolved = resolveMcbFusionConfig(config);
    super("mcb", resolved);
    const { inputDims, outputDim, numClasses, seed } = resolved;
    this.sketches = inputDims.map((d, m) =>
      makeCountSketch(d, outputDim, { seed, label: `fusion/mcb/sketch/${m}` })
    );
    this.#matrices = this.sketches.map(countSketchMatrix);
    const impulse = new Float32Array(outputDim);
    impulse[0] = 1;
    this.#impulse = tf.tensor2d(impulse, [1, outputDim], "float32");
    this.#kernel = this.addVariable("classifier/kernel", [outputDim, numClasses], "glorot");
    this.#bias = this.addVariable("classifier/bias", [numClasses], "zeros");
  }

  /** The DFT basis, built once on first use and kept (outside any tidy) until dispose. */
  #dftBasis(): DftBasis {
    if (!this.#basis) {
      const basis = createDftBasis(this.config.outputDim);
      for (const t of [basis.forwardCos, basis.forwardSin, basis.inverseCos, basis.inverseSin]) {
        tf.keep(t);
      }
      this.#basis = basis;
    }
    return this.#basis;
  }

  protected forward(
    features: tf.Tensor2D[],
    masks: tf.Tensor2D[],
    options: { training: boolean; masked: boolean },
  ): tf.Tensor2D {
    const sketched = features.map((x, m): tf.Tensor2D => {
      const psi = tf.matMul(x, this.#matrices[m]) as tf.Tensor2D; // [B, d]
      if (!options.masked) return psi;
      const mask = masks[m]; // [B, 1]
      return tf.add(tf.mul(psi, mask), tf.mul(this.#impulse, tf.sub(1, mask))) as tf.Tensor2D; // [B, d]
    });
    const mode = resolveFftMode(this.config.fftMode, { size: this.config.outputDim });
    const pooled = circularConvolution(sketched, {
      mode,
      ...(mode === "dft" ? { basis: this.#dftBasis() } : {}),
    }); // [B, d]
    const rooted = signedSqrt(pooled); // [B, d]
    const normalized = l2Normalize(rooted); // [B, d]
    const dropped = this.dropout(normalized, options.training);
    return dense(dropped, this.#kernel, this.#bias); // [B, C]
  }

  protected override disposeConstants(): void {
    for (const m of this.#matrices) m.dispose();
    this.#impulse.dispose();
    this.#basis?.dispose();
    this.#basis = undefined;
  }
}
