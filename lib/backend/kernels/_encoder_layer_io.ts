/**
 * What the encoder-layer kernels take and give (`encoder_layer.ts`, the macro
 * over the part kernels, and `encoder_layer_native.ts`, the one native call):
 * their attributes, the weights in input order, the saved tensors.
 *
 * @module
 */
import type { DropoutAttrs } from "./dropout.ts";

/** The attributes of both kernels. */
export interface EncoderLayerAttrs {
  /** Attention heads, and the logits' scale `1/√(d/H)`. */
  heads: number;
  scale: number;
  /** The LayerNorms' ε. */
  epsilon: number;
  /** Whether a position bias `[H, L, L]` is an input (its gradient is then returned last). */
  withBias: boolean;
  /** Dropout after attention, after GELU (inside the MLP) and after the MLP; null: none. */
  drops: [DropoutAttrs | null, DropoutAttrs | null, DropoutAttrs | null];
}

/** The layer's weights, in input (and gradient) order. */
export const LAYER_WEIGHTS = [
  "ln1Gamma",
  "ln1Beta",
  "qKernel",
  "qBias",
  "kKernel",
  "kBias",
  "vKernel",
  "vBias",
  "oKernel",
  "oBias",
  "ln2Gamma",
  "ln2Beta",
  "fc1Kernel",
  "fc1Bias",
  "fc2Kernel",
  "fc2Bias",
] as const;

/** What the forward kernel returns after the output, for the backward kernel (by these names). */
export const LAYER_SAVED = [
  "h1",
  "q",
  "k",
  "v",
  "alpha",
  "z",
  "y",
  "h2",
  "f1",
  "cdf",
  "inner",
] as const;
