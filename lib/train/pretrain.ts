/**
 * The pretraining loop: `L = NCE(z_v,va, z_a,va) + λ·MIL-NCE(z_v,vt, {z_t,vt})`
 * with Adam, warmup + quarter-cosine schedule, DropToken, checkpoints and exact
 * resume. Data order and DropToken are functions of `(seed, epoch)` and
 * `(seed, step)`, so a checkpoint's step and data position are all it takes
 * to continue bit-for-bit on deterministic backends (cpu, wasm).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as path from "node:path";
import "../backend/gradients.ts";
import type { VattConfig } from "../config/vatt_config.ts";
import { EpochSampler } from "../data/shards/batches.ts";
import { batchToTensors } from "../data/shards/batches.ts";
import type { Dataset } from "../data/shards/dataset.ts";
import { MismatchError } from "../util/errors.ts";
import { milNceLoss } from "../loss/mil_nce.ts";
import { nceLoss } from "../loss/nce.ts";
import type { BatchNormUpdate } from "../model/heads.ts";
import { VattModel } from "../model/vatt.ts";
import { Rng } from "../util/rng.ts";
import {
  CHECKPOINT_FORMAT,
  loadModelWeights,
  loadOptimizerTensors,
  pruneCheckpoints,
  readTrainState,
  saveCheckpoint,
  type TrainState,
} from "../run/checkpoint.ts";
import { clipByGlobalNorm, globalNorm } from "./grad_clip.ts";
import { Adam } from "./optimizer.ts";
import type { PretrainConfig } from "../config/pretrain_config.ts";
import { learningRate } from "./schedule.ts";

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

/** A non-finite loss: the run stops, the last good checkpoint stays. */
export class NonFiniteLossError extends Error {
  readonly step: number;
  constructor(step: number, value: number) {
    super(`loss became ${value} at step ${step}; stopped, the last good checkpoint is kept`);
    this.name = "NonFiniteLossError";
    this.step = step;
  }
}

/**
 * A checkpoint could not be written (disk full, write permission lost): the
 * run stops, and the checkpoints written before stay as they were.
 *
 * @example
 * ```ts
 * import { CheckpointWriteError } from "./pretrain.ts";
 * const e = new CheckpointWriteError(4, "run/checkpoints/step-0000002", new Error("No space left"));
 * console.assert(e.message.includes("step-0000002") && e.step === 4);
 * ```
 */
export class CheckpointWriteError extends Error {
  readonly step: number;
  constructor(step: number, kept: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    super(
      `cannot write the checkpoint of step ${step}: ${reason}; ` +
        (kept ? `the last complete checkpoint (${kept}) is kept` : "no checkpoint was written yet"),
      { cause },
    );
    this.name = "CheckpointWriteError";
    this.step = step;
  }
}

/** Options of {@linkcode pretrain}. */
export interface PretrainOptions {
  /** The run folder (its `checkpoints/` and `metrics.jsonl` are written). */
  runDir: string;
  model: VattConfig;
  train: PretrainConfig;
  data: Dataset;
  /** Continue from this checkpoint folder. */
  resumeFrom?: string;
  /** Called after every step. */
  onStep?: (m: PretrainMetrics) => void;
  /** Called after each checkpoint is written. */
  onCheckpoint?: (path: string, step: number) => void;
  /** Checked after each step: when true, a checkpoint is written and the loop ends. */
  shouldStop?: () => boolean;
}

/** Outcome of {@linkcode pretrain}. */
export interface PretrainResult {
  /** Steps completed in total. */
  step: number;
  /** Whether the loop ended early through `shouldStop`. */
  stopped: boolean;
  /** The last checkpoint written. */
  checkpoint: string;
}

/** Checks that the model's inputs are what the dataset stores. */
export function checkModelFitsData(model: VattConfig, data: Dataset): void {
  const s = data.index.settings;
  const problems: string[] = [];
  if (model.video.frames !== s.frames) {
    problems.push(`${s.frames} frames (model expects ${model.video.frames})`);
  }
  if (model.video.height !== s.size || model.video.width !== s.size) {
    problems.push(
      `frames of ${s.size}² (model expects ${model.video.height}×${model.video.width})`,
    );
  }
  if (model.audio.samples !== s.audioSamples) {
    problems.push(`${s.audioSamples} audio samples (model expects ${model.audio.samples})`);
  }
  if (model.audio.sampleRate !== s.sampleRate) {
    problems.push(`audio at ${s.sampleRate} Hz (model expects ${model.audio.sampleRate})`);
  }
  if (model.text.maxLength !== s.maxLength) {
    problems.push(`${s.maxLength} tokens per caption (model expects ${model.text.maxLength})`);
  }
  if (data.index.text.vocabSize > model.text.vocabSize) {
    problems.push(
      `a vocabulary of ${data.index.text.vocabSize} (model holds ${model.text.vocabSize})`,
    );
  }
  if (problems.length > 0) {
    throw new MismatchError(
      `the dataset does not fit the model: it has ${
        problems.join(", ")
      }; tokenize with the model's --preset or adjust the config`,
    );
  }
}

/** In-batch top-1 retrieval accuracy of `[B, D]` queries over `[M, D]` candidates. */
async function top1(
  queries: tf.Tensor2D,
  candidates: tf.Tensor2D,
  options: { owner: Int32Array; valid: Uint8Array },
) {
  const best = tf.tidy(() => tf.argMax(tf.matMul(queries, candidates, false, true), 1));
  const idx = await best.data();
  best.dispose();
  let hits = 0;
  let n = 0;
  for (let i = 0; i < idx.length; i++) {
    if (!options.valid[i]) continue;
    n++;
    if (options.owner[idx[i]] === i) hits++;
  }
  return n === 0 ? 0 : hits / n;
}

/**
 * Runs (or continues) pretraining.
 *
 * @example
 * ```ts
 * import { pretrain } from "./pretrain.ts";
 * // const r = await pretrain({ runDir, model, train, data: await Dataset.open("data") });
 * console.assert(typeof pretrain === "function");
 * ```
 */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const { train, data } = options;
  checkModelFitsData(options.model, data);
  const model = VattModel.create(options.model);
  const weights = model.trainableWeights();
  const optimizer = new Adam(weights, {
    weightDecay: train.weightDecay,
    // No decay on biases, norms, embeddings' padding or positions: the usual ViT practice.
    decayable: (name) => name.endsWith("/kernel"),
  });
  const ckptDir = path.join(options.runDir, "checkpoints");
  const metricsPath = path.join(options.runDir, "metrics.jsonl");
  let step = 0;
  let position = { epoch: 0, offset: 0 };
  try {
    if (options.resumeFrom) {
      const state = await readTrainState(options.resumeFrom);
      if (state.kind !== "pretrain") {
        throw new MismatchError(`checkpoint ${options.resumeFrom} is from a ${state.kind} run`);
      }
      await loadModelWeights(options.resumeFrom, { weights: model.weights, config: model.config });
      const opt = await loadOptimizerTensors(options.resumeFrom);
      try {
        await optimizer.loadState(opt);
      } finally {
        tf.dispose(Object.values(opt));
      }
      step = state.step;
      position = state.data;
    }
    const sampler = new EpochSampler(data.size, {
      seed: train.seed,
      batchSize: train.batchSize,
      position,
    });
    const schedule = {
      baseRate: train.baseRate,
      finalRate: train.finalRate,
      warmupSteps: train.warmupSteps,
      totalSteps: train.steps,
    };
    const s = data.index.settings;
    const save = async (): Promise<string> => {
      const state: TrainState = {
        format: CHECKPOINT_FORMAT,
        step,
        data: sampler.position,
        seed: train.seed,
        kind: "pretrain",
      };
      const optimizerState = optimizer.stateTensors();
      try {
        let p: string;
        try {
          p = await saveCheckpoint(ckptDir, {
            weights: model.weights,
            config: model.config,
            optimizerState,
            state,
          });
        } catch (e) {
          throw new CheckpointWriteError(step, last, e);
        }
        await pruneCheckpoints(ckptDir, train.keep);
        options.onCheckpoint?.(p, step);
        return p;
      } finally {
        tf.dispose(Object.values(optimizerState));
      }
    };
    let last = options.resumeFrom ?? "";
    if (step === 0) last = await save(); // step 0: the initial weights, so a failure at step 1 keeps something
    let stopped = false;
    while (step < train.steps) {
      const t0 = performance.now();
      const indices = sampler.next();
      const batch = await data.readClips(indices);
      const inputs = batchToTensors(batch, { ...s, audioSamples: s.audioSamples });
      const updates: BatchNormUpdate[] = [];
      const kept: tf.Tensor[] = [];
      const rng = Rng.forLabel(train.seed, `droptoken-${step}`);
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply({ video: inputs.video, audio: inputs.audio, text: inputs.text }, {
          training: true,
          rng,
          bnUpdates: updates,
        });
        const nce = nceLoss(out.video!.va, out.audio!.va, {
          temperature: train.temperature,
          symmetric: train.symmetric,
          mask: inputs.audioMask,
        });
        const mil = milNceLoss(out.video!.vt, out.text!.vt as tf.Tensor3D, {
          temperature: train.temperature,
          mask: inputs.textMask,
        });
        kept.push(
          tf.keep(nce),
          tf.keep(mil),
          tf.keep(out.video!.va),
          tf.keep(out.audio!.va),
          tf.keep(out.video!.vt),
        );
        kept.push(tf.keep(out.text!.vt));
        return tf.add(nce, tf.mul(mil, train.milWeight)) as tf.Scalar;
      }, Object.values(weights));
      const [nce, mil, vva, ava, vvt, tvt] = kept;
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, w] of Object.entries(weights)) {
        if (grads[w.name]) byName[name] = grads[w.name];
      }
      const clipped = train.clipNorm > 0
        ? clipByGlobalNorm(byName, train.clipNorm)
        : { grads: {} as Record<string, tf.Tensor>, norm: globalNorm(byName) };
      const update = train.clipNorm > 0 ? clipped.grads : byName;
      // One read at a time: concurrent readbacks were seen to return a wrong
      // value on webgpu (llvmpipe); on cpu and wasm the order does not matter.
      const lossV = await value.data();
      const nceV = await nce.data();
      const milV = await mil.data();
      const normV = await clipped.norm.data();
      const loss = lossV[0];
      const disposeStep = () => {
        tf.dispose([value, ...Object.values(grads), ...Object.values(clipped.grads), clipped.norm]);
        tf.dispose([...kept, ...Object.values(inputs)]);
      };
      if (!Number.isFinite(loss)) {
        disposeStep();
        for (const u of updates) tf.dispose([u.mean, u.variance]);
        throw new NonFiniteLossError(step + 1, loss);
      }
      const lr = learningRate(step, schedule);
      optimizer.step(update, lr);
      model.applyBatchNormUpdates(updates);
      // In-batch retrieval accuracy, on normalised embeddings.
      const b = batch.count;
      const p = s.captionsPerClip;
      const owner = Int32Array.from({ length: b * p }, (_, k) => Math.floor(k / p));
      const textValid = Uint8Array.from(
        { length: b },
        (_, i) => (batch.textMask.subarray(i * p, i * p + p).some((m) => m) ? 1 : 0),
      );
      const [accVa, accVt] = await (async () => {
        const norm = (t: tf.Tensor) =>
          tf.div(t, tf.add(tf.norm(t, "euclidean", -1, true), 1e-12)) as tf.Tensor2D;
        const q1 = tf.tidy(() => norm(vva));
        const c1 = tf.tidy(() => norm(ava));
        const q2 = tf.tidy(() => norm(vvt));
        // Padded captions cannot be picked: push them far away.
        const c2 = tf.tidy(() => {
          const flat = norm(tf.reshape(tvt, [b * p, -1]));
          const mask = tf.reshape(tf.tensor1d(Float32Array.from(batch.textMask)), [b * p, 1]);
          return tf.sub(tf.mul(flat, mask), tf.mul(tf.sub(1, mask), 1e3)) as tf.Tensor2D;
        });
        try {
          return [
            await top1(q1, c1, {
              owner: Int32Array.from({ length: b }, (_, i) => i),
              valid: batch.audioMask,
            }),
            await top1(q2, c2, { owner, valid: textValid }),
          ];
        } finally {
          tf.dispose([q1, c1, q2, c2]);
        }
      })();
      disposeStep();
      step++;
      const m: PretrainMetrics = {
        step,
        loss,
        nce: nceV[0],
        milNce: milV[0],
        lr,
        clipsPerSec: b / ((performance.now() - t0) / 1000),
        accVideoAudio: accVa,
        accVideoText: accVt,
        gradNorm: normV[0],
      };
      await Deno.writeTextFile(metricsPath, JSON.stringify(m) + "\n", {
        append: true,
        create: true,
      });
      options.onStep?.(m);
      const stopNow = options.shouldStop?.() ?? false;
      if (step % train.checkpointEvery === 0 || step === train.steps || stopNow) {
        last = await save();
      }
      if (stopNow) {
        stopped = true;
        break;
      }
    }
    return { step, stopped, checkpoint: last };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
