import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../lib/backend/select.ts";
import { foldMovingAverage } from "../../../lib/model/_moving_average.ts";
import { Rng } from "../../../lib/util/rng.ts";

await initBackend("wasm");

/** Values over many magnitudes, with zeros, subnormals and both signs. */
function awkward(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = Float32Array.from({ length: n }, () => rng.normal() * 10 ** (rng.nextInt(12) - 6));
  v.set([0, -0, 1e-40, -3e-39, 1e30, -7.5], 0);
  return v;
}

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

Deno.test("foldMovingAverage() writes m·moving + (1 − m)·batch in place, the engine's bits exactly", () => {
  for (const m of [0.9, 0.99, 0.997, 1 / 3]) {
    const start = awkward(1001, 1), batch = tf.tensor1d(awkward(1001, 2));
    const init = tf.tensor1d(start);
    const moving = tf.variable(init); // as the model's weights: the variable alone holds its data
    init.dispose();
    const want = tf.tidy(() => tf.add(tf.mul(tf.tensor1d(start), m), tf.mul(batch, 1 - m)));
    const storage = moving.dataId;
    foldMovingAverage(moving, batch, m);
    assert.equal(moving.dataId, storage, "written in place (an assign would give new storage)");
    assert.deepEqual(bits(moving), bits(want), `momentum ${m}`);
    tf.dispose([batch, moving, want]);
  }
});

Deno.test("foldMovingAverage() goes through the engine where the variable's storage is shared", () => {
  const init = tf.tensor1d([1, 2, 3]);
  const moving = tf.variable(init);
  init.dispose();
  const alias = tf.reshape(moving, [3, 1]); // shares the variable's data: no writing in place
  const batch = tf.tensor1d([3, 2, 1]);
  foldMovingAverage(moving, batch, 0.5);
  assert.deepEqual(Array.from(moving.dataSync()), [2, 2, 2]);
  assert.deepEqual(Array.from(alias.dataSync()), [1, 2, 3], "the alias keeps the old values");
  tf.dispose([moving, alias, batch]);
});

Deno.test("foldMovingAverage() leaves alone the values a caller read before, on cpu (whose reads are its own arrays)", async () => {
  await tf.setBackend("cpu");
  try {
    const init = tf.tensor1d([1, 2]);
    const moving = tf.variable(init);
    init.dispose();
    const read = await moving.data();
    const batch = tf.tensor1d([3, 4]);
    foldMovingAverage(moving, batch, 0.5);
    assert.deepEqual(Array.from(read), [1, 2]);
    assert.deepEqual(Array.from(moving.dataSync()), [2, 3]);
    tf.dispose([moving, batch]);
  } finally {
    await tf.setBackend("wasm");
  }
});
