/**
 * Inverted dropout with seeded, counter-based masks. Each call takes one draw
 * of its source's generator as the seed of a stream (`lib/util/counter_bits.ts`);
 * value `i` of the global batch is kept when position `i` of that stream lies
 * below the keep threshold. A rank of a data-parallel run, or one part of a
 * recomputed layer, is a run of rows of the global batch, so its mask is the
 * global mask at its positions, computed without the others'. On the wasm
 * backend the `VattDropout` kernel applies the mask where it computes it,
 * forward and backward (no mask stored); elsewhere a host mask of the same
 * bits is multiplied in.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { DROPOUT_KERNEL, GELU_KERNEL } from "../backend/kernels/names.ts";
import type { DropoutAttrs } from "../backend/kernels/dropout.ts";
import { fillKeepMask, keepThreshold, streamKeys } from "../util/counter_bits.ts";
import type { Rng } from "../util/rng.ts";
import { type BatchShard, shardDrawOffset } from "./batch_shard.ts";
import { gelu } from "./_ops.ts";

/** Where a training pass draws its dropout masks: a rate and a seeded generator. */
export interface DropoutSource {
  /** Fraction of the values set to zero (the rest scaled by `1/(1 − rate)`). */
  rate: number;
  /** Seeds one mask per call, in call order, so a pass is bit-identical for a seed. */
  rng: Rng;
  /** A rank's share of a global batch: its mask is its rows of the global batch's mask. */
  shard?: Pick<BatchShard, "start" | "count" | "total">;
}

tf.registerGradient({
  kernelName: DROPOUT_KERNEL,
  gradFunc: (dy, _saved, attrs) => ({
    // Dropout is its own adjoint: the same mask on the gradient.
    x: () => tf.engine().runKernel(DROPOUT_KERNEL, { x: dy as tf.Tensor }, attrs as never),
  }),
});

/**
 * The attributes of the mask of the next call on `source` for a tensor of
 * `shape`, or null without a source or at rate 0 (no draw then), for a kernel
 * that applies the mask itself (`lib/model/_fused_layer.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "../util/rng.ts";
 * import { dropoutDraw } from "./dropout.ts";
 * assert.equal(dropoutDraw([4], undefined), null);
 * assert.equal(dropoutDraw([4], { rate: 0.5, rng: new Rng(1) })?.scale, 2);
 * ```
 */
export function dropoutDraw(
  shape: number[],
  source: DropoutSource | undefined,
): DropoutAttrs | null {
  return !source || source.rate === 0 ? null : drawMask(shape, source);
}

/** The attributes of the mask of the next call on `source` for a tensor of `shape`. */
function drawMask(shape: number[], source: DropoutSource): DropoutAttrs {
  const keys = streamKeys(source.rng.nextUint32());
  let size = 1;
  for (const s of shape) size *= s;
  // A rank of a data-parallel run starts at its rows' place in the global batch.
  const offset = shardDrawOffset(source.shard, { rows: shape[0] ?? 1, size });
  return { offset, ...keys, threshold: keepThreshold(source.rate), scale: 1 / (1 - source.rate) };
}

function hostMask(shape: number[], attrs: DropoutAttrs): tf.Tensor {
  const mask = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fillKeepMask(attrs, attrs.offset, attrs.threshold, attrs.scale, mask);
  return tf.tensor(mask, shape, "float32");
}

const hasKernel = (name: string) => tf.getKernel(name, tf.getBackend()) !== undefined;
const hasDropoutKernel = () => hasKernel(DROPOUT_KERNEL);

/**
 * Inverted dropout: zeroes each value with probability `rate` and scales the
 * rest by `1/(1 − rate)`; the identity without a source or with rate 0. The
 * mask's seed is the next draw of `source.rng`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Rng } from "../util/rng.ts";
 * import { dropout } from "./dropout.ts";
 * const x = tf.ones([1000]);
 * const y = await dropout(x, { rate: 0.5, rng: new Rng(1) }).data();
 * assert.ok(y.every((v) => v === 0 || v === 2));
 * assert.deepEqual(y, await dropout(x, { rate: 0.5, rng: new Rng(1) }).data());
 * assert.equal(dropout(x, undefined), x);
 * ```
 */
export function dropout(x: tf.Tensor, source: DropoutSource | undefined): tf.Tensor {
  if (!source || source.rate === 0) return x;
  const attrs = drawMask(x.shape, source);
  if (hasDropoutKernel() && x.dtype === "float32") {
    return tf.engine().runKernel(DROPOUT_KERNEL, { x }, attrs as never) as tf.Tensor;
  }
  const mask = hostMask(x.shape, attrs);
  const y = tf.mul(x, mask);
  mask.dispose(); // the tape keeps what the product's gradient needs
  return y;
}

/**
 * The mask {@linkcode dropout} multiplies a tensor of `shape` by: each value
 * 0 with probability `rate`, else `1/(1 − rate)`, from the next draw of
 * `source.rng` (the same draw `dropout` makes); `undefined` without a source
 * or with rate 0 (nothing drawn).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Rng } from "../util/rng.ts";
 * import { dropout, dropoutMask } from "./dropout.ts";
 * const mask = dropoutMask([4, 5], { rate: 0.5, rng: new Rng(3) })!;
 * const dropped = dropout(tf.ones([4, 5]), { rate: 0.5, rng: new Rng(3) });
 * assert.deepEqual(await mask.data(), await dropped.data());
 * assert.equal(dropoutMask([4, 5], { rate: 0, rng: new Rng(3) }), undefined);
 * ```
 */
export function dropoutMask(
  shape: number[],
  source: DropoutSource | undefined,
): tf.Tensor | undefined {
  if (!source || source.rate === 0) return undefined;
  const attrs = drawMask(shape, source);
  if (!hasDropoutKernel()) return hostMask(shape, attrs);
  return tf.tidy(() =>
    tf.engine().runKernel(DROPOUT_KERNEL, { x: tf.ones(shape) }, attrs as never) as tf.Tensor
  );
}

/**
 * `dropout(gelu(x), source)` (the MLP's inner layer): the same values and
 * gradients, bit for bit, and the same draw of `source.rng`; where the backend
 * has the GELU and dropout kernels, the mask is applied inside the GELU
 * kernels, one pass each way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Rng } from "../util/rng.ts";
 * import { gelu } from "./_ops.ts";
 * import { dropout, droppedGelu } from "./dropout.ts";
 * const x = tf.linspace(-3, 3, 50);
 * const fused = await droppedGelu(x, { rate: 0.3, rng: new Rng(2) }).data();
 * const apart = await dropout(gelu(x), { rate: 0.3, rng: new Rng(2) }).data();
 * assert.deepEqual(fused, apart);
 * ```
 */
export function droppedGelu(x: tf.Tensor, source: DropoutSource | undefined): tf.Tensor {
  if (!source || source.rate === 0) return gelu(x);
  if (!hasKernel(GELU_KERNEL) || !hasDropoutKernel() || x.dtype !== "float32") {
    return dropout(gelu(x), source);
  }
  return gelu(x, drawMask(x.shape, source));
}
