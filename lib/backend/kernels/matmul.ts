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
  type KernelConfig,
  type KernelFunc,
  registerKernel,
  type TensorInfo,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import { heapF32, sizeOf, type WasmBackendLike } from "./_wasm_heap.ts";
import { loadBlas, type NativeBlas } from "../blas.ts";

interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
}

/**
 * Products with fewer multiply-adds than this go to the wasm kernel, whose
 * per-call cost is lower than a native call's for tiny matrices.
 */
export const BLAS_MIN_MACS = 4096;

let blas: NativeBlas | null = null;
let enabled = false;
let originals: { batchMatMul: KernelConfig; fusedMatMul: KernelConfig } | null = null;
let counters = { native: 0, fallback: 0 };

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
  if (!enabled || !blas) return null;
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
  const batch = sizeOf(p.batchShape);
  if (p.bBatch === 1 && !transA) {
    blas!.gemm({
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
    blas!.gemm({
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
    counters.fallback++;
    return (originals!.batchMatMul.kernelFunc as (a: KernelArgs) => TensorInfo)(args);
  }
  counters.native++;
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
    counters.fallback++;
    return (originals!.fusedMatMul.kernelFunc as (a: KernelArgs) => TensorInfo)(args);
  }
  counters.native++;
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
  /** Whether products currently go to the native library. */
  active: boolean;
  /** Products run natively / by the wasm kernels since the last reset. */
  native: number;
  fallback: number;
}

/**
 * Registers the native `BatchMatMul` and `_FusedMatMul` for the wasm backend
 * when a native BLAS loads (see {@linkcode loadBlas}; `VATT_BLAS=0` keeps them
 * off) and returns whether they are in use. Idempotent; never throws for a
 * missing library. Call it after `@tensorflow/tfjs-backend-wasm` is imported.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerBlasKernels } from "./matmul.ts";
 * const on = registerBlasKernels(); // false without OpenBLAS
 * console.assert(typeof on === "boolean");
 * ```
 */
export function registerBlasKernels(): boolean {
  if (originals) return enabled;
  blas = loadBlas();
  if (!blas) return false;
  const bmm = getKernel(BatchMatMul, "wasm");
  const fmm = getKernel(_FusedMatMul, "wasm");
  if (!bmm || !fmm) return false; // the wasm backend is not imported
  originals = { batchMatMul: bmm, fusedMatMul: fmm };
  unregisterKernel(BatchMatMul, "wasm");
  unregisterKernel(_FusedMatMul, "wasm");
  registerKernel({ ...bmm, kernelFunc: batchMatMul as unknown as KernelFunc });
  registerKernel({ ...fmm, kernelFunc: fusedMatMul as unknown as KernelFunc });
  enabled = true;
  return true;
}

/**
 * Turns the native products on or off at run time (the kernels stay
 * registered and pass everything to the wasm kernels while off). Returns
 * whether they are now active, which is `false` when they were never
 * registered.
 *
 * @example
 * ```ts
 * import { setBlasKernelsActive } from "./matmul.ts";
 * console.assert(setBlasKernelsActive(false) === false);
 * ```
 */
export function setBlasKernelsActive(active: boolean): boolean {
  enabled = active && originals !== null;
  return enabled;
}

/**
 * Whether the native products are in use, and how many products ran each way
 * (`reset: true` zeroes the counts after reading them).
 *
 * @example
 * ```ts
 * import { blasKernelState } from "./matmul.ts";
 * console.assert(blasKernelState().native >= 0);
 * ```
 */
export function blasKernelState(options: { reset?: boolean } = {}): BlasKernelState {
  const state = { active: enabled, ...counters };
  if (options.reset) counters = { native: 0, fallback: 0 };
  return state;
}
