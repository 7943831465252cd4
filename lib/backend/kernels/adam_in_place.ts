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
 * step): `small` 73–79 → 52 ms, `tiny` 1.8 → 1.2 ms.
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
import { heapF32, type WasmBackendLike } from "./_wasm_heap.ts";
import { type AdamAttrs, adamConstants, adamScalars, adamUpdate } from "./fused.ts";
import { ADAM_KERNEL } from "./names.ts";
import { markRewritten, ownValues } from "./tensor_memory.ts";

/**
 * Views of the weight's and moments' buffers where `t` may be updated in
 * place on the wasm backend (each buffer its tensor's alone, the gradient's
 * another, every tensor float32 and alive, one size), else null.
 */
function inPlaceViews(t: AdamTensors): [Float32Array, Float32Array, Float32Array] | null {
  const name = getBackend();
  if (name !== "wasm" || !getKernel(ADAM_KERNEL, name)) return null;
  const n = t.weight.size;
  if ([t.m, t.v, t.grad].some((x) => x.size !== n || x.dtype !== "float32" || x.isDisposed)) {
    return null;
  }
  // Views of the three buffers, each only where no other tensor (the gradient included) shares it.
  const [w, m, v] = [t.weight, t.m, t.v].map(ownValues);
  if (!w || !m || !v || new Set([t.weight, t.m, t.v, t.grad].map((x) => x.dataId)).size < 4) {
    return null;
  }
  return [w, m, v];
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
  const native = getBackend() === "wasm" ? nativeKernels() : null;
  const views = native ? items.map(inPlaceViews) : items.map(() => null);
  const first = attrs.find((_, i) => views[i]);
  const sameScalars = (a: AdamAttrs) =>
    a.beta1 === first?.beta1 && a.beta2 === first.beta2 && a.epsilon === first.epsilon &&
    a.lr === first.lr && a.steps === first.steps;
  const chosen = views.flatMap((own, i) => own && sameScalars(attrs[i]) ? [i] : []);
  const total = chosen.reduce((sum, i) => sum + items[i].weight.size, 0);
  if (!native || chosen.length === 0 || total >= 2 ** 31) return items.map(() => false);
  const backend = activeBackend() as unknown as WasmBackendLike;
  const at = new Uint32Array(4 * chosen.length);
  const sizes = new Int32Array(chosen.length);
  const decays = new Float32Array(chosen.length);
  chosen.forEach((i, c) => {
    const [w, m, v] = views[i]!;
    at.set(
      [w.byteOffset, m.byteOffset, v.byteOffset, heapF32(backend, items[i].grad).byteOffset],
      4 * c,
    );
    sizes[c] = items[i].weight.size;
    decays[c] = attrs[i].decay; // float32, as adamConstants rounds it
  });
  const [b1, c1, b2, c2, lrc, rbc2, eps] = adamScalars(adamConstants(attrs[chosen[0]]));
  native.adamMany(backend.wasm.HEAPU8, at, sizes, decays, b1, c1, b2, c2, lrc, rbc2, eps);
  const done = items.map(() => false);
  for (const i of chosen) {
    done[i] = true;
    for (const x of [items[i].weight, items[i].m, items[i].v]) markRewritten(x);
  }
  return done;
}
