/**
 * A forward pass over one rank's share of a larger batch (data parallelism):
 * which rows of the global batch it holds, and the sum over ranks that
 * synchronized BatchNorm needs. Random draws of a sharded pass (DropToken,
 * dropout) are those of the whole global batch, of which the pass keeps its
 * own rows, so R ranks draw what one process would.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/** One rank's rows of the global batch. */
export interface BatchShard {
  /** The first global row of this pass. */
  start: number;
  /** Rows of this pass. */
  count: number;
  /** Rows of the global batch. */
  total: number;
  /**
   * The element-wise sum of `x` over the ranks, differentiable (its gradient
   * is the sum of the ranks' incoming gradients).
   */
  sum: (x: tf.Tensor) => tf.Tensor;
}

/**
 * The draws a sharded pass skips and keeps for a tensor of `size` values and
 * `rows` leading rows (a whole multiple of the shard's clips, e.g. clips ×
 * captions): it skips the values of the rows before its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardDrawOffset } from "./batch_shard.ts";
 * // Rank 1 of 2, 4 clips each, 3 captions a clip, 5 values a row: 4·3·5 values skipped.
 * assert.equal(shardDrawOffset({ start: 4, count: 4, total: 8 }, { rows: 12, size: 60 }), 60);
 * assert.equal(shardDrawOffset(undefined, { rows: 12, size: 60 }), 0);
 * ```
 */
export function shardDrawOffset(
  shard: Pick<BatchShard, "start" | "count" | "total"> | undefined,
  tensor: { rows: number; size: number },
): number {
  if (!shard || shard.start === 0) return 0;
  if (tensor.rows % shard.count !== 0) {
    throw new RangeError(`Cannot shard ${tensor.rows} rows over a shard of ${shard.count} clips`);
  }
  const perClip = tensor.rows / shard.count;
  return shard.start * perClip * (tensor.size / tensor.rows);
}
