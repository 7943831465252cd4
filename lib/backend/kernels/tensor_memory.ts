/**
 * A tensor's own float32 storage, to be read and rewritten in place where no
 * copy is wanted (the gradient allreduce of a data-parallel step hands it to
 * MPI): on the wasm backend a view of the heap, on the cpu backend the
 * backend's array itself. Only when no other tensor shares that storage
 * (tfjs shares data between a tensor and its reshapes, clones and, here, the
 * copy-free `Identity`): writing then changes that tensor alone.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "./_wasm_heap.ts";
import { heapF32 } from "./_wasm_heap.ts";

/** The parts of either backend read here: how many tensors share a tensor's data. */
interface Counted {
  refCount(dataId: object): number;
}

/** tfjs-backend-cpu's storage of a tensor's values. */
interface CpuBackendLike extends Counted {
  data: { has(dataId: object): boolean; get(dataId: object): { values?: unknown } | undefined };
}

/**
 * The float32 values of `t` as its own storage (writes change `t`), or
 * `undefined` when the backend is neither wasm nor cpu, `t` is not float32,
 * or its data is shared with another tensor. On wasm the view lies on the
 * heap, which detaches it when the heap grows: use it before anything else
 * allocates a tensor, and ask again afterwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { ownValues } from "./tensor_memory.ts";
 * await tf.setBackend("cpu");
 * const t = tf.tensor1d([1, 2]);
 * ownValues(t)!.set([5, 6]);
 * assert.deepEqual([...t.dataSync()], [5, 6]); // written in place
 * const alias = tf.reshape(t, [2, 1]); // shares t's data
 * assert.equal(ownValues(t), undefined);
 * alias.dispose();
 * assert.equal(ownValues(tf.tensor1d([1], "int32")), undefined);
 * ```
 */
export function ownValues(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== "float32" || t.isDisposed) return undefined;
  const backend = tf.backend() as unknown as Partial<WasmBackendLike & CpuBackendLike>;
  if (typeof backend.refCount !== "function") return undefined;
  if (backend.wasm?.HEAPU8 && backend.dataIdMap) {
    const entry = backend.dataIdMap.get(t.dataId);
    if (!entry || typeof entry.memoryOffset !== "number") return undefined;
    if (backend.refCount(t.dataId) !== 1) return undefined;
    return heapF32(backend as WasmBackendLike, t);
  }
  if (backend.data?.has(t.dataId)) {
    const values = backend.data.get(t.dataId)?.values;
    if (!(values instanceof Float32Array) || values.length !== t.size) return undefined;
    return backend.refCount(t.dataId) === 1 ? values : undefined;
  }
  return undefined;
}
