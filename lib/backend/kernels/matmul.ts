/**
 * The wasm backend's matrix-product kernels (`BatchMatMul`, `_FusedMatMul`)
 * computed by a native BLAS ({@linkcode loadBlas}) reading and writing the
 * tensors in place on the wasm heap: no copy in, no copy out. Products too
 * small to gain, other dtypes, and fused forms the native path does not cover
 * (PReLU, a bias that is not a vector) go to the backend's own kernels, which
 * stay registered underneath. Gradients need nothing special: tfjs's gradient
 * functions of both kernels are made of `BatchMatMul` calls, which land here.
 *
 * @module
 */
import {
  _FusedMatMul,
  BatchMatMul,
  broadcast_util,
  getKernel,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { heapF32, sizeOf, type WasmBackendLike, type WasmKernelArgs } from "./_wasm_heap.ts";
import {
  countCall,
  defineKernelSet,
  kernelCallCounts,
  type KernelSet,
  originalKernel,
} from "./registry.ts";
import { loadBlas, loadedBlas } from "../blas.ts";
import { SWITCHES } from "../switches.ts";

type KernelArgs = WasmKernelArgs<Record<string, unknown>, Record<string, TensorInfo | undefined>>;

/**
 * Products with fewer multiply-adds than this go to the wasm kernel, whose
 * per-call cost is lower than a native call's for tiny matrices.
 */
export const BLAS_MIN_MACS = 4096;

interface Product {
  a: TensorInfo;
  b: TensorInfo;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  batchShape: number[];
  /** Batch sizes of A and B: 1 (shared by the whole batch) or the full batch. */
  aBatch: number;
  bBatch: number;
}

/** The product's sizes, or null when it should stay on the wasm kernel. */
function plan(args: KernelArgs): Product | null {
  const a = args.inputs.a!;
  const b = args.inputs.b!;
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const transA = args.attrs.transposeA === true;
  const transB = args.attrs.transposeB === true;
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) return null;
  const m = transA ? a.shape[ar - 1] : a.shape[ar - 2];
  const k = transA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transB ? b.shape[br - 1] : b.shape[br - 2];
  const n = transB ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kb || m === 0 || n === 0 || k === 0) return null; // the wasm kernel reports or handles it
  let batchShape: number[];
  try {
    batchShape = broadcast_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
  } catch {
    return null;
  }
  if (m * n * k < BLAS_MIN_MACS) return null;
  // Broadcasting where one side has batch 1 or the full batch; other forms (e.g. [2, 1] with
  // [1, 3]) stay with the wasm kernel, whose result there this must not change.
  const batch = sizeOf(batchShape);
  const aBatch = sizeOf(a.shape.slice(0, -2));
  const bBatch = sizeOf(b.shape.slice(0, -2));
  if ((aBatch !== 1 && aBatch !== batch) || (bBatch !== 1 && bBatch !== batch)) return null;
  return { a, b, transA, transB, m, n, k, batchShape, aBatch, bBatch };
}

/**
 * Runs the product into `out` (already holding the bias when `beta` is 1).
 * When B is shared by the whole batch and A is not transposed, the batch is
 * one tall product.
 */
function run(backend: WasmBackendLike, p: Product, out: TensorInfo, beta: number): void {
  const { m, n, k, transA, transB } = p;
  const blas = loadedBlas();
  const batch = sizeOf(p.batchShape);
  if (p.bBatch === 1 && !transA) {
    blas.gemm({
      m: batch * m,
      n,
      k,
      transB,
      a: heapF32(backend, p.a, 0, batch * m * k),
      b: heapF32(backend, p.b, 0, k * n),
      c: heapF32(backend, out, 0, batch * m * n),
      beta,
    });
    return;
  }
  for (let i = 0; i < batch; i++) {
    const ai = p.aBatch === 1 ? 0 : i;
    const bi = p.bBatch === 1 ? 0 : i;
    blas.gemm({
      m,
      n,
      k,
      transA,
      transB,
      a: heapF32(backend, p.a, ai * m * k, m * k),
      b: heapF32(backend, p.b, bi * k * n, k * n),
      c: heapF32(backend, out, i * m * n, m * n),
      beta,
    });
  }
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const p = plan(args);
  if (!p) {
    countCall("matmul.fallback");
    return originalKernel<KernelArgs, TensorInfo>(BatchMatMul, "wasm")(args);
  }
  countCall("matmul.native");
  const out = args.backend.makeOutput([...p.batchShape, p.m, p.n], "float32");
  run(args.backend, p, out, 0);
  return out;
}

function activate(y: Float32Array, activation: string, alpha: number): void {
  switch (activation) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < y.length; i++) y[i] = y[i] < 0 ? 0 : y[i] > 6 ? 6 : y[i];
      return;
    case "leakyrelu":
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] *= alpha;
      return;
    case "sigmoid":
      for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
      return;
    case "elu":
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = Math.expm1(y[i]);
      return;
  }
}

const NATIVE_ACTIVATIONS = new Set(["linear", "relu", "relu6", "leakyrelu", "sigmoid", "elu"]);

function fusedMatMul(args: KernelArgs): TensorInfo {
  const bias = args.inputs.bias;
  const activation = (args.attrs.activation as string | undefined) ?? "linear";
  let p = plan(args);
  if (
    p && (
      !NATIVE_ACTIVATIONS.has(activation) ||
      args.inputs.preluActivationWeights != null ||
      (bias != null &&
        (bias.dtype !== "float32" || bias.shape.length !== 1 ||
          (bias.shape[0] !== p.n && bias.shape[0] !== 1)))
    )
  ) {
    p = null;
  }
  if (!p) {
    countCall("matmul.fallback");
    return originalKernel<KernelArgs, TensorInfo>(_FusedMatMul, "wasm")(args);
  }
  countCall("matmul.native");
  const backend = args.backend;
  const out = backend.makeOutput([...p.batchShape, p.m, p.n], "float32");
  const rows = sizeOf(p.batchShape) * p.m;
  if (bias) {
    const y = heapF32(backend, out, 0, rows * p.n);
    const bv = heapF32(backend, bias, 0, bias.shape[0]);
    if (bias.shape[0] === 1) y.fill(bv[0]);
    else for (let r = 0; r < rows; r++) y.set(bv, r * p.n);
  }
  run(backend, p, out, bias ? 1 : 0);
  if (activation !== "linear") {
    activate(
      heapF32(backend, out, 0, rows * p.n),
      activation,
      (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2,
    );
  }
  return out;
}

/** The state of the native matrix products. */
export interface BlasKernelState {
  /** Whether products currently go to the native library (the set is registered). */
  active: boolean;
  /** Products run natively since the last reset. */
  native: number;
  /** Products passed to the wasm kernels since the last reset. */
  fallback: number;
}

/**
 * The native `BatchMatMul` and `_FusedMatMul` for the wasm backend, in the
 * place of the backend's own, where a native BLAS loads (see
 * {@linkcode loadBlas}; `VATT_BLAS=0` keeps them off).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MATMUL_KERNEL_SET } from "./matmul.ts";
 * assert.equal(MATMUL_KERNEL_SET.available("cpu"), false); // wasm only
 * assert.equal(MATMUL_KERNEL_SET.register(), false); // the wasm backend is not imported
 * ```
 */
export const MATMUL_KERNEL_SET: KernelSet = defineKernelSet({
  name: "matmul",
  backend: "wasm",
  switches: [SWITCHES.blas],
  kernels: { [BatchMatMul]: batchMatMul, [_FusedMatMul]: fusedMatMul },
  requires: () =>
    loadBlas() !== null && getKernel(BatchMatMul, "wasm") !== undefined &&
    getKernel(_FusedMatMul, "wasm") !== undefined,
});

/**
 * Whether the native products are in use, and how many products ran each way
 * (`reset: true` zeroes the counts after reading them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blasKernelState } from "./matmul.ts";
 * assert.deepEqual(blasKernelState(), { active: false, native: 0, fallback: 0 });
 * ```
 */
export function blasKernelState(options: { reset?: boolean } = {}): BlasKernelState {
  const counts = kernelCallCounts({ prefix: "matmul", reset: options.reset });
  return {
    active: MATMUL_KERNEL_SET.registered(),
    native: counts.native ?? 0,
    fallback: counts.fallback ?? 0,
  };
}
