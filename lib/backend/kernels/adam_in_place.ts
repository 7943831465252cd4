/**
 * Adam(W) written into the weight's and its moments' own buffers: the
 * `VattAdam` kernel's arithmetic (`fused.ts`, bit-identical to the chain of
 * ops) without its three new outputs, their assignment and the kernel call.
 *
 * On the `small` benchmark step the update is memory-bound (60 M weights, a
 * pass reads 16 and writes 12 bytes a weight); writing where the values lie
 * spares the allocator three buffers a weight and the writes to fresh memory,
 * and calling the kernel directly spares tfjs's per-kernel bookkeeping (one
 * call per weight: 128 on `tiny`). Measured (the optimiser's share of a
 * step): `small` 73–79 → 52 ms, `tiny` 1.8 → 1.2 ms; then, with the buffers'
 * offsets taken without making views and each weight's moments looked up once
 * (`_named_optimizer.ts`), `tiny` 1.02–1.12 → 0.70–0.84 ms (three runs each).
 *
 * In place is only safe where no other tensor sees the buffers: tfjs shares a
 * buffer between a tensor and its clones (`tf.clone`, the optimiser's
 * `stateTensors()` snapshots, `Variable.assign`'s argument), which rely on the
 * variable getting new data at the next assign. The backend counts the
 * tensors on each buffer; with any count above one (or the gradient on one of
 * them) the update is left to the kernel. tfjs-backend-wasm's small products
 * (XNNPACK) keep packed copies of a right-hand matrix under its buffer's id,
 * which an in-place write would leave stale: the rewritten buffers are
 * registered again (`markRewritten` of `tensor_memory.ts`), which drops them.
 * A 2-rank fine-tune whose classifier multiplied 4 rows by the weights (below
 * the native BLAS's size) had drifted from one process by its second step.
 *
 * @module
 */
import {
  backend as activeBackend,
  getBackend,
  getKernel,
  type Tensor,
} from "@tensorflow/tfjs-core";
import { nativeKernels } from "../native/native.ts";
import { simdKernelsOf } from "../simd/simd.ts";
import { heapF32, heapOffset, type WasmBackendLike } from "./_wasm_heap.ts";
import { type AdamAttrs, adamConstants, adamScalars, adamUpdate } from "./fused.ts";
import { ADAM_KERNEL } from "./names.ts";
import { markRewritten, ownHeapOffset } from "./tensor_memory.ts";

/** Whether the backend is wasm with the Adam kernel registered (in-place updates are for it). */
function wasmAdam(): boolean {
  return getBackend() === "wasm" && getKernel(ADAM_KERNEL, "wasm") !== undefined;
}

/**
 * Where `t` may be updated in place on the wasm backend (each of the weight's
 * and moments' buffers its tensor's alone, the gradient's another, every
 * tensor float32 and alive, one size): writes the heap offsets of its weight,
 * moments and gradient into `out` from `from` on and returns true.
 */
function inPlaceOffsets(
  backend: WasmBackendLike,
  t: AdamTensors,
  out: Uint32Array,
  from: number,
): boolean {
  const { weight, m, v, grad } = t;
  const n = weight.size;
  if (m.size !== n || v.size !== n || grad.size !== n) return false;
  if (grad.dtype !== "float32" || grad.isDisposed) return false;
  const ids = [weight.dataId, m.dataId, v.dataId, grad.dataId];
  for (let i = 1; i < 4; i++) {
    for (let j = 0; j < i; j++) if (ids[i] === ids[j]) return false;
  }
  // Offsets, not views (128 weights a step on tiny), of buffers no other tensor shares.
  const w = ownHeapOffset(weight), mo = ownHeapOffset(m), vo = ownHeapOffset(v);
  if (w === undefined || mo === undefined || vo === undefined) return false;
  out[from] = w;
  out[from + 1] = mo;
  out[from + 2] = vo;
  out[from + 3] = heapOffset(backend, grad);
  return true;
}

/** Views of the weight's and moments' buffers where {@linkcode inPlaceOffsets} allows, else null. */
function inPlaceViews(t: AdamTensors): [Float32Array, Float32Array, Float32Array] | null {
  if (!wasmAdam()) return null;
  const backend = activeBackend() as unknown as WasmBackendLike;
  const at = new Uint32Array(4);
  if (!inPlaceOffsets(backend, t, at, 0)) return null;
  const view = (offset: number) =>
    new Float32Array(backend.wasm.HEAPU8.buffer, offset, t.weight.size);
  return [view(at[0]), view(at[1]), view(at[2])];
}

/** A weight, its moments and its gradient (float32, one shape). */
export interface AdamTensors {
  weight: Tensor;
  m: Tensor;
  v: Tensor;
  grad: Tensor;
}

/**
 * One Adam(W) step of `VattAdam` with its results written over `weight`, `m`
 * and `v`; returns false, doing nothing, where that is not safe or not
 * possible (see the module's comment) and the caller runs the kernel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { adamInPlace } from "./adam_in_place.ts";
 * await tf.setBackend("cpu");
 * const [weight, m, v, grad] = [tf.ones([2]), tf.zeros([2]), tf.zeros([2]), tf.ones([2])];
 * const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lr: 0.1, steps: 1, decay: 0 };
 * assert.equal(adamInPlace({ weight, m, v, grad }, attrs), false); // wasm only
 * tf.dispose([weight, m, v, grad]);
 * ```
 */
export function adamInPlace(t: AdamTensors, attrs: AdamAttrs): boolean {
  const own = inPlaceViews(t);
  if (!own) return false;
  const [w, m, v] = own;
  const n = t.weight.size;
  const backend = activeBackend() as unknown as WasmBackendLike;
  const g = heapF32(backend, t.grad);
  const k = adamConstants(attrs);
  const native = nativeKernels();
  const simd = simdKernelsOf(backend.wasm);
  const [pw, pm, pv] = [w.byteOffset, m.byteOffset, v.byteOffset]; // heap offsets
  if (native) native.adam(w, m, v, g, w, m, v, n, ...adamScalars(k));
  else if (simd) simd.adam(pw, pm, pv, g.byteOffset, pw, pm, pv, n, ...adamScalars(k));
  else adamUpdate({ w, m, v, g }, { w, m, v }, k);
  // tfjs-backend-wasm may hold packed copies of these buffers (see `markRewritten`).
  for (const x of [t.weight, t.m, t.v]) markRewritten(x);
  return true;
}

/**
 * {@linkcode adamInPlace} on many weights at once, in one native call over
 * all of them (`vatt_adam_many`: the same bits as one call each; `tiny`
 * updates 128 weights a step). `items[i]` is updated with `attrs[i]`; items
 * whose attrs differ from the first updatable one's in more than `decay`, and
 * those that cannot be updated in place, are left to the caller, as is every
 * item where the native kernels are not loaded. Returns which were updated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { adamInPlaceMany } from "./adam_in_place.ts";
 * await tf.setBackend("cpu"); // not wasm: nothing is done here
 * const [weight, m, v, grad] = [1, 0, 0, 0.5].map((x) => tf.tensor1d([x]));
 * const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lr: 0.1, steps: 1, decay: 0 };
 * assert.deepEqual(adamInPlaceMany([{ weight, m, v, grad }], [attrs]), [false]);
 * tf.dispose([weight, m, v, grad]);
 * ```
 */
export function adamInPlaceMany(items: AdamTensors[], attrs: AdamAttrs[]): boolean[] {
  const native = wasmAdam() ? nativeKernels() : null;
  const done = items.map(() => false);
  if (!native) return done;
  const backend = activeBackend() as unknown as WasmBackendLike;
  const at = new Uint32Array(4 * items.length);
  const sizes = new Int32Array(items.length);
  const decays = new Float32Array(items.length);
  let first: AdamAttrs | undefined;
  let count = 0;
  let total = 0;
  const sameScalars = (a: AdamAttrs, b: AdamAttrs) =>
    a.beta1 === b.beta1 && a.beta2 === b.beta2 && a.epsilon === b.epsilon && a.lr === b.lr &&
    a.steps === b.steps;
  items.forEach((t, i) => {
    const a = attrs[i];
    if (first && !sameScalars(a, first)) return;
    if (!inPlaceOffsets(backend, t, at, 4 * count)) return;
    first ??= a; // the first item taken sets the scalars
    sizes[count] = t.weight.size;
    decays[count++] = a.decay; // float32, as adamConstants rounds it
    total += t.weight.size;
    done[i] = true;
  });
  if (count === 0 || total >= 2 ** 31) return items.map(() => false);
  const [b1, c1, b2, c2, lrc, rbc2, eps] = adamScalars(adamConstants(first!));
  // The arrays have room for every item; only the ones taken go to the library.
  native.adamMany(
    backend.wasm.HEAPU8,
    at.subarray(0, 4 * count),
    sizes.subarray(0, count),
    decays.subarray(0, count),
    b1,
    c1,
    b2,
    c2,
    lrc,
    rbc2,
    eps,
  );
  items.forEach((t, i) => {
    if (done[i]) { for (const x of [t.weight, t.m, t.v]) markRewritten(x); }
  });
  return done;
}
