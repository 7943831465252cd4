/**
 * The memory plan of a training step, made before step 1: an estimate of the
 * bytes of weights, gradients, optimizer state and peak activations (after
 * DropToken) from the model config and the batch, compared with the limit of
 * the backend (the wasm heap, host memory, or a WebGPU adapter's buffer
 * limit). A batch that does not fit is refused with the estimate, the limit
 * and the largest batch that fits, instead of an engine abort mid-run.
 *
 * The activation model (`_activation_model.ts`) counts the tensors a step
 * holds at its peak, with the backward pass in use (tfjs's own, or the eager
 * one that frees as it goes); its constants were calibrated against the
 * measured peak of the real pretraining step on wasm (README, "Memory plan").
 *
 * @module
 */
import { eagerBackpropInstalled } from "../backend/backprop.ts";
import { countParameters } from "../model/weight_specs.ts";
import { activationFloats, type ActivationInput } from "./_activation_model.ts";
import { gib, type MemoryLimit, memoryLimit } from "./memory_limit.ts";

export { gib, type MemoryLimit, memoryLimit, WASM_HEAP_MAX } from "./memory_limit.ts";

/** Bytes of one float32 / int32 element. */
const FLOAT = 4;
/**
 * With the eager backward pass the activations are freed as the weights'
 * gradients appear, so the peak holds the larger of the two (the end of the
 * forward pass, or of the backward pass) and what is alive at both: measured
 * 1.01–1.15 × the gradients above the weights and moments where the
 * gradients are the larger (small's backbones, recomputed or batch 4).
 */
const EAGER_GRADIENT_OVERLAP = 0.15;

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

/** What a memory plan is made from: the step, its optimizer and where its state lies. */
export interface MemoryPlanInput extends ActivationInput {
  /** Optimizer (its slots per weight); default `"adam"` (two moments). */
  optimizer?: keyof typeof OPTIMIZER_SLOTS;
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
  const eager = eagerBackpropInstalled();
  const { floats, largest } = activationFloats(input, { eager });
  const activations = Math.round(FLOAT * floats);
  const offHeap = input.offHeapState ? optimizer : 0;
  return {
    weights,
    gradients,
    optimizer,
    offHeap,
    activations,
    total: weights + optimizer - offHeap +
      (eager
        ? Math.max(activations, gradients) + EAGER_GRADIENT_OVERLAP * gradients
        : activations + gradients),
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
