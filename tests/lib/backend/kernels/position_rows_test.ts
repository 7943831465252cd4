/**
 * The position-rows kernels (`VattPositionRows`, `lib/backend/kernels/position_rows.ts`) as the
 * tokenizers run them for DropToken's kept tokens: a hand-computed case, the gathers and adds
 * they replace on cpu, an index out of range, and leaks.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { KERNEL_NAMES } from "../../../../lib/backend/kernels/names.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { addPositionRows } from "../../../../lib/model/_position_rows.ts";
import { Rng } from "../../../../lib/util/rng.ts";

/** `x` plus the rows, and the gradients of Σ w ⊙ out for x and each table, on the active backend. */
async function run(
  x: number[],
  tables: number[][],
  grid: number[],
  positions: number[],
  w: number[],
  d: number,
) {
  const xs = tf.tensor2d(x, [positions.length, d]);
  const ts = tables.map((t, k) => tf.tensor2d(t, [grid[k], d]));
  const weights = tf.tensor2d(w, [positions.length, d]);
  const p = Int32Array.from(positions);
  const f = (a: tf.Tensor, ...t: tf.Tensor[]) =>
    tf.sum(tf.mul(addPositionRows(a as tf.Tensor2D, { tables: t, grid }, p), weights));
  const out = addPositionRows(xs, { tables: ts, grid }, p);
  const grads = tf.grads(f)([xs, ...ts]);
  const result = {
    out: Array.from(await out.data()),
    grads: await Promise.all(grads.map(async (g) => Array.from(await g.data()))),
  };
  tf.dispose([xs, ...ts, weights, out, ...grads]);
  return result;
}

Deno.test("VattPositionRows adds each kept token's rows of the tables, and sums the gradient back into them", async () => {
  await initBackend("wasm");
  try {
    assert.ok(tf.getKernel(KERNEL_NAMES.positionRows, "wasm"), "the kernel is registered");
    // Grid [2, 3]: position 5 is (1, 2), 4 is (1, 1), 0 is (0, 0). d = 1.
    const t = [10, 20], v = [1, 2, 3];
    const got = await run([0.5, 0.25, 0], [t, v], [2, 3], [5, 4, 0], [1, 2, 4], 1);
    assert.deepEqual(got.out, [0.5 + 20 + 3, 0.25 + 20 + 2, 0 + 10 + 1]);
    assert.deepEqual(got.grads[0], [1, 2, 4]); // x: w
    assert.deepEqual(got.grads[1], [4, 1 + 2]); // t: row 0 from position 0, row 1 from 5 and 4
    assert.deepEqual(got.grads[2], [4, 2, 1]); // v: rows 0, 1, 2 from positions 0, 4, 5
    assert.throws(
      () =>
        addPositionRows(
          tf.zeros([1, 1]),
          { tables: [tf.zeros([2, 1])], grid: [2] },
          Int32Array.of(2),
        ),
      /position 2 \(row 0\) is outside \[0, 2\)/,
    );
    // The kernel checks its index itself.
    const [x, index, table0] = [
      tf.zeros([1, 1]),
      tf.tensor2d([[2]], [1, 1], "int32"),
      tf.zeros([2, 1]),
    ];
    assert.throws(
      () => tf.engine().runKernel(KERNEL_NAMES.positionRows, { x, index, table0 }, { sizes: [2] }),
      /index 2 \(row 0\) is outside \[0, 2\)/,
    );
    tf.dispose([x, index, table0]);
  } finally {
    await tf.setBackend("cpu");
  }
});

Deno.test("VattPositionRows on wasm equals the gathers and adds on cpu, leaving no tensors", async () => {
  const rng = new Rng(11);
  const d = 6, grid = [4, 3, 5], rows = 40;
  const draw = (k: number) => Array.from({ length: k }, () => 2 * rng.nextFloat() - 1);
  const tables = grid.map((n) => draw(n * d));
  const positions = Array.from({ length: rows }, () => Math.floor(rng.nextFloat() * 60));
  const x = draw(rows * d), w = draw(rows * d);
  await tf.setBackend("cpu");
  const chain = await run(x, tables, grid, positions, w, d);
  await initBackend("wasm");
  try {
    const before = tf.memory().numTensors;
    const fused = await run(x, tables, grid, positions, w, d);
    assert.equal(tf.memory().numTensors, before, "tensors left behind");
    assert.deepEqual(fused.out, chain.out); // the same additions in the same order
    assert.deepEqual(fused.grads[0], chain.grads[0]);
    fused.grads.slice(1).forEach((g, k) =>
      g.forEach((v, i) => assert.ok(Math.abs(v - chain.grads[1 + k][i]) < 1e-5, `table ${k}`))
    );
  } finally {
    await tf.setBackend("cpu");
  }
});
