/**
 * The activation model of the memory plan (`memory_plan.ts`): the floats a
 * training step holds at its peak, per modality, from the model config and
 * the batch (after DropToken), and the largest single tensor. Its constants
 * were calibrated against the measured peak of the real pretraining step on
 * wasm (README, "Memory plan"; `tests/lib/train/memory_plan_test.ts`).
 *
 * Two backward passes hold different amounts. TensorFlow.js's own keeps every
 * tensor the forward pass saved and every gradient of them until the pass
 * ends; the eager one (`lib/backend/backprop.ts`, the default) frees each
 * node's as soon as it is done, so its peak is the forward pass's saved
 * tensors and the weights' gradients are not all alive while they are.
 *
 * @module
 */
import type { Modality } from "../config/modality.ts";
import { audioTokenCount, keptTokenCount, videoTokenGrid } from "../config/token_counts.ts";
import type { BackboneConfig, VattConfig } from "../config/vatt_config.ts";
import { attentionKernelActive, dropoutKernelActive } from "./memory_limit.ts";

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
/**
 * The share of the per-token activations (and of the composite attention's
 * score copies, gradients included) that the eager backward pass holds at its
 * peak: the forward pass's saved tensors without their gradients. Measured:
 * 0.44–0.68 of tfjs's count on the calibration cases; the fused attention
 * kernel's probabilities and mask are saved tensors, held alike by both.
 */
const EAGER_SHARE = 0.5;

/** Whether a training step keeps dropout masks: dropout on, without the backend's dropout kernel. */
function keepsMasks(c: VattConfig): boolean {
  return c.dropout > 0 && !dropoutKernelActive();
}

/**
 * Score copies per layer: the fused kernel's (with the active backend's
 * kernel), or the composite ops' (their gradients among them: a share with the
 * eager backward pass).
 */
function scoreCopies(c: VattConfig, eager: boolean): number {
  if (!attentionKernelActive()) return (eager ? EAGER_SHARE : 1) * SCORE_COPIES;
  return FUSED_SCORE_COPIES + (c.attentionDropout > 0 ? 1 : 0);
}

/** Floats held by a step: for the whole pass (`kept`), and one recomputed layer's on top (`layer`). */
interface Held {
  kept: number;
  layer: number;
}

/** How an encoder's activations are counted. */
interface EncoderOptions {
  /** Score copies `[B, H, L, L]` per layer, already scaled for the backward pass. */
  scoreCopies: number;
  /** Whether dropout masks are kept. */
  masks: boolean;
  /** The eager backward pass: {@linkcode EAGER_SHARE} of the per-token floats. */
  eager: boolean;
  recompute: boolean;
  parts: number;
}

/** Floats one encoder of `layers` holds for `sequences` sequences of `length` tokens. */
function encoderFloats(
  b: BackboneConfig,
  sequences: number,
  length: number,
  options: EncoderOptions,
): Held {
  const tokens = sequences * length;
  const [perD, perMlp] = options.masks
    ? [PER_TOKEN_D + MASKS_PER_TOKEN_D, PER_TOKEN_MLP + MASKS_PER_TOKEN_MLP]
    : [PER_TOKEN_D, PER_TOKEN_MLP];
  const share = options.eager ? EAGER_SHARE : 1;
  const perLayer = (rows: number) =>
    share * rows * length * (perD * b.hidden + perMlp * b.mlp) +
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

/** One modality's encoder in a step: its sizes, its sequences of `length` tokens (after DropToken). */
interface EncoderShape {
  backbone: BackboneConfig;
  sequences: number;
  length: number;
  /** Floats of the modality's raw input in the batch (video and audio; 0 for text). */
  raw: number;
  /** Floats of the patch embedding (patches, the kept ones, the kept tokens), or the text embedding. */
  embed: number;
}

function encoderShape(m: Modality, input: ActivationInput): EncoderShape {
  const c = input.model;
  const batch = input.batchSize;
  if (m === "text") {
    const t = c.text;
    const sequences = batch * (input.captionsPerClip ?? 1);
    const embed = 3 * sequences * t.maxLength * t.backbone.hidden;
    return { backbone: t.backbone, sequences, length: t.maxLength + 1, raw: 0, embed };
  }
  const v = c.video;
  const [backbone, n, patch, raw] = m === "video"
    ? [
      v.backbone,
      videoTokenGrid(v).count,
      v.patch[0] * v.patch[1] * v.patch[2] * 3,
      v.frames * v.height * v.width * 3,
    ]
    : [c.audio.backbone, audioTokenCount(c.audio), c.audio.patch, c.audio.samples];
  const kept = keptTokenCount(n, c.dropToken);
  const embed = embedFloats(batch * n * patch, n, kept, batch * backbone.hidden); // padded clips
  return { backbone, sequences: batch, length: kept + 1, raw: batch * raw, embed };
}

/** Floats of the largest single tensor of one modality's step: scores, MLP inner layer, raw input. */
function largestTensorFloats(shape: EncoderShape, input: ActivationInput): number {
  const { backbone: b, sequences, length, raw } = shape;
  // Layers recomputed in parts: one part's sequences at a time.
  const parts = input.recompute ? Math.min(input.recomputeParts ?? 1, sequences) : 1;
  const rows = Math.ceil(sequences / parts);
  const scores = input.model.attentionDropout === 0 ? 0 : rows * b.heads * length * length;
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

/** Floats of the activations of one modality in a training step. */
function modalityFloats(shape: EncoderShape, input: ActivationInput, eager: boolean): Held {
  const c = input.model;
  const held = encoderFloats(shape.backbone, shape.sequences, shape.length, {
    scoreCopies: scoreCopies(c, eager),
    masks: keepsMasks(c),
    eager,
    recompute: input.recompute ?? false,
    parts: input.recomputeParts ?? 1,
  });
  return { kept: shape.embed + held.kept, layer: held.layer };
}

/** The step whose activations are counted (`ActivationInput` of `memory_plan.ts` extends it). */
export interface ActivationInput {
  /** The model config (inputs, backbones, DropToken rate). */
  model: VattConfig;
  /** Clips per batch. */
  batchSize: number;
  /** The modalities the step runs; default all three (pretraining). */
  modalities?: readonly Modality[];
  /** Captions per clip (each is one text sequence); default 1. */
  captionsPerClip?: number;
  /** Transformer layers recomputed in the backward pass (`--recompute`); default false. */
  recompute?: boolean;
  /** Recomputed layers run on this many parts of the batch in turn; default 1. */
  recomputeParts?: number;
}

/** What the activation model needs to know of the running backend. */
export interface ActivationContext {
  /** The eager backward pass is installed (`eagerBackpropInstalled`). */
  eager: boolean;
}

/**
 * The floats of the activations a training step of `input` holds at its peak
 * (every modality's whole-pass share, and the largest recomputed layer's on
 * top) and of its largest single tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { activationFloats } from "./_activation_model.ts";
 * const model = resolveVattConfig({ preset: "tiny" });
 * const tfjs = activationFloats({ model, batchSize: 8 }, { eager: false });
 * const eager = activationFloats({ model, batchSize: 8 }, { eager: true });
 * assert.ok(eager.floats < tfjs.floats && eager.largest === tfjs.largest);
 * ```
 */
export function activationFloats(
  input: ActivationInput,
  context: ActivationContext,
): { floats: number; largest: number } {
  const shapes = (input.modalities ?? ["video", "audio", "text"]).map((m) =>
    encoderShape(m, input)
  );
  const held = shapes.map((shape) => modalityFloats(shape, input, context.eager));
  // Recomputed layers: every encoder's saved inputs, and one layer's activations at a time.
  const floats = held.reduce((s, h) => s + h.kept, 0) + Math.max(...held.map((h) => h.layer));
  const largest = Math.max(...shapes.map((shape) => largestTensorFloats(shape, input)));
  return { floats, largest };
}
