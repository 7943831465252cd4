/**
 * Fine-tuning a pretrained VATT for classification: a head from
 * `lib/model/fusion` on one modality's representation (end-to-end, the
 * backbone trained too) or on several modalities' features (frozen
 * backbone: features extracted once, only the head trained; also the linear
 * probe). Softmax cross-entropy with label smoothing (single-label) or
 * sigmoid cross-entropy (multi-label), SGD with momentum or Adam, linear
 * warmup then cosine decay to 0, gradient clipping, mixup for audio, a
 * seeded split by clip or a validation dataset, and after each epoch a line
 * of `metrics.jsonl` with the training loss and validation metrics.
 *
 * Checkpoints and exact resume follow `pretrain.ts`: data order and mixup are
 * functions of `(seed, epoch)` and `(seed, step)`; a checkpoint stores the
 * weights, the optimiser state, the data position and the running sum of
 * the epoch's training loss, so a resumed run ends with the same weights and
 * metrics as an uninterrupted one on deterministic backends (cpu, wasm).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as path from "node:path";
import "../backend/gradients.ts";
import { resolveVattConfig, type VattConfig, type VattConfigInput } from "../config/vatt_config.ts";
import { batchToTensors, EpochSampler } from "../data/shards/batches.ts";
import type { ClipBatch, Dataset } from "../data/shards/dataset.ts";
import { FormatError, MismatchError } from "../util/errors.ts";
import {
  type ClassificationReport,
  classificationReport,
  classifyDataset,
} from "../eval/classify/classify.ts";
import { VattModel } from "../model/vatt.ts";
import type { Weights } from "../model/weights.ts";
import {
  CHECKPOINT_FORMAT,
  loadModelWeights,
  loadOptimizerTensors,
  pruneCheckpoints,
  readCheckpointConfig,
  readTrainState,
  resolveCheckpoint,
  saveCheckpoint,
  type TrainState,
} from "../run/checkpoint.ts";
import { Classifier, loadClassifierWeights } from "../model/classifier.ts";
import { sigmoidCrossEntropy, smoothTargets, softmaxCrossEntropy } from "../loss/classification.ts";
import {
  type DatasetLabels,
  labelledIndices,
  readDatasetLabels,
  requireLabels,
  requireModalities,
  splitByClip,
} from "../data/shards/split.ts";
import { extractFeatures, type FeatureTable, tableBatch } from "./_feature_table.ts";
import type { FinetuneConfig } from "../config/finetune_config.ts";
import { planSteps } from "../config/finetune_config.ts";
import { clipByGlobalNorm, globalNorm } from "./grad_clip.ts";
import { mixRows, type MixupPlan, mixupPlan } from "./mixup.ts";
import { Adam, type Optimizer, SgdMomentum } from "./optimizer.ts";
import { checkModelFitsData, NonFiniteLossError } from "./pretrain.ts";
import { learningRate } from "./schedule.ts";

/** Everything checked and decided before training: see {@linkcode planFinetune}. */
export interface FinetunePlan {
  /** The pretrained checkpoint folder. */
  checkpoint: string;
  /** Its model config. */
  model: VattConfig;
  /** Labels of the training dataset. */
  labels: DatasetLabels;
  /** Labels of the validation dataset (the training one when splitting). */
  valLabels: DatasetLabels;
  /** Clip positions used for training, in dataset order. */
  train: number[];
  /** Clip positions used for validation (in `val` when given, else in `data`). */
  val: number[];
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
}

/** Options of {@linkcode planFinetune}. */
export interface PlanOptions {
  /** The pretrained run folder or checkpoint (`--from`). */
  from: string;
  data: Dataset;
  /** A validation dataset; default: a split of `data` by `config.valFraction`. */
  val?: Dataset;
  config: FinetuneConfig;
}

/** Reads the model config of a pretrained checkpoint (not a classifier). */
async function pretrainedConfig(checkpoint: string): Promise<VattConfig> {
  const raw = await readCheckpointConfig(checkpoint);
  if (raw && typeof raw === "object" && (raw as { format?: unknown }).format !== undefined) {
    throw new FormatError(
      "this checkpoint holds a fine-tuned classifier; fine-tune from a pretrained run",
      { path: checkpoint },
    );
  }
  try {
    return resolveVattConfig(raw as VattConfigInput);
  } catch (e) {
    throw new FormatError(`checkpoint model config is invalid: ${(e as Error).message}`, {
      path: checkpoint,
    });
  }
}

/**
 * Checks everything a run needs before it starts (no side effects): the
 * pretrained checkpoint and its config, the datasets' fit to the model,
 * labels (present, the same classes in the validation dataset), the
 * modalities asked for being in the data, the split and the step counts.
 *
 * @example
 * ```ts
 * import { planFinetune } from "./finetune.ts";
 * // const plan = await planFinetune({ from: "runs/pre", data, config });
 * console.assert(typeof planFinetune === "function");
 * ```
 */
export async function planFinetune(options: PlanOptions): Promise<FinetunePlan> {
  const { data, val, config } = options;
  const checkpoint = await resolveCheckpoint(options.from);
  const model = await pretrainedConfig(checkpoint);
  checkModelFitsData(model, data);
  const labels = await readDatasetLabels(data);
  requireLabels(labels, `dataset ${data.dir}`);
  requireModalities(labels, { modalities: config.modalities, where: `dataset ${data.dir}` });
  let valLabels = labels;
  let train: number[];
  let valIdx: number[];
  if (val) {
    checkModelFitsData(model, val);
    valLabels = await readDatasetLabels(val);
    requireLabels(valLabels, `validation dataset ${val.dir}`);
    requireModalities(valLabels, {
      modalities: config.modalities,
      where: `validation dataset ${val.dir}`,
    });
    if (
      JSON.stringify(valLabels.names) !== JSON.stringify(labels.names) ||
      valLabels.multiLabel !== labels.multiLabel
    ) {
      throw new MismatchError(
        `validation dataset ${val.dir} has other classes than ${data.dir} (${valLabels.names.length} vs ${labels.names.length})`,
      );
    }
    train = labelledIndices(labels);
    valIdx = labelledIndices(valLabels);
  } else {
    const split = splitByClip(labels, { valFraction: config.valFraction, seed: config.seed });
    train = split.train;
    valIdx = split.val;
  }
  if (labels.names.length < 2 && !labels.multiLabel) {
    throw new MismatchError(`dataset ${data.dir} has a single class; a classifier needs two`);
  }
  const steps = planSteps(config, { trainClips: train.length });
  return { checkpoint, model, labels, valLabels, train, val: valIdx, ...steps };
}

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

/** Options of {@linkcode finetune}. */
export interface FinetuneOptions extends PlanOptions {
  /** The run folder (its `checkpoints/` and `metrics.jsonl` are written). */
  runDir: string;
  /** A plan made by {@linkcode planFinetune} with the same options (made when absent). */
  plan?: FinetunePlan;
  /** Continue from this checkpoint of the run. */
  resumeFrom?: string;
  /** Feature extraction of the frozen mode. */
  onExtract?: (done: number, total: number) => void;
  onStep?: (s: FinetuneStep) => void;
  onEpoch?: (m: FinetuneMetrics) => void;
  onCheckpoint?: (path: string, step: number) => void;
  /** Checked after each step: when true, a checkpoint is written and the loop ends. */
  shouldStop?: () => boolean;
}

/** Outcome of {@linkcode finetune}. */
export interface FinetuneResult {
  step: number;
  totalSteps: number;
  /** Whether the loop ended early through `shouldStop`. */
  stopped: boolean;
  /** The last checkpoint written. */
  checkpoint: string;
  /** The epoch lines written by this call. */
  metrics: FinetuneMetrics[];
  /** Trainable parameters: the head's, and all trained ones (backbone too, end-to-end). */
  parameters: { head: number; trained: number };
  trainClips: number;
  valClips: number;
  /** Seconds of feature extraction (frozen mode) and of training steps in this call. */
  seconds: { extract: number; train: number };
}

/** Gathers label rows of `indices` (class indices or multi-hot rows). */
function labelRows(l: DatasetLabels, indices: number[]): Int32Array | Uint8Array {
  if (!l.multiLabel) return Int32Array.from(indices, (i) => l.labels[i]);
  const c = l.names.length;
  const out = new Uint8Array(indices.length * c);
  indices.forEach((i, k) => out.set(l.labels.subarray(i * c, i * c + c), k * c));
  return out;
}

function makeOptimizer(config: FinetuneConfig, weights: Weights): Optimizer {
  const decayable = (name: string) => name.endsWith("/kernel");
  return config.optimizer === "adam"
    ? new Adam(weights, { weightDecay: config.weightDecay, decayable })
    : new SgdMomentum(weights, {
      momentum: config.momentum,
      weightDecay: config.weightDecay,
      decayable,
    });
}

/** Mixes a batch's audio waveforms (scaled to [−1, 1]) by `plan`. */
function mixAudio(batch: ClipBatch, plan: MixupPlan): ClipBatch {
  const audio = batch.audio instanceof Int16Array
    ? Float32Array.from(batch.audio, (x) => x / 32768)
    : batch.audio;
  const mask = Uint8Array.from(
    batch.audioMask,
    (m, i) => (m || batch.audioMask[plan.permutation[i]] ? 1 : 0),
  );
  return { ...batch, audio: mixRows(audio, plan), audioMask: mask };
}

/**
 * Runs (or continues) fine-tuning.
 *
 * @example
 * ```ts
 * import { finetune } from "./finetune.ts";
 * // const r = await finetune({ runDir, from: "runs/pre", data, config });
 * console.assert(typeof finetune === "function");
 * ```
 */
export async function finetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const { config, data } = options;
  const plan = options.plan ?? await planFinetune(options);
  const valData = options.val ?? data;
  const numClasses = plan.labels.names.length;
  const multiLabel = plan.labels.multiLabel;
  const model = VattModel.create(plan.model);
  let classifier: Classifier;
  try {
    await loadModelWeights(plan.checkpoint, { weights: model.weights, config: model.config });
    classifier = Classifier.create(model, {
      modalities: config.modalities,
      features: config.features,
      head: config.head,
      headOptions: config.headOptions,
      seed: config.seed,
      labels: { names: plan.labels.names, multiLabel },
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  const head = classifier.head;
  const trainable: Weights = config.frozen
    ? { ...head.variables }
    : { ...classifier.modelWeights({ trainable: true }), ...head.variables };
  const optimizer = makeOptimizer(config, trainable);
  const ckptDir = path.join(options.runDir, "checkpoints");
  const metricsPath = path.join(options.runDir, "metrics.jsonl");
  const { stepsPerEpoch, totalSteps } = plan;
  const schedule = {
    baseRate: config.baseRate,
    finalRate: 0,
    warmupSteps: plan.warmupSteps,
    totalSteps,
  };
  let step = 0;
  let position = { epoch: 0, offset: 0 };
  let lossSum = 0;
  let lossCount = 0;
  let epochSeconds = 0;
  const seconds = { extract: 0, train: 0 };
  const written: FinetuneMetrics[] = [];
  try {
    if (options.resumeFrom) {
      const state = await readTrainState(options.resumeFrom);
      if (state.kind !== "finetune") {
        throw new MismatchError(`checkpoint ${options.resumeFrom} is from a ${state.kind} run`);
      }
      await loadClassifierWeights(options.resumeFrom, classifier);
      const opt = await loadOptimizerTensors(options.resumeFrom);
      try {
        await optimizer.loadState(opt);
      } finally {
        tf.dispose(Object.values(opt));
      }
      step = state.step;
      position = state.data;
      const extra = state.extra ?? {};
      lossSum = typeof extra.lossSum === "number" ? extra.lossSum : 0;
      lossCount = typeof extra.lossCount === "number" ? extra.lossCount : 0;
      epochSeconds = typeof extra.epochSeconds === "number" ? extra.epochSeconds : 0;
    }
    // Frozen backbone: features once, for training and validation clips.
    let trainTable: FeatureTable | undefined;
    let valTable: FeatureTable | undefined;
    if (config.frozen) {
      const t0 = performance.now();
      const total = plan.train.length + plan.val.length;
      trainTable = await extractFeatures(classifier, data, {
        indices: plan.train,
        batchSize: config.evalBatchSize,
        onProgress: (done) => options.onExtract?.(done, total),
      });
      valTable = await extractFeatures(classifier, valData, {
        indices: plan.val,
        batchSize: config.evalBatchSize,
        onProgress: (done) => options.onExtract?.(plan.train.length + done, total),
      });
      seconds.extract = (performance.now() - t0) / 1000;
    }
    const valLabelRows = labelRows(plan.valLabels, plan.val);
    const validate = async (): Promise<ClassificationReport | undefined> => {
      if (plan.val.length === 0) return undefined;
      let logits: Float32Array;
      if (valTable) {
        logits = new Float32Array(plan.val.length * numClasses);
        for (let start = 0; start < plan.val.length; start += config.evalBatchSize) {
          const rows = Array.from(
            { length: Math.min(config.evalBatchSize, plan.val.length - start) },
            (_, i) => start + i,
          );
          const { features, masks } = tableBatch(valTable, rows);
          const out = head.apply(features, { masks });
          logits.set(await out.data() as Float32Array, start * numClasses);
          tf.dispose([out, ...features, ...masks]);
        }
      } else {
        logits = (await classifyDataset(classifier, valData, {
          indices: plan.val,
          batchSize: config.evalBatchSize,
        })).logits;
      }
      return classificationReport(logits, valLabelRows, { numClasses, multiLabel });
    };
    const sampler = new EpochSampler(plan.train.length, {
      seed: config.seed,
      batchSize: config.batchSize,
      position,
    });
    const save = async (): Promise<string> => {
      const state: TrainState = {
        format: CHECKPOINT_FORMAT,
        step,
        data: sampler.position,
        seed: config.seed,
        kind: "finetune",
        extra: { lossSum, lossCount, epochSeconds },
      };
      const optimizerState = optimizer.stateTensors();
      try {
        const p = await saveCheckpoint(ckptDir, {
          weights: classifier.storedWeights(),
          config: classifier.spec,
          optimizerState,
          state,
        });
        await pruneCheckpoints(ckptDir, config.keep);
        options.onCheckpoint?.(p, step);
        return p;
      } finally {
        tf.dispose(Object.values(optimizerState));
      }
    };
    let last = options.resumeFrom ?? "";
    if (step === 0) last = await save();
    let stopped = false;
    const s = data.index.settings;
    while (step < totalSteps) {
      const t0 = performance.now();
      const rows = sampler.next(); // positions in plan.train
      const indices = rows.map((r) => plan.train[r]);
      const mix = config.mixup > 0
        ? mixupPlan(config.mixup, { seed: config.seed, step, batchSize: rows.length })
        : undefined;
      let targets = smoothTargets(labelRows(plan.labels, indices), {
        numClasses,
        smoothing: config.labelSmoothing,
        multiLabel,
      });
      if (mix) targets = mixRows(targets, mix);
      const targetT = tf.tensor2d(targets, [rows.length, numClasses]);
      const owned: tf.Tensor[] = [targetT];
      let forward: () => tf.Tensor2D;
      if (trainTable) {
        const table = trainTable;
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
        forward = () => head.apply(features, { masks, training: true });
      } else {
        let batch = await data.readClips(indices);
        if (mix) batch = mixAudio(batch, mix);
        const inputs = batchToTensors(batch, s);
        owned.push(...Object.values(inputs));
        forward = () => classifier.logits(inputs, { training: true });
      }
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward();
        return multiLabel
          ? sigmoidCrossEntropy(logits, targetT)
          : softmaxCrossEntropy(logits, targetT);
      }, Object.values(trainable));
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, w] of Object.entries(trainable)) {
        if (grads[w.name]) byName[name] = grads[w.name];
      }
      const clipped = config.clipNorm > 0
        ? clipByGlobalNorm(byName, config.clipNorm)
        : { grads: {} as Record<string, tf.Tensor>, norm: globalNorm(byName) };
      const [lossV, normV] = await Promise.all([value.data(), clipped.norm.data()]);
      const loss = lossV[0];
      const release = () =>
        tf.dispose([
          value,
          ...Object.values(grads),
          ...Object.values(clipped.grads),
          clipped.norm,
          ...owned,
        ]);
      if (!Number.isFinite(loss)) {
        release();
        throw new NonFiniteLossError(step + 1, loss);
      }
      const lr = learningRate(step, schedule);
      optimizer.step(config.clipNorm > 0 ? clipped.grads : byName, lr);
      release();
      step++;
      lossSum += loss;
      lossCount++;
      const dt = (performance.now() - t0) / 1000;
      seconds.train += dt;
      epochSeconds += dt;
      const epoch = Math.ceil(step / stepsPerEpoch);
      options.onStep?.({ step, totalSteps, epoch, loss, lr, gradNorm: normV[0] });
      if (step % stepsPerEpoch === 0) {
        const report = await validate();
        const m: FinetuneMetrics = {
          epoch,
          step,
          lr,
          trainLoss: lossSum / Math.max(1, lossCount),
          valClips: plan.val.length,
          ...(report
            ? {
              valLoss: report.loss,
              ...(multiLabel
                ? { mAP: report.mAP, rocAuc: report.rocAuc }
                : { top1: report.top1, top5: report.top5 }),
            }
            : {}),
          seconds: epochSeconds,
        };
        await Deno.writeTextFile(metricsPath, JSON.stringify(m) + "\n", {
          append: true,
          create: true,
        });
        written.push(m);
        options.onEpoch?.(m);
        lossSum = 0;
        lossCount = 0;
        epochSeconds = 0;
      }
      const stopNow = options.shouldStop?.() ?? false;
      if (step % stepsPerEpoch === 0 || step === totalSteps || stopNow) last = await save();
      if (stopNow) {
        stopped = true;
        break;
      }
    }
    return {
      step,
      totalSteps,
      stopped,
      checkpoint: last,
      metrics: written,
      parameters: {
        head: head.parameterCount(),
        trained: Object.values(trainable).reduce((n, w) => n + w.size, 0),
      },
      trainClips: plan.train.length,
      valClips: plan.val.length,
      seconds,
    };
  } finally {
    optimizer.dispose();
    classifier.dispose();
  }
}
