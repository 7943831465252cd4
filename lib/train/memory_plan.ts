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
import * as tf from "@tensorflow/tfjs-core";
import type { Modality } from "../config/modality.ts";
import { audioTokenCount, keptTokenCount, videoTokenGrid } from "../config/token_counts.ts";
import type { BackboneConfig, VattConfig } from "../config/vatt_config.ts";
import { countParameters } from "../model/weight_specs.ts";
import { ATTENTION_KERNEL } from "../backend/kernels/names.ts";

/** Bytes of one float32 / int32 element. */
const FLOAT = 4;

/** The largest wasm heap of tfjs-backend-wasm 4.22 (emscripten's `getHeapMax()`: 4 GiB − 64 KiB). */
export const WASM_HEAP_MAX = 4294901760;

/** What the wasm module itself holds before any tensor (its initial 16 MiB memory: code data, stack). */
const WASM_STATIC_BYTES = 16 * 1024 * 1024;

/**
 * Floats per token and layer that a training step holds, per unit of width `d`
 * and of MLP width: every forward output (layer norms, q/k/v, attention
 * output, residuals, dropout masks and outputs, GELU's intermediates) and the
 * backward pass's gradients of them. Calibrated (README, "Memory plan"); 30 before the
 * one-kernel dense layers, which keep fewer (tiny's peak at batch 8: 48 → 38 MB).
 */
const PER_TOKEN_D = 26;
const PER_TOKEN_MLP = 10;
/** Copies of the `[B, H, L, L]` attention scores per layer (logits, scaled, biased, softmax, dropout, their gradients). */
const SCORE_COPIES = 11;
/** Copies of the fused attention kernel's scores: it keeps none between calls. */
const FUSED_SCORE_COPIES = 0;
/** Score copies per layer: fused (no attention dropout, or the active backend has the kernel, which keeps the mask) or composite. */
function scoreCopies(c: VattConfig): number {
  if (c.attentionDropout === 0) return FUSED_SCORE_COPIES;
  const backend = tf.engine().backendName; // a field: reading it starts no backend
  return backend && tf.getKernel(ATTENTION_KERNEL, backend) ? FUSED_SCORE_COPIES + 1 : SCORE_COPIES;
}
/** Copies of the raw inputs (the augmented batch, patch reshapes and their gradients). */
const INPUT_COPIES = 13;
/**
 * Measured over counted activations: the bytes the wasm heap held at the peak
 * of real pretraining steps, less weights, gradients and Adam moments, over
 * the count above (tiny at batch 8 and 32: 1.69; small's backbones at the tiny
 * inputs, batch 4 and 8: 1.63): TFJS's own copies (reshapes that copy,
 * broadcasts, the gradients' temporaries).
 */
const ACTIVATION_CALIBRATION = 1;

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
}

/** The estimate of one training step's peak, in bytes. */
export interface MemoryEstimate {
  /** Every weight (trainable and not). */
  weights: number;
  /** One gradient per trainable weight. */
  gradients: number;
  /** The optimizer's slots (Adam: two moments). */
  optimizer: number;
  /** Peak activations of the forward and backward pass, with the batch's inputs. */
  activations: number;
  /** The sum. */
  total: number;
  /** The largest single tensor (attention scores, the MLP's inner layer or the raw video). */
  largestTensor: number;
}

/** What a backend can hold. */
export interface MemoryLimit {
  /** The backend it is for. */
  backend: string;
  /** Bytes a training step may use in all. */
  bytes: number;
  /** Where the number comes from, in words. */
  detail: string;
  /** The largest buffer one tensor may have (WebGPU's binding limit); absent: no such limit. */
  bufferBytes?: number;
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

/** Floats one encoder holds for `sequences` of `length` tokens, with `copies` of its scores. */
function encoderFloats(b: BackboneConfig, sequences: number, length: number, copies: number) {
  const tokens = sequences * length;
  const perLayer = tokens * (PER_TOKEN_D * b.hidden + PER_TOKEN_MLP * b.mlp) +
    copies * sequences * b.heads * length * length;
  return b.layers * perLayer + 4 * tokens * b.hidden; // + final LayerNorm and dropout
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
  const scores = c.attentionDropout === 0 ? 0 : sequences * b.heads * length * length;
  return Math.max(scores, sequences * length * b.mlp, raw);
}

/** Floats of the activations of one modality in a training step of `batch` clips. */
function modalityFloats(m: Modality, input: MemoryPlanInput, batch: number): number {
  const c = input.model;
  const copies = scoreCopies(c);
  if (m === "video") {
    const v = c.video;
    const n = videoTokenGrid(v).count;
    const kept = keptTokenCount(n, c.dropToken);
    const raw = batch * v.frames * v.height * v.width * 3;
    // Patches → tokens [B, N, d], positions added, then DropToken's gather.
    const embed = INPUT_COPIES * raw + 3 * batch * n * v.backbone.hidden;
    return embed + encoderFloats(v.backbone, batch, kept + 1, copies);
  }
  if (m === "audio") {
    const a = c.audio;
    const n = audioTokenCount(a);
    const kept = keptTokenCount(n, c.dropToken);
    const embed = INPUT_COPIES * batch * a.samples + 3 * batch * n * a.backbone.hidden;
    return embed + encoderFloats(a.backbone, batch, kept + 1, copies);
  }
  const t = c.text;
  const sequences = batch * (input.captionsPerClip ?? 1);
  const embed = 3 * sequences * t.maxLength * t.backbone.hidden;
  return embed + encoderFloats(t.backbone, sequences, t.maxLength + 1, copies);
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
  const floats = modalities.reduce((s, m) => s + modalityFloats(m, input, input.batchSize), 0);
  const activations = Math.round(FLOAT * ACTIVATION_CALIBRATION * floats);
  const largest = Math.max(
    ...modalities.map((m) => largestTensorFloats(m, input, input.batchSize)),
  );
  return {
    weights,
    gradients,
    optimizer,
    activations,
    total: weights + gradients + optimizer + activations,
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
    e.total <= limit.bytes && e.largestTensor <= (limit.bufferBytes ?? Infinity);
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

/** The wasm heap now: `{ size, max }` bytes, or `undefined` when wasm is not the backend. */
function wasmHeap(): { size: number } | undefined {
  const backend = tf.engine().backendName === "wasm"
    ? (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } })
    : undefined;
  const heap = backend?.wasm?.HEAPU8;
  return heap ? { size: heap.length } : undefined;
}

/**
 * The bytes a training step may use on `backend` (the name `initBackend`
 * returned): wasm, the 4 GiB heap less the module's own memory and the
 * tensors already on it; cpu and tensorflow, the host memory available now;
 * webgpu, the adapter's largest buffer when it is known, else host memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryLimit, WASM_HEAP_MAX } from "./memory_plan.ts";
 * const wasm = await memoryLimit("wasm");
 * assert.ok(wasm.bytes < WASM_HEAP_MAX && wasm.bytes > 3e9);
 * const cpu = await memoryLimit("cpu");
 * assert.ok(cpu.bytes > 0 && /host memory/.test(cpu.detail));
 * ```
 */
export async function memoryLimit(backend: string): Promise<MemoryLimit> {
  if (backend === "wasm") {
    const used = tf.engine().backendName === "wasm" ? tf.memory().numBytes : 0;
    const heap = wasmHeap();
    return {
      backend,
      bytes: WASM_HEAP_MAX - WASM_STATIC_BYTES - used,
      detail: `wasm heap: 4 GiB at most, less ${gib(WASM_STATIC_BYTES + used)} in use` +
        (heap ? `; ${gib(heap.size)} reserved now` : ""),
    };
  }
  const info = Deno.systemMemoryInfo();
  const host = `host memory available (${gib(info.available)} of ${gib(info.total)})`;
  if (backend === "webgpu") {
    // WebGPU does not say how much memory the device has; it bounds each buffer.
    const limits = await webGpuLimits();
    const buffer = limits && Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
    if (buffer) {
      return {
        backend,
        bytes: info.available,
        bufferBytes: buffer,
        detail: `${host}; one tensor at most ${gib(buffer)} (adapter's buffer limits)`,
      };
    }
  }
  return { backend, bytes: info.available, detail: host };
}

/** The WebGPU adapter's buffer limits, or `undefined` without an adapter. */
async function webGpuLimits(): Promise<
  { maxBufferSize: number; maxStorageBufferBindingSize: number } | undefined
> {
  type Limits = { maxBufferSize: number; maxStorageBufferBindingSize: number };
  const gpu = (navigator as unknown as {
    gpu?: { requestAdapter(): Promise<{ limits: Limits } | null> };
  }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return adapter?.limits;
}

/**
 * Bytes as GiB with two decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gib } from "./memory_plan.ts";
 * assert.equal(gib(3 * 1024 ** 3), "3.00 GiB");
 * ```
 */
export function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** A batch that does not fit: the plan, and one line with the estimate, the limit and the batch that fits. */
export class MemoryPlanError extends RangeError {
  readonly plan: MemoryPlan;
  constructor(plan: MemoryPlan) {
    const e = plan.estimate;
    const fits = plan.largestBatch > 0
      ? `the largest batch that fits is ${plan.largestBatch}`
      : `no batch fits (weights, gradients and optimizer state alone take ${
        gib(e.weights + e.gradients + e.optimizer)
      })`;
    const buffer = plan.limit.bufferBytes;
    const has = buffer !== undefined && e.largestTensor > buffer
      ? `has ${gib(plan.limit.bytes)} and one tensor of ${gib(e.largestTensor)} exceeds its ` +
        `largest buffer of ${gib(buffer)}`
      : `has ${gib(plan.limit.bytes)}`;
    super(
      `batch ${plan.batchSize} needs about ${gib(e.total)} (weights ${gib(e.weights)}, ` +
        `gradients ${gib(e.gradients)}, optimizer ${gib(e.optimizer)}, activations ${
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
