/**
 * The contract shared by the multimodal fusion heads in this folder: the heads that the VATT
 * paper compares against (early concatenation, Tensor Fusion, Multimodal Compact Bilinear
 * pooling) and a linear classifier on VATT's own common-space embeddings.
 *
 * Every head takes one `[B, D_m]` feature tensor per modality, in a fixed order, and returns
 * class logits `[B, C]`. Its weights are `tf.Variable`s listed under stable names
 * (`fusion/<name>/<layer>/kernel`), initialised from one integer seed through {@linkcode Rng}.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { FusionHeadName } from "../../config/fusion_config.ts";

export type { FusionHeadName };

/** Options of {@linkcode FusionHead.apply}. */
export interface FusionApplyOptions {
  /**
   * One `[B]` tensor per modality (same order as the features): 1 where the clip has that
   * modality, 0 where it is missing. Values are multiplied in, so use exactly 0 or 1.
   * Omitted: every modality is present.
   */
  masks?: tf.Tensor1D[];
  /** Training mode: applies the head's dropout (if its rate is above 0). Default false. */
  training?: boolean;
  /**
   * Data parallelism: the features are rows `start…` of a global batch of `total`
   * rows; dropout draws the global batch's mask and keeps those rows.
   */
  shard?: { start: number; total: number };
}

/**
 * A multimodal classification head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import type { FusionHead } from "./fusion_head.ts";
 * import { createFusionHead } from "./registry.ts";
 * const head: FusionHead = createFusionHead("concat", { inputDims: [4, 3], numClasses: 2, seed: 1 });
 * const logits = head.apply([tf.ones([5, 4]), tf.ones([5, 3])], {});
 * assert.equal(logits.shape[0], 5);
 * assert.equal(logits.shape[1], 2);
 * head.dispose();
 * ```
 */
export interface FusionHead {
  /** Which head this is. */
  readonly name: FusionHeadName;
  /**
   * Trainable weights under stable names (`fusion/<name>/<layer>/kernel|bias`). Save and load
   * checkpoints by these keys: each `tf.Variable`'s own `name` carries a unique suffix so that
   * several heads can live at once.
   */
  readonly variables: Record<string, tf.Variable>;
  /**
   * Logits `[B, numClasses]` from one `[B, D_m]` tensor per modality. Runs inside `tf.tidy`:
   * only the returned tensor is left for the caller to dispose.
   */
  apply(features: tf.Tensor2D[], options: FusionApplyOptions): tf.Tensor2D;
  /** Number of trainable scalars (sum of the sizes of {@linkcode FusionHead.variables}). */
  parameterCount(): number;
  /** Frees the variables and any constant tensors the head holds; later `apply` calls throw. */
  dispose(): void;
}

/** Fields every fusion head config has. */
export interface FusionBaseConfig {
  /** Feature width `D_m` of each modality, in the order of `apply`'s features. */
  inputDims: number[];
  /** Number of classes `C`: the width of the logits. */
  numClasses: number;
  /** Integer seed of every initialiser, count sketch and dropout mask of the head. */
  seed: number;
  /** Dropout rate in [0, 1) on the classifier's input, applied only when training. */
  dropout: number;
}

/** Keys a caller must always give when building a head. */
export type RequiredFusionKeys = "inputDims" | "numClasses" | "seed";

/** What a caller passes for a config `C`: the required keys, and any of the others. */
export type FusionConfigInput<C extends FusionBaseConfig> =
  & Pick<C, RequiredFusionKeys>
  & Partial<Omit<C, RequiredFusionKeys>>;
