/**
 * Small parts of fine-tuning (private to lib/train): label rows of chosen
 * clips, the optimiser a config asks for, mixup of a batch's audio, and the
 * classifier of a plan.
 *
 * @module
 */
import type { FinetuneConfig } from "../config/finetune_config.ts";
import type { ClipBatch } from "../data/shards/dataset.ts";
import { pcm16ToFloat } from "../data/media/pcm16.ts";
import type { DatasetLabels } from "../data/shards/split.ts";
import type { Weights } from "../model/weights.ts";
import { Classifier } from "../model/classifier.ts";
import { VattModel } from "../model/vatt.ts";
import { loadModelWeights } from "../run/checkpoint.ts";
import type { FinetunePlan } from "./finetune_plan.ts";
import { mixRows, type MixupPlan } from "./mixup.ts";
import { OffHeapAdam } from "./off_heap_adam.ts";
import { Adam, type Optimizer, SgdMomentum } from "./optimizer.ts";

/**
 * Gathers label rows of `indices` (class indices, or multi-hot rows).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelRows } from "./_finetune_parts.ts";
 * const single = { names: ["a", "b"], multiLabel: false, labels: new Int32Array([1, 0, 1]) };
 * assert.deepEqual(Array.from(labelRows(single, [2, 1])), [1, 0]);
 * const multi = { ...single, multiLabel: true, labels: new Uint8Array([1, 0, 0, 1, 1, 1]) };
 * assert.deepEqual(Array.from(labelRows(multi, [1])), [0, 1]);
 * ```
 */
export function labelRows(
  l: Pick<DatasetLabels, "labels" | "names" | "multiLabel">,
  indices: number[],
): Int32Array | Uint8Array {
  if (!l.multiLabel) return Int32Array.from(indices, (i) => l.labels[i]);
  const c = l.names.length;
  const out = new Uint8Array(indices.length * c);
  indices.forEach((i, k) => out.set(l.labels.subarray(i * c, i * c + c), k * c));
  return out;
}

/**
 * The optimiser of `config` over `weights` (weight decay on kernels only);
 * `offHeap`: Adam's moments in host arrays (`off_heap_adam.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveFinetuneConfig } from "../config/finetune_config.ts";
 * import { makeOptimizer } from "./_finetune_parts.ts";
 * const w = tf.variable(tf.zeros([2]));
 * const sgd = makeOptimizer(resolveFinetuneConfig({ modalities: ["audio"], optimizer: "sgd" }), { w });
 * assert.equal(sgd.constructor.name, "SgdMomentum");
 * sgd.dispose();
 * w.dispose();
 * ```
 */
export function makeOptimizer(
  config: FinetuneConfig,
  weights: Weights,
  options: { offHeap?: boolean } = {},
): Optimizer {
  const decayable = (name: string) => name.endsWith("/kernel");
  const adam = { weightDecay: config.weightDecay, decayable };
  if (config.optimizer === "adam") {
    return options.offHeap ? new OffHeapAdam(weights, adam) : new Adam(weights, adam);
  }
  return new SgdMomentum(weights, {
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    decayable,
  });
}

/**
 * Mixes a batch's audio waveforms (scaled to [−1, 1]) by `plan`; a mixed
 * clip has audio when either of its sources has.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ClipBatch } from "../data/shards/dataset.ts";
 * import { mixAudio } from "./_finetune_parts.ts";
 * const batch = { audio: new Int16Array([16384, 0]), audioMask: new Uint8Array([1, 0]) } as unknown as ClipBatch;
 * const mixed = mixAudio(batch, { lambda: 0.5, permutation: [1, 0] });
 * assert.deepEqual(Array.from(mixed.audio), [0.25, 0.25]);
 * assert.deepEqual(Array.from(mixed.audioMask), [1, 1]);
 * ```
 */
export function mixAudio(batch: ClipBatch, plan: MixupPlan): ClipBatch {
  const audio = batch.audio instanceof Int16Array
    ? Float32Array.from(batch.audio, pcm16ToFloat)
    : batch.audio;
  const mask = Uint8Array.from(
    batch.audioMask,
    (m, i) => (m || batch.audioMask[plan.permutation[i]] ? 1 : 0),
  );
  return { ...batch, audio: mixRows(audio, plan), audioMask: mask };
}

/**
 * The pretrained model of the plan with a new head; the classifier owns the model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveFinetuneConfig } from "../config/finetune_config.ts";
 * import type { FinetunePlan } from "./finetune_plan.ts";
 * import { buildClassifier } from "./_finetune_parts.ts";
 * const plan = { model: { preset: "tiny" }, checkpoint: "/nonexistent" } as unknown as FinetunePlan;
 * await assert.rejects(buildClassifier(plan, resolveFinetuneConfig({ modalities: ["audio"] })));
 * ```
 */
export async function buildClassifier(
  plan: FinetunePlan,
  config: FinetuneConfig,
): Promise<Classifier> {
  const model = VattModel.create(plan.model);
  try {
    await loadModelWeights(plan.checkpoint, { weights: model.weights, config: model.config });
    return Classifier.create(model, {
      modalities: config.modalities,
      features: config.features,
      head: config.head,
      headOptions: config.headOptions,
      seed: config.seed,
      labels: { names: plan.labels.names, multiLabel: plan.labels.multiLabel },
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
}
