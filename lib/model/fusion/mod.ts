/**
 * Multimodal fusion heads for downstream classification, as compared in the VATT paper:
 * concatenation, Tensor Fusion Network, Multimodal Compact Bilinear pooling, and a linear
 * classifier on VATT's common-space embeddings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createFusionHead, FUSION_HEADS } from "./mod.ts";
 * const features = [tf.ones([2, 8]), tf.ones([2, 6]), tf.ones([2, 4])] as tf.Tensor2D[];
 * for (const name of FUSION_HEADS) {
 *   const head = createFusionHead(name, { inputDims: [8, 6, 4], numClasses: 3, seed: 0 });
 *   assert.equal(head.apply(features, {}).shape[1], 3);
 *   head.dispose();
 * }
 * ```
 *
 * @module
 */
export type {
  FusionApplyOptions,
  FusionBaseConfig,
  FusionConfigInput,
  FusionHead,
  FusionHeadName,
} from "./fusion_head.ts";
export { createFusionHead, FUSION_HEADS, type FusionHeadInputs } from "./registry.ts";
export {
  type ConcatFusionConfig,
  ConcatFusionHead,
  type ConcatFusionInput,
  DEFAULT_CONCAT_FUSION_CONFIG,
  resolveConcatFusionConfig,
} from "./concat_fusion.ts";
export {
  DEFAULT_TENSOR_FUSION_CONFIG,
  MAX_TENSOR_FUSION_SIZE,
  resolveTensorFusionConfig,
  type TensorFusionConfig,
  TensorFusionHead,
  type TensorFusionInput,
  tensorFusionProduct,
} from "./tensor_fusion.ts";
export {
  DEFAULT_MCB_FUSION_CONFIG,
  type McbFusionConfig,
  McbFusionHead,
  type McbFusionInput,
  resolveMcbFusionConfig,
  signedSqrt,
} from "./mcb_fusion.ts";
export {
  AUTO_DFT_MAX_SIZE,
  circularConvolution,
  compactBilinear,
  createDftBasis,
  type DftBasis,
  FFT_MODES,
  type FftMode,
  hasFftKernels,
  MAX_DFT_SIZE,
  resolveFftMode,
} from "./compact_bilinear.ts";
export {
  type CountSketch,
  countSketch,
  countSketchMatrix,
  makeCountSketch,
} from "./count_sketch.ts";
export {
  DEFAULT_VATT_FUSION_CONFIG,
  resolveVattFusionConfig,
  type VattFusionConfig,
  VattFusionHead,
  type VattFusionInput,
} from "./vatt_fusion.ts";
