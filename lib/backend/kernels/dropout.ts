/**
 * The dropout kernel for the wasm backend: `VattDropout` `{x}`, attrs
 * `offset, k1, k2, threshold, scale` → `y`, one pass that computes each value's
 * counter-based bits (`lib/util/counter_bits.ts`: position `offset + i` of the
 * stream with keys `k1`, `k2`) and multiplies the value by `scale` when they
 * lie below `threshold`, else by 0 (the product with the mask, bit for bit). The mask is never stored: the backward
 * pass is the same kernel on the incoming gradient (dropout is its own
 * adjoint), so a training step draws, uploads and keeps no mask on the host.
 * `lib/model/dropout.ts` runs it where the backend has it and multiplies by a
 * host mask of the same bits elsewhere.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { SWITCHES } from "../switches.ts";
import { simdKernelsOf } from "../simd/simd.ts";
import { heapF32, heapOffset, sizeOf, type WasmBackendLike } from "./_wasm_heap.ts";
import { DROPOUT_KERNEL } from "./names.ts";
import { defineKernelSet, type KernelSet } from "./registry.ts";
import { fillCounterBits } from "../../util/counter_bits.ts";

/** The attributes of `VattDropout`. */
export interface DropoutAttrs {
  /** Stream position of the first value (the values before it in a global batch). */
  offset: number;
  /** The stream's first key (`streamKeys`). */
  k1: number;
  /** The stream's second key. */
  k2: number;
  /** A value is kept when its bits are below this (`keepThreshold`). */
  threshold: number;
  /** The factor of a kept value, `1/(1 − rate)`. */
  scale: number;
}

/** Values of the JavaScript loop's bits buffer at a time (64 KiB). */
const CHUNK = 16384;

function dropoutKernel(
  args: { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: DropoutAttrs },
): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype !== "float32") throw new TypeError(`${DROPOUT_KERNEL} needs float32, got ${x.dtype}`);
  const { offset, k1, k2, threshold, scale } = args.attrs;
  const b = args.backend;
  const out = b.makeOutput([...x.shape], "float32");
  const n = sizeOf(x.shape);
  const simd = simdKernelsOf(b.wasm);
  if (simd) {
    simd.dropout(heapOffset(b, x), heapOffset(b, out), n, offset, k1, k2, threshold, scale);
    return out;
  }
  const xs = heapF32(b, x); // views after makeOutput: the heap may have moved
  const ys = heapF32(b, out);
  const bits = new Uint32Array(Math.min(n, CHUNK));
  const s = Math.fround(scale);
  for (let start = 0; start < n; start += CHUNK) {
    const part = bits.subarray(0, Math.min(CHUNK, n - start));
    fillCounterBits({ k1, k2 }, offset + start, part);
    for (let j = 0; j < part.length; j++) {
      ys[start + j] = xs[start + j] * (part[j] < threshold ? s : 0);
    }
  }
  return out;
}

/**
 * The dropout kernel for the wasm backend (`VATT_FUSED=0` keeps it off, and
 * the model then multiplies by a host mask of the same bits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DROPOUT_KERNEL_SET } from "./dropout.ts";
 * assert.equal(DROPOUT_KERNEL_SET.available("cpu"), false); // wasm only
 * ```
 */
export const DROPOUT_KERNEL_SET: KernelSet = defineKernelSet({
  name: "dropout",
  backend: "wasm",
  switches: [SWITCHES.fused],
  kernels: { [DROPOUT_KERNEL]: dropoutKernel },
});
