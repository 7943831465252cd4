/**
 * vatt: VATT (Akbari et al., "VATT: Transformers for Multimodal
 * Self-Supervised Learning from Raw Video, Audio and Text", NeurIPS 2021) on
 * TensorFlow.js, as a library. The `vatt` command (`cli/main.ts`) is built on
 * the same exports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initBackend, milNceLoss, nceLoss, resolveVattConfig, VattModel } from "./mod.ts";
 *
 * await initBackend("cpu");
 * const config = resolveVattConfig({ preset: "tiny" });
 * const model = VattModel.create(config);
 * const out = model.apply({
 *   video: tf.zeros([2, 8, 32, 32, 3]),
 *   audio: tf.zeros([2, 6400]),
 *   text: tf.ones([2, 3, 16], "int32"),
 * });
 * const loss = tf.add(nceLoss(out.video!.va, out.audio!.va), milNceLoss(out.video!.vt, out.text!.vt as tf.Tensor3D));
 * const [value] = await loss.data();
 * assert.ok(Number.isFinite(value) && value > 0, `loss ${value}`);
 * model.dispose();
 * ```
 *
 * @module
 */

// Config and model
export {
  type AudioConfig,
  type BackboneConfig,
  BACKBONES,
  DEFAULT_VATT_CONFIG,
  type HeadsConfig,
  isPresetName,
  type PresetName,
  PRESETS,
  type RelativePosition,
  resolveVattConfig,
  type TextConfig,
  type VattConfig,
  type VattConfigInput,
  type VideoConfig,
} from "./lib/config/vatt_config.ts";
export { audioTokenCount, keptTokenCount, videoTokenGrid } from "./lib/config/token_counts.ts";
export {
  type ForwardOptions,
  type VattInputs,
  VattModel,
  type VattOutputs,
} from "./lib/model/vatt.ts";
export {
  countParameters,
  type ParameterCounts,
  type WeightSpec,
  weightSpecs,
} from "./lib/model/weight_specs.ts";
export { type BatchNormUpdate } from "./lib/model/heads.ts";
export * from "./lib/model/fusion/mod.ts";

// Losses and training pieces
export { nceLoss, type NceLossOptions } from "./lib/loss/nce.ts";
export { milNceLoss, type MilNceLossOptions } from "./lib/loss/mil_nce.ts";
export { learningRate, resolveScheduleConfig, type ScheduleConfig } from "./lib/train/schedule.ts";
export { Adam, type Optimizer, SgdMomentum } from "./lib/train/optimizer.ts";
export { clipByGlobalNorm } from "./lib/train/grad_clip.ts";
export { OffHeapAdam } from "./lib/train/off_heap_adam.ts";
export { accumulatedGrads } from "./lib/train/accumulate.ts";
export { recomputed } from "./lib/model/recompute.ts";
export { estimateMemory, type MemoryEstimate, planMemory } from "./lib/train/memory_plan.ts";
export { chooseMemoryStrategy, type MemoryStrategy } from "./lib/train/memory_strategy.ts";
export {
  AUGMENT_MODES,
  type AugmentMode,
  DEFAULT_AUGMENT,
  DEFAULT_LOSS_FORM,
  DEFAULT_TEMPERATURE,
  defaultLearningRate,
  LOSS_FORMS,
  type LossForm,
  type PretrainConfig,
  resolvePretrainConfig,
} from "./lib/config/pretrain_config.ts";
export { LEGACY_ARCHITECTURE, resolveStoredVattConfig } from "./lib/config/stored_vatt_config.ts";
export { readWordVectors } from "./lib/data/text/word_vectors.ts";
export { zeroShotClassify } from "./lib/eval/classify/zero_shot.ts";
export { evaluateClassifier } from "./lib/eval/classify/evaluate.ts";

// Data
export { type ClipBatch, Dataset } from "./lib/data/shards/dataset.ts";
export {
  type DatasetIndex,
  parseDatasetIndex,
  type TokenizeSettings,
} from "./lib/data/shards/dataset_index.ts";
export { mergeSlices } from "./lib/data/tokenize/merge.ts";
export {
  DEFAULT_TOKENIZE_SETTINGS,
  resolveTokenizeSettings,
} from "./lib/data/tokenize/settings.ts";
export { tokenizeDataset, type TokenizeOptions } from "./lib/data/tokenize/tokenize.ts";
export { generateDemoData } from "./lib/demo/demo_data.ts";
export { readManifest } from "./lib/data/manifest/manifest.ts";

// Evaluation
export { cosineSimilarityMatrix, retrievalMetrics } from "./lib/eval/retrieval/metrics.ts";
export { rankReversed } from "./lib/eval/retrieval/reverse.ts";
export {
  confusionMatrix,
  meanAveragePrecision,
  rocAuc,
  topKAccuracy,
} from "./lib/eval/classify/metrics.ts";

// Files and backends
export { openSafetensors, readSafetensors, writeSafetensors } from "./lib/io/safetensors.ts";
export { type BackendName, initBackend, probeBackends } from "./lib/backend/select.ts";
export { FormatError, MismatchError } from "./lib/util/errors.ts";
export { Rng } from "./lib/util/rng.ts";
