/**
 * The encoder-layer kernels as one native call each way (`../native/layer.c`),
 * where the native kernels are built and bound to the BLAS: the layer's clips
 * split over the threads once per pass, where the macro of `encoder_layer.ts`
 * calls each part's kernel on its own (a `tiny` layer's parts are each too
 * small to split, so the macro runs on one core). The values equal the
 * macro's up to the order of the products' sums (and of the position bias's
 * gradient, summed per thread); `VATT_NATIVE_LAYER=0` keeps the macro.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { BLAS_PARALLEL_MIN_MACS, loadBlas } from "../blas.ts";
import { type LayerCall, nativeGemm } from "../native/native.ts";
import { switchedOff, SWITCHES } from "../switches.ts";
import { type EncoderLayerAttrs, LAYER_SAVED, LAYER_WEIGHTS } from "./_encoder_layer_io.ts";
import { heapOffset, type WasmBackendLike, type WasmKernelArgs } from "./_wasm_heap.ts";
import { maskArgs } from "./dropout.ts";

/** The tensors' places in a call (`layer.c`'s enum). */
const T = {
  x: 0,
  weights: 1,
  bias: 17,
  mask: 18,
  drop: 19,
  out: 20,
  saved: 21,
  dy: 32,
  dx: 33,
  grads: 34,
  dbias: 50,
  scratch: 51,
  count: 52,
} as const;

type KernelArgs = WasmKernelArgs<EncoderLayerAttrs>;

let enabled = !switchedOff(SWITCHES.nativeLayer);
let calls = 0;

/**
 * Native layer calls (either way) this process has made: for tests and
 * profiles to tell the native layer from the macro, which runs the same
 * kernel names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeLayerCalls } from "./encoder_layer_native.ts";
 * assert.ok(nativeLayerCalls() >= 0);
 * ```
 */
export function nativeLayerCalls(): number {
  return calls;
}

/**
 * Turns the native layer on or off for this process (the layer kernels then
 * run their macro); returns the previous setting. For comparisons and tests;
 * `VATT_NATIVE_LAYER=0` sets it off at start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setNativeLayerEnabled } from "./encoder_layer_native.ts";
 * const before = setNativeLayerEnabled(false);
 * assert.equal(setNativeLayerEnabled(before), false);
 * ```
 */
export function setNativeLayerEnabled(on: boolean): boolean {
  const before = enabled;
  enabled = on;
  return before;
}

/**
 * Whether a layer of `b` clips of `l` tokens, `d` wide with an MLP `m` wide,
 * runs natively on `threads` threads: always where its largest product is
 * too small for the macro's products to be split
 * ({@linkcode BLAS_PARALLEL_MIN_MACS}), else where its clips split evenly
 * enough over the threads (each thread one at least, and an even split or
 * 4 a thread): one clip on two threads would leave idle the core that the
 * macro's split products use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeLayerApplies } from "./encoder_layer_native.ts";
 * assert.equal(nativeLayerApplies(3, 65, 64, 256, 2), true); // tiny: the macro runs on one thread
 * assert.equal(nativeLayerApplies(8, 63, 512, 2048, 2), true); // small's audio tower
 * assert.equal(nativeLayerApplies(1, 1569, 512, 2048, 2), false); // one clip at the paper's size
 * assert.equal(nativeLayerApplies(3, 1569, 512, 2048, 2), false); // 2 + 1 clips
 * assert.equal(nativeLayerApplies(9, 1569, 512, 2048, 2), true); // 5 + 4
 * assert.equal(nativeLayerApplies(1, 1569, 512, 2048, 1), true);
 * ```
 */
export function nativeLayerApplies(
  b: number,
  l: number,
  d: number,
  m: number,
  threads: number,
): boolean {
  if (threads <= 1 || b * l * d * m < BLAS_PARALLEL_MIN_MACS) return true;
  return b >= threads && (b % threads === 0 || b >= 4 * threads);
}

/** The saved tensors as wide as the MLP (the rest are `[B, L, D]`, but α). */
const MLP_WIDE = new Set(["f1", "cdf", "inner"]);

/** A call's sizes and its native kernels, where the layer of `args` runs natively. */
function prepare({ inputs, attrs }: KernelArgs) {
  const x = inputs.x;
  const m = inputs.fc1Kernel.shape[1];
  if (!enabled || x.dtype !== "float32" || x.shape.length !== 3) return null;
  const [b, l, d] = x.shape;
  if (b * l * d === 0) return null;
  const blas = loadBlas();
  const native = blas ? nativeGemm(blas.library) : null;
  const threads = native?.threads() ?? 1;
  if (!native || !nativeLayerApplies(b, l, d, m, threads)) return null;
  return { native, b, l, d, m, call: callOf(threads, { b, l, d, m }, attrs) };
}

/** The sizes, scalars and dropouts of a call, its tensors' places still empty. */
function callOf(
  threads: number,
  shape: { b: number; l: number; d: number; m: number },
  attrs: EncoderLayerAttrs,
): LayerCall {
  const { b, l, d, m } = shape;
  const parts = Math.max(1, Math.min(threads, b));
  const reals = new Float32Array(5);
  const drops = new Uint32Array(15);
  reals[0] = attrs.epsilon;
  reals[1] = attrs.scale;
  attrs.drops.forEach((drop, i) => {
    if (!drop) return;
    const [offset, k1, k2, threshold, scale] = maskArgs(drop);
    drops.set([1, offset >>> 0, k1 >>> 0, k2 >>> 0, threshold >>> 0], 5 * i);
    reals[2 + i] = scale;
  });
  const dims = Int32Array.of(b, l, d, attrs.heads, m, parts);
  return { at: new Uint32Array(T.count), dims, reals, drops };
}

/** Puts the byte offset of each tensor present at its place. */
function place(
  be: WasmBackendLike,
  at: Uint32Array,
  first: number,
  ts: (TensorInfo | undefined)[],
) {
  ts.forEach((t, i) => {
    if (t) at[first + i] = heapOffset(be, t);
  });
}

/** `VattEncoderLayer` natively: `[out, …LAYER_SAVED]`, or null where it does not apply. */
export function nativeEncoderLayer(args: KernelArgs): TensorInfo[] | null {
  const prepared = prepare(args);
  if (!prepared) return null;
  const { inputs: w, backend: be, attrs } = args;
  const { native, b, l, d, m, call } = prepared;
  const shapeOf = (name: string) =>
    name === "alpha" ? [b, attrs.heads, l, l] : [b, l, MLP_WIDE.has(name) ? m : d];
  const outs = ["out", ...LAYER_SAVED].map((name) => be.makeOutput(shapeOf(name), "float32"));
  place(be, call.at, T.x, [w.x, ...LAYER_WEIGHTS.map((name) => w[name])]);
  place(be, call.at, T.bias, [w.bias, w.mask, w.drop]);
  place(be, call.at, T.out, outs);
  native.encoderLayer(be.wasm.HEAPU8, call);
  calls++;
  return outs;
}

/** The shape of each weight of a layer `d` wide with an MLP `m` wide. */
function weightShape(name: (typeof LAYER_WEIGHTS)[number], d: number, m: number): number[] {
  if (name === "fc1Kernel") return [d, m];
  if (name === "fc1Bias") return [m];
  if (name === "fc2Kernel") return [m, d];
  return name.endsWith("Kernel") ? [d, d] : [d];
}

/** `VattEncoderLayerGrad` natively: `[dx, …d(LAYER_WEIGHTS)]` (then `dbias`), or null. */
export function nativeEncoderLayerGrad(args: KernelArgs): TensorInfo[] | null {
  const prepared = prepare(args);
  if (!prepared) return null;
  const { inputs: s, backend: be, attrs } = args;
  const { native, b, l, d, m, call } = prepared;
  const dx = be.makeOutput([b, l, d], "float32");
  const grads = LAYER_WEIGHTS.map((name) => be.makeOutput(weightShape(name, d, m), "float32"));
  const dbias = attrs.withBias ? be.makeOutput([attrs.heads, l, l], "float32") : undefined;
  const floats = native.encoderLayerScratch(call.dims, attrs.withBias);
  const scratch = be.makeOutput([floats], "float32");
  place(be, call.at, T.x, [s.x, ...LAYER_WEIGHTS.map((name) => s[name])]);
  place(be, call.at, T.drop, [s.drop, undefined, ...LAYER_SAVED.map((name) => s[name])]);
  place(be, call.at, T.dy, [s.dy, dx, ...grads, dbias, scratch]);
  native.encoderLayerGrad(be.wasm.HEAPU8, call);
  calls++;
  be.disposeData(scratch.dataId);
  return [dx, ...grads, ...(dbias ? [dbias] : [])];
}
