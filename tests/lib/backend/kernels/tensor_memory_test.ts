import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../../lib/backend/select.ts";
import { markRewritten, ownValues } from "../../../../lib/backend/kernels/tensor_memory.ts";
import { BLAS_MIN_MACS } from "../../../../lib/backend/kernels/matmul.ts";

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`ownValues() on ${backend}: a tensor's own storage, written in place; none while shared`, async () => {
    await initBackend(backend);
    const t = tf.tensor2d([[1, 2], [3, 4]]);
    const own = ownValues(t)!;
    assert.deepEqual([...own], [1, 2, 3, 4]);
    own.set([5, 6], 2);
    assert.deepEqual(await t.array(), [[1, 2], [5, 6]]);
    const alias = tf.reshape(t, [4]); // shares t's data: writing would change both
    assert.equal(ownValues(t), undefined);
    assert.equal(ownValues(alias), undefined);
    alias.dispose();
    assert.deepEqual([...ownValues(t)!], [1, 2, 5, 6]);
    assert.equal(ownValues(tf.tensor1d([1, 2], "int32")), undefined);
    t.dispose();
    assert.equal(ownValues(t), undefined);
  });
}

Deno.test("markRewritten(): a small product after an in-place write multiplies by the new values (wasm's XNNPACK kept the old ones)", async () => {
  await initBackend("wasm");
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const w = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
  assert.ok(2 * 3 * 2 < BLAS_MIN_MACS); // tfjs's own kernel, not the native BLAS
  const product = async () => {
    const y = tf.matMul(x, w);
    const values = await y.array();
    y.dispose();
    return values;
  };
  assert.deepEqual(await product(), [[4, 5], [10, 11]]); // packs w
  ownValues(w)!.set([2, 0, 0, 2, 0, 0]);
  const stale = await product();
  markRewritten(w);
  assert.deepEqual(await product(), [[2, 4], [8, 10]]);
  // Without the call the packed copy was still used (what markRewritten is for).
  assert.deepEqual(stale, [[4, 5], [10, 11]]);
  assert.deepEqual(await w.array(), [[2, 0], [0, 2], [0, 0]]);
  tf.dispose([x, w]);
});
