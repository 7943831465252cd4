/**
 * The dropout kernel for the wasm backend: `VattDropout` `{x}`, attrs
 * `offset, k1, k2, threshold, scale` → `y`, one pass that computes each value's
 * counter-based bits (`lib/util/counter_bits.ts`: position `offset + i` of the
 * stream with keys `k1`, `k2`) and multiplies the value by `scale` when they
 * lie below `threshold`, else by 0 (the product with the mask, bit for bit).
 * The mask is never stored: the backward pass is the same kernel on the
 * incoming gradient (dropout is its own adjoint), so a training step draws,
 * uploads and keeps no mask on the host.
 * `lib/model/dropout.ts` runs it where the backend has it and multiplies by a
 * host mask of the same bits elsewhere.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { SWITCHES } from "../switches.ts";
import { nativeKernels } from "../native/native.ts";
import { type MaskArgs, simdKernelsOf } from "../simd/simd.ts";
import { checkFloat, heapF32, heapOffset, sizeOf, type WasmBackendLike } from "./_wasm_heap.ts";
import { DROPOUT_KERNEL } from "./names.ts";
import { defineKernelSet, type KernelSet } from "./registry.ts";
import { fillKeepMask } from "../../util/counter_bits.ts";

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

/** Values of the JavaScript loops' mask buffer at a time (64 KiB). */
const CHUNK = 16384;

/**
 * The dropout attributes of a kernel call that carries them (`threshold` set), else null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropoutOf } from "./dropout.ts";
 * assert.equal(dropoutOf({}), null);
 * assert.equal(dropoutOf({ offset: 0, k1: 1, k2: 2, threshold: 3, scale: 2 })?.k2, 2);
 * ```
 */
export function dropoutOf(attrs: Partial<DropoutAttrs> | undefined): DropoutAttrs | null {
  return attrs?.threshold === undefined ? null : attrs as DropoutAttrs;
}

/**
 * The mask's arguments of a kernel call, in the order the SIMD and native
 * kernels take them after their arrays and count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskArgs } from "./dropout.ts";
 * assert.deepEqual(maskArgs({ offset: 5, k1: 1, k2: 2, threshold: 3, scale: 2 }), [5, 1, 2, 3, 2]);
 * ```
 */
export function maskArgs(drop: DropoutAttrs): MaskArgs {
  return [drop.offset, drop.k1, drop.k2, drop.threshold, drop.scale];
}

/**
 * Runs `f` over values `[0, n)` in chunks `[start, end)` with the dropout
 * multipliers of each chunk (`mask[i − start]`), or once over all with no mask
 * when `drop` is null: the JavaScript loops' way to apply a mask they do not keep.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forMaskChunks } from "./dropout.ts";
 * const seen: number[] = [];
 * forMaskChunks(null, 5, (start, end, mask) => seen.push(start, end, mask === null ? 1 : 0));
 * assert.deepEqual(seen, [0, 5, 1]);
 * ```
 */
export function forMaskChunks(
  drop: DropoutAttrs | null,
  n: number,
  f: (start: number, end: number, mask: Float32Array | null) => void,
): void {
  if (!drop) return f(0, n, null);
  const mask = new Float32Array(Math.min(n, CHUNK));
  for (let start = 0; start < n; start += CHUNK) {
    const part = mask.subarray(0, Math.min(CHUNK, n - start));
    fillKeepMask(drop, drop.offset + start, drop.threshold, drop.scale, part);
    f(start, start + part.length, part);
  }
}

function dropoutKernel(
  args: { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: DropoutAttrs },
): TensorInfo {
  const { x } = args.inputs;
  checkFloat(DROPOUT_KERNEL, x);
  const mask = maskArgs(args.attrs);
  const b = args.backend;
  const out = b.makeOutput([...x.shape], "float32");
  const n = sizeOf(x.shape);
  const native = nativeKernels();
  if (native) {
    native.dropout(heapF32(b, x), heapF32(b, out), n, ...mask);
    return out;
  }
  const simd = simdKernelsOf(b.wasm);
  if (simd) {
    simd.dropout(heapOffset(b, x), heapOffset(b, out), n, ...mask);
    return out;
  }
  const xs = heapF32(b, x); // views after makeOutput: the heap may have moved
  const ys = heapF32(b, out);
  forMaskChunks(args.attrs, n, (start, end, mask) => {
    for (let i = start; i < end; i++) ys[i] = xs[i] * mask![i - start];
  });
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
