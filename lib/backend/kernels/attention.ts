/**
 * Multi-head attention as one kernel each way for the wasm backend, where the
 * native BLAS is loaded (`blas.ts`): `lib/model/_ops.ts`'s `fusedAttention`
 * runs them instead of the ~40 kernel calls a layer's attention takes as
 * composite ops (head split and merge transposes, two batched products,
 * scaling, biases, softmax, and their gradients).
 *
 * Queries, keys and values stay in the dense layers' layout `[B, L, H·dh]`:
 * each clip-head block is a strided matrix (rows `H·dh` apart) that
 * `cblas_sgemm` reads in place, so no transposes are needed. Where the native
 * kernels are built (`../native/native.ts`), every block runs in one native
 * call each way instead (`../native/attention.c`, on every core), else one
 * BLAS call per block product.
 *
 * - `VattAttention` `{q, k, v, bias?, mask?, drop?}`, attrs `heads, scale` →
 *   `[z, α]`: per clip `b` and head `h`, `α = softmax(scale·Q Kᵀ + bias_h +
 *   mask_b)` and `z = (α ⊙ drop_bh) V`; `bias` `[H, L, L]` (relative
 *   positions), `mask` `[B, L]` (added to every query's logits), `drop`
 *   `[B, H, L, L]` (attention dropout's mask: 0 or `1/(1 − rate)`, drawn by
 *   the caller), `α` `[B, H, L, L]` (before dropout) is kept for the backward
 *   pass.
 * - `VattAttentionGrad` `{dz, q, k, v, alpha, drop?}`, attrs `heads, scale,
 *   withBias` → `[dq, dk, dv]` and, with `withBias`, `dbias` `[H, L, L]` (the
 *   logits' gradient summed over clips).
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { SWITCHES } from "../switches.ts";
import { heapF32, heapOffset, type WasmBackendLike, type WasmKernelArgs } from "./_wasm_heap.ts";
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL } from "./names.ts";
import { defineKernelSet, type KernelSet } from "./registry.ts";
import { loadBlas, loadedBlas } from "../blas.ts";
import { simdKernelsOf } from "../simd/simd.ts";
import { nativeKernels } from "../native/native.ts";

type KernelArgs = WasmKernelArgs<
  { heads: number; scale: number; withBias?: boolean },
  Record<string, TensorInfo | undefined>
>;

/**
 * Sizes of `q` `[B, L, D]` with `heads`, every input checked against them (the
 * kernels read blocks by these sizes: a wrong shape must not read past a tensor).
 */
function sizes(name: string, args: KernelArgs) {
  const q = args.inputs.q!;
  const h = args.attrs.heads;
  if (q.shape.length !== 3 || !Number.isInteger(h) || h < 1 || q.shape[2] % h !== 0) {
    throw new RangeError(`${name}: q [${q.shape}] does not split into ${h} heads`);
  }
  const [b, l, d] = q.shape;
  const want: Record<string, number[]> = {
    k: [b, l, d],
    v: [b, l, d],
    dz: [b, l, d],
    bias: [h, l, l],
    mask: [b, l],
    alpha: [b, h, l, l],
    drop: [b, h, l, l],
  };
  for (const [key, t] of Object.entries(args.inputs)) {
    if (!t) continue;
    if (t.dtype !== "float32") throw new TypeError(`${name} needs float32 ${key}, got ${t.dtype}`);
    if (want[key] && t.shape.join() !== want[key].join()) {
      throw new RangeError(`${name}: ${key} is [${t.shape}], expected [${want[key]}]`);
    }
  }
  return { b, l, d, h, dh: d / h };
}

/** Softmax of one clip-head's logits `s` [L, L] in place, after its bias and mask. */
function softmaxJs(
  s: Float32Array,
  bias: Float32Array | null,
  mask: Float32Array | null,
  l: number,
): void {
  for (let i = 0; i < l; i++) {
    const o = i * l;
    let max = -Infinity;
    for (let j = 0; j < l; j++) {
      let x = s[o + j];
      if (bias) x += bias[o + j];
      if (mask) x += mask[j];
      s[o + j] = x;
      if (x > max) max = x;
    }
    let sum = 0;
    for (let j = 0; j < l; j++) {
      const e = Math.exp(s[o + j] - max);
      s[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < l; j++) s[o + j] /= sum;
  }
}

function softmaxGradJs(alpha: Float32Array, g: Float32Array, l: number): void {
  for (let i = 0; i < l; i++) {
    const o = i * l;
    let dot = 0;
    for (let j = 0; j < l; j++) dot += alpha[o + j] * g[o + j];
    for (let j = 0; j < l; j++) g[o + j] = alpha[o + j] * (g[o + j] - dot);
  }
}

/**
 * In place on `g` (one clip-head's `dα` [L, L]): the logits' gradient
 * `α ⊙ (g − Σ_j α_j·g_j)` by rows, `α` at value `block` of `alpha`.
 */
function softmaxGrad(
  be: WasmBackendLike,
  t: { alpha: TensorInfo; block: number; g: TensorInfo; l: number },
): void {
  const simd = simdKernelsOf(be.wasm);
  if (simd) {
    simd.attentionSoftmaxGrad(heapOffset(be, t.alpha) + t.block * 4, heapOffset(be, t.g), t.l, t.l);
  } else softmaxGradJs(heapF32(be, t.alpha, t.block), heapF32(be, t.g), t.l);
}

/** `out = a ⊙ m` over `n` values (the dropped probabilities of one clip-head). */
function times(out: Float32Array, a: Float32Array, m: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] * m[i];
}

/** A tensor's values as a view of the wasm heap, or `null` for none. */
function view(be: WasmBackendLike, t: TensorInfo | undefined | null): Float32Array | null {
  return t ? heapF32(be, t) : null;
}

function attention(args: KernelArgs): TensorInfo[] {
  const { q, k, v, bias, mask, drop } = args.inputs;
  const { b, l, d, h, dh } = sizes(ATTENTION_KERNEL, args);
  const be = args.backend;
  const z = be.makeOutput([b, l, d], "float32");
  const alpha = be.makeOutput([b, h, l, l], "float32");
  if (b * l * d === 0) return [z, alpha];
  const native = nativeKernels();
  if (native) { // every block in one call (../native/attention.c)
    const [fq, fk, fv] = [q, k, v].map((t) => heapF32(be, t!));
    const [fb, fm, fd] = [bias, mask, drop].map((t) => view(be, t));
    native.attention(fq, fk, fv, fb, fm, fd, heapF32(be, z), heapF32(be, alpha), {
      b,
      l,
      d,
      h,
      scale: args.attrs.scale,
    });
    return [z, alpha];
  }
  const dropped = drop ? be.makeOutput([l, l], "float32") : null; // α ⊙ drop of one clip-head
  const simd = simdKernelsOf(be.wasm);
  const blas = loadedBlas();
  const scale = args.attrs.scale;
  const ll = l * l;
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const at = bi * l * d + hi * dh; // the clip-head block's first value in q, k, v, z
      const block = (bi * h + hi) * ll; // its logits in alpha
      blas.gemm({ // S = scale·Q Kᵀ  [L, L]
        m: l,
        n: l,
        k: dh,
        transB: true,
        a: heapF32(be, q!, at),
        lda: d,
        b: heapF32(be, k!, at),
        ldb: d,
        c: heapF32(be, alpha, block),
        alpha: scale,
      });
      if (simd) {
        simd.attentionSoftmax(
          heapOffset(be, alpha) + block * 4,
          bias ? heapOffset(be, bias) + hi * ll * 4 : 0,
          mask ? heapOffset(be, mask) + bi * l * 4 : 0,
          bias ? 1 : 0,
          mask ? 1 : 0,
          l,
          l,
        );
      } else {
        softmaxJs(
          heapF32(be, alpha, block),
          bias ? heapF32(be, bias, hi * ll) : null,
          mask ? heapF32(be, mask, bi * l) : null,
          l,
        );
      }
      if (dropped) {
        times(heapF32(be, dropped), heapF32(be, alpha, block), heapF32(be, drop!, block), ll);
      }
      blas.gemm({ // Z = α V  [L, dh] (α ⊙ drop with dropout)
        m: l,
        n: dh,
        k: l,
        a: dropped ? heapF32(be, dropped) : heapF32(be, alpha, block),
        b: heapF32(be, v!, at),
        ldb: d,
        c: heapF32(be, z, at),
        ldc: d,
      });
    }
  }
  if (dropped) be.disposeData(dropped.dataId);
  return [z, alpha];
}

/** The backward pass's tensors: inputs, outputs, and two [L, L] scratch blocks. */
interface GradTensors {
  dz: TensorInfo;
  q: TensorInfo;
  k: TensorInfo;
  v: TensorInfo;
  alpha: TensorInfo;
  drop?: TensorInfo;
  dq: TensorInfo;
  dk: TensorInfo;
  dv: TensorInfo;
  dbias: TensorInfo | null;
  /** dα, then dS, of one clip-head. */
  scratch: TensorInfo;
  /** α ⊙ drop of one clip-head (with dropout only). */
  dropped: TensorInfo | null;
}

/** The gradients of one clip-head block (clip `bi`, head `hi`). */
function attentionGradBlock(
  be: WasmBackendLike,
  t: GradTensors,
  at: { bi: number; hi: number; l: number; d: number; h: number; dh: number; scale: number },
): void {
  const { l, d, dh, scale } = at;
  const ll = l * l;
  const start = at.bi * l * d + at.hi * dh;
  const block = (at.bi * at.h + at.hi) * ll;
  const blas = loadedBlas();
  blas.gemm({ // dα = dZ Vᵀ  [L, L] (the dropped α's gradient with dropout)
    m: l,
    n: l,
    k: dh,
    transB: true,
    a: heapF32(be, t.dz, start),
    lda: d,
    b: heapF32(be, t.v, start),
    ldb: d,
    c: heapF32(be, t.scratch),
  });
  if (t.dropped) { // through the dropout: dα ⊙ drop, and α ⊙ drop for dV
    const drop = heapF32(be, t.drop!, block, ll);
    times(heapF32(be, t.scratch), heapF32(be, t.scratch), drop, ll);
    times(heapF32(be, t.dropped), heapF32(be, t.alpha, block), drop, ll);
  }
  softmaxGrad(be, { alpha: t.alpha, block, g: t.scratch, l }); // dS = softmax'(dα)  [L, L]
  if (t.dbias) { // dbias_h += dS
    const acc = heapF32(be, t.dbias, at.hi * ll, ll);
    const ds = heapF32(be, t.scratch);
    for (let i = 0; i < ll; i++) acc[i] += ds[i];
  }
  const rows = { m: l, n: dh, k: l, ldb: d, ldc: d };
  // dQ = scale·dS K, dK = scale·dSᵀ Q  [L, dh]
  blas.gemm({
    ...rows,
    a: heapF32(be, t.scratch),
    b: heapF32(be, t.k, start),
    c: heapF32(be, t.dq, start),
    alpha: scale,
  });
  blas.gemm({
    ...rows,
    transA: true,
    a: heapF32(be, t.scratch),
    b: heapF32(be, t.q, start),
    c: heapF32(be, t.dk, start),
    alpha: scale,
  });
  blas.gemm({ // dV = αᵀ dZ  [L, dh] ((α ⊙ drop)ᵀ dZ with dropout)
    ...rows,
    transA: true,
    a: t.dropped ? heapF32(be, t.dropped) : heapF32(be, t.alpha, block),
    b: heapF32(be, t.dz, start),
    c: heapF32(be, t.dv, start),
  });
}

function attentionGrad(args: KernelArgs): TensorInfo[] {
  const { dz, q, k, v, alpha, drop } = args.inputs;
  const { b, l, d, h, dh } = sizes(ATTENTION_GRAD_KERNEL, args);
  const be = args.backend;
  const dq = be.makeOutput([b, l, d], "float32");
  const dk = be.makeOutput([b, l, d], "float32");
  const dv = be.makeOutput([b, l, d], "float32");
  const withBias = args.attrs.withBias === true;
  const dbias = withBias ? be.makeOutput([h, l, l], "float32") : null;
  const native = nativeKernels();
  if (native && b * l * d > 0) { // every block in one call (../native/attention.c)
    const grads = {
      dq: heapF32(be, dq),
      dk: heapF32(be, dk),
      dv: heapF32(be, dv),
      dbias: view(be, dbias),
    };
    const [fz, fq, fk, fv, fa] = [dz, q, k, v, alpha].map((t) => heapF32(be, t!));
    native.attentionGrad(fz, fq, fk, fv, fa, view(be, drop), grads, {
      b,
      l,
      d,
      h,
      scale: args.attrs.scale,
    });
    return dbias ? [dq, dk, dv, dbias] : [dq, dk, dv];
  }
  const t: GradTensors = {
    dz: dz!,
    q: q!,
    k: k!,
    v: v!,
    alpha: alpha!,
    drop,
    dq,
    dk,
    dv,
    dbias,
    scratch: be.makeOutput([l, l], "float32"),
    dropped: drop ? be.makeOutput([l, l], "float32") : null,
  };
  if (dbias) heapF32(be, dbias).fill(0);
  const scale = args.attrs.scale;
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) attentionGradBlock(be, t, { bi, hi, l, d, h, dh, scale });
  }
  be.disposeData(t.scratch.dataId);
  if (t.dropped) be.disposeData(t.dropped.dataId);
  return dbias ? [dq, dk, dv, dbias] : [dq, dk, dv];
}

/**
 * The attention kernels for the wasm backend, where the native BLAS loads
 * (`VATT_FUSED=0` keeps them off, as it does the other fused kernels, and
 * `VATT_FUSED_ATTENTION=0` these alone). Without them the model runs
 * attention as composite ops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ATTENTION_KERNEL_SET } from "./attention.ts";
 * assert.deepEqual(ATTENTION_KERNEL_SET.switches, ["VATT_FUSED", "VATT_FUSED_ATTENTION"]);
 * assert.equal(ATTENTION_KERNEL_SET.available("cpu"), false); // wasm only
 * ```
 */
export const ATTENTION_KERNEL_SET: KernelSet = defineKernelSet({
  name: "attention",
  backend: "wasm",
  switches: [SWITCHES.fused, SWITCHES.fusedAttention],
  kernels: { [ATTENTION_KERNEL]: attention, [ATTENTION_GRAD_KERNEL]: attentionGrad },
  requires: () => loadBlas() !== null,
});
