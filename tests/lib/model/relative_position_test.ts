import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { shawIndices, t5Bucket, t5Indices } from "../../../lib/model/relative_position.ts";
import { attention } from "../../../lib/model/transformer.ts";
import type { Weights } from "../../../lib/model/weights.ts";

const X = [[1, 0], [0, 1], [1, 1]];
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]);
const softmax = (row: number[]) => {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

function identityAttention(extra: Record<string, number[][]>): Weights {
  const w: Weights = {};
  for (const m of ["q", "k", "v", "o"]) {
    w[`a/${m}/kernel`] = tf.variable(tf.eye(2));
    w[`a/${m}/bias`] = tf.variable(tf.zeros([2]));
  }
  for (const [name, value] of Object.entries(extra)) {
    w[`a/${name}`] = tf.variable(tf.tensor2d(value));
  }
  return w;
}

Deno.test("t5Bucket() follows T5's bidirectional log buckets", () => {
  const o = { buckets: 32, maxDistance: 64 };
  // exact buckets below 8 in each direction, then log-spaced up to 64
  assert.deepEqual([0, 1, 2, 7].map((d) => t5Bucket(d, o)), [0, 17, 18, 23]);
  assert.deepEqual([-1, -2, -7].map((d) => t5Bucket(d, o)), [1, 2, 7]);
  assert.equal(t5Bucket(8, o), 24); // 16 + 8 + floor(log(1)/log(8)·8)
  assert.equal(t5Bucket(16, o), 16 + 8 + Math.floor((Math.log(2) / Math.log(8)) * 8));
  assert.equal(t5Bucket(63, o), 31);
  assert.equal(t5Bucket(-500, o), 15);
  assert.deepEqual(Array.from(t5Indices(2, o)), [0, 17, 1, 0]);
  assert.deepEqual(Array.from(shawIndices(3, 1)), [1, 2, 2, 0, 1, 2, 0, 0, 1]);
});

Deno.test("attention() with Shaw relative positions matches a hand computation", async () => {
  const relKey = [[0.5, -0.5], [0, 0], [-1, 2]]; // distances -1, 0, +1
  const relValue = [[1, 1], [0, 0], [2, -1]];
  const w = identityAttention({ rel_key: relKey, rel_value: relValue });
  const got = await attention(tf.tensor3d([X]), w, "a", {
    heads: 1,
    relative: { relativePosition: "shaw", clipDistance: 1, buckets: 32, maxDistance: 64 },
  }).array();
  for (let i = 0; i < 3; i++) {
    const idx = (j: number) => Math.max(-1, Math.min(1, j - i)) + 1;
    const e = X.map((xj, j) => dot(X[i], add(xj, relKey[idx(j)])) / Math.SQRT2);
    const alpha = softmax(e);
    const z = X.reduce(
      (acc, xj, j) => add(acc, add(xj, relValue[idx(j)]).map((v) => v * alpha[j])),
      [0, 0],
    );
    z.forEach((v, c) =>
      assert.ok(Math.abs(got[0][i][c] - v) < 1e-5, `z[${i}][${c}] ${got[0][i][c]} vs ${v}`)
    );
  }
  tf.dispose(Object.values(w));
});

Deno.test("attention() with the T5 bias matches a hand computation", async () => {
  const bias = Array.from({ length: 32 }, (_, n) => [n * 0.1]);
  const w = identityAttention({ rel_bias: bias });
  const got = await attention(tf.tensor3d([X]), w, "a", {
    heads: 1,
    relative: { relativePosition: "t5", clipDistance: 1, buckets: 32, maxDistance: 64 },
  }).array();
  const bucketOf = (d: number) => (d === 0 ? 0 : d > 0 ? 16 + d : -d); // small distances
  for (let i = 0; i < 3; i++) {
    const e = X.map((xj, j) => dot(X[i], xj) / Math.SQRT2 + bias[bucketOf(j - i)][0]);
    const alpha = softmax(e);
    const z = X.reduce((acc, xj, j) => add(acc, xj.map((v) => v * alpha[j])), [0, 0]);
    z.forEach((v, c) =>
      assert.ok(Math.abs(got[0][i][c] - v) < 1e-5, `z[${i}][${c}] ${got[0][i][c]} vs ${v}`)
    );
  }
  tf.dispose(Object.values(w));
});

Deno.test("attention() ignores masked keys", async () => {
  const w = identityAttention({});
  const maskBias = tf.reshape(tf.tensor1d([0, 0, -1e9]), [1, 1, 1, 3]);
  const got = await attention(tf.tensor3d([X]), w, "a", { heads: 1, maskBias }).array();
  const e = X.slice(0, 2).map((xj) => dot(X[0], xj) / Math.SQRT2);
  const alpha = softmax(e);
  const z = [0, 1].map((c) => alpha[0] * X[0][c] + alpha[1] * X[1][c]);
  z.forEach((v, c) => assert.ok(Math.abs(got[0][0][c] - v) < 1e-5));
  tf.dispose(Object.values(w));
});
