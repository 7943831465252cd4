/**
 * Fused GELU (`gelu.ts`), LayerNorm, Adam, BatchNorm and contrastive-loss kernels for the wasm backend,
 * forward and backward, each one pass (LayerNorm: two) over the data on the
 * wasm heap instead of a chain of 5–20 small kernels with their temporaries.
 * `lib/model/_ops.ts` (`gelu`, `layerNorm`) runs them through
 * `tf.engine().runKernel` whenever the active backend has them, and the
 * composite ops otherwise; their names (`names.ts`) are the contract.
 *
 * - `VattGelu`, `VattGeluGrad`: see `gelu.ts`;
 * - `VattLayerNorm` `{x, gamma, beta}`, attr `epsilon` → normalised over the last axis;
 * - `VattLayerNormGrad` `{x, gamma, dy}`, attr `epsilon` → `[dx, dgamma, dbeta]`;
 * - `VattAdam` `{weight, m, v, grad}`, attrs `beta1, beta2, epsilon, lr, steps,
 *   decay` → `[weight', m', v']`: one Adam(W) update in one pass, rounding every
 *   step to float32 exactly as `lib/train/optimizer.ts`'s chain of ops does, so
 *   its results are bit-identical to that chain's (for an optimiser to use);
 * - `VattBatchNorm`, `VattBatchNormGrad`: training-mode BatchNorm, see `batch_norm.ts`;
 * - `VattContrastive`, `VattContrastiveGrad`: the two-way NCE / MIL-NCE losses, see
 *   `contrastive.ts`;
 * - `VattPrependToken`, `VattFirstToken` and their gradients: a tower's aggregation token
 *   in and out, see `agg_token.ts`.
 *
 * @module
 */
import {
  backend as activeBackend,
  getBackend,
  getKernel,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { SWITCHES } from "../switches.ts";
import {
  checkFloat,
  heapF32,
  heapOffset,
  sizeOf,
  type WasmBackendLike,
  type WasmKernelArgs,
} from "./_wasm_heap.ts";
import {
  ADAM_KERNEL,
  BATCH_NORM_GRAD_KERNEL,
  BATCH_NORM_KERNEL,
  CONTRASTIVE_GRAD_KERNEL,
  CONTRASTIVE_KERNEL,
  FIRST_TOKEN_GRAD_KERNEL,
  FIRST_TOKEN_KERNEL,
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  PREPEND_TOKEN_GRAD_KERNEL,
  PREPEND_TOKEN_KERNEL,
} from "./names.ts";
import { batchNorm, batchNormGrad } from "./batch_norm.ts";
import { contrastiveGradKernel, contrastiveKernel } from "./contrastive.ts";
import { gelu, geluGrad } from "./gelu.ts";
import { firstToken, firstTokenGrad, prependToken, prependTokenGrad } from "./agg_token.ts";
import { defineKernelSet, type KernelSet } from "./registry.ts";
import { nativeKernels } from "../native/native.ts";
import { type AdamScalars, simdKernelsOf } from "../simd/simd.ts";

type KernelArgs = WasmKernelArgs<{ epsilon?: number } & Record<string, unknown>>;

/** Mean and 1/√(variance + ε) of row `r` of `xs` (`d` wide). */
function rowStats(xs: Float32Array, r: number, d: number, epsilon: number): [number, number] {
  const o = r * d;
  let sum = 0;
  for (let j = 0; j < d; j++) sum += xs[o + j];
  const mean = sum / d;
  let sq = 0;
  for (let j = 0; j < d; j++) {
    const c = xs[o + j] - mean;
    sq += c * c;
  }
  return [mean, 1 / Math.sqrt(sq / d + epsilon)];
}

function layerNorm(args: KernelArgs): TensorInfo {
  const { x, gamma, beta } = args.inputs;
  checkFloat(LAYER_NORM_KERNEL, x, gamma, beta);
  const d = x.shape[x.shape.length - 1];
  const epsilon = args.attrs.epsilon ?? 1e-6;
  const out = args.backend.makeOutput([...x.shape], "float32");
  const native = nativeKernels();
  if (native) {
    const [xs, g, b, ys] = [x, gamma, beta, out].map((t) => heapF32(args.backend, t));
    native.layerNorm(xs, g, b, ys, xs.length / d, d, epsilon);
    return out;
  }
  const simd = simdKernelsOf(args.backend.wasm);
  if (simd) {
    const k = args.backend;
    const rows = sizeOf(x.shape) / d;
    simd.layerNorm(
      heapOffset(k, x),
      heapOffset(k, gamma),
      heapOffset(k, beta),
      heapOffset(k, out),
      rows,
      d,
      epsilon,
    );
    return out;
  }
  const xs = heapF32(args.backend, x);
  const g = heapF32(args.backend, gamma);
  const b = heapF32(args.backend, beta);
  const ys = heapF32(args.backend, out);
  const rows = xs.length / d;
  for (let r = 0; r < rows; r++) {
    const [mean, rstd] = rowStats(xs, r, d, epsilon);
    const o = r * d;
    for (let j = 0; j < d; j++) ys[o + j] = (xs[o + j] - mean) * rstd * g[j] + b[j];
  }
  return out;
}

function layerNormGrad(args: KernelArgs): TensorInfo[] {
  const { x, gamma, dy } = args.inputs;
  checkFloat(LAYER_NORM_GRAD_KERNEL, x, gamma, dy);
  const d = x.shape[x.shape.length - 1];
  const epsilon = args.attrs.epsilon ?? 1e-6;
  const dxInfo = args.backend.makeOutput([...x.shape], "float32");
  const dgInfo = args.backend.makeOutput([d], "float32");
  const dbInfo = args.backend.makeOutput([d], "float32");
  const simd = simdKernelsOf(args.backend.wasm);
  if (simd) {
    const k = args.backend;
    const rows = sizeOf(x.shape) / d;
    simd.layerNormGrad(
      heapOffset(k, x),
      heapOffset(k, gamma),
      heapOffset(k, dy),
      heapOffset(k, dxInfo),
      heapOffset(k, dgInfo),
      heapOffset(k, dbInfo),
      rows,
      d,
      epsilon,
    );
    return [dxInfo, dgInfo, dbInfo];
  }
  const xs = heapF32(args.backend, x);
  const g = heapF32(args.backend, gamma);
  const dys = heapF32(args.backend, dy);
  const dx = heapF32(args.backend, dxInfo);
  const dgamma = new Float64Array(d);
  const dbeta = new Float64Array(d);
  const rows = xs.length / d;
  for (let r = 0; r < rows; r++) {
    const [mean, rstd] = rowStats(xs, r, d, epsilon);
    const o = r * d;
    // dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = dy·γ
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < d; j++) {
      const xhat = (xs[o + j] - mean) * rstd;
      const gy = dys[o + j] * g[j];
      sumG += gy;
      sumGX += gy * xhat;
      dgamma[j] += dys[o + j] * xhat;
      dbeta[j] += dys[o + j];
    }
    const meanG = sumG / d;
    const meanGX = sumGX / d;
    for (let j = 0; j < d; j++) {
      const xhat = (xs[o + j] - mean) * rstd;
      dx[o + j] = rstd * (dys[o + j] * g[j] - meanG - xhat * meanGX);
    }
  }
  heapF32(args.backend, dgInfo).set(dgamma);
  heapF32(args.backend, dbInfo).set(dbeta);
  return [dxInfo, dgInfo, dbInfo];
}

/** The attributes of `VattAdam`. */
export interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  lr: number;
  /** Step count, 1-based (bias corrections). */
  steps: number;
  /** `lr·λ` for a decayed weight, else 0. */
  decay: number;
}

/**
 * Adam's constants, each the float32 scalar tensor the composite ops would
 * make: `lrc = lr/(1 − β1^t)` and `rbc2 = 1/(1 − β2^t)` fold the bias
 * corrections into products, so a step divides once and takes one root.
 */
export interface AdamConstants {
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  lrc: number;
  rbc2: number;
  eps: number;
  decay: number;
}

/**
 * The float32 constants of one Adam step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamConstants } from "./fused.ts";
 * const k = adamConstants({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lr: 0.1, steps: 1, decay: 0 });
 * assert.equal(k.c1, Math.fround(0.1));
 * assert.equal(k.rbc2, Math.fround(1 / (1 - 0.999)));
 * ```
 */
export function adamConstants(a: AdamAttrs): AdamConstants {
  const f = Math.fround;
  return {
    b1: f(a.beta1),
    c1: f(1 - a.beta1),
    b2: f(a.beta2),
    c2: f(1 - a.beta2),
    lrc: f(a.lr / (1 - a.beta1 ** a.steps)),
    rbc2: f(1 / (1 - a.beta2 ** a.steps)),
    eps: f(a.epsilon),
    decay: f(a.decay),
  };
}

/**
 * Adam's constants in the order the SIMD and native kernels take them, after
 * their arrays and count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamConstants, adamScalars } from "./fused.ts";
 * const k = adamConstants({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lr: 0.1, steps: 1, decay: 0 });
 * assert.deepEqual(adamScalars(k), [k.b1, k.c1, k.b2, k.c2, k.lrc, k.rbc2, k.eps, k.decay]);
 * ```
 */
export function adamScalars(k: AdamConstants): AdamScalars {
  return [k.b1, k.c1, k.b2, k.c2, k.lrc, k.rbc2, k.eps, k.decay];
}

/**
 * One Adam(W) step over arrays, rounding every operation to float32 in the
 * order of `lib/train/optimizer.ts`'s chain of ops, so the results are
 * bit-identical to that chain's. `out` may be the inputs `m` and `v` themselves
 * (each value is read before it is written); `out.w` must not alias a weight
 * another tensor shares.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamConstants, adamUpdate } from "./fused.ts";
 * const k = adamConstants({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lr: 0.1, steps: 1, decay: 0 });
 * const [w, m, v, g] = [Float32Array.of(1), Float32Array.of(0), Float32Array.of(0), Float32Array.of(0.5)];
 * const next = new Float32Array(1);
 * adamUpdate({ w, m, v, g }, { w: next, m, v }, k); // m and v in place
 * assert.ok(Math.abs(next[0] - 0.9) < 1e-6); // the first step moves by lr
 * assert.equal(m[0], Math.fround(Math.fround(0.5) * Math.fround(0.1)));
 * ```
 */
export function adamUpdate(
  input: { w: Float32Array; m: Float32Array; v: Float32Array; g: Float32Array },
  out: { w: Float32Array; m: Float32Array; v: Float32Array },
  k: AdamConstants,
): void {
  const f = Math.fround;
  const { w, m, v, g } = input;
  const { b1, c1, b2, c2, lrc, rbc2, eps, decay } = k;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = f(f(m[i] * b1) + f(gi * c1));
    const vi = f(f(v[i] * b2) + f(f(gi * gi) * c2));
    const step = f(f(mi * lrc) / f(f(Math.sqrt(f(vi * rbc2))) + eps));
    let next = f(w[i] - step);
    if (decay !== 0) next = f(next - f(w[i] * decay));
    out.m[i] = mi;
    out.v[i] = vi;
    out.w[i] = next;
  }
}

function adam(args: KernelArgs): TensorInfo[] {
  const { weight, m, v, grad } = args.inputs;
  checkFloat(ADAM_KERNEL, weight, m, v, grad);
  const k = adamConstants(args.attrs as unknown as AdamAttrs);
  const shape = [...weight.shape];
  const wOut = args.backend.makeOutput(shape, "float32");
  const mOut = args.backend.makeOutput(shape, "float32");
  const vOut = args.backend.makeOutput(shape, "float32");
  const view = (t: TensorInfo) => heapF32(args.backend, t); // after makeOutput: the heap may have moved
  const n = sizeOf(weight.shape);
  const native = nativeKernels();
  if (native) {
    const [w, mv, vv, g, wo, mo, vo] = [weight, m, v, grad, wOut, mOut, vOut].map(view);
    native.adam(w, mv, vv, g, wo, mo, vo, n, ...adamScalars(k));
    return [wOut, mOut, vOut];
  }
  const simd = simdKernelsOf(args.backend.wasm);
  if (simd) {
    const p = [weight, m, v, grad, wOut, mOut, vOut].map((t) => heapOffset(args.backend, t));
    simd.adam(p[0], p[1], p[2], p[3], p[4], p[5], p[6], n, ...adamScalars(k));
    return [wOut, mOut, vOut];
  }
  adamUpdate(
    { w: view(weight), m: view(m), v: view(v), g: view(grad) },
    { w: view(wOut), m: view(mOut), v: view(vOut) },
    k,
  );
  return [wOut, mOut, vOut];
}

/**
 * The fused kernels for the wasm backend (`VATT_FUSED=0` keeps them off, and
 * the model then uses the composite ops).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FUSED_KERNEL_SET } from "./fused.ts";
 * assert.equal(FUSED_KERNEL_SET.available("cpu"), false); // wasm only
 * ```
 */
export const FUSED_KERNEL_SET: KernelSet = defineKernelSet({
  name: "fused",
  backend: "wasm",
  switches: [SWITCHES.fused],
  kernels: {
    [GELU_KERNEL]: gelu,
    [GELU_GRAD_KERNEL]: geluGrad,
    [LAYER_NORM_KERNEL]: layerNorm,
    [LAYER_NORM_GRAD_KERNEL]: layerNormGrad,
    [ADAM_KERNEL]: adam,
    [BATCH_NORM_KERNEL]: batchNorm,
    [BATCH_NORM_GRAD_KERNEL]: batchNormGrad,
    [CONTRASTIVE_KERNEL]: contrastiveKernel,
    [CONTRASTIVE_GRAD_KERNEL]: contrastiveGradKernel,
    [PREPEND_TOKEN_KERNEL]: prependToken,
    [PREPEND_TOKEN_GRAD_KERNEL]: prependTokenGrad,
    [FIRST_TOKEN_KERNEL]: firstToken,
    [FIRST_TOKEN_GRAD_KERNEL]: firstTokenGrad,
  },
});

/** The JavaScript `VattAdam` loop beats the chain of wasm ops only up to this size. */
const JS_ADAM_MAX_SIZE = 65536;

/**
 * The largest weight (values) for which `VattAdam` is faster than the chain
 * of ops on the active backend: any size with the SIMD kernels, 65,536 with the
 * JavaScript loop (larger weights are faster through the vectorised wasm ops),
 * 0 where the backend has no `VattAdam`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import assert from "node:assert/strict";
 * import { fusedAdamMaxSize } from "./fused.ts";
 * await tf.setBackend("cpu");
 * assert.equal(fusedAdamMaxSize(), 0); // the cpu backend has no VattAdam
 * ```
 */
export function fusedAdamMaxSize(): number {
  const name = getBackend();
  if (!getKernel(ADAM_KERNEL, name)) return 0;
  const wasm = (activeBackend() as unknown as Partial<WasmBackendLike>).wasm;
  return wasm && simdKernelsOf(wasm) ? Infinity : JS_ADAM_MAX_SIZE;
}
