/**
 * DropToken: during training, each clip keeps a random subset of its video and
 * audio tokens (the same count for every clip, different positions), drawn from
 * the run's seeded generator.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { keptTokenCount } from "../config/token_counts.ts";
import type { Rng } from "../util/rng.ts";
import type { BatchShard } from "./batch_shard.ts";
import { gatherRows } from "./_ops.ts";

/**
 * The indices kept for each of `batch` clips: `keptTokenCount(n, rate)` sorted
 * distinct positions per clip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "../util/rng.ts";
 * import { dropTokenIndices } from "./drop_token.ts";
 * const idx = dropTokenIndices(2, 10, { rate: 0.5, rng: new Rng(1) });
 * assert.equal(idx.length, 2);
 * assert.equal(idx[0].length, 5);
 * ```
 */
export function dropTokenIndices(
  batch: number,
  n: number,
  options: { rate: number; rng: Rng },
): number[][] {
  const keep = keptTokenCount(n, options.rate);
  return Array.from({ length: batch }, () => options.rng.sample(n, keep));
}

/** The tokens a DropToken pass keeps of `B` clips of `N` tokens each. */
export interface KeptTokens {
  /** Tokens kept per clip (`K`). */
  keep: number;
  /** `[B·K]` rows `i·N + j` of the tokens flattened to `[B·N, ·]`: clip `i`'s token `j`. */
  rows: Int32Array;
  /** `[B·K]` the token positions `j` alone (rows of a `[N, ·]` position table). */
  positions: Int32Array;
}

/**
 * The tokens a DropToken pass keeps of `batch` clips of `n` tokens (drawn
 * as {@linkcode dropTokenIndices} draws them). With `shard`, the clips are
 * rows `start…` of a global batch of `total` clips, and each keeps what it
 * would in the global batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "../util/rng.ts";
 * import { dropTokenIndices, keptTokens } from "./drop_token.ts";
 * const kept = keptTokens(2, 10, { rate: 0.5, rng: new Rng(1) });
 * const [first, second] = dropTokenIndices(2, 10, { rate: 0.5, rng: new Rng(1) });
 * assert.equal(kept.keep, 5);
 * assert.deepEqual([...kept.positions], [...first, ...second]);
 * assert.deepEqual([...kept.rows], [...first, ...second.map((j) => 10 + j)]);
 * ```
 */
export function keptTokens(
  batch: number,
  n: number,
  options: { rate: number; rng: Rng; shard?: Pick<BatchShard, "start" | "total"> },
): KeptTokens {
  // A rank's share draws the global batch's picks and keeps its own rows.
  const start = options.shard?.start ?? 0;
  const total = options.shard?.total ?? batch;
  const picked = dropTokenIndices(total, n, options).slice(start, start + batch);
  const keep = picked[0].length;
  const rows = new Int32Array(batch * keep);
  const positions = new Int32Array(batch * keep);
  picked.forEach((row, i) =>
    row.forEach((j, k) => {
      rows[i * keep + k] = i * n + j;
      positions[i * keep + k] = j;
    })
  );
  return { keep, rows, positions };
}

/**
 * Keeps a random subset of the tokens `[B, N, d]` → `[B, K, d]` with
 * `K = max(1, floor(N·(1 − rate)))`. A rate of 0 returns the input unchanged.
 * With `shard`, the tokens are rows `start…` of a global batch of `total`
 * clips, and each keeps what it would in the global batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Rng } from "../util/rng.ts";
 * import { dropTokens } from "./drop_token.ts";
 * const kept = dropTokens(tf.ones([2, 10, 4]), { rate: 0.5, rng: new Rng(0) });
 * assert.equal(kept.shape.join(), "2,5,4");
 * ```
 */
export function dropTokens(
  tokens: tf.Tensor3D,
  options: { rate: number; rng: Rng; shard?: Pick<BatchShard, "start" | "total"> },
): tf.Tensor3D {
  if (options.rate === 0) return tokens;
  const [b, n, d] = tokens.shape;
  const { keep, rows } = keptTokens(b, n, options);
  return tf.tidy(() => {
    const flat = tf.reshape(tokens, [b * n, d]) as tf.Tensor2D; // [B·N, d]
    const picked = gatherRows(flat, tf.tensor1d(rows, "int32")); // [B·K, d]
    return tf.reshape(picked, [b, keep, d]) as tf.Tensor3D; // [B, K, d]
  });
}
