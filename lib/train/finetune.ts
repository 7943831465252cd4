/**
 * Fine-tuning a pretrained VATT for classification, as a step function over
 * the one training loop (`loop.ts`): a head from `lib/model/fusion` on one
 * modality's representation (end-to-end, the backbone trained too) or on
 * several modalities' features (frozen backbone: features extracted once,
 * only the head trained; also the linear probe). Softmax cross-entropy with
 * label smoothing (single-label) or sigmoid cross-entropy (multi-label), SGD
 * with momentum or Adam, linear warmup then cosine decay to 0, gradient
 * clipping, mixup for audio, a seeded split by clip or a validation dataset
 * (`finetune_plan.ts`), and after each epoch a line of `metrics.jsonl` with
 * the training loss and validation metrics.
 *
 * Exact resume: mixup is a function of `(seed, step)`; a checkpoint also
 * stores the running sums of the epoch's training loss, so a resumed run
 * ends with the same weights and metrics as an uninterrupted one on
 * deterministic backends (cpu, wasm).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { FinetuneConfig } from "../config/finetune_config.ts";
import { sigmoidCrossEntropy, smoothTargets, softmaxCrossEntropy } from "../loss/classification.ts";
import type { Classifier } from "../model/classifier.ts";
import type { Weights } from "../model/weights.ts";
import type { TrainState } from "../run/checkpoint.ts";
import { SOLO } from "../dist/mpi.ts";
import { loadClassifierWeights } from "../run/load_classifier.ts";
import { appendMetrics } from "../run/metrics_log.ts";
import { buildClassifier, labelRows, makeOptimizer } from "./_finetune_parts.ts";
import { type RowRange, trainForward } from "./_finetune_forward.ts";
import { rankRows } from "./distributed.ts";
import { extractFeatures, type FeatureTable, tableLogits } from "./_feature_table.ts";
import { type FinetunePlan, planFinetune, type PlanOptions } from "./finetune_plan.ts";
import {
  type LoopOptions,
  type LoopResult,
  type PreparedStep,
  type StepDone,
  trainLoop,
  type TrainTask,
} from "./loop.ts";
import { mixRows, mixupPlan } from "./mixup.ts";

/** Progress after one optimisation step. */
export interface FinetuneStep {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

/** One line of `metrics.jsonl`, written after each epoch. */
export interface FinetuneMetrics {
  epoch: number;
  /** Steps completed at the end of the epoch. */
  step: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** Mean training loss over the epoch (smoothed, mixed targets as trained on). */
  trainLoss: number;
  /** Validation clips (0: no validation). */
  valClips: number;
  valLoss?: number;
  top1?: number;
  top5?: number;
  mAP?: number;
  rocAuc?: number;
  /** Wall seconds of the epoch's training steps (not the validation). */
  seconds: number;
}

/** Validation scores of logits: the unsmoothed loss, and top-1/top-5 or mAP/ROC-AUC. */
export interface ValidationScores {
  loss: number;
  top1?: number;
  top5?: number;
  mAP?: number;
  rocAuc?: number;
}

/**
 * Scores validation logits `[N, C]` against labels (`[N]` classes or
 * `[N, C]` multi-hot): `classificationReport` of `lib/eval/classify`, passed
 * in because training and evaluation do not import each other.
 */
export type ScoreValidation = (
  logits: Float32Array,
  labels: Int32Array | Uint8Array,
  options: { numClasses: number; multiLabel: boolean },
) => ValidationScores;

/**
 * Options of {@linkcode finetune}: the plan's, the loop's (the run folder,
 * where `metrics.jsonl` is written too; resume, checkpoint and stop hooks)
 * and these.
 */
export interface FinetuneOptions extends PlanOptions, LoopOptions {
  /** Scores the validation clips after each epoch (`classificationReport`). */
  score: ScoreValidation;
  /** A plan made by {@linkcode planFinetune} with the same options (made when absent). */
  plan?: FinetunePlan;
  /** Feature extraction of the frozen mode. */
  onExtract?: (done: number, total: number) => void;
  /** Clips per feature-extraction pass; default `config.evalBatchSize` (the CLI caps it by the inference plan). */
  featureBatch?: number;
  onStep?: (s: FinetuneStep) => void;
  onEpoch?: (m: FinetuneMetrics) => void;
  /**
   * What the memory plan switched on (`memory_strategy.ts`); default: recompute
   * when `config.recompute` is `"layers"`, Adam's moments on the heap.
   */
  memory?: { recompute: boolean; offHeapState: boolean; recomputeParts?: number };
}

/** Outcome of {@linkcode finetune}: the loop's, and these. */
export interface FinetuneResult extends LoopResult {
  totalSteps: number;
  /** The epoch lines written by this call. */
  metrics: FinetuneMetrics[];
  /** Trainable parameters: the head's, and all trained ones (backbone too, end-to-end). */
  parameters: { head: number; trained: number };
  trainClips: number;
  valClips: number;
  /** Seconds of feature extraction (frozen mode) and of training steps in this call. */
  seconds: { extract: number; train: number };
}

/** Rows `start…` of a global batch of `total` rows (data parallelism). */
type RowsOfBatch = { start: number; total: number };

/** A fine-tuning run in progress: what it trains, and what it has measured. */
interface FinetuneRun {
  options: FinetuneOptions;
  config: FinetuneConfig;
  plan: FinetunePlan;
  classifier: Classifier;
  /** Running sums of the current epoch (stored in checkpoints, in this key order). */
  epoch: { lossSum: number; lossCount: number; epochSeconds: number };
  seconds: { extract: number; train: number };
  written: FinetuneMetrics[];
  /** Features of the training and validation clips (frozen backbone only). */
  tables: { train?: FeatureTable; val?: FeatureTable };
}

/** Frozen backbone: features once, for training and validation clips. */
async function extractTables(run: FinetuneRun): Promise<void> {
  const { options, plan, config, classifier } = run;
  const t0 = performance.now();
  const total = plan.train.length + plan.val.length;
  const batchSize = options.featureBatch ?? config.evalBatchSize;
  run.tables.train = await extractFeatures(classifier, options.data, {
    indices: plan.train,
    batchSize,
    onProgress: (done) => options.onExtract?.(done, total),
  });
  run.tables.val = await extractFeatures(classifier, options.val ?? options.data, {
    indices: plan.val,
    batchSize,
    onProgress: (done) => options.onExtract?.(plan.train.length + done, total),
  });
  run.seconds.extract = (performance.now() - t0) / 1000;
}

/** Restores a checkpoint of the run: the classifier's weights and the epoch's sums. */
async function restore(run: FinetuneRun, checkpoint: string, state: TrainState): Promise<void> {
  await loadClassifierWeights(checkpoint, run.classifier);
  const extra = state.extra ?? {};
  const number = (v: unknown) => typeof v === "number" ? v : 0;
  run.epoch = {
    lossSum: number(extra.lossSum),
    lossCount: number(extra.lossCount),
    epochSeconds: number(extra.epochSeconds),
  };
}

/** Scores the validation clips: the head over their features (extracted now unless frozen). */
async function validate(run: FinetuneRun): Promise<ValidationScores | undefined> {
  const { plan, config, classifier } = run;
  if (plan.val.length === 0) return undefined;
  const table = run.tables.val ??
    await extractFeatures(classifier, run.options.val ?? run.options.data, {
      indices: plan.val,
      batchSize: run.options.featureBatch ?? config.evalBatchSize,
    });
  const numClasses = plan.labels.names.length;
  const logits = await tableLogits(classifier.head, table, {
    batchSize: config.evalBatchSize,
    numClasses,
  });
  return run.options.score(logits, labelRows(plan.valLabels, plan.val), {
    numClasses,
    multiLabel: plan.labels.multiLabel,
  });
}

/** The epoch's line of `metrics.jsonl`: written, kept, reported; the epoch's sums start again. */
async function endEpoch(run: FinetuneRun, done: StepDone & { epoch: number }): Promise<void> {
  const leader = (run.options.collectives ?? SOLO).rank === 0; // rank 0 validates and writes
  const report = leader ? await validate(run) : undefined;
  const m: FinetuneMetrics = {
    epoch: done.epoch,
    step: done.step,
    lr: done.lr,
    trainLoss: run.epoch.lossSum / Math.max(1, run.epoch.lossCount),
    valClips: run.plan.val.length,
    ...(report
      ? {
        valLoss: report.loss,
        ...(run.plan.labels.multiLabel
          ? { mAP: report.mAP, rocAuc: report.rocAuc }
          : { top1: report.top1, top5: report.top5 }),
      }
      : {}),
    seconds: run.epoch.epochSeconds,
  };
  if (leader) await appendMetrics(run.options.runDir, m);
  run.written.push(m);
  run.options.onEpoch?.(m);
  run.epoch = { lossSum: 0, lossCount: 0, epochSeconds: 0 };
}

/** Counts a completed step into the epoch's sums; ends the epoch on its last step. */
async function completeStep(run: FinetuneRun, done: StepDone): Promise<void> {
  const { stepsPerEpoch, totalSteps } = run.plan;
  run.epoch.lossSum += done.loss;
  run.epoch.lossCount++;
  const dt = (performance.now() - done.started) / 1000;
  run.seconds.train += dt;
  run.epoch.epochSeconds += dt;
  const epoch = Math.ceil(done.step / stepsPerEpoch);
  const { step, loss, lr, gradNorm } = done;
  run.options.onStep?.({ step, totalSteps, epoch, loss, lr, gradNorm });
  if (step % stepsPerEpoch === 0) await endEpoch(run, { ...done, epoch });
}

/** Step `step` of fine-tuning on sampler rows `rows` (positions in `plan.train`). */
async function prepareFinetuneStep(
  run: FinetuneRun,
  rows: number[],
  step: number,
): Promise<PreparedStep> {
  const { config, plan } = run;
  const numClasses = plan.labels.names.length;
  const multiLabel = plan.labels.multiLabel;
  // This rank's rows of the global batch (all of them in one process).
  const c = run.options.collectives ?? SOLO;
  const mine = rankRows(rows, c);
  const indices = mine.rows.map((r) => plan.train[r]);
  const mix = config.mixup > 0
    ? mixupPlan(config.mixup, { seed: config.seed, step, batchSize: rows.length })
    : undefined;
  let targets = smoothTargets(labelRows(plan.labels, indices), {
    numClasses,
    smoothing: config.labelSmoothing,
    multiLabel,
  });
  if (mix) targets = mixRows(targets, mix);
  const targetT = tf.tensor2d(targets, [mine.rows.length, numClasses]);
  const owned: tf.Tensor[] = [targetT];
  const shard = c.size > 1 ? { start: mine.start, total: rows.length } : undefined;
  const forward = await trainForward(
    {
      classifier: run.classifier,
      config,
      data: run.options.data,
      train: plan.train,
      table: run.tables.train,
      recompute: run.options.memory?.recompute ?? config.recompute === "layers",
      recomputeParts: run.options.memory?.recomputeParts,
    },
    mine.rows,
    { mix, owned, step, shard },
  );
  // A rank's loss is its share of the global batch's mean: the ranks' shares sum to it.
  const share = mine.rows.length / rows.length;
  const lossOf = (part?: RowRange) => {
    const logits = forward(part);
    const t = part ? tf.slice(targetT, part.start, part.size) as tf.Tensor2D : targetT;
    const mean = multiLabel ? sigmoidCrossEntropy(logits, t) : softmaxCrossEntropy(logits, t);
    return share === 1 ? mean : tf.mul(mean, share) as tf.Scalar;
  };
  const size = rows.length / config.accumulate; // the config checks that K divides the batch
  return {
    loss: () => lossOf(),
    // Micro-batches in one process only (the CLI refuses --accumulate with --distributed).
    microBatches: config.accumulate > 1 && !shard
      ? Array.from({ length: config.accumulate }, (_, i) => () => lossOf({ start: i * size, size }))
      : undefined,
    dispose: () => tf.dispose(owned),
    completed: (done) => completeStep(run, done),
  };
}

/** The loop's view of the run: what is trained, checkpointed and restored. */
function finetuneTask(run: FinetuneRun, trainable: Weights): TrainTask {
  const { config, plan, classifier } = run;
  return {
    kind: "finetune",
    lossIsShare: true,
    trainable,
    optimizer: makeOptimizer(config, trainable, { offHeap: run.options.memory?.offHeapState }),
    data: { size: plan.train.length, seed: config.seed, batchSize: config.batchSize },
    schedule: {
      baseRate: config.baseRate,
      finalRate: 0,
      warmupSteps: plan.warmupSteps,
      totalSteps: plan.totalSteps,
    },
    clipNorm: config.clipNorm,
    keep: config.keep,
    checkpointDue: (step) => step % plan.stepsPerEpoch === 0,
    checkpoint: () => ({
      weights: classifier.storedWeights(),
      config: classifier.spec,
      extra: { ...run.epoch },
    }),
    restore: (checkpoint, state) => restore(run, checkpoint, state),
    start: config.frozen ? () => extractTables(run) : undefined,
    prepare: (rows, step) => prepareFinetuneStep(run, rows, step),
  };
}

/**
 * Runs (or continues, from `options.resumeFrom`) fine-tuning; plans first
 * unless given a plan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveFinetuneConfig } from "../config/finetune_config.ts";
 * import type { Dataset } from "../data/shards/dataset.ts";
 * import { finetune } from "./finetune.ts";
 * const config = resolveFinetuneConfig({ modalities: ["audio"] });
 * const from = Deno.makeTempDirSync(); // no pretrained checkpoint in it: refused before training
 * const score = () => ({ loss: 0 });
 * await assert.rejects(
 *   finetune({ runDir: "unused", from, data: {} as Dataset, config, score }),
 *   /no complete checkpoint/,
 * );
 * ```
 */
export async function finetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const { config } = options;
  if (config.mixup > 0 && (options.collectives?.size ?? 1) > 1) {
    throw new RangeError("--mixup is not available with --distributed yet");
  }
  const plan = options.plan ?? await planFinetune(options);
  const classifier = await buildClassifier(plan, config);
  const head = classifier.head;
  const trainable: Weights = config.frozen
    ? { ...head.variables }
    : { ...classifier.modelWeights({ trainable: true }), ...head.variables };
  const run: FinetuneRun = {
    options,
    config,
    plan,
    classifier,
    epoch: { lossSum: 0, lossCount: 0, epochSeconds: 0 },
    seconds: { extract: 0, train: 0 },
    written: [],
    tables: {},
  };
  const task = finetuneTask(run, trainable);
  try {
    const result = await trainLoop(task, options);
    return {
      ...result,
      totalSteps: plan.totalSteps,
      metrics: run.written,
      parameters: {
        head: head.parameterCount(),
        trained: Object.values(trainable).reduce((n, w) => n + w.size, 0),
      },
      trainClips: plan.train.length,
      valClips: plan.val.length,
      seconds: run.seconds,
    };
  } finally {
    task.optimizer.dispose();
    classifier.dispose();
  }
}
