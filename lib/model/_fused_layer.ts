/**
 * One encoder layer as one `VattEncoderLayer` kernel each way
 * (`lib/backend/kernels/encoder_layer.ts`), where the active backend has it
 * and every kernel it is made of: the same computation as the layer's chain
 * of fused operations in `transformer.ts` (bit for bit, with the same dropout
 * draws in the same order), at one engine call each way instead of 13
 * forward and as many backward. Private to `lib/model/`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type EncoderLayerAttrs,
  LAYER_PARTS,
  LAYER_SAVED,
  LAYER_WEIGHTS,
} from "../backend/kernels/encoder_layer.ts";
import { ENCODER_LAYER_GRAD_KERNEL, ENCODER_LAYER_KERNEL } from "../backend/kernels/names.ts";
import { dropoutDraw, dropoutMask, type DropoutSource } from "./dropout.ts";
import type { Weights } from "./weights.ts";

/** Where each of {@linkcode LAYER_WEIGHTS} lies under a layer's prefix. */
const WEIGHT_PATHS: Record<(typeof LAYER_WEIGHTS)[number], string> = {
  ln1Gamma: "ln1/gamma",
  ln1Beta: "ln1/beta",
  qKernel: "attn/q/kernel",
  qBias: "attn/q/bias",
  kKernel: "attn/k/kernel",
  kBias: "attn/k/bias",
  vKernel: "attn/v/kernel",
  vBias: "attn/v/bias",
  oKernel: "attn/o/kernel",
  oBias: "attn/o/bias",
  ln2Gamma: "ln2/gamma",
  ln2Beta: "ln2/beta",
  fc1Kernel: "mlp/fc1/kernel",
  fc1Bias: "mlp/fc1/bias",
  fc2Kernel: "mlp/fc2/kernel",
  fc2Bias: "mlp/fc2/bias",
};

/** The weights the backward kernel reads (the rest only receive gradients). */
const READ_BACK = [
  "ln1Gamma",
  "qKernel",
  "kKernel",
  "vKernel",
  "oKernel",
  "ln2Gamma",
  "fc1Kernel",
  "fc2Kernel",
] as const;

/** The layer kernels and every kernel they call. */
const NEEDED = [ENCODER_LAYER_KERNEL, ENCODER_LAYER_GRAD_KERNEL, ...LAYER_PARTS];

/** Options of {@linkcode fusedEncoderLayer}: the layer's, as `transformer.ts` has them. */
export interface FusedLayerOptions {
  heads: number;
  /** The position bias `[H, L, L]` (T5), computed by the caller. */
  positionBias?: tf.Tensor3D;
  /** The padding mask's additive bias `[B, 1, 1, L]`. */
  maskBias?: tf.Tensor;
  dropout?: DropoutSource;
  attentionDropout?: DropoutSource;
}

/**
 * Whether the active backend runs {@linkcode fusedEncoderLayer} for `x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { fusedLayerApplies } from "./_fused_layer.ts";
 * await tf.setBackend("cpu");
 * assert.equal(fusedLayerApplies(tf.ones([1, 2, 4])), false); // no VattEncoderLayer on cpu
 * ```
 */
export function fusedLayerApplies(x: tf.Tensor): boolean {
  const backend = tf.getBackend();
  return x.dtype === "float32" && NEEDED.every((name) => tf.getKernel(name, backend) !== undefined);
}

/**
 * `y = x + Drop(MHA(LN₁(x)))`, `out = y + Drop(W₂·Drop(GELU(W₁·LN₂(y))))` for
 * the layer under prefix `p` as one kernel each way; gradients for `x`, the
 * layer's 16 weights and the position bias. Call where {@linkcode fusedLayerApplies}.
 */
export function fusedEncoderLayer(
  x: tf.Tensor3D,
  weights: Weights,
  p: string,
  options: FusedLayerOptions,
): tf.Tensor3D {
  const [b, l, d] = x.shape;
  const h = options.heads;
  const mlp = weights[`${p}/${WEIGHT_PATHS.fc1Kernel}`].shape[1]!;
  const bias = options.positionBias;
  const mask = options.maskBias ? tf.reshape(options.maskBias, [b, l]) as tf.Tensor2D : undefined;
  // The draws of the chain of operations, in its order: attention, its branch, GELU, the MLP's branch.
  const drop = dropoutMask([b, h, l, l], options.attentionDropout);
  const drops = [[b, l, d], [b, l, mlp], [b, l, d]].map((shape) =>
    dropoutDraw(shape, options.dropout)
  ) as EncoderLayerAttrs["drops"];
  const attrs: EncoderLayerAttrs = {
    heads: h,
    scale: 1 / Math.sqrt(d / h),
    epsilon: 1e-6,
    withBias: bias !== undefined,
    drops,
  };
  const layerWeights = LAYER_WEIGHTS.map((name) => weights[`${p}/${WEIGHT_PATHS[name]}`]);
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const given = args.slice(0, -1) as tf.Tensor[];
      const inputs: Record<string, tf.Tensor> = { x: given[0] };
      LAYER_WEIGHTS.forEach((name, i) => (inputs[name] = given[1 + i]));
      if (bias) inputs.bias = given[1 + LAYER_WEIGHTS.length];
      if (mask) inputs.mask = mask;
      if (drop) inputs.drop = drop;
      const [value, ...saved] = tf.engine().runKernel(
        ENCODER_LAYER_KERNEL,
        inputs,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      const readBack = READ_BACK.map((name) => inputs[name]);
      (args.at(-1) as tf.GradSaveFunc)([inputs.x, ...saved, ...readBack, ...(drop ? [drop] : [])]);
      const gradFunc = (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const grads: Record<string, tf.Tensor> = { dy, x: kept[0] };
        LAYER_SAVED.forEach((name, i) => (grads[name] = kept[1 + i]));
        READ_BACK.forEach((name, i) => (grads[name] = kept[1 + LAYER_SAVED.length + i]));
        if (drop) grads.drop = kept.at(-1)!;
        return tf.engine().runKernel(
          ENCODER_LAYER_GRAD_KERNEL,
          grads,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  const out = op(x, ...layerWeights, ...(bias ? [bias] : [])) as tf.Tensor3D;
  tf.dispose([mask, drop].filter((t) => t !== undefined) as tf.Tensor[]);
  return out;
}
