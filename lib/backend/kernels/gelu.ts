/**
 * The GELU kernels for the wasm backend (registered with the other fused
 * kernels, `fused.ts`), one pass each way, with the dropout that follows the
 * MLP's inner layer fused in when the call carries `VattDropout`'s attributes
 * (`dropout.ts`: the mask is computed where it is applied, never stored):
 *
 * - `VattGelu` `{x}` [+ dropout attrs] → `[y, Φ]`: `y = x·Φ(x)` [`·mask`],
 *   `Φ(x) = 0.5·(1 + erf(x/√2))` (erf: a rational fit, `approx.ts`); `Φ` is
 *   kept for the backward pass;
 * - `VattGeluGrad` `{x, cdf, dy}` [+ the same attrs] → `dy`[`·mask`]`·(Φ(x) + x·φ(x))`
 *   (the exact derivative, as tfjs's gradient of `Erf`).
 *
 * With the mask, each value is rounded as the GELU kernel followed by the
 * dropout kernel rounds it (and the gradients alike), so fusing changes no bit.
 * They run the native kernels where built (`../native/native.ts`), else the
 * SIMD module (the same bits), else JavaScript loops (erf in float64: close to
 * those, not the same bits).
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { nativeKernels } from "../native/native.ts";
import { simdKernelsOf } from "../simd/simd.ts";
import { checkFloat, heapF32, heapOffset, sizeOf, type WasmBackendLike } from "./_wasm_heap.ts";
import { erf, expNonPositive } from "./approx.ts";
import { type DropoutAttrs, dropoutOf, forMaskChunks, maskArgs } from "./dropout.ts";
import { GELU_GRAD_KERNEL, GELU_KERNEL } from "./names.ts";

/** A GELU kernel's call: its inputs, the backend, and the dropout attributes when fused. */
interface GeluArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs?: Partial<DropoutAttrs>;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** `VattGelu`: `[y, Φ]`, `y` multiplied by the dropout mask when the attributes are given. */
export function gelu(args: GeluArgs): TensorInfo[] {
  const { x } = args.inputs;
  checkFloat(GELU_KERNEL, x);
  const b = args.backend;
  const drop = dropoutOf(args.attrs);
  const out = b.makeOutput([...x.shape], "float32");
  const cdfOut = b.makeOutput([...x.shape], "float32");
  const n = sizeOf(x.shape);
  const native = nativeKernels();
  if (native) {
    const [xs, ys, cs] = [x, out, cdfOut].map((t) => heapF32(b, t));
    if (!drop) native.gelu(xs, ys, cs, n);
    else native.geluDropout(xs, ys, cs, n, ...maskArgs(drop));
    return [out, cdfOut];
  }
  const simd = simdKernelsOf(b.wasm);
  if (simd) {
    const [px, py, pc] = [heapOffset(b, x), heapOffset(b, out), heapOffset(b, cdfOut)];
    if (!drop) simd.gelu(px, py, pc, n);
    else simd.geluDropout(px, py, pc, n, ...maskArgs(drop));
    return [out, cdfOut];
  }
  const xs = heapF32(b, x); // views after makeOutput: the heap may have moved
  const ys = heapF32(b, out);
  const cdf = heapF32(b, cdfOut);
  forMaskChunks(drop, n, (start, end, mask) => {
    for (let i = start; i < end; i++) {
      const v = xs[i];
      const c = 0.5 + 0.5 * erf(v * Math.SQRT1_2);
      cdf[i] = c;
      ys[i] = mask ? Math.fround(v * c) * mask[i - start] : v * c;
    }
  });
  return [out, cdfOut];
}

/** `VattGeluGrad`: the gradient of `gelu` (of its dropout too when the attributes are given). */
export function geluGrad(args: GeluArgs): TensorInfo {
  const { x, cdf, dy } = args.inputs;
  checkFloat(GELU_GRAD_KERNEL, x, cdf, dy);
  const b = args.backend;
  const drop = dropoutOf(args.attrs);
  const out = b.makeOutput([...x.shape], "float32");
  const n = sizeOf(x.shape);
  const native = nativeKernels();
  if (native) {
    const v = [x, cdf, dy, out].map((t) => heapF32(b, t));
    if (!drop) native.geluGrad(v[0], v[1], v[2], v[3], n);
    else native.geluGradDropout(v[0], v[1], v[2], v[3], n, ...maskArgs(drop));
    return out;
  }
  const simd = simdKernelsOf(b.wasm);
  if (simd) {
    const p = [heapOffset(b, x), heapOffset(b, cdf), heapOffset(b, dy), heapOffset(b, out)];
    if (!drop) simd.geluGrad(p[0], p[1], p[2], p[3], n);
    else simd.geluGradDropout(p[0], p[1], p[2], p[3], n, ...maskArgs(drop));
    return out;
  }
  const xs = heapF32(b, x);
  const cs = heapF32(b, cdf);
  const dys = heapF32(b, dy);
  const dxs = heapF32(b, out);
  forMaskChunks(drop, n, (start, end, mask) => {
    for (let i = start; i < end; i++) {
      const v = xs[i];
      const g = mask ? Math.fround(dys[i] * mask[i - start]) : dys[i];
      dxs[i] = g * (cs[i] + v * INV_SQRT_2PI * expNonPositive(-0.5 * v * v));
    }
  });
  return out;
}
