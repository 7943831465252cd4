import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../../lib/backend/select.ts";
import { ownValues } from "../../../../lib/backend/kernels/tensor_memory.ts";

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
