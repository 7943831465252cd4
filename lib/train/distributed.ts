/**
 * Data parallelism over the collectives of `lib/dist/`: each rank trains on
 * its rows of the global batch one process would draw, and the pieces that
 * make R ranks equal one process live here: the rank's rows, a differentiable
 * all-gather (the losses see the global batch as negatives), a differentiable
 * sum over ranks (synchronized BatchNorm), the sum of the gradients in one
 * flat buffer, and a digest of the weights and optimiser state every rank
 * must share.
 *
 * Every rank computes the same global loss from the gathered embeddings, but
 * autodiff on a rank reaches only its own rows: the gather's gradient is the
 * rank's slice of the incoming gradient (not summed across ranks), and the
 * parameter gradients summed over ranks are then exactly the global loss's.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { createHash } from "node:crypto";
import { checkSameOnAllRanks } from "../dist/agree.ts";
import type { Collectives } from "../dist/mpi.ts";
import type { BatchShard } from "../model/batch_shard.ts";
import type { Optimizer } from "./optimizer.ts";

/**
 * Rank `c.rank`'s rows of the global batch `rows`: a contiguous `1/size`
 * share, in rank order. The batch must split evenly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rankRows } from "./distributed.ts";
 * assert.deepEqual(rankRows([9, 4, 7, 1], { rank: 1, size: 2 }), { rows: [7, 1], start: 2 });
 * assert.throws(() => rankRows([1, 2, 3], { rank: 0, size: 2 }), /3 clips over 2 ranks/);
 * ```
 */
export function rankRows(
  rows: number[],
  c: Pick<Collectives, "rank" | "size">,
): { rows: number[]; start: number } {
  if (rows.length % c.size !== 0) {
    throw new RangeError(
      `Cannot split a batch of ${rows.length} clips over ${c.size} ranks evenly; ` +
        `give --batch a multiple of ${c.size}`,
    );
  }
  const per = rows.length / c.size;
  const start = c.rank * per;
  return { rows: rows.slice(start, start + per), start };
}

/** Typed `tf.customGrad` of one input. */
function customOp(
  forward: (x: tf.Tensor) => tf.Tensor,
  backward: (dy: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(
    ((x: tf.Tensor) => ({
      value: forward(x),
      gradFunc: (dy: tf.Tensor) => backward(dy),
    })) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return (x) => op(x) as tf.Tensor;
}

/**
 * The sum of `x` over the ranks (every rank gets it); its gradient is the sum
 * of the ranks' incoming gradients. Reads `x` back synchronously (cpu, wasm).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { SOLO } from "../dist/mpi.ts";
 * import { crossReplicaSum } from "./distributed.ts";
 * assert.deepEqual(await crossReplicaSum(SOLO, tf.tensor1d([1, 2])).array(), [1, 2]);
 * ```
 */
export function crossReplicaSum(c: Collectives, x: tf.Tensor): tf.Tensor {
  const sum = (t: tf.Tensor) =>
    tf.tensor(c.allreduceSum(t.dataSync() as Float32Array), t.shape, "float32");
  return customOp(sum, sum)(x);
}

/**
 * Every rank's `x` (the same shape on all) concatenated on the first axis in
 * rank order; its gradient is this rank's rows of the incoming gradient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { SOLO } from "../dist/mpi.ts";
 * import "../backend/gradients.ts";
 * import { gatherBatch } from "./distributed.ts";
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(gatherBatch(SOLO, x))));
 * assert.deepEqual(await g(tf.tensor1d([1, 3])).array(), [2, 6]);
 * ```
 */
export function gatherBatch(c: Collectives, x: tf.Tensor): tf.Tensor {
  const [rows, ...rest] = x.shape;
  const gather = (t: tf.Tensor) =>
    tf.tensor(c.allgather(t.dataSync() as Float32Array), [rows * c.size, ...rest], "float32");
  const own = (dy: tf.Tensor) =>
    tf.slice(dy, [c.rank * rows, ...rest.map(() => 0)], [rows, ...rest]);
  return customOp(gather, own)(x);
}

/**
 * Several `[rows, ...]` tensors gathered in one collective (fewer waits for the
 * slowest rank): flattened after the first axis, concatenated, gathered with
 * {@linkcode gatherBatch}, then split and shaped back to `[rows · size, ...]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { SOLO } from "../dist/mpi.ts";
 * import { gatherBatches } from "./distributed.ts";
 * const [a, b] = gatherBatches(SOLO, [tf.ones([2, 3]), tf.zeros([2, 2, 2])]);
 * assert.deepEqual([a.shape, b.shape], [[2, 3], [2, 2, 2]]);
 * ```
 */
export function gatherBatches(c: Collectives, parts: tf.Tensor[]): tf.Tensor[] {
  const rows = parts[0].shape[0];
  const widths = parts.map((p) => p.size / rows);
  const flat = tf.concat(parts.map((p) => tf.reshape(p, [rows, -1])), 1); // [rows, Σ widths]
  const all = gatherBatch(c, flat); // [rows · size, Σ widths]
  return tf.split(all, widths, 1).map((t, i) =>
    tf.reshape(t, [rows * c.size, ...parts[i].shape.slice(1)])
  );
}

/**
 * Every rank's bytes of several arrays of one rank (same lengths on all
 * ranks), in one collective: `out[k]` is array `k` of rank 0, then rank 1, ….
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SOLO } from "../dist/mpi.ts";
 * import { gatherArrays } from "./distributed.ts";
 * const [a, b] = gatherArrays(SOLO, [Uint8Array.of(1, 0), Uint8Array.of(1, 1, 0, 1)]);
 * assert.deepEqual([...a, ...b], [1, 0, 1, 1, 0, 1]);
 * ```
 */
export function gatherArrays(c: Collectives, arrays: Uint8Array[]): Uint8Array[] {
  const per = arrays.reduce((n, a) => n + a.length, 0);
  const mine = new Uint8Array(per);
  let at = 0;
  for (const a of arrays) {
    mine.set(a, at);
    at += a.length;
  }
  const all = c.allgather(mine); // [size · per]
  return arrays.map((a, k) => {
    const offset = arrays.slice(0, k).reduce((n, b) => n + b.length, 0);
    const out = new Uint8Array(a.length * c.size);
    for (let r = 0; r < c.size; r++) {
      out.set(all.subarray(r * per + offset, r * per + offset + a.length), r * a.length);
    }
    return out;
  });
}

/**
 * The {@linkcode BatchShard} of a rank holding `count` rows from `start` of a
 * global batch of `count · c.size` rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SOLO } from "../dist/mpi.ts";
 * import { batchShard } from "./distributed.ts";
 * assert.equal(batchShard(SOLO, { start: 0, count: 4 }).total, 4);
 * ```
 */
export function batchShard(c: Collectives, rows: { start: number; count: number }): BatchShard {
  return {
    start: rows.start,
    count: rows.count,
    total: rows.count * c.size,
    sum: (x) => crossReplicaSum(c, x),
  };
}

/**
 * The gradients summed over the ranks through one allreduce over a flat
 * float32 buffer (names in sorted order on every rank); new tensors, the
 * inputs stay the caller's. With one rank the inputs come back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { SOLO } from "../dist/mpi.ts";
 * import { sumGradients } from "./distributed.ts";
 * const g = { a: tf.tensor1d([1, 2]) };
 * assert.equal(sumGradients(SOLO, g).a, g.a);
 * ```
 */
export function sumGradients(
  c: Collectives,
  grads: Record<string, tf.Tensor>,
): Record<string, tf.Tensor> {
  if (c.size === 1) return grads;
  const names = Object.keys(grads).sort();
  const { flat, summed } = exchangeBuffers(names.reduce((n, k) => n + grads[k].size, 0));
  let at = 0;
  for (const k of names) {
    flat.set(grads[k].dataSync() as Float32Array, at);
    at += grads[k].size;
  }
  const total = c.allreduceSum(flat, summed);
  const out: Record<string, tf.Tensor> = {};
  at = 0;
  for (const k of names) {
    // A copy: the tensors must not alias the buffers reused next step.
    out[k] = tf.tensor(total.slice(at, at + grads[k].size), grads[k].shape, "float32");
    at += grads[k].size;
  }
  return out;
}

let buffers: { flat: Float32Array; summed: Float32Array } | undefined;

/** The send and receive buffers of the gradient allreduce, kept from step to step. */
function exchangeBuffers(n: number): { flat: Float32Array; summed: Float32Array } {
  if (buffers?.flat.length !== n) {
    buffers = { flat: new Float32Array(n), summed: new Float32Array(n) };
  }
  return buffers;
}

/**
 * A SHA-256 of named tensors' values (names sorted), for checking that every
 * rank holds the same weights and optimiser state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { tensorsDigest } from "./distributed.ts";
 * const a = await tensorsDigest({ w: tf.tensor1d([1, 2]) });
 * assert.equal(a, await tensorsDigest({ w: tf.tensor1d([1, 2]) }));
 * assert.notEqual(a, await tensorsDigest({ w: tf.tensor1d([1, 3]) }));
 * ```
 */
export async function tensorsDigest(tensors: Record<string, tf.Tensor>): Promise<string> {
  const hash = createHash("sha256");
  for (const name of Object.keys(tensors).sort()) {
    const values = await tensors[name].data();
    hash.update(name);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest("hex");
}

/**
 * Throws a `RankMismatchError` on every rank when the ranks' weights and
 * optimiser state at `step` differ (they must stay identical: same summed
 * gradients, same update).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { SOLO } from "../dist/mpi.ts";
 * import { Adam } from "./optimizer.ts";
 * import { checkSameState } from "./distributed.ts";
 * const w = tf.variable(tf.tensor1d([1, 2]), true, "w");
 * const optimizer = new Adam({ w });
 * await assert.doesNotReject(checkSameState(SOLO, { checkpoint: () => ({ weights: { w } }), optimizer }, 3));
 * optimizer.dispose();
 * ```
 */
export async function checkSameState(
  c: Collectives,
  task: { checkpoint: () => { weights: Record<string, tf.Tensor> }; optimizer: Optimizer },
  step: number,
): Promise<void> {
  const state = task.optimizer.stateTensors();
  try {
    const digest = await tensorsDigest({ ...task.checkpoint().weights, ...prefixed(state) });
    checkSameOnAllRanks(c, digest, `the weights and optimiser state at step ${step}`);
  } finally {
    tf.dispose(Object.values(state));
  }
}

/** `tensors` under names prefixed `optimizer/`. */
function prefixed(tensors: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(tensors).map(([k, v]) => [`optimizer/${k}`, v]));
}
