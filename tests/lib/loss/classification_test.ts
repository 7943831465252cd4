import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import assert from "node:assert/strict";
import {
  sigmoidCrossEntropy,
  smoothTargets,
  softmaxCrossEntropy,
} from "../../../lib/loss/classification.ts";

await tf.setBackend("cpu");

function close(a: number, b: number, tol = 1e-5) {
  assert.ok(Math.abs(a - b) <= tol, `${a} is not within ${tol} of ${b}`);
}

Deno.test("smoothTargets() puts 1 − ε + ε/C on the true class and ε/C elsewhere", () => {
  const t = smoothTargets(new Int32Array([2, 0]), { numClasses: 4, smoothing: 0.1 });
  assert.equal(t.length, 8);
  for (let i = 0; i < 2; i++) {
    const row = Array.from(t.subarray(i * 4, i * 4 + 4));
    close(row.reduce((a, b) => a + b, 0), 1);
  }
  close(t[2], 0.9 + 0.025);
  close(t[0 * 4 + 1], 0.025);
  close(t[4 + 0], 0.925);
});

Deno.test("smoothTargets() smooths multi-hot rows towards 1/2", () => {
  const t = smoothTargets(new Uint8Array([1, 0, 1]), { numClasses: 3, smoothing: 0.2 });
  close(t[0], 0.9);
  close(t[1], 0.1);
  close(t[2], 0.9);
});

Deno.test("smoothTargets() rejects a label outside the classes and a bad ε", () => {
  assert.throws(
    () => smoothTargets(new Int32Array([3]), { numClasses: 3, smoothing: 0 }),
    /label 3/,
  );
  assert.throws(() => smoothTargets(new Int32Array([-1]), { numClasses: 3, smoothing: 0 }), /-1/);
  assert.throws(
    () => smoothTargets(new Int32Array([0]), { numClasses: 3, smoothing: 1 }),
    /\[0, 1\)/,
  );
});

Deno.test("softmaxCrossEntropy() with label smoothing equals the hand-computed value", async () => {
  const z = [[2, 1, 0], [0.5, -1, 3]];
  const labels = [0, 2];
  const eps = 0.1;
  // By hand: −Σ_c t_c·(z_c − log Σ_k e^{z_k}), averaged over rows.
  let expected = 0;
  for (let i = 0; i < 2; i++) {
    const lse = Math.log(z[i].reduce((s, v) => s + Math.exp(v), 0));
    for (let c = 0; c < 3; c++) {
      const t = (c === labels[i] ? 1 - eps : 0) + eps / 3;
      expected -= t * (z[i][c] - lse);
    }
  }
  expected /= 2;
  const targets = smoothTargets(Int32Array.from(labels), { numClasses: 3, smoothing: eps });
  const before = tf.memory().numTensors;
  const logits = tf.tensor2d(z);
  const t = tf.tensor2d(targets, [2, 3]);
  const loss = softmaxCrossEntropy(logits, t);
  close((await loss.data())[0], expected);
  tf.dispose([logits, t, loss]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("softmaxCrossEntropy() has gradient (softmax − t)/B", async () => {
  const z = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
  const t = tf.tensor2d([[0, 0, 1], [0.5, 0.5, 0]]);
  const g = tf.grad((x: tf.Tensor) => softmaxCrossEntropy(x as tf.Tensor2D, t))(z);
  const got = await g.data();
  const zs = [[1, 2, 3], [0, 0, 0]];
  const ts = [[0, 0, 1], [0.5, 0.5, 0]];
  for (let i = 0; i < 2; i++) {
    const sum = zs[i].reduce((s, v) => s + Math.exp(v), 0);
    for (let c = 0; c < 3; c++) {
      close(got[i * 3 + c], (Math.exp(zs[i][c]) / sum - ts[i][c]) / 2);
    }
  }
  tf.dispose([z, t, g]);
});

Deno.test("sigmoidCrossEntropy() equals −[t·log σ(z) + (1−t)·log(1−σ(z))] and stays finite", async () => {
  const z = [1.5, -0.3, 0, 2];
  const t = [1, 0, 0.5, 0];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const expected = z.reduce(
    (s, v, i) => s - (t[i] * Math.log(sig(v)) + (1 - t[i]) * Math.log(1 - sig(v))),
    0,
  ) / 4;
  const logits = tf.tensor2d(z, [2, 2]);
  const targets = tf.tensor2d(t, [2, 2]);
  const loss = sigmoidCrossEntropy(logits, targets);
  close((await loss.data())[0], expected);
  const big = tf.tensor2d([[80, -80]]);
  const right = tf.tensor2d([[1, 0]]);
  const tiny = sigmoidCrossEntropy(big, right);
  const value = (await tiny.data())[0];
  assert.ok(Number.isFinite(value) && value < 1e-6, `got ${value}`);
  tf.dispose([logits, targets, loss, big, right, tiny]);
});

Deno.test("the losses reject logits and targets of different shapes", () => {
  const a = tf.zeros([2, 3]) as tf.Tensor2D;
  const b = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => softmaxCrossEntropy(a, b), RangeError);
  assert.throws(() => sigmoidCrossEntropy(a, b), RangeError);
  tf.dispose([a, b]);
});
