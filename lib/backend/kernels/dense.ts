/**
 * A dense layer as one kernel each way for the wasm backend, where the native
 * BLAS is loaded (`blas.ts`): `lib/model/_ops.ts`'s `dense` runs them instead
 * of the ~15 engine calls a layer takes through `tf.fused.matMul` (reshapes,
 * the product, the bias, and in the backward pass two products, a bias sum
 * and their reshapes, each saving and cloning its inputs for the tape).
 *
 * - `VattDense` `{x, kernel, bias?}` → `y`: `x [..., K] · kernel [K, N]
 *   (+ bias [N])` → `[..., N]`, the rows of `x` as one product;
 * - `VattDenseGrad` `{x, kernel, dy}`, attrs `withBias`, `withInput` (default
 *   true) → `[dx, dkernel]` and, with `withBias`, `dbias`: `dx = dy·kernelᵀ`,
 *   `dkernel = xᵀ·dy`, `dbias = Σ_rows dy`; with `withInput` false, `dx` is
 *   neither computed nor returned (`x` is data).
 *
 * The products are the ones `matmul.ts` runs for `tf.fused.matMul` and its
 * gradient (same shapes, same transposes).
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { SWITCHES } from "../switches.ts";
import { heapF32, heapOffset, sizeOf, type WasmKernelArgs } from "./_wasm_heap.ts";
import { DENSE_GRAD_KERNEL, DENSE_KERNEL } from "./names.ts";
import { defineKernelSet, type KernelSet } from "./registry.ts";
import { loadBlas, loadedBlas } from "../blas.ts";
import { simdKernelsOf } from "../simd/simd.ts";

type KernelArgs = WasmKernelArgs<
  { withBias?: boolean; withInput?: boolean } | undefined,
  Record<string, TensorInfo | undefined>
>;

/** Rows `m`, inputs `k` and outputs `n` of the product, every input checked against them. */
function sizes(name: string, args: KernelArgs) {
  const { x, kernel } = args.inputs;
  if (!x || !kernel || x.shape.length < 1 || kernel.shape.length !== 2) {
    throw new RangeError(`${name} needs x [..., K] and kernel [K, N]`);
  }
  const k = x.shape[x.shape.length - 1];
  const [kk, n] = kernel.shape;
  const lead = x.shape.slice(0, -1);
  const want: Record<string, number[]> = { kernel: [k, n], bias: [n], dy: [...lead, n] };
  if (kk !== k) {
    throw new RangeError(`${name}: x [${x.shape}] does not fit kernel [${kernel.shape}]`);
  }
  for (const [key, t] of Object.entries(args.inputs)) {
    if (!t) continue;
    if (t.dtype !== "float32") throw new TypeError(`${name} needs float32 ${key}, got ${t.dtype}`);
    if (want[key] && t.shape.join() !== want[key].join()) {
      throw new RangeError(`${name}: ${key} is [${t.shape}], expected [${want[key]}]`);
    }
  }
  return { m: sizeOf(lead), k, n, lead };
}

function dense(args: KernelArgs): TensorInfo {
  const { x, kernel, bias } = args.inputs;
  const { m, k, n, lead } = sizes(DENSE_KERNEL, args);
  const be = args.backend;
  const y = be.makeOutput([...lead, n], "float32");
  if (m * n === 0) return y;
  const out = heapF32(be, y);
  if (bias) {
    // The bias in every row, for the product to add to (beta 1): one row, then doubling copies.
    out.set(heapF32(be, bias), 0);
    for (let filled = n; filled < m * n; filled *= 2) {
      out.copyWithin(filled, 0, Math.min(filled, m * n - filled));
    }
  }
  if (k === 0) {
    if (!bias) out.fill(0);
    return y;
  }
  loadedBlas().gemm({
    m,
    n,
    k,
    a: heapF32(be, x!),
    b: heapF32(be, kernel!),
    c: heapF32(be, y),
    beta: bias ? 1 : 0,
  });
  return y;
}

function denseGrad(args: KernelArgs): TensorInfo[] {
  const { x, kernel, dy } = args.inputs;
  const { m, k, n } = sizes(DENSE_GRAD_KERNEL, args);
  const be = args.backend;
  const dx = args.attrs?.withInput === false ? null : be.makeOutput(x!.shape, "float32");
  const dkernel = be.makeOutput([k, n], "float32");
  const dbias = args.attrs?.withBias ? be.makeOutput([n], "float32") : null;
  const blas = loadedBlas();
  if (m * k * n === 0) {
    if (dx) heapF32(be, dx).fill(0);
    heapF32(be, dkernel).fill(0);
  } else {
    // dx = dy · kernelᵀ  [M, K]
    if (dx) {
      blas.gemm({
        m,
        n: k,
        k: n,
        transB: true,
        a: heapF32(be, dy!),
        b: heapF32(be, kernel!),
        c: heapF32(be, dx),
      });
    }
    // dkernel = xᵀ · dy  [K, N]
    blas.gemm({
      m: k,
      n,
      k: m,
      transA: true,
      a: heapF32(be, x!),
      b: heapF32(be, dy!),
      c: heapF32(be, dkernel),
    });
  }
  if (dbias) { // Σ over rows: the SIMD row sum `Sum` runs on wasm (`wasm.ts`), else row by row
    const simd = m > 0 ? simdKernelsOf(be.wasm) : null;
    if (simd) simd.sumRows(heapOffset(be, dy!), heapOffset(be, dbias), m, n);
    else {
      const acc = heapF32(be, dbias).fill(0);
      const g = heapF32(be, dy!);
      for (let r = 0; r < m; r++) {
        const o = r * n;
        for (let j = 0; j < n; j++) acc[j] += g[o + j];
      }
    }
  }
  return [...(dx ? [dx] : []), dkernel, ...(dbias ? [dbias] : [])];
}

/**
 * The dense-layer kernels for the wasm backend, where the native BLAS loads
 * (`VATT_FUSED=0` keeps them off, as it does the other fused kernels). Without
 * them the model's dense layers run as `tf.fused.matMul`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DENSE_KERNEL_SET } from "./dense.ts";
 * assert.deepEqual(DENSE_KERNEL_SET.switches, ["VATT_FUSED"]);
 * assert.equal(DENSE_KERNEL_SET.available("cpu"), false); // wasm only
 * ```
 */
export const DENSE_KERNEL_SET: KernelSet = defineKernelSet({
  name: "dense",
  backend: "wasm",
  switches: [SWITCHES.fused],
  kernels: { [DENSE_KERNEL]: dense, [DENSE_GRAD_KERNEL]: denseGrad },
  requires: () => loadBlas() !== null,
});
