/**
 * The one training loop under pretraining and fine-tuning: data order, the
 * learning-rate schedule, gradients and their clipping, the optimiser step,
 * reading results back one at a time, checkpoints (atomic, pruned, a failed
 * write wrapped in a {@linkcode CheckpointWriteError}), a stop on request
 * (Ctrl-C) with a checkpoint, and exact resume. A run kind plugs in as a
 * {@linkcode TrainTask}: what it trains, and the loss of one batch.
 *
 * Data order is a function of `(seed, epoch)` and anything random in a step
 * of `(seed, step)`, so a checkpoint's step and data position are all it
 * takes to continue bit-for-bit on deterministic backends (cpu, wasm).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as path from "node:path";
import "../backend/gradients.ts";
import { EpochSampler } from "../data/shards/batches.ts";
import type { Weights } from "../model/weights.ts";
import { anyRank } from "../dist/agree.ts";
import { type Collectives, SOLO } from "../dist/mpi.ts";
import {
  CHECKPOINT_FORMAT,
  checkpointName,
  loadOptimizerTensors,
  pruneCheckpoints,
  readTrainState,
  saveCheckpoint,
  type TrainState,
} from "../run/checkpoint.ts";
import { MismatchError } from "../util/errors.ts";
import { accumulatedGrads } from "./accumulate.ts";
import { checkSameState, sumGradients } from "./distributed.ts";
import { clipByGlobalNorm, globalNorm } from "./grad_clip.ts";
import type { Optimizer } from "./optimizer.ts";
import { learningRate, type ScheduleConfig } from "./schedule.ts";
import { HeapExhaustedError, isWasmOutOfMemory } from "./out_of_memory.ts";

/**
 * A non-finite loss: the run stops, the last good checkpoint stays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NonFiniteLossError } from "./loop.ts";
 * const e = new NonFiniteLossError(7, NaN);
 * assert.equal(e.step, 7);
 * assert.match(e.message, /loss became NaN at step 7/);
 * ```
 */
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
 * import assert from "node:assert/strict";
 * import { CheckpointWriteError } from "./loop.ts";
 * const e = new CheckpointWriteError(4, "run/checkpoints/step-0000002", new Error("No space left"));
 * assert.equal(e.step, 4);
 * assert.match(e.message, /No space left; the last complete checkpoint \(run\/checkpoints\/step-0000002\)/);
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

/** A step that completed: what the loop measured. */
export interface StepDone {
  /** Steps completed, this one included. */
  step: number;
  loss: number;
  /** The learning rate of this step. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** `performance.now()` when the step began (data reading included). */
  started: number;
}

/** One batch, made ready by a {@linkcode TrainTask} for the loop. */
export interface PreparedStep {
  /** The batch's loss; runs inside `tf.variableGrads` over the task's trainable weights. */
  loss: () => tf.Scalar;
  /** Gradient accumulation: micro-batch losses whose gradients are averaged (instead of `loss`). */
  microBatches?: (() => tf.Scalar)[];
  /** After the optimiser's update, before {@linkcode PreparedStep.dispose} (statistics, metrics). */
  afterUpdate?: () => Promise<void>;
  /** Frees what the step owns (inputs, targets, kept outputs); called once, also on failure. */
  dispose: () => void;
  /** After the step is counted and its tensors freed: metrics lines, progress. */
  completed: (done: StepDone) => Promise<void>;
}

/** What a checkpoint of a task stores besides the optimiser's state. */
export interface TaskCheckpoint {
  weights: Weights;
  /** Stored in the weights' metadata (the model config, or a classifier's spec). */
  config: unknown;
  /** Further state of the run kind, restored on resume. */
  extra?: Record<string, unknown>;
}

/** A kind of run over {@linkcode trainLoop}: pretraining, fine-tuning. */
export interface TrainTask {
  /** Written to each checkpoint's `state.json`; a resumed checkpoint must be of this kind. */
  kind: string;
  /**
   * Data parallelism: each rank's loss is its share of the global batch's
   * (summed over the ranks for the value reported), not the global loss itself.
   */
  lossIsShare?: boolean;
  /** The weights the optimiser updates. */
  trainable: Weights;
  optimizer: Optimizer;
  /** Examples the sampler shuffles, with the run's seed and batch size. */
  data: { size: number; seed: number; batchSize: number };
  /** The learning-rate schedule; `totalSteps` is the length of the run. */
  schedule: ScheduleConfig;
  /** Gradient clipping by global norm (0: none). */
  clipNorm: number;
  /** Checkpoints kept. */
  keep: number;
  /** Whether a checkpoint is due after `step` (the last step and a stop always write one). */
  checkpointDue: (step: number) => boolean;
  /** What a checkpoint stores now. */
  checkpoint: () => TaskCheckpoint;
  /** Loads a checkpoint's weights and extra state (the loop loads the optimiser's). */
  restore: (checkpoint: string, state: TrainState) => Promise<void>;
  /** Runs after a resume and before the first checkpoint and step. */
  start?: () => Promise<void>;
  /** The batch of sampler rows `rows` at step `step` (0-based). */
  prepare: (rows: number[], step: number) => Promise<PreparedStep>;
}

/** Options of {@linkcode trainLoop}. */
export interface LoopOptions {
  /** The run folder (its `checkpoints/` are written). */
  runDir: string;
  /** Continue from this checkpoint folder. */
  resumeFrom?: string;
  /** Called after each checkpoint is written. */
  onCheckpoint?: (path: string, step: number) => void;
  /** Checked after each step: when true, a checkpoint is written and the loop ends. */
  shouldStop?: () => boolean;
  /**
   * Data parallelism: the ranks' gradients are summed, a stop on any rank
   * stops all, and rank 0 alone writes checkpoints, after checking that every
   * rank holds the same weights and optimiser state. Default: one process.
   */
  collectives?: Collectives;
}

/** Outcome of {@linkcode trainLoop}. */
export interface LoopResult {
  /** Steps completed in total. */
  step: number;
  /** Whether the loop ended early through `shouldStop`. */
  stopped: boolean;
  /** The last checkpoint written. */
  checkpoint: string;
}

/** The loop's own state: where it is, and the last checkpoint written. */
interface Progress {
  step: number;
  last: string;
  sampler: EpochSampler;
}

/** Restores the task and its optimiser from `checkpoint`; returns its step and data position. */
async function resume(task: TrainTask, checkpoint: string): Promise<TrainState> {
  const state = await readTrainState(checkpoint);
  if (state.kind !== task.kind) {
    throw new MismatchError(`checkpoint ${checkpoint} is from a ${state.kind} run`);
  }
  await task.restore(checkpoint, state);
  const opt = await loadOptimizerTensors(checkpoint);
  try {
    await task.optimizer.loadState(opt);
  } finally {
    tf.dispose(Object.values(opt));
  }
  return state;
}

/** Writes the checkpoint of `progress` and prunes old ones; a write failure is a CheckpointWriteError. */
async function save(task: TrainTask, progress: Progress, options: LoopOptions): Promise<string> {
  const step = progress.step;
  const c = options.collectives ?? SOLO;
  if (c.size > 1) await checkSameState(c, task, step);
  // Rank 0 writes; the others name the checkpoint it writes.
  if (c.rank !== 0) return path.join(options.runDir, "checkpoints", checkpointName(step));
  const stored = task.checkpoint();
  const state: TrainState = {
    format: CHECKPOINT_FORMAT,
    step,
    data: progress.sampler.position,
    seed: task.data.seed,
    kind: task.kind,
    ...(stored.extra ? { extra: stored.extra } : {}),
  };
  const ckptDir = path.join(options.runDir, "checkpoints");
  const optimizerState = task.optimizer.stateArrays?.() ?? task.optimizer.stateTensors();
  try {
    let p: string;
    try {
      p = await saveCheckpoint(ckptDir, {
        weights: stored.weights,
        config: stored.config,
        optimizerState,
        state,
      });
    } catch (e) {
      throw new CheckpointWriteError(step, progress.last, e);
    }
    await pruneCheckpoints(ckptDir, task.keep);
    options.onCheckpoint?.(p, step);
    return p;
  } finally {
    tf.dispose(Object.values(optimizerState).filter((t) => t instanceof tf.Tensor));
  }
}

/** The gradients of `weights` by weight name (those that have one). */
function gradsByName(weights: Weights, grads: tf.NamedTensorMap): Record<string, tf.Tensor> {
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, w] of Object.entries(weights)) {
    if (grads[w.name]) byName[name] = grads[w.name];
  }
  return byName;
}

/** One optimisation step of `prepared` at `step`; throws on a non-finite loss. */
async function trainStep(
  task: TrainTask,
  prepared: PreparedStep,
  options: { step: number; started: number; collectives?: Collectives },
): Promise<StepDone> {
  const weights = Object.values(task.trainable);
  const { value, grads } = prepared.microBatches
    ? accumulatedGrads(prepared.microBatches, weights)
    : tf.variableGrads(prepared.loss, weights);
  const local = gradsByName(task.trainable, grads);
  // Summed over the ranks (one allreduce); with one process, `local` itself.
  const byName = sumGradients(options.collectives ?? SOLO, local);
  const summed = byName === local ? [] : Object.values(byName);
  const clipped = task.clipNorm > 0
    ? clipByGlobalNorm(byName, task.clipNorm)
    : { grads: {} as Record<string, tf.Tensor>, norm: globalNorm(byName) };
  const update = task.clipNorm > 0 ? clipped.grads : byName;
  // One read at a time: concurrent readbacks were seen to return a wrong
  // value on webgpu (llvmpipe); on cpu and wasm the order does not matter.
  const c = options.collectives ?? SOLO;
  const share = (await value.data())[0];
  const loss = task.lossIsShare && c.size > 1 ? c.allreduceSum(Float64Array.of(share))[0] : share;
  const gradNorm = (await clipped.norm.data())[0];
  const release = () => {
    tf.dispose([value, ...Object.values(grads), ...summed, ...Object.values(clipped.grads)]);
    clipped.norm.dispose();
    prepared.dispose();
  };
  if (!Number.isFinite(loss)) {
    release();
    throw new NonFiniteLossError(options.step + 1, loss);
  }
  const lr = learningRate(options.step, task.schedule);
  task.optimizer.step(update, lr);
  try {
    await prepared.afterUpdate?.();
  } finally {
    release();
  }
  return { step: options.step + 1, loss, lr, gradNorm, started: options.started };
}

/**
 * Runs (or continues, from `options.resumeFrom`) `task` to its schedule's
 * `totalSteps`, writing a checkpoint at step 0, whenever the task says one
 * is due, at the last step, and at a stop. The caller owns (and disposes)
 * the task's model and optimiser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Adam } from "./optimizer.ts";
 * import { trainLoop } from "./loop.ts";
 * // Fit w to 3 by minimising (w − 3)², two steps, one checkpoint at the end.
 * const w = tf.variable(tf.scalar(0), true, "w");
 * const optimizer = new Adam({ w });
 * const runDir = Deno.makeTempDirSync();
 * const r = await trainLoop({
 *   kind: "example", trainable: { w }, optimizer, clipNorm: 0, keep: 1,
 *   data: { size: 4, seed: 0, batchSize: 2 },
 *   schedule: { baseRate: 0.1, finalRate: 0.1, warmupSteps: 0, totalSteps: 2 },
 *   checkpointDue: () => false,
 *   checkpoint: () => ({ weights: { w }, config: {} }),
 *   restore: () => Promise.resolve(),
 *   prepare: () =>
 *     Promise.resolve({
 *       loss: () => tf.square(tf.sub(w, 3)) as tf.Scalar,
 *       dispose: () => {},
 *       completed: () => Promise.resolve(),
 *     }),
 * }, { runDir });
 * assert.equal(r.step, 2);
 * assert.ok(r.checkpoint.endsWith("step-0000002"));
 * assert.ok((await w.data())[0] > 0.15); // two Adam steps of about 0.1 towards 3
 * optimizer.dispose();
 * w.dispose();
 * Deno.removeSync(runDir, { recursive: true });
 * ```
 */
export async function trainLoop(task: TrainTask, options: LoopOptions): Promise<LoopResult> {
  const resumed = options.resumeFrom ? await resume(task, options.resumeFrom) : undefined;
  await task.start?.();
  const sampler = new EpochSampler(task.data.size, {
    seed: task.data.seed,
    batchSize: task.data.batchSize,
    position: resumed?.data ?? { epoch: 0, offset: 0 },
  });
  const progress: Progress = { step: resumed?.step ?? 0, last: options.resumeFrom ?? "", sampler };
  // Step 0: the initial weights, so a failure at step 1 keeps something.
  if (progress.step === 0) progress.last = await save(task, progress, options);
  const total = task.schedule.totalSteps;
  try {
    while (progress.step < total) {
      const started = performance.now();
      const prepared = await task.prepare(sampler.next(), progress.step);
      const collectives = options.collectives;
      const done = await trainStep(task, prepared, { step: progress.step, started, collectives });
      progress.step = done.step;
      await prepared.completed(done);
      // A stop on any rank stops every rank at the same step.
      const stopNow = anyRank(collectives ?? SOLO, options.shouldStop?.() ?? false);
      if (task.checkpointDue(done.step) || done.step === total || stopNow) {
        progress.last = await save(task, progress, options);
      }
      if (stopNow) return { step: progress.step, stopped: true, checkpoint: progress.last };
    }
  } catch (e) {
    // A wasm abort is the heap running out: say so, and which checkpoint on disk is kept.
    if (isWasmOutOfMemory(e)) {
      throw new HeapExhaustedError(progress.last, { step: progress.step, cause: e });
    }
    throw e;
  }
  return { step: progress.step, stopped: false, checkpoint: progress.last };
}
