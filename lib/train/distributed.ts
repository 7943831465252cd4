/**
 * Data parallelism over the collectives of `lib/dist/`: each rank trains on
 * its rows of the global batch one process would draw, and the pieces that
 * make R ranks equal one process live here: the rank's rows, a differentiable
 * all-gather (the losses see the global batch as negatives), a differentiable
 * sum over ranks (synchronized BatchNorm), the sum of the gradients (in
 * place, in buckets), and a digest of the weights and optimiser state every rank
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
import { markRewritten, ownValues } from "../backend/kernels/tensor_memory.ts";
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
 * Values per allreduce call: gradients are summed in pieces of at most this
 * many (4 MiB), small ones packed together. On shared memory (2 ranks, Open
 * MPI's defaults) pieces of 1–4 MiB summed 57 M values in about half the time
 * of one 228 MB call, which runs through memory rather than the caches.
 */
export const GRADIENT_BUCKET_VALUES = 1 << 20;

/** A gradient under this many values is packed with its neighbours into one call. */
const PACK_BELOW = 1 << 16;

/**
 * The gradients summed over the ranks, in place where a gradient's storage is
 * its own (no copy: MPI reads and writes the backend's memory, the wasm heap
 * or the cpu backend's arrays), else into a new tensor. Names in sorted order
 * on every rank; a gradient of at least 64 Ki values is summed alone in
 * pieces of {@linkcode GRADIENT_BUCKET_VALUES}, smaller ones are packed into
 * shared buckets: the calls depend on the sizes alone, so every rank makes the
 * same ones. With one rank the inputs come back untouched.
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
  const out: Record<string, tf.Tensor> = {};
  let pack: string[] = [];
  let packed = 0;
  const flush = () => {
    if (pack.length > 0) sumPacked(c, grads, pack, out);
    [pack, packed] = [[], 0];
  };
  for (const name of Object.keys(grads).sort()) {
    const n = grads[name].size;
    if (n >= PACK_BELOW) {
      flush();
      out[name] = sumAlone(c, grads[name]);
      continue;
    }
    if (packed + n > GRADIENT_BUCKET_VALUES) flush();
    pack.push(name);
    packed += n;
  }
  flush();
  return out;
}

/** `g` summed over the ranks in pieces: in place when its storage is its own, else a new tensor. */
function sumAlone(c: Collectives, g: tf.Tensor): tf.Tensor {
  const own = ownValues(g) !== undefined;
  const values = own ? undefined : Float32Array.from(g.dataSync());
  for (let at = 0; at < g.size; at += GRADIENT_BUCKET_VALUES) {
    // Asked again for each piece: nothing allocates in between, the heap stays put.
    const all = values ?? ownValues(g)!;
    const piece = all.subarray(at, Math.min(at + GRADIENT_BUCKET_VALUES, g.size));
    c.allreduceSum(piece, piece);
  }
  if (!values) markRewritten(g);
  return values ? tf.tensor(values, g.shape, "float32") : g;
}

let staging: Float32Array | undefined;

/** The gradients `names` summed over the ranks through one packed buffer, into `out`. */
function sumPacked(
  c: Collectives,
  grads: Record<string, tf.Tensor>,
  names: string[],
  out: Record<string, tf.Tensor>,
): void {
  const total = names.reduce((n, k) => n + grads[k].size, 0);
  if ((staging?.length ?? 0) < total) staging = new Float32Array(GRADIENT_BUCKET_VALUES);
  const buffer = staging!.subarray(0, total);
  let at = 0;
  for (const k of names) {
    buffer.set(ownValues(grads[k]) ?? grads[k].dataSync(), at);
    at += grads[k].size;
  }
  if (total > 0) c.allreduceSum(buffer, buffer); // sizes alone decide: the same on every rank
  at = 0;
  for (const k of names) {
    const g = grads[k];
    const sum = buffer.subarray(at, at + g.size);
    const own = ownValues(g);
    if (own) {
      own.set(sum);
      markRewritten(g);
    }
    // A copy: the tensor must not alias the buffer reused next step.
    out[k] = own ? g : tf.tensor(sum.slice(), g.shape, "float32");
    at += g.size;
  }
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
