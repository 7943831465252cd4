import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { l2Normalize } from "../../../lib/loss/l2_normalize.ts";
import { BACKENDS, useBackend } from "./_backends.ts";

for (const backend of BACKENDS) {
  Deno.test(`l2Normalize() gives unit rows, keeps zero rows zero and leaks nothing (${backend})`, async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const x = tf.tensor3d([[[3, 4], [0, 0]], [[-1, 0], [1e-30, 0]]]); // [2, 2, 2]
    const y = l2Normalize(x);
    assert.deepEqual(y.shape, [2, 2, 2]);
    const v = await y.data();
    for (const [i, want] of [[0, 0.6], [1, 0.8], [2, 0], [3, 0], [4, -1], [5, 0]] as const) {
      assert.ok(Math.abs(v[i] - want) < 1e-6, `value ${i}: ${v[i]}, want ${want}`);
    }
    // Below the epsilon the row is scaled by 1/sqrt(1e-12), not blown up to a unit vector.
    assert.ok(Math.abs(v[6] - 1e-24) < 1e-27, `tiny row: ${v[6]}`);
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, before);
  });
}
