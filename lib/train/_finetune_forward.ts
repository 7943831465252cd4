/**
 * The training forward pass of fine-tuning (private to lib/train): the
 * logits of a batch of sampler rows, from the frozen features' table or from
 * the clips themselves, over the whole batch or one micro-batch of it
 * (gradient accumulation slices the batch after mixup, so the micro-batches
 * together are exactly the batch).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { FinetuneConfig } from "../config/finetune_config.ts";
import { batchToTensors } from "../data/shards/batches.ts";
import type { Dataset } from "../data/shards/dataset.ts";
import type { Classifier } from "../model/classifier.ts";
import { cutVideoIntoPatches } from "../model/patch_embed.ts";
import { mixAudio } from "./_finetune_parts.ts";
import { type FeatureTable, tableBatch } from "./_feature_table.ts";
import { mixRows, type MixupPlan } from "./mixup.ts";

/** Clips `[start, start + size)` of a batch. */
export interface RowRange {
  start: number;
  size: number;
}

/** What the forward pass reads of a fine-tuning run. */
export interface ForwardSource {
  classifier: Classifier;
  config: Pick<FinetuneConfig, "augment" | "seed">;
  data: Dataset;
  /** Dataset positions of the training split (sampler rows index it). */
  train: number[];
  /** The frozen backbone's features of the training split. */
  table?: FeatureTable;
  /** Recompute the backbone's layers in the backward pass. */
  recompute: boolean;
  /** Recomputed layers run on this many parts of the batch in turn (default 1). */
  recomputeParts?: number;
}

/** `t`'s rows of `part` (all of `t` without a part). */
function rowsOf<T extends tf.Tensor>(t: T, part: RowRange | undefined): T {
  return part ? tf.slice(t, part.start, part.size) as T : t;
}

/**
 * The logits of training rows `rows` (of the whole batch, or of a micro-batch
 * `part`): the head over table rows, or the classifier over clips. The
 * batch's tensors are pushed onto `owned` (the caller frees them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainForward } from "./_finetune_forward.ts";
 * assert.equal(typeof trainForward, "function"); // exercised by tests/lib/train/finetune_test.ts
 * ```
 */
export async function trainForward(
  source: ForwardSource,
  rows: number[],
  options: {
    mix?: MixupPlan;
    owned: tf.Tensor[];
    step: number;
    /** Data parallelism: `rows` are this rank's of a global batch (synchronized BatchNorm). */
    shard?: { start: number; total: number };
  },
): Promise<(part?: RowRange) => tf.Tensor2D> {
  const { classifier, table } = source;
  const { mix, owned } = options;
  if (table) {
    const { features, masks } = tableBatch(table, rows, mix && ((_, v) => mixRows(v, mix)));
    if (mix) {
      // A mixed row has audio when either of its two sources has.
      const m0 = await masks[0].data();
      masks[0].dispose();
      masks[0] = tf.tensor1d(
        Float32Array.from(m0, (v, i) => Math.max(v, m0[mix.permutation[i]])),
      );
    }
    owned.push(...features, ...masks);
    return (part) =>
      classifier.head.apply(features.map((f) => rowsOf(f, part)), {
        masks: masks.map((m) => rowsOf(m, part)),
        training: true,
        shard: options.shard,
      });
  }
  const clips = rows.map((r) => source.train[r]);
  let batch = await source.data.readClips(clips);
  if (mix) batch = mixAudio(batch, mix);
  // A random window, crop, flip and colour per visit, drawn from (seed, step, clip).
  const augment = {
    mode: source.config.augment,
    seed: source.config.seed,
    step: options.step,
    clips,
  };
  const tensors = batchToTensors(batch, source.data.index.settings, { augment });
  // Video as patches before the tape, which then holds them alone.
  const inputs = classifier.spec.modalities.includes("video")
    ? cutVideoIntoPatches(tensors, classifier.model.config)
    : tensors;
  owned.push(...Object.values(inputs));
  return (part) => {
    const sliced = part
      ? Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, rowsOf(t, part)]))
      : inputs;
    return classifier.logits(sliced as typeof inputs, {
      training: true,
      recompute: source.recompute,
      recomputeParts: source.recomputeParts,
      shard: options.shard,
    });
  };
}
