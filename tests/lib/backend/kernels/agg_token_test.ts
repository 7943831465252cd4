/**
 * The aggregation token's kernels (`VattPrependToken`, `VattFirstToken`,
 * `lib/backend/kernels/agg_token.ts`) as the encoder runs them: values and gradients against
 * the chains of ops they replace on cpu, against hand-written cases, and for leaks.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { FUSED_KERNEL_SET } from "../../../../lib/backend/kernels/fused.ts";
import { KERNEL_NAMES } from "../../../../lib/backend/kernels/names.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { firstToken, prependToken } from "../../../../lib/model/_agg_token.ts";
import { Rng } from "../../../../lib/util/rng.ts";

/** `[B, 1 + N, d]` and the gradients of Σ w ⊙ out for x and the token, on the active backend. */
async function run(x: number[], token: number[], w: number[], [b, n, d]: number[]) {
  const xs = tf.tensor3d(x, [b, n, d]);
  const t = tf.tensor1d(token);
  const weights = tf.tensor3d(w, [b, 1 + n, d]);
  const f = (a: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(prependToken(a as tf.Tensor3D, c), weights));
  const out = prependToken(xs, t);
  const [dx, dt] = tf.grads(f)([xs, t]);
  const result = {
    out: Array.from(await out.data()),
    dx: Array.from(await dx.data()),
    dt: Array.from(await dt.data()),
  };
  tf.dispose([xs, t, weights, out, dx, dt]);
  return result;
}

Deno.test("VattPrependToken puts the token before each clip's tokens, and its gradient splits dy back", async () => {
  await initBackend("wasm");
  try {
    assert.ok(tf.getKernel(KERNEL_NAMES.prependToken, "wasm"), "the kernel is registered");
    // B 2, N 1, d 2: out = [[t, x0], [t, x1]]; dx = w's rows 1; dtoken = w[0,0] + w[1,0].
    const got = await run([1, 2, 3, 4], [9, 8], [1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2]);
    assert.deepEqual(got.out, [9, 8, 1, 2, 9, 8, 3, 4]);
    assert.deepEqual(got.dx, [3, 4, 7, 8]);
    assert.deepEqual(got.dt, [1 + 5, 2 + 6]);
  } finally {
    await tf.setBackend("cpu");
  }
});

Deno.test("VattPrependToken on wasm equals the broadcast-and-concat chain on cpu, leaving no tensors", async () => {
  const rng = new Rng(7);
  const shape = [5, 7, 12];
  const [b, n, d] = shape;
  const draw = (k: number) => Array.from({ length: k }, () => 2 * rng.nextFloat() - 1);
  const x = draw(b * n * d), token = draw(d), w = draw(b * (1 + n) * d);
  await tf.setBackend("cpu");
  const chain = await run(x, token, w, shape);
  await initBackend("wasm");
  try {
    const before = tf.memory().numTensors;
    const fused = await run(x, token, w, shape);
    assert.equal(tf.memory().numTensors, before, "tensors left behind");
    assert.deepEqual(fused.out, chain.out);
    assert.deepEqual(fused.dx, chain.dx);
    fused.dt.forEach((v, j) => assert.ok(Math.abs(v - chain.dt[j]) < 1e-6, `dtoken ${j}`));
    // Without the kernel the wasm backend runs the chain: the same values.
    FUSED_KERNEL_SET.unregister();
    assert.deepEqual((await run(x, token, w, shape)).out, chain.out);
  } finally {
    FUSED_KERNEL_SET.register();
    await tf.setBackend("cpu");
  }
});

/** Each clip's first token of `x` and the gradient of Σ w ⊙ out for x, on the active backend. */
async function runFirst(x: number[], w: number[], [b, l, d]: number[]) {
  const xs = tf.tensor3d(x, [b, l, d]);
  const weights = tf.tensor2d(w, [b, d]);
  const out = firstToken(xs);
  const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(firstToken(a as tf.Tensor3D), weights)))(xs);
  const result = { out: Array.from(await out.data()), dx: Array.from(await dx.data()) };
  tf.dispose([xs, weights, out, dx]);
  return result;
}

Deno.test("VattFirstToken takes each clip's row 0, and its gradient puts dy there, zeros elsewhere", async () => {
  const shape = [4, 6, 10];
  const [b, l, d] = shape;
  const rng = new Rng(3);
  const x = Array.from({ length: b * l * d }, () => rng.nextFloat());
  const w = Array.from({ length: b * d }, () => rng.nextFloat() - 0.5);
  await tf.setBackend("cpu");
  const chain = await runFirst(x, w, shape);
  await initBackend("wasm");
  try {
    assert.ok(tf.getKernel(KERNEL_NAMES.firstToken, "wasm"), "the kernel is registered");
    const hand = await runFirst([1, 2, 3, 4, 5, 6, 7, 8], [10, 20, 30, 40], [2, 2, 2]);
    assert.deepEqual(hand.out, [1, 2, 5, 6]);
    assert.deepEqual(hand.dx, [10, 20, 0, 0, 30, 40, 0, 0]);
    const before = tf.memory().numTensors;
    const fused = await runFirst(x, w, shape);
    assert.equal(tf.memory().numTensors, before, "tensors left behind");
    assert.deepEqual(fused, chain);
  } finally {
    await tf.setBackend("cpu");
  }
});
