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
 * allocates a tensor, and ask again afterwards. After writing, call
 * {@linkcode markRewritten}.
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
    return ownHeapOffset(t) === undefined ? undefined : heapF32(backend as WasmBackendLike, t);
  }
  if (backend.data?.has(t.dataId)) {
    const values = backend.data.get(t.dataId)?.values;
    if (!(values instanceof Float32Array) || values.length !== t.size) return undefined;
    return backend.refCount(t.dataId) === 1 ? values : undefined;
  }
  return undefined;
}

/**
 * Where `t`'s float32 values start on the wasm heap (a byte offset), or
 * `undefined` when the backend is not wasm, `t` is not float32, or its data
 * is shared with another tensor: {@linkcode ownValues} without making a view,
 * for callers that hand native code offsets (the optimiser's update of every
 * weight a step). After writing there, call {@linkcode markRewritten}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { ownHeapOffset } from "./tensor_memory.ts";
 * await tf.setBackend("cpu");
 * const t = tf.tensor1d([1, 2]);
 * assert.equal(ownHeapOffset(t), undefined); // not on a wasm heap
 * t.dispose();
 * ```
 */
export function ownHeapOffset(t: tf.Tensor): number | undefined {
  if (t.dtype !== "float32" || t.isDisposed) return undefined;
  const backend = tf.backend() as unknown as Partial<WasmBackendLike & Counted>;
  if (!backend.wasm?.HEAPU8 || !backend.dataIdMap || typeof backend.refCount !== "function") {
    return undefined;
  }
  const offset = backend.dataIdMap.get(t.dataId)?.memoryOffset;
  if (typeof offset !== "number" || backend.refCount(t.dataId) !== 1) return undefined;
  return offset;
}

/** tfjs-backend-wasm's own record of a buffer, and the calls that register and drop it. */
interface WasmRecords {
  dataIdMap: { get(dataId: object): { id?: number; memoryOffset?: number } | undefined };
  wasm: {
    tfjs?: {
      registerTensor?(id: number, size: number, memoryOffset: number): void;
      disposeData?(id: number): void;
    };
  };
}

/**
 * Tells tfjs-backend-wasm that `t`'s values were rewritten in place (through
 * {@linkcode ownValues} or a kernel writing over its input). Its XNNPACK
 * products (the `BatchMatMul` of small matrices) pack their right-hand matrix
 * once and keep the packed copy under the buffer's id until the buffer is
 * freed; a buffer rewritten in place would go on being multiplied as it was.
 * Dropping and registering the buffer again under the same id discards those
 * copies and changes nothing else. Does nothing on other backends.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { markRewritten, ownValues } from "./tensor_memory.ts";
 * await tf.setBackend("cpu");
 * const t = tf.tensor1d([1, 2]);
 * ownValues(t)!.set([3, 4]);
 * markRewritten(t); // nothing cached on cpu
 * t.dispose();
 * ```
 */
export function markRewritten(t: tf.Tensor): void {
  const backend = tf.backend() as unknown as Partial<WasmRecords>;
  const record = backend.dataIdMap?.get(t.dataId);
  const calls = backend.wasm?.tfjs;
  if (!record || record.id === undefined || record.memoryOffset == null) return;
  if (!calls?.disposeData || !calls.registerTensor) return;
  calls.disposeData(record.id);
  calls.registerTensor(record.id, t.size, record.memoryOffset);
}
