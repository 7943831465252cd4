/**
 * What a training step may use on a backend: the wasm heap (4 GiB at most,
 * less what is on it), host memory, or a WebGPU adapter's buffer limit.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { ATTENTION_KERNEL, DROPOUT_KERNEL } from "../backend/kernels/names.ts";

/** The largest wasm heap of tfjs-backend-wasm 4.22 (emscripten's `getHeapMax()`: 4 GiB − 64 KiB). */
export const WASM_HEAP_MAX = 4294901760;

/** What the wasm module itself holds before any tensor (its initial 16 MiB memory: code data, stack). */
const WASM_STATIC_BYTES = 16 * 1024 * 1024;

/** What a backend can hold. */
export interface MemoryLimit {
  /** The backend it is for. */
  backend: string;
  /** Bytes a training step may use in all. */
  bytes: number;
  /** Where the number comes from, in words. */
  detail: string;
  /** The largest buffer one tensor may have (WebGPU's binding limit); absent: no such limit. */
  bufferBytes?: number;
}

/** The wasm heap now: `{ size, max }` bytes, or `undefined` when wasm is not the backend. */
function wasmHeap(): { size: number } | undefined {
  const backend = tf.engine().backendName === "wasm"
    ? (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } })
    : undefined;
  const heap = backend?.wasm?.HEAPU8;
  return heap ? { size: heap.length } : undefined;
}

/**
 * The bytes a training step may use on `backend` (the name `initBackend`
 * returned): wasm, the 4 GiB heap less the module's own memory and the
 * tensors already on it; cpu and tensorflow, the host memory available now;
 * webgpu, the adapter's largest buffer when it is known, else host memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryLimit, WASM_HEAP_MAX } from "./memory_limit.ts";
 * const wasm = await memoryLimit("wasm");
 * assert.ok(wasm.bytes < WASM_HEAP_MAX && wasm.bytes > 3e9);
 * const cpu = await memoryLimit("cpu");
 * assert.ok(cpu.bytes > 0 && /host memory/.test(cpu.detail));
 * ```
 */
export async function memoryLimit(backend: string): Promise<MemoryLimit> {
  if (backend === "wasm") {
    const used = tf.engine().backendName === "wasm" ? tf.memory().numBytes : 0;
    const heap = wasmHeap();
    return {
      backend,
      bytes: WASM_HEAP_MAX - WASM_STATIC_BYTES - used,
      detail: `wasm heap: 4 GiB at most, less ${gib(WASM_STATIC_BYTES + used)} in use` +
        (heap ? `; ${gib(heap.size)} reserved now` : ""),
    };
  }
  const info = Deno.systemMemoryInfo();
  const host = `host memory available (${gib(info.available)} of ${gib(info.total)})`;
  if (backend === "webgpu") {
    // WebGPU does not say how much memory the device has; it bounds each buffer.
    const limits = await webGpuLimits();
    const buffer = limits && Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
    if (buffer) {
      return {
        backend,
        bytes: info.available,
        bufferBytes: buffer,
        detail: `${host}; one tensor at most ${gib(buffer)} (adapter's buffer limits)`,
      };
    }
  }
  return { backend, bytes: info.available, detail: host };
}

/** The WebGPU adapter's buffer limits, or `undefined` without an adapter. */
async function webGpuLimits(): Promise<
  { maxBufferSize: number; maxStorageBufferBindingSize: number } | undefined
> {
  type Limits = { maxBufferSize: number; maxStorageBufferBindingSize: number };
  const gpu = (navigator as unknown as {
    gpu?: { requestAdapter(): Promise<{ limits: Limits } | null> };
  }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return adapter?.limits;
}

/**
 * Bytes as GiB with two decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gib } from "./memory_limit.ts";
 * assert.equal(gib(3 * 1024 ** 3), "3.00 GiB");
 * ```
 */
export function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * Whether the active backend runs attention as one kernel (wasm with
 * OpenBLAS); false before any backend has started (reading it starts none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { attentionKernelActive } from "./memory_limit.ts";
 * await tf.setBackend("cpu");
 * assert.equal(attentionKernelActive(), false);
 * ```
 */
export function attentionKernelActive(): boolean {
  return kernelActive(ATTENTION_KERNEL);
}

/**
 * Whether the active backend applies dropout as one kernel that keeps no mask
 * (wasm); false before any backend has started (reading it starts none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { dropoutKernelActive } from "./memory_limit.ts";
 * await tf.setBackend("cpu");
 * assert.equal(dropoutKernelActive(), false);
 * ```
 */
export function dropoutKernelActive(): boolean {
  return kernelActive(DROPOUT_KERNEL);
}

function kernelActive(name: string): boolean {
  const backend = tf.engine().backendName; // a field: reading it starts no backend
  return Boolean(backend) && tf.getKernel(name, backend) !== undefined;
}
