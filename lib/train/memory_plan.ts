/**
 * The memory plan of a training step, made before step 1: an estimate of the
 * bytes of weights, gradients, optimizer state and peak activations (after
 * DropToken) from the model config and the batch, compared with the limit of
 * the backend (the wasm heap, host memory, or a WebGPU adapter's buffer
 * limit). A batch that does not fit is refused with the estimate, the limit
 * and the largest batch that fits, instead of an engine abort mid-run.
 *
 * The activation model counts every tensor a forward pass creates (TFJS keeps
 * them all until the gradients are done) and what the backward pass adds; its
 * constants were calibrated against the measured peak of the real pretraining
 * step on wasm (README, "Memory plan").
 *
 * @module
 */
import type { Modality } from "../config/modality.ts";
import { audioTokenCount, keptTokenCount, videoTokenGrid } from "../config/token_counts.ts";
import type { BackboneConfig, VattConfig } from "../config/vatt_config.ts";
import { countParameters } from "../model/weight_specs.ts";
import {
  attentionKernelActive,
  dropoutKernelActive,
  gib,
  type MemoryLimit,
  memoryLimit,
} from "./memory_limit.ts";

export { gib, type MemoryLimit, memoryLimit, WASM_HEAP_MAX } from "./memory_limit.ts";

/** Bytes of one float32 / int32 element. */
const FLOAT = 4;

/**
 * Floats per token and layer that a training step holds, per unit of width `d`
 * and of MLP width: every forward output (layer norms, q/k/v, attention
 * output, residuals, dropout outputs, GELU's intermediates) and the backward
 * pass's gradients of them. Calibrated (README, "Memory plan"). Without the
 * dropout kernel, the masks (attention and MLP outputs, `d` wide; MLP inner
 * layer) add `MASKS_PER_TOKEN_*`.
 */
const PER_TOKEN_D = 24;
const PER_TOKEN_MLP = 9;
const MASKS_PER_TOKEN_D = 2;
const MASKS_PER_TOKEN_MLP = 1;
/** Copies of the `[B, H, L, L]` attention scores per layer (logits, scaled, biased, softmax, dropout, their gradients). */
const SCORE_COPIES = 11;
/**
 * Copies of the scores a layer holds with the fused attention kernel: the
 * probabilities α it keeps for its backward pass (the attention dropout's
 * mask, when drawn, is one more).
 */
const FUSED_SCORE_COPIES = 1;
/**
 * Floats per token and layer, per unit of width, that a step with recomputed
 * layers (`lib/model/recompute.ts`) holds for the whole backward pass: each
 * layer's saved input and its gradient; one layer's activations come on top.
 */
const RECOMPUTE_PER_TOKEN_D = 2;
/**
 * Copies of the raw inputs a step holds at its peak: the batch, cut into
 * patches before the gradient tape (`cutVideoIntoPatches`); the patches
 * DropToken keeps, which the patch embedding's product holds, come on top
 * (a fraction of a copy).
 */
const INPUT_COPIES = 1;
/** Whether a training step keeps dropout masks: dropout on, without the backend's dropout kernel. */
function keepsMasks(c: VattConfig): boolean {
  return c.dropout > 0 && !dropoutKernelActive();
}

/** Score copies per layer: the fused kernel's (with the active backend's kernel), or the composite ops'. */
function scoreCopies(c: VattConfig): number {
  if (!attentionKernelActive()) return SCORE_COPIES;
  return FUSED_SCORE_COPIES + (c.attentionDropout > 0 ? 1 : 0);
}
/**
 * Measured over counted activations: the bytes the wasm heap held at the peak
 * of real pretraining steps, less weights, gradients and Adam moments, over
 * the count above (tiny at batch 8 and 32: 1.69; small's backbones at the tiny
 * inputs, batch 4 and 8: 1.63): TFJS's own copies (reshapes that copy,
 * broadcasts, the gradients' temporaries).
 */
const ACTIVATION_CALIBRATION = 1;

/**
 * The share of the backend's limit a plan may fill: the estimate was within
 * 0.95–1.06 of the measured peak (tests/lib/train/memory_plan_test.ts), and a
 * heap near full fails on fragmentation before its last byte: at the paper's
 * inputs, an estimate of 97 % of the wasm heap (small, batch 16) aborted in
 * step 1, one of 86 % (medium, batch 4) in step 2, after 89 % (base, batch 8)
 * had run two steps.
 */
export const PLAN_FILL = 0.8;

/** The optimizers whose state the plan knows, with their slots per weight. */
export const OPTIMIZER_SLOTS: Readonly<Record<"adam" | "momentum" | "sgd", number>> = {
  adam: 2,
  momentum: 1,
  sgd: 0,
};

/** What a memory plan is made from. */
export interface MemoryPlanInput {
  /** The model config (inputs, backbones, DropToken rate). */
  model: VattConfig;
  /** Clips per batch. */
  batchSize: number;
  /** The modalities the step runs; default all three (pretraining). */
  modalities?: readonly Modality[];
  /** Captions per clip (each is one text sequence); default 1. */
  captionsPerClip?: number;
  /** Optimizer (its slots per weight); default `"adam"` (two moments). */
  optimizer?: keyof typeof OPTIMIZER_SLOTS;
  /** Transformer layers recomputed in the backward pass (`--recompute`); default false. */
  recompute?: boolean;
  /** Recomputed layers run on this many parts of the batch in turn; default 1. */
  recomputeParts?: number;
  /** The optimizer's slots kept outside the backend's memory (host arrays); default false. */
  offHeapState?: boolean;
}

/** The estimate of one training step's peak, in bytes. */
export interface MemoryEstimate {
  /** Every weight (trainable and not). */
  weights: number;
  /** One gradient per trainable weight. */
  gradients: number;
  /** The optimizer's slots (Adam: two moments), on the backend's memory or off it. */
  optimizer: number;
  /** Bytes held outside the backend's memory (the optimizer's slots when off the heap). */
  offHeap: number;
  /** Peak activations of the forward and backward pass, with the batch's inputs. */
  activations: number;
  /** What the backend holds: the sum, less what is off its memory. */
  total: number;
  /** The largest single tensor (attention scores, the MLP's inner layer or the raw video). */
  largestTensor: number;
}

/** An estimate against a limit. */
export interface MemoryPlan {
  /** The batch planned. */
  batchSize: number;
  estimate: MemoryEstimate;
  limit: MemoryLimit;
  /** Whether the estimate is within the limit. */
  fits: boolean;
  /** The largest batch (≤ 4096) whose estimate is within the limit; 0 when none. */
  largestBatch: number;
}

/** Floats held by a step: for the whole pass (`kept`), and one recomputed layer's on top (`layer`). */
interface Held {
  kept: number;
  layer: number;
}

/** Floats one encoder of `layers` holds for `sequences` sequences of `length` tokens. */
function encoderFloats(
  b: BackboneConfig,
  sequences: number,
  length: number,
  options: { scoreCopies: number; masks: boolean; recompute: boolean; parts: number },
): Held {
  const tokens = sequences * length;
  const [perD, perMlp] = options.masks
    ? [PER_TOKEN_D + MASKS_PER_TOKEN_D, PER_TOKEN_MLP + MASKS_PER_TOKEN_MLP]
    : [PER_TOKEN_D, PER_TOKEN_MLP];
  const perLayer = (rows: number) =>
    rows * length * (perD * b.hidden + perMlp * b.mlp) +
    options.scoreCopies * rows * b.heads * length * length;
  const closing = 4 * tokens * b.hidden; // the final LayerNorm and dropout
  if (!options.recompute) return { kept: b.layers * perLayer(sequences) + closing, layer: 0 };
  // One part's activations at a time: the largest part (`partBounds`: near-equal parts).
  const part = Math.ceil(sequences / Math.min(options.parts, sequences));
  return {
    kept: b.layers * RECOMPUTE_PER_TOKEN_D * tokens * b.hidden + closing,
    layer: perLayer(part),
  };
}

/** Floats of the largest single tensor of one modality's step: scores, MLP inner layer, raw input. */
function largestTensorFloats(m: Modality, input: MemoryPlanInput, batch: number): number {
  const c = input.model;
  const [b, sequences, length, raw] = m === "video"
    ? [
      c.video.backbone,
      batch,
      keptTokenCount(videoTokenGrid(c.video).count, c.dropToken) + 1,
      batch * c.video.frames * c.video.height * c.video.width * 3,
    ]
    : m === "audio"
    ? [
      c.audio.backbone,
      batch,
      keptTokenCount(audioTokenCount(c.audio), c.dropToken) + 1,
      batch * c.audio.samples,
    ]
    : [c.text.backbone, batch * (input.captionsPerClip ?? 1), c.text.maxLength + 1, 0];
  // Layers recomputed in parts: one part's sequences at a time.
  const parts = input.recompute ? Math.min(input.recomputeParts ?? 1, sequences) : 1;
  const rows = Math.ceil(sequences / parts);
  const scores = c.attentionDropout === 0 ? 0 : rows * b.heads * length * length;
  return Math.max(scores, rows * length * b.mlp, raw);
}

/**
 * Floats of a patch embedding: the patches, the kept patches DropToken picks
 * (before the projection), and the kept tokens (projection, positions, sum).
 */
function embedFloats(patches: number, n: number, kept: number, width: number): number {
  const picked = kept < n ? (patches * kept) / n : 0;
  return INPUT_COPIES * patches + picked + 3 * kept * width;
}

/** Floats of the activations of one modality in a training step of `batch` clips. */
function modalityFloats(m: Modality, input: MemoryPlanInput, batch: number): Held {
  const c = input.model;
  const o = {
    scoreCopies: scoreCopies(c),
    masks: keepsMasks(c),
    recompute: input.recompute ?? false,
    parts: input.recomputeParts ?? 1,
  };
  const plus = (embed: number, held: Held) => ({ kept: embed + held.kept, layer: held.layer });
  if (m === "video") {
    const v = c.video;
    const n = videoTokenGrid(v).count;
    const kept = keptTokenCount(n, c.dropToken);
    const patches = batch * n * v.patch[0] * v.patch[1] * v.patch[2] * 3; // padded clips
    return plus(
      embedFloats(patches, n, kept, batch * v.backbone.hidden),
      encoderFloats(v.backbone, batch, kept + 1, o),
    );
  }
  if (m === "audio") {
    const a = c.audio;
    const n = audioTokenCount(a);
    const kept = keptTokenCount(n, c.dropToken);
    const embed = embedFloats(batch * n * a.patch, n, kept, batch * a.backbone.hidden);
    return plus(embed, encoderFloats(a.backbone, batch, kept + 1, o));
  }
  const t = c.text;
  const sequences = batch * (input.captionsPerClip ?? 1);
  const embed = 3 * sequences * t.maxLength * t.backbone.hidden;
  return plus(embed, encoderFloats(t.backbone, sequences, t.maxLength + 1, o));
}

/**
 * The estimated peak bytes of one training step: weights, gradients, the
 * optimizer's slots and the activations (video and audio after DropToken).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { estimateMemory } from "./memory_plan.ts";
 * const model = resolveVattConfig({ preset: "base" });
 * const e = estimateMemory({ model, batchSize: 8 });
 * // Base: 227,309,568 trainable float32 weights (and 2,560 BatchNorm statistics).
 * assert.equal(e.weights, (227309568 + 2560) * 4);
 * assert.equal(e.gradients, 227309568 * 4);
 * assert.equal(e.optimizer, 2 * 227309568 * 4); // Adam's two moments
 * assert.equal(e.total, e.weights + e.gradients + e.optimizer + e.activations);
 * assert.ok(estimateMemory({ model, batchSize: 16 }).activations > e.activations);
 * // Recomputed layers hold a fraction of the activations; moments off the heap leave its total.
 * const lean = estimateMemory({ model, batchSize: 8, recompute: true, offHeapState: true });
 * assert.ok(lean.activations < e.activations / 3);
 * assert.equal(lean.total, e.weights + e.gradients + lean.activations);
 * ```
 */
export function estimateMemory(input: MemoryPlanInput): MemoryEstimate {
  if (!Number.isInteger(input.batchSize) || input.batchSize < 1) {
    throw new RangeError(`batch must be a positive integer, got ${input.batchSize}`);
  }
  const modalities = input.modalities ?? ["video", "audio", "text"];
  const counts = countParameters(input.model);
  const trainable = input.model.agnostic || modalities.length === 3
    ? counts.total
    : modalities.reduce((s, m) => s + counts[m], 0) + counts.heads;
  const weights = (trainable + counts.nonTrainable) * FLOAT;
  const gradients = trainable * FLOAT;
  const optimizer = OPTIMIZER_SLOTS[input.optimizer ?? "adam"] * trainable * FLOAT;
  const held = modalities.map((m) => modalityFloats(m, input, input.batchSize));
  // Recomputed layers: every encoder's saved inputs, and one layer's activations at a time.
  const floats = held.reduce((s, h) => s + h.kept, 0) + Math.max(...held.map((h) => h.layer));
  const activations = Math.round(FLOAT * ACTIVATION_CALIBRATION * floats);
  const largest = Math.max(
    ...modalities.map((m) => largestTensorFloats(m, input, input.batchSize)),
  );
  const offHeap = input.offHeapState ? optimizer : 0;
  return {
    weights,
    gradients,
    optimizer,
    offHeap,
    activations,
    total: weights + gradients + optimizer - offHeap + activations,
    largestTensor: FLOAT * largest,
  };
}

/**
 * The plan of `input` against `limit`, with the largest batch that fits
 * (searched downward from the batch asked for, or upward to 4096 when it fits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { planMemory, WASM_HEAP_MAX } from "./memory_plan.ts";
 * const model = resolveVattConfig({ preset: "base" });
 * const limit = { backend: "wasm", bytes: WASM_HEAP_MAX, detail: "wasm heap" };
 * // Base at the paper's inputs: one clip's activations alone outgrow the 4 GiB heap.
 * const p = planMemory({ model, batchSize: 8 }, limit);
 * assert.equal(p.fits, false);
 * assert.equal(p.largestBatch, 0);
 * ```
 */
export function planMemory(input: MemoryPlanInput, limit: MemoryLimit): MemoryPlan {
  const estimate = estimateMemory(input);
  const within = (e: MemoryEstimate) =>
    e.total <= PLAN_FILL * limit.bytes && e.largestTensor <= (limit.bufferBytes ?? Infinity);
  const fitsAt = (b: number) => within(estimateMemory({ ...input, batchSize: b }));
  let largestBatch = 0;
  if (within(estimate)) {
    largestBatch = input.batchSize;
    while (largestBatch < 4096 && fitsAt(largestBatch + 1)) largestBatch++;
  } else {
    for (let b = input.batchSize - 1; b >= 1; b--) {
      if (fitsAt(b)) {
        largestBatch = b;
        break;
      }
    }
  }
  return {
    batchSize: input.batchSize,
    estimate,
    limit,
    fits: within(estimate),
    largestBatch,
  };
}

/** A batch that does not fit: the plan, and one line with the estimate, the limit and the batch that fits. */
export class MemoryPlanError extends RangeError {
  readonly plan: MemoryPlan;
  /** `hint`: what else would fit (ranks, accumulation), appended after the largest batch. */
  constructor(plan: MemoryPlan, options: { hint?: string } = {}) {
    const e = plan.estimate;
    const fits =
      (plan.largestBatch > 0
        ? `the largest batch that fits is ${plan.largestBatch}`
        : `no batch fits (weights, gradients and optimizer state alone take ${
          gib(e.weights + e.gradients + e.optimizer - e.offHeap)
        })`) + (options.hint ? `; ${options.hint}` : "");
    const buffer = plan.limit.bufferBytes;
    const has = buffer !== undefined && e.largestTensor > buffer
      ? `has ${gib(plan.limit.bytes)} and one tensor of ${gib(e.largestTensor)} exceeds its ` +
        `largest buffer of ${gib(buffer)}`
      : `has ${gib(plan.limit.bytes)} (plans fill ${PLAN_FILL * 100} % of it)`;
    super(
      `batch ${plan.batchSize} needs about ${gib(e.total)} (weights ${gib(e.weights)}, ` +
        `gradients ${gib(e.gradients)}, optimizer ${gib(e.optimizer)}${
          e.offHeap > 0 ? " off the heap" : ""
        }, activations ${
          gib(e.activations)
        }) but the ${plan.limit.backend} backend ${has}; ${fits}`,
    );
    this.name = "MemoryPlanError";
    this.plan = plan;
  }
}

/**
 * The plan of `input` on `backend`; throws {@linkcode MemoryPlanError} when
 * it does not fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { checkMemoryPlan } from "./memory_plan.ts";
 * const tiny = resolveVattConfig({ preset: "tiny" });
 * assert.ok((await checkMemoryPlan({ model: tiny, batchSize: 4 }, "wasm")).fits);
 * const base = resolveVattConfig({ preset: "base" });
 * await assert.rejects(checkMemoryPlan({ model: base, batchSize: 8 }, "wasm"), /no batch fits/);
 * ```
 */
export async function checkMemoryPlan(
  input: MemoryPlanInput,
  backend: string,
): Promise<MemoryPlan> {
  const plan = planMemory(input, await memoryLimit(backend));
  if (!plan.fits) throw new MemoryPlanError(plan);
  return plan;
}
