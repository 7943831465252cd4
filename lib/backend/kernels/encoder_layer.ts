/**
 * One pre-LayerNorm encoder layer as one kernel each way for the wasm
 * backend: `lib/model/transformer.ts` runs them instead of the layer's 13
 * fused operations (LayerNorms, four dense layers, attention, GELU, dropouts,
 * residual adds), each of which costs the engine a custom-gradient scope, a
 * tape node, saved clones and a backward scope — about 40 µs a layer-op on
 * these machines, as much as the `tiny` step's products take.
 *
 * The kernels are macros: they call the registered kernels of the layer's
 * parts (`VattLayerNorm`, `VattDense`, `VattAttention`, `VattGelu`,
 * `VattDropout`, the backend's `Add`, and their gradients) directly, in the
 * order the chain of operations runs them, with the same inputs, so both
 * ways are bit-identical to the chain (the gradients of an input that several
 * parts read are summed in the order the engine's backward pass sums them).
 *
 * - `VattEncoderLayer` `{x [B, L, d], ln1Gamma, ln1Beta, qKernel, qBias,
 *   kKernel, kBias, vKernel, vBias, oKernel, oBias, ln2Gamma, ln2Beta,
 *   fc1Kernel, fc1Bias, fc2Kernel, fc2Bias, bias? [H, L, L], mask? [B, L],
 *   drop? [B, H, L, L]}`, attrs {@linkcode EncoderLayerAttrs} → `[out, …saved]`
 *   ({@linkcode LAYER_SAVED}): `y = x + Drop(MHA(LN₁(x)))`,
 *   `out = y + Drop(W₂·Drop(GELU(W₁·LN₂(y))))`;
 * - `VattEncoderLayerGrad` `{dy, x, …saved, the kernels and gammas, drop?}`, the
 *   same attrs → the gradients of `x` and of the 16 weights in input order
 *   (and of `bias` with `withBias`).
 *
 * Where the native kernels are built, both run as one native call instead
 * (`encoder_layer_native.ts`: the layer's clips split over the threads; the
 * same values up to the order of the products' sums); `VATT_NATIVE_LAYER=0`
 * keeps the macro.
 *
 * @module
 */
import { getKernel, type TensorInfo } from "@tensorflow/tfjs-core";
import { SWITCHES } from "../switches.ts";
import type { WasmBackendLike, WasmKernelArgs } from "./_wasm_heap.ts";
import type { DropoutAttrs } from "./dropout.ts";
import type { EncoderLayerAttrs } from "./_encoder_layer_io.ts";
import { nativeEncoderLayer, nativeEncoderLayerGrad } from "./encoder_layer_native.ts";
import {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  DENSE_GRAD_KERNEL,
  DENSE_KERNEL,
  DROPOUT_KERNEL,
  ENCODER_LAYER_GRAD_KERNEL,
  ENCODER_LAYER_KERNEL,
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
} from "./names.ts";
import { defineKernelSet, type KernelSet } from "./registry.ts";

export { type EncoderLayerAttrs, LAYER_SAVED, LAYER_WEIGHTS } from "./_encoder_layer_io.ts";

/** The kernels the layer's kernels call; without any of them the model runs the parts. */
export const LAYER_PARTS = [
  LAYER_NORM_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  DENSE_KERNEL,
  DENSE_GRAD_KERNEL,
  ATTENTION_KERNEL,
  ATTENTION_GRAD_KERNEL,
  GELU_KERNEL,
  GELU_GRAD_KERNEL,
  DROPOUT_KERNEL,
  "Add",
] as const;

type KernelArgs = WasmKernelArgs<EncoderLayerAttrs>;

/** Runs the registered kernel `name` on the wasm backend; its outputs as a list. */
function part(
  be: WasmBackendLike,
  name: string,
  inputs: Record<string, TensorInfo | undefined>,
  attrs: object = {},
): TensorInfo[] {
  const kernel = getKernel(name, "wasm");
  if (!kernel) throw new Error(`${ENCODER_LAYER_KERNEL} needs the ${name} kernel`);
  // Absent optional inputs (attention's bias, mask, drop) stay undefined: the kernels skip them.
  const out = kernel.kernelFunc({
    inputs: inputs as never,
    backend: be as never,
    attrs: attrs as never,
  });
  return Array.isArray(out) ? out : [out];
}

/** Frees kernel outputs that are not returned. */
function free(be: WasmBackendLike, ...ts: TensorInfo[]): void {
  for (const t of ts) be.disposeData(t.dataId);
}

/** `t` through the dropout kernel (freeing `t`), or `t` itself without a dropout. */
function dropped(be: WasmBackendLike, t: TensorInfo, drop: DropoutAttrs | null): TensorInfo {
  if (!drop) return t;
  const [out] = part(be, DROPOUT_KERNEL, { x: t }, drop);
  free(be, t);
  return out;
}

/** `a + b` by the backend's `Add` (freeing `b`). */
function residual(be: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [sum] = part(be, "Add", { a, b });
  free(be, b);
  return sum;
}

/** `VattEncoderLayer`: `[out, …LAYER_SAVED]`. */
export function encoderLayer(args: KernelArgs): TensorInfo[] {
  const native = nativeEncoderLayer(args);
  if (native) return native;
  const { inputs: w, backend: be, attrs } = args;
  const { epsilon, heads, scale } = attrs;
  const [d1, d2, d3] = attrs.drops;
  const dense = (x: TensorInfo, m: "q" | "k" | "v" | "o" | "fc1" | "fc2") =>
    part(be, DENSE_KERNEL, { x, kernel: w[`${m}Kernel`], bias: w[`${m}Bias`] })[0];
  const [h1] = part(be, LAYER_NORM_KERNEL, { x: w.x, gamma: w.ln1Gamma, beta: w.ln1Beta }, {
    epsilon,
  });
  const [q, k, v] = [dense(h1, "q"), dense(h1, "k"), dense(h1, "v")]; // [B, L, d]
  const [z, alpha] = part(be, ATTENTION_KERNEL, {
    q,
    k,
    v,
    bias: w.bias,
    mask: w.mask,
    drop: w.drop,
  }, { heads, scale });
  const y = residual(be, w.x, dropped(be, dense(z, "o"), d1)); // [B, L, d]
  const [h2] = part(be, LAYER_NORM_KERNEL, { x: y, gamma: w.ln2Gamma, beta: w.ln2Beta }, {
    epsilon,
  });
  const f1 = dense(h2, "fc1"); // [B, L, mlp]
  const [inner, cdf] = part(be, GELU_KERNEL, { x: f1 }, d2 ?? {});
  const out = residual(be, y, dropped(be, dense(inner, "fc2"), d3));
  return [out, h1, q, k, v, alpha, z, y, h2, f1, cdf, inner];
}

/** `dy` of a dense layer's output → `[dx, dkernel, dbias]`. */
function denseGrad(be: WasmBackendLike, x: TensorInfo, kernel: TensorInfo, dy: TensorInfo) {
  return part(be, DENSE_GRAD_KERNEL, { x, kernel, dy }, { withBias: true });
}

/** `VattEncoderLayerGrad`: `[dx, …d(LAYER_WEIGHTS)]`, then `dbias` with `withBias`. */
export function encoderLayerGrad(args: KernelArgs): TensorInfo[] {
  const native = nativeEncoderLayerGrad(args);
  if (native) return native;
  const { inputs: s, backend: be, attrs } = args;
  const { epsilon, heads, scale, withBias } = attrs;
  const [d1, d2, d3] = attrs.drops;
  // The MLP branch: out = y + Drop(fc2(Drop(GELU(fc1(LN₂(y)))))).
  const dF2 = d3 ? part(be, DROPOUT_KERNEL, { x: s.dy }, d3)[0] : s.dy;
  const [dInner, dFc2K, dFc2B] = denseGrad(be, s.inner, s.fc2Kernel, dF2);
  if (dF2 !== s.dy) free(be, dF2);
  const [dF1] = part(be, GELU_GRAD_KERNEL, { x: s.f1, cdf: s.cdf, dy: dInner }, d2 ?? {});
  const [dH2, dFc1K, dFc1B] = denseGrad(be, s.h2, s.fc1Kernel, dF1);
  free(be, dInner, dF1);
  const [dyLn2, dLn2G, dLn2B] = part(be, LAYER_NORM_GRAD_KERNEL, {
    x: s.y,
    gamma: s.ln2Gamma,
    dy: dH2,
  }, { epsilon });
  free(be, dH2);
  const [dY] = part(be, "Add", { a: s.dy, b: dyLn2 }); // the residual's dy first, as the engine adds
  free(be, dyLn2);
  // The attention branch: y = x + Drop(o(MHA(LN₁(x)))).
  const dA = d1 ? part(be, DROPOUT_KERNEL, { x: dY }, d1)[0] : dY;
  const [dZ, dOK, dOB] = denseGrad(be, s.z, s.oKernel, dA);
  if (dA !== dY) free(be, dA);
  const [dQ, dK, dV, dBias] = part(be, ATTENTION_GRAD_KERNEL, {
    dz: dZ,
    q: s.q,
    k: s.k,
    v: s.v,
    alpha: s.alpha,
    drop: s.drop,
  }, { heads, scale, withBias });
  free(be, dZ);
  // The engine's backward pass visits v, k, then q, and sums LN₁'s output gradient in that order.
  const [dH1v, dVK, dVB] = denseGrad(be, s.h1, s.vKernel, dV);
  const [dH1k, dKK, dKB] = denseGrad(be, s.h1, s.kKernel, dK);
  const [dH1q, dQK, dQB] = denseGrad(be, s.h1, s.qKernel, dQ);
  const [dH1vk] = part(be, "Add", { a: dH1v, b: dH1k });
  const [dH1] = part(be, "Add", { a: dH1vk, b: dH1q });
  free(be, dQ, dK, dV, dH1v, dH1k, dH1q, dH1vk);
  const [dxLn1, dLn1G, dLn1B] = part(be, LAYER_NORM_GRAD_KERNEL, {
    x: s.x,
    gamma: s.ln1Gamma,
    dy: dH1,
  }, { epsilon });
  const [dX] = part(be, "Add", { a: dY, b: dxLn1 });
  free(be, dH1, dxLn1, dY);
  const grads = [dX, dLn1G, dLn1B, dQK, dQB, dKK, dKB, dVK, dVB, dOK, dOB];
  grads.push(dLn2G, dLn2B, dFc1K, dFc1B, dFc2K, dFc2B);
  return withBias ? [...grads, dBias] : grads;
}

/**
 * The encoder-layer kernels for the wasm backend, registered where every part
 * they call is (`VATT_FUSED=0` or `VATT_FUSED_LAYER=0` keeps them off).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENCODER_LAYER_KERNEL_SET } from "./encoder_layer.ts";
 * assert.deepEqual(ENCODER_LAYER_KERNEL_SET.switches, ["VATT_FUSED", "VATT_FUSED_LAYER"]);
 * assert.equal(ENCODER_LAYER_KERNEL_SET.available("cpu"), false); // wasm only
 * ```
 */
export const ENCODER_LAYER_KERNEL_SET: KernelSet = defineKernelSet({
  name: "layer",
  backend: "wasm",
  switches: [SWITCHES.fused, SWITCHES.fusedLayer],
  kernels: { [ENCODER_LAYER_KERNEL]: encoderLayer, [ENCODER_LAYER_GRAD_KERNEL]: encoderLayerGrad },
  requires: () => LAYER_PARTS.every((name) => getKernel(name, "wasm") !== undefined),
});
