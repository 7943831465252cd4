/**
 * Pretraining: `L = NCE(z_v,va, z_a,va) + λ·MIL-NCE(z_v,vt, {z_t,vt})` with
 * Adam, warmup + quarter-cosine schedule and DropToken, as a step function
 * over the one training loop (`loop.ts`: data order, checkpoints, exact
 * resume, stops). DropToken is a function of `(seed, step)`, so a resumed run
 * continues bit-for-bit on deterministic backends (cpu, wasm).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PretrainConfig } from "../config/pretrain_config.ts";
import type { VattConfig } from "../config/vatt_config.ts";
import { checkModelFitsData } from "../data/fit.ts";
import { type BatchTensors, batchToTensors } from "../data/shards/batches.ts";
import type { ClipBatch, Dataset } from "../data/shards/dataset.ts";
import { readDatasetWordVectors } from "../data/text/word_vector_table.ts";
import { milNceLoss } from "../loss/mil_nce.ts";
import { nceLoss } from "../loss/nce.ts";
import { type Collectives, SOLO } from "../dist/mpi.ts";
import type { BatchShard } from "../model/batch_shard.ts";
import type { BatchNormUpdate } from "../model/heads.ts";
import { cutVideoIntoPatches } from "../model/patch_embed.ts";
import { VattModel } from "../model/vatt.ts";
import { setWordVectorTable } from "../model/word_embedding.ts";
import { loadModelWeights } from "../run/checkpoint.ts";
import { appendMetrics } from "../run/metrics_log.ts";
import { Rng } from "../util/rng.ts";
import {
  type LoopOptions,
  type LoopResult,
  type PreparedStep,
  trainLoop,
  type TrainTask,
} from "./loop.ts";
import { inBatchAccuracy } from "./batch_metrics.ts";
import { OffHeapAdam } from "./off_heap_adam.ts";
import { batchShard, gatherArrays, gatherBatches, rankRows } from "./distributed.ts";
import { Adam } from "./optimizer.ts";

/** One line of `metrics.jsonl`. */
export interface PretrainMetrics {
  step: number;
  loss: number;
  nce: number;
  milNce: number;
  lr: number;
  /** Clips per second of this step (data reading included). */
  clipsPerSec: number;
  /** In-batch top-1 retrieval accuracy video→audio (clips with audio). */
  accVideoAudio: number;
  /** In-batch top-1 retrieval accuracy video→text (the best caption belongs to the clip). */
  accVideoText: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/**
 * Options of {@linkcode pretrain}: the loop's (the run folder, where
 * `metrics.jsonl` is written too; resume, checkpoint and stop hooks) and these.
 */
export interface PretrainOptions extends LoopOptions {
  model: VattConfig;
  train: PretrainConfig;
  data: Dataset;
  /** Called after every step. */
  onStep?: (m: PretrainMetrics) => void;
  /**
   * What the memory plan switched on (`memory_strategy.ts`); default: recompute
   * when `train.recompute` is `"layers"`, moments on the heap.
   */
  memory?: { recompute: boolean; offHeapState: boolean; recomputeParts?: number };
}

/** Outcome of {@linkcode pretrain}: steps completed, whether it stopped early, the last checkpoint. */
export type PretrainResult = LoopResult;

/** What a pretraining forward pass keeps for the step's metrics (each `tf.keep`-ed). */
interface KeptOutputs {
  nce: tf.Scalar;
  mil: tf.Scalar;
  /** `[B, D_va]` video and audio embeddings in the video–audio space. */
  videoVa: tf.Tensor2D;
  audioVa: tf.Tensor2D;
  /** `[B, D_vt]` video and `[B, P, D_vt]` caption embeddings in the video–text space. */
  videoVt: tf.Tensor2D;
  textVt: tf.Tensor;
}

/** Options of {@linkcode pretrainLoss}. */
interface LossOptions {
  train: PretrainConfig;
  rng: Rng;
  updates: BatchNormUpdate[];
  kept: tf.Tensor[];
  /** Recompute each transformer layer in the backward pass. */
  recompute: boolean;
  /** Recomputed layers run on this many parts of the batch in turn (default 1). */
  recomputeParts?: number;
  /**
   * Data parallelism: this rank's rows; the losses see every rank's embeddings,
   * masked with the global batch's `[B]` audio and video and `[B, P]` caption masks.
   */
  shard?: {
    collectives: Collectives;
    rows: BatchShard;
    audioMask: tf.Tensor;
    textMask: tf.Tensor;
    videoMask: tf.Tensor;
  };
}

/** The batch's loss in training mode, `tf.keep`-ing its parts into `options.kept`. */
function pretrainLoss(model: VattModel, inputs: BatchTensors, options: LossOptions): tf.Scalar {
  const { train, kept, shard } = options;
  const out = model.apply({ video: inputs.video, audio: inputs.audio, text: inputs.text }, {
    training: true,
    rng: options.rng,
    bnUpdates: options.updates,
    recompute: options.recompute,
    recomputeParts: options.recomputeParts,
    shard: shard?.rows,
  });
  // Cross-replica negatives: the global batch's embeddings (one gather), the gradient of this rank's rows.
  const local = [out.video!.va, out.audio!.va, out.video!.vt, out.text!.vt];
  const [videoVa, audioVa, videoVt, textVt] = shard
    ? gatherBatches(shard.collectives, local)
    : local;
  const nce = nceLoss(videoVa as tf.Tensor2D, audioVa as tf.Tensor2D, {
    temperature: train.temperature,
    form: train.lossForm,
    symmetric: train.symmetric,
    mask: (shard?.audioMask ?? inputs.audioMask) as tf.Tensor1D,
    videoMask: (shard?.videoMask ?? inputs.videoMask) as tf.Tensor1D | undefined, // audio-only clips: in neither loss
  });
  const mil = milNceLoss(videoVt as tf.Tensor2D, textVt as tf.Tensor3D, {
    temperature: train.temperature,
    form: train.lossForm,
    mask: (shard?.textMask ?? inputs.textMask) as tf.Tensor2D,
    videoMask: (shard?.videoMask ?? inputs.videoMask) as tf.Tensor1D | undefined,
  });
  kept.push(tf.keep(nce), tf.keep(mil), tf.keep(videoVa), tf.keep(audioVa), tf.keep(videoVt));
  kept.push(tf.keep(textVt));
  return tf.add(nce, tf.mul(mil, train.milWeight)) as tf.Scalar;
}

/**
 * The global batch's masks (one gather over the ranks), for the losses and
 * the in-batch accuracy, and with several ranks this rank's shard of the loss.
 */
function globalMasks(
  batch: ClipBatch,
  indices: number[],
  mine: ReturnType<typeof rankRows>,
  c: Collectives,
  captions: number,
) {
  const ownVideo = batch.videoMask ?? new Uint8Array(batch.count).fill(1);
  const [audioMask, textMask, videoMask] = c.size > 1
    ? gatherArrays(c, [
      Uint8Array.from(batch.audioMask),
      Uint8Array.from(batch.textMask),
      Uint8Array.from(ownVideo),
    ])
    : [batch.audioMask, batch.textMask, ownVideo];
  const masks = { count: indices.length, audioMask, textMask, videoMask };
  const shard = c.size > 1
    ? {
      collectives: c,
      rows: batchShard(c, { start: mine.start, count: mine.rows.length }),
      audioMask: tf.tensor1d(Float32Array.from(audioMask)),
      textMask: tf.tensor2d(Float32Array.from(textMask), [indices.length, captions]),
      videoMask: tf.tensor1d(Float32Array.from(videoMask)),
    }
    : undefined;
  return { masks, shard };
}

/** Step `step` of pretraining on clips `indices`: the loss, then BatchNorm, accuracy and the metrics line. */
async function preparePretrainStep(
  model: VattModel,
  indices: number[],
  options: PretrainOptions & { step: number },
): Promise<PreparedStep> {
  const { train, data } = options;
  const s = data.index.settings;
  const c = options.collectives ?? SOLO;
  // This rank's rows of the global batch (all of it in one process).
  const mine = rankRows(indices, c);
  const batch = await data.readClips(mine.rows);
  // A random window, crop, flip and colour per visit, drawn from (seed, step, clip).
  const inputs = cutVideoIntoPatches(
    batchToTensors(batch, s, {
      augment: { mode: train.augment, seed: train.seed, step: options.step, clips: mine.rows },
    }),
    model.config,
  ); // video as patches before the tape, which holds them alone

  const { masks, shard } = globalMasks(batch, indices, mine, c, inputs.textMask.shape[1]);
  const updates: BatchNormUpdate[] = [];
  const kept: tf.Tensor[] = [];
  const rng = Rng.forLabel(train.seed, `droptoken-${options.step}`);
  const recompute = options.memory?.recompute ?? train.recompute === "layers";
  let applied = false;
  const read = { nce: 0, milNce: 0, accVideoAudio: 0, accVideoText: 0 };
  return {
    loss: () =>
      pretrainLoss(model, inputs, {
        train,
        rng,
        updates,
        kept,
        recompute,
        recomputeParts: options.memory?.recomputeParts,
        shard,
      }),
    afterUpdate: async () => {
      model.applyBatchNormUpdates(updates);
      applied = true;
      const [nce, mil, videoVa, audioVa, videoVt, textVt] = kept;
      read.nce = (await nce.data())[0];
      read.milNce = (await mil.data())[0];
      const outputs = { nce, mil, videoVa, audioVa, videoVt, textVt } as KeptOutputs;
      // Top-1 with padded captions and clips without audio masked by score.
      const acc = await inBatchAccuracy(outputs, masks);
      [read.accVideoAudio, read.accVideoText] = [acc.videoAudio, acc.videoText];
    },
    dispose: () => {
      tf.dispose([...kept, ...Object.values(inputs)]);
      if (shard) tf.dispose([shard.audioMask, shard.textMask, shard.videoMask]);
      if (!applied) { for (const u of updates) tf.dispose([u.mean, u.variance]); }
    },
    completed: async (done) => {
      const m: PretrainMetrics = {
        step: done.step,
        loss: done.loss,
        nce: read.nce,
        milNce: read.milNce,
        lr: done.lr,
        clipsPerSec: indices.length / ((performance.now() - done.started) / 1000),
        accVideoAudio: read.accVideoAudio,
        accVideoText: read.accVideoText,
        gradNorm: done.gradNorm,
      };
      if (c.rank === 0) await appendMetrics(options.runDir, m); // rank 0 alone writes
      options.onStep?.(m);
    },
  };
}

/**
 * Runs (or continues, from `options.resumeFrom`) pretraining; checks first
 * that the dataset fits the model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolvePretrainConfig } from "../config/pretrain_config.ts";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import type { ClipBatch, Dataset } from "../data/shards/dataset.ts";
 * import { pretrain } from "./pretrain.ts";
 * // A dataset tokenized with 4 frames does not fit the tiny preset's 8: refused before training.
 * const data = { index: { settings: { frames: 4 }, text: { vocabSize: 1 } } } as unknown as Dataset;
 * const model = resolveVattConfig({ preset: "tiny" });
 * await assert.rejects(
 *   pretrain({ runDir: "unused", model, train: resolvePretrainConfig({ steps: 1 }), data }),
 *   /4 frames \(model expects 8\)/,
 * );
 * ```
 */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const { train, data } = options;
  checkModelFitsData(options.model, data);
  const table = await readDatasetWordVectors(data); // frozen vectors of a --word-vectors dataset
  const model = VattModel.create(options.model);
  if (table) setWordVectorTable(model.weights, table, model.config.text);
  const weights = model.trainableWeights();
  const adamOptions = {
    weightDecay: train.weightDecay,
    // No decay on biases, norms, embeddings' padding or positions: the usual ViT practice.
    decayable: (name: string) => name.endsWith("/kernel"),
  };
  // The same update either way; off the heap when the memory plan says so.
  const optimizer = options.memory?.offHeapState
    ? new OffHeapAdam(weights, adamOptions)
    : new Adam(weights, adamOptions);
  const task: TrainTask = {
    kind: "pretrain",
    trainable: weights,
    optimizer,
    data: { size: data.size, seed: train.seed, batchSize: train.batchSize },
    schedule: {
      baseRate: train.baseRate,
      finalRate: train.finalRate,
      warmupSteps: train.warmupSteps,
      totalSteps: train.steps,
    },
    clipNorm: train.clipNorm,
    keep: train.keep,
    checkpointDue: (step) => step % train.checkpointEvery === 0,
    checkpoint: () => ({ weights: model.weights, config: model.config }),
    restore: (checkpoint) =>
      loadModelWeights(checkpoint, { weights: model.weights, config: model.config }),
    prepare: (indices, step) => preparePretrainStep(model, indices, { ...options, step }),
  };
  try {
    return await trainLoop(task, options);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
