/**
 * What the replacement kernels of `lib/backend/` use of tfjs-backend-wasm's
 * `BackendWasm`, and views of tensors where they lie on its heap.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";

/** The parts of tfjs-backend-wasm's backend that the kernels use. */
export interface WasmBackendLike {
  /** Emscripten's module: the heap, and (`asm.memory`) the `WebAssembly.Memory` under it. */
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: unknown } };
  /** Where each tensor's data lies on the heap (a byte offset). */
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  /** Allocates an output tensor on the heap (which may grow and move the heap). */
  makeOutput(shape: number[], dtype: string): TensorInfo;
  /** Frees a tensor's data (a kernel's scratch tensor). */
  disposeData(dataId: object): void;
}

/**
 * A wasm kernel's call as tfjs makes it: its input tensors by name, the
 * backend, its attributes (each kernel file names its own `Attrs`, and
 * `Inputs` where some inputs are optional).
 */
export interface WasmKernelArgs<
  Attrs = Record<string, unknown>,
  Inputs = Record<string, TensorInfo>,
> {
  inputs: Inputs;
  backend: WasmBackendLike;
  attrs: Attrs;
}

/**
 * The number of values of a tensor of `shape`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeOf } from "./_wasm_heap.ts";
 * assert.equal(sizeOf([2, 3]), 6);
 * assert.equal(sizeOf([]), 1); // a scalar
 * ```
 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/**
 * The byte offset of `t`'s data on the heap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heapOffset, type WasmBackendLike } from "./_wasm_heap.ts";
 * const dataId = {};
 * const backend = {
 *   wasm: { HEAPU8: new Uint8Array(64) },
 *   dataIdMap: new Map([[dataId, { memoryOffset: 16 }]]),
 * } as unknown as WasmBackendLike;
 * assert.equal(heapOffset(backend, { dataId, shape: [2], dtype: "float32" }), 16);
 * ```
 */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

/**
 * A float32 view of `t`'s data from value `start` on, `length` values (by
 * default to the tensor's end). Take views after the kernel's `makeOutput`
 * calls: allocating may grow the heap, which detaches earlier views.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heapF32, type WasmBackendLike } from "./_wasm_heap.ts";
 * const heap = new Uint8Array(64);
 * new Float32Array(heap.buffer, 16, 3).set([1, 2, 3]);
 * const dataId = {};
 * const backend = {
 *   wasm: { HEAPU8: heap },
 *   dataIdMap: new Map([[dataId, { memoryOffset: 16 }]]),
 * } as unknown as WasmBackendLike;
 * const t = { dataId, shape: [3], dtype: "float32" as const };
 * assert.deepEqual([...heapF32(backend, t)], [1, 2, 3]); // the whole tensor
 * assert.deepEqual([...heapF32(backend, t, 1)], [2, 3]); // from value 1 on
 * ```
 */
export function heapF32(
  backend: WasmBackendLike,
  t: TensorInfo,
  start = 0,
  length = sizeOf(t.shape) - start,
): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer, heapOffset(backend, t) + start * 4, length);
}

/**
 * Throws a TypeError naming the kernel when any of `ts` is not float32.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFloat } from "./_wasm_heap.ts";
 * const t = { dataId: {}, shape: [1], dtype: "int32" as const };
 * assert.throws(() => checkFloat("VattGelu", t), /VattGelu needs float32 tensors, got int32/);
 * ```
 */
export function checkFloat(name: string, ...ts: TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== "float32") throw new TypeError(`${name} needs float32 tensors, got ${t.dtype}`);
  }
}
