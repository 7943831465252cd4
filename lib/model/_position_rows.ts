/**
 * Learned positions as one or more tables whose rows add up to a token's
 * position (the video's temporal, vertical and horizontal tables; the audio's
 * one table), and the tokens DropToken keeps plus their positions' rows: one
 * kernel each way where the backend has `VattPositionRows`
 * (`lib/backend/kernels/position_rows.ts`), gathers and adds elsewhere.
 * Private to `lib/model/`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { POSITION_ROWS_GRAD_KERNEL, POSITION_ROWS_KERNEL } from "../backend/kernels/names.ts";
import { gatherRows } from "./_ops.ts";

/**
 * Tables `[n_k, d]` of positions: the token at position `p` reads row `p_k` of
 * table k, where `p_0 p_1 …` are `p`'s digits in the mixed radix `grid`
 * (`[n_0, n_1, …]`, the first digit the most significant).
 */
export interface PositionFactors {
  tables: tf.Tensor[];
  grid: number[];
}

tf.registerGradient({
  kernelName: POSITION_ROWS_KERNEL,
  inputsToSave: ["index"],
  gradFunc: (dys, saved, attrs) => {
    const dy = dys as tf.Tensor;
    // The tables' gradients from one call, made here: each input's function runs in a tidy.
    const grads = tf.engine().runKernel(POSITION_ROWS_GRAD_KERNEL, { dy, index: saved[0] }, {
      ...attrs,
    }) as tf.Tensor[];
    // x's gradient is dy: a reshape shares its data, as tfjs's Add gradient does.
    const out: Record<string, () => tf.Tensor> = { x: () => tf.reshape(dy, dy.shape) };
    grads.forEach((g, k) => (out[`table${k}`] = () => g));
    return out;
  },
});

/**
 * The digits `[R·K]` of each of `positions` in the mixed radix `grid`; a
 * position outside the grid is a `RangeError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positionDigits } from "./_position_rows.ts";
 * assert.deepEqual([...positionDigits(Int32Array.of(0, 7, 11), [2, 3, 2])], [0, 0, 0, 1, 0, 1, 1, 2, 1]);
 * ```
 */
export function positionDigits(positions: Int32Array, grid: number[]): Int32Array {
  const k = grid.length;
  const count = grid.reduce((n, g) => n * g, 1);
  const digits = new Int32Array(positions.length * k);
  positions.forEach((p, r) => {
    if (!(p >= 0 && p < count)) {
      throw new RangeError(`position ${p} (row ${r}) is outside [0, ${count}): grid [${grid}]`);
    }
    for (let c = k - 1; c >= 0; c--) {
      digits[r * k + c] = p % grid[c];
      p = Math.floor(p / grid[c]);
    }
  });
  return digits;
}

/**
 * Every position's row `[N, d]` (N the product of the grid): the tables
 * broadcast over the grid and added, the first two first.
 */
export function positionTable(factors: PositionFactors): tf.Tensor2D {
  return tf.tidy(() => {
    const { tables, grid } = factors;
    const d = tables[0].shape[1]!;
    const spread = (k: number) =>
      tf.reshape(tables[k], [...grid.map((n, c) => (c === k ? n : 1)), d]);
    let sum = spread(0);
    for (let k = 1; k < tables.length; k++) sum = tf.add(sum, spread(k)); // [n_0, n_1, …, d]
    return tf.reshape(sum, [-1, d]) as tf.Tensor2D; // [N, d]
  });
}

/**
 * `x` `[R, d]` plus the rows of `positions` `[R]` (each below N): row r gets
 * `x_r + ((table0[p_r0] + table1[p_r1]) + …)`, with gradients for `x` and
 * the tables.
 */
export function addPositionRows(
  x: tf.Tensor2D,
  factors: PositionFactors,
  positions: Int32Array,
): tf.Tensor2D {
  const { tables, grid } = factors;
  const k = grid.length;
  const digits = positionDigits(positions, grid);
  const index = tf.tensor2d(digits, [positions.length, k], "int32"); // [R, K]
  try {
    if (x.dtype === "float32" && tf.getKernel(POSITION_ROWS_KERNEL, tf.getBackend())) {
      const inputs: Record<string, tf.Tensor> = { x, index };
      tables.forEach((t, c) => (inputs[`table${c}`] = t));
      const sizes = tables.map((t) => t.shape[0]!);
      return tf.engine().runKernel(POSITION_ROWS_KERNEL, inputs, { sizes }) as tf.Tensor2D;
    }
    return tf.tidy(() => {
      const column = (c: number) =>
        tf.reshape(tf.slice(index, [0, c], [-1, 1]), [-1]) as tf.Tensor1D;
      let sum = gatherRows(tables[0] as tf.Tensor2D, column(0));
      for (let c = 1; c < k; c++) {
        sum = tf.add(sum, gatherRows(tables[c] as tf.Tensor2D, column(c)));
      }
      return tf.add(x, sum) as tf.Tensor2D; // [R, d]
    });
  } finally {
    index.dispose();
  }
}
