import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import assert from "node:assert/strict";
import { clipByGlobalNorm } from "../../../lib/train/grad_clip.ts";

await tf.setBackend("cpu");

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

function assertAllClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((x, i) =>
    assert.ok(
      Math.abs(x - expected[i]) <= 1e-6 * Math.max(1, Math.abs(expected[i])),
      `${what}[${i}]: ${x} vs ${expected[i]}`,
    )
  );
}

Deno.test("clipByGlobalNorm() scales every gradient by maxNorm / global norm", async () => {
  const data = { a: [3, 4], b: [[12]], c: [0, 0, 0] };
  const grads = { a: tf.tensor1d(data.a), b: tf.tensor2d(data.b), c: tf.tensor1d(data.c) };
  const { grads: clipped, norm } = clipByGlobalNorm(grads, 6.5);
  // √(9 + 16 + 144) = 13, so the scale is 6.5 / 13 = 0.5.
  assert.deepEqual(await values(norm), [13]);
  assertAllClose(await values(clipped.a), [1.5, 2], "a");
  assertAllClose(await values(clipped.b), [6], "b");
  assertAllClose(await values(clipped.c), [0, 0, 0], "c");
  assert.deepEqual(clipped.b.shape, [1, 1]);
  // The inputs are untouched and still alive.
  assert.deepEqual(await values(grads.a), [3, 4]);
  tf.dispose([norm, ...Object.values(clipped), ...Object.values(grads)]);
});

Deno.test("clipByGlobalNorm() matches a float64 reference on random gradients", async () => {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2;
  const raw = { w: Array.from({ length: 12 }, next), b: Array.from({ length: 5 }, next) };
  const norm64 = Math.sqrt([...raw.w, ...raw.b].reduce((s, x) => s + x * x, 0));
  for (const maxNorm of [0.5, norm64 * 0.9, norm64 * 2]) {
    const grads = { w: tf.tensor2d(raw.w, [3, 4]), b: tf.tensor1d(raw.b) };
    const { grads: clipped, norm } = clipByGlobalNorm(grads, maxNorm);
    const scale = maxNorm / Math.max(norm64, maxNorm);
    assertAllClose(await values(norm), [norm64], "norm");
    assertAllClose(await values(clipped.w), raw.w.map((x) => x * scale), `w @${maxNorm}`);
    assertAllClose(await values(clipped.b), raw.b.map((x) => x * scale), `b @${maxNorm}`);
    tf.dispose([norm, ...Object.values(clipped), ...Object.values(grads)]);
  }
});

Deno.test("clipByGlobalNorm() returns gradients within the bound unchanged, as new tensors", async () => {
  const grads = { a: tf.tensor1d([0.1, -0.3, 0.7]), b: tf.scalar(1e-3) };
  const { grads: clipped, norm } = clipByGlobalNorm(grads, 3);
  assert.notEqual(clipped.a, grads.a);
  assert.deepEqual(await values(clipped.a), await values(grads.a));
  assert.deepEqual(await values(clipped.b), await values(grads.b));
  tf.dispose(Object.values(grads));
  assert.equal(clipped.a.isDisposed, false);
  tf.dispose([norm, ...Object.values(clipped)]);
});

Deno.test("clipByGlobalNorm() gives NaN gradients for an infinite or NaN norm (as TensorFlow)", async () => {
  for (const bad of [Infinity, NaN]) {
    const grads = { a: tf.tensor1d([1, bad]), b: tf.tensor1d([2, 3]) };
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    const n = (await values(norm))[0];
    assert.ok(bad === Infinity ? n === Infinity : Number.isNaN(n), `norm ${n}`);
    for (const x of [...await values(clipped.a), ...await values(clipped.b)]) {
      assert.ok(Number.isNaN(x), `expected NaN, got ${x}`);
    }
    tf.dispose([norm, ...Object.values(clipped), ...Object.values(grads)]);
  }
});

Deno.test("clipByGlobalNorm() of no gradients has norm 0", async () => {
  const { grads, norm } = clipByGlobalNorm({}, 1);
  assert.deepEqual(grads, {});
  assert.deepEqual(await values(norm), [0]);
  norm.dispose();
});

Deno.test("clipByGlobalNorm() rejects a bad maxNorm and leaks no tensors", () => {
  const grads = { a: tf.tensor1d([1, 2]), b: tf.tensor2d([[3]]) };
  for (const maxNorm of [0, -1, NaN, Infinity]) {
    assert.throws(() => clipByGlobalNorm(grads, maxNorm), new RegExp(`got ${maxNorm}`));
  }
  assert.throws(() => clipByGlobalNorm({ a: [1, 2] as unknown as tf.Tensor }, 1), TypeError);
  const before = tf.memory().numTensors;
  const result = clipByGlobalNorm(grads, 1);
  assert.equal(tf.memory().numTensors, before + 3); // two gradients and the norm
  tf.dispose([result.norm, ...Object.values(result.grads)]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(Object.values(grads));
});
