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
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: string): TensorInfo;
  disposeData(dataId: object): void;
}

/**
 * The number of values of a tensor of `shape`.
 *
 * @example
 * ```ts
 * import { sizeOf } from "./_wasm_heap.ts";
 * console.assert(sizeOf([2, 3]) === 6);
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
 * ```ts ignore
 * const at = heapOffset(backend, tensorInfo);
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
 * ```ts ignore
 * const values = heapF32(backend, tensorInfo); // the whole tensor
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
