import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import type { Collectives, MpiArray } from "../../../lib/dist/mpi.ts";
import {
  crossReplicaSum,
  gatherArrays,
  gatherBatch,
  gatherBatches,
  GRADIENT_BUCKET_VALUES,
  rankRows,
  sumGradients,
} from "../../../lib/train/distributed.ts";

await tf.setBackend("cpu");

/**
 * Rank `rank` of 2, whose partner's side of each collective is scripted:
 * `other()` gives the partner's array for the call (same length as ours).
 */
function pairedWith(rank: number, other: (mine: MpiArray) => MpiArray): Collectives {
  const both = <T extends MpiArray>(x: T): T[] =>
    rank === 0 ? [x, other(x) as T] : [other(x) as T, x];
  return {
    rank,
    size: 2,
    allreduceSum: (x, out) => {
      const [a, b] = both(x);
      const sum = a.map((v, i) => v + b[i]) as typeof x;
      out?.set(sum);
      return out ?? sum;
    },
    allgather: (x) => {
      const [a, b] = both(x);
      const out = new (x.constructor as { new (n: number): typeof x })(x.length * 2);
      out.set(a);
      out.set(b, x.length);
      return out;
    },
    broadcast: (x) => x,
    barrier: () => {},
  };
}

Deno.test("rankRows() gives each rank its contiguous share of the global batch", () => {
  const rows = [5, 9, 2, 7, 1, 3];
  assert.deepEqual(rankRows(rows, { rank: 0, size: 3 }), { rows: [5, 9], start: 0 });
  assert.deepEqual(rankRows(rows, { rank: 2, size: 3 }), { rows: [1, 3], start: 4 });
  assert.throws(() => rankRows(rows, { rank: 0, size: 4 }), /multiple of 4/);
});

Deno.test("gatherBatch(): rank order forward; the gradient is the own rows of the incoming one", async () => {
  // Rank 1 of 2; rank 0 holds [[10, 20]]. Loss Σ w ⊙ gathered with w = [[1, 2], [3, 4]]:
  // d loss / d own rows = w's second row.
  const c = pairedWith(1, () => Float32Array.of(10, 20));
  const w = tf.tensor2d([[1, 2], [3, 4]]);
  const x = tf.tensor2d([[5, 6]]);
  assert.deepEqual(await gatherBatch(c, x).array(), [[10, 20], [5, 6]]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(w, gatherBatch(c, t))))(x);
  assert.deepEqual(await g.array(), [[3, 4]]);
});

Deno.test("gatherBatches() gathers several shapes at once, each in rank order", async () => {
  const c = pairedWith(0, (mine) => (mine as Float32Array).map((v) => v + 100));
  const [a, b] = gatherBatches(c, [tf.tensor2d([[1, 2]]), tf.tensor3d([[[3], [4]]])]);
  assert.deepEqual(await a.array(), [[1, 2], [101, 102]]);
  assert.deepEqual(await b.array(), [[[3], [4]], [[103], [104]]]);
});

Deno.test("crossReplicaSum(): the sum forward; backward, the sum of the ranks' gradients", async () => {
  // The partner adds 1 to every value: forward x + (x + 1); backward dy + (dy + 1).
  const c = pairedWith(0, (mine) => (mine as Float32Array).map((v) => v + 1));
  assert.deepEqual(await crossReplicaSum(c, tf.tensor1d([2, 3])).array(), [5, 7]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tensor1d([1, 2]), crossReplicaSum(c, t))));
  // dy = [1, 2] here, the partner's [2, 3]: [3, 5].
  assert.deepEqual(await g(tf.tensor1d([2, 3])).array(), [3, 5]);
});

Deno.test("sumGradients() packs small gradients into one call, names sorted, and sums them in place", async () => {
  const seen: number[][] = [];
  const c = pairedWith(0, (mine) => {
    seen.push([...mine]);
    return (mine as Float32Array).map((v) => 10 * v);
  });
  const grads = { b: tf.tensor1d([1]), a: tf.tensor2d([[2, 3]]) };
  const out = sumGradients(c, grads);
  assert.deepEqual(seen, [[2, 3, 1]]); // one call: a's values, then b's
  assert.deepEqual(await out.a.array(), [[22, 33]]);
  assert.deepEqual(await out.b.array(), [11]);
  assert.equal(out.a, grads.a); // their storage was their own: summed where they lie
});

Deno.test("sumGradients() sums a large gradient alone, in place, in pieces of GRADIENT_BUCKET_VALUES", async () => {
  const lengths: number[] = [];
  const c = pairedWith(1, (mine) => {
    lengths.push(mine.length);
    return (mine as Float32Array).map(() => 1);
  });
  const n = GRADIENT_BUCKET_VALUES + 3;
  const big = tf.fill([n], 2);
  const out = sumGradients(c, { big, small: tf.tensor1d([4]) });
  assert.deepEqual(lengths, [GRADIENT_BUCKET_VALUES, 3, 1]); // big's two pieces, then small
  assert.equal(out.big, big);
  const values = await big.data();
  assert.deepEqual([values[0], values[n - 1], values.length], [3, 3, n]); // 2 + 1 throughout
  assert.deepEqual(await out.small.array(), [5]);
});

Deno.test("sumGradients() gives a gradient whose data another tensor shares a new tensor, the other untouched", async () => {
  const c = pairedWith(0, (mine) => (mine as Float32Array).map((v) => 10 * v));
  const small = tf.tensor1d([1, 2]);
  const big = tf.fill([1 << 16], 1);
  const [smallAlias, bigAlias] = [tf.reshape(small, [2, 1]), tf.reshape(big, [1, -1])];
  const out = sumGradients(c, { small, big });
  assert.notEqual(out.small, small);
  assert.notEqual(out.big, big);
  assert.deepEqual(await out.small.array(), [11, 22]);
  assert.equal((await out.big.data())[7], 11);
  assert.deepEqual(await smallAlias.array(), [[1], [2]]);
  assert.equal((await bigAlias.data())[7], 1);
});

Deno.test("sumGradients() makes the same calls whatever a rank's sharing: they follow the sizes", () => {
  const lengths = (alias: boolean) => {
    const seen: number[] = [];
    const c = pairedWith(0, (mine) => {
      seen.push(mine.length);
      return mine;
    });
    // 18 gradients of 60 000 values: 17 fill a bucket of 2^20, the 18th starts the next.
    const grads: Record<string, tf.Tensor> = {};
    for (let i = 0; i < 18; i++) grads[`w${String(i).padStart(2, "0")}`] = tf.zeros([60_000]);
    grads.big = tf.zeros([1 << 16]);
    const aliases = alias ? Object.values(grads).map((g) => tf.reshape(g, [-1, 1])) : [];
    sumGradients(c, grads);
    tf.dispose([...Object.values(grads), ...aliases]);
    return seen;
  };
  assert.deepEqual(lengths(false), [1 << 16, 17 * 60_000, 60_000]); // "big" sorts first
  assert.deepEqual(lengths(true), lengths(false));
});

Deno.test("gatherArrays() gathers several arrays in one call and returns each in rank order", () => {
  const c = pairedWith(1, () => Uint8Array.of(7, 8, 9));
  const [audio, text] = gatherArrays(c, [Uint8Array.of(1), Uint8Array.of(2, 3)]);
  assert.deepEqual([...audio], [7, 1]);
  assert.deepEqual([...text], [8, 9, 2, 3]);
});
