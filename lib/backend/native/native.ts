/**
 * The native kernels, loaded through FFI like the native BLAS: the elementwise
 * ones (`kernels.c`: GELU and its gradient, with or without dropout; dropout;
 * Adam; LayerNorm), multi-head attention each way (`attention.c`), and large
 * products split over their pool of threads, each part one BLAS call on one
 * thread (`gemm.c`, `pool.c`). The elementwise kernels compute the SIMD
 * module's values bit for bit (`../simd/kernels.as.ts`), on every core and
 * with the machine's full vector width, where the SIMD module runs four lanes
 * on one core; attention sums in another order than the per-block BLAS calls
 * it replaces (`../kernels/attention.ts`). `deno task build:native` compiles
 * them (a C compiler is needed) into `.native/` at the repository's root;
 * without the library, or with `VATT_NATIVE=0`, the SIMD module, the
 * per-block products and OpenBLAS's own threads run instead.
 *
 * Every array is a view of the wasm heap (a `Float32Array` at the tensor's
 * data), every count a number of float32 values.
 *
 * @module
 */
import { type MaskArgs, simdSwitchedOn } from "../simd/simd.ts";
import { LAYER_PHASES, type NativeKernels } from "./native_api.ts";
import { blasThreadsSetting, envValue, switchedOff, SWITCHES } from "../switches.ts";

export { LAYER_PHASES } from "./native_api.ts";
export type { AdamManyScalars, AttentionSizes, LayerCall, NativeKernels } from "./native_api.ts";

const F = "buffer" as const;
const SIZES = ["i32", "i32", "i32", "i32", "f32"] as const;
const DROP = ["u32", "u32", "u32", "u32", "f32"] as const;
const F32x8 = ["f32", "f32", "f32", "f32", "f32", "f32", "f32", "f32"] as const;
const SYMBOLS = {
  vatt_set_threads: { parameters: ["i32"], result: "void" },
  vatt_threads: { parameters: [], result: "i32" },
  vatt_pool_probe: { parameters: ["i32", F], result: "i32" },
  vatt_layer_phases: { parameters: ["i32", F], result: "i32" },
  vatt_heap_huge_pages: { parameters: [F], result: "i64" },
  vatt_cpu_amd_avx512: { parameters: [], result: "i32" },
  vatt_permute: { parameters: [F, F, F, F, "i32", "i32"], result: "i32" },
  vatt_gelu: { parameters: [F, F, F, "i32"], result: "void" },
  vatt_gelu_dropout: { parameters: [F, F, F, "i32", ...DROP], result: "void" },
  vatt_gelu_grad: { parameters: [F, F, F, F, "i32"], result: "void" },
  vatt_gelu_grad_dropout: { parameters: [F, F, F, F, "i32", ...DROP], result: "void" },
  vatt_dropout: { parameters: [F, F, "i32", ...DROP], result: "void" },
  vatt_layer_norm: { parameters: [F, F, F, F, "i32", "i32", "f32"], result: "void" },
  vatt_adam: { parameters: [F, F, F, F, F, F, F, "i32", ...F32x8], result: "void" },
  vatt_adam_many: {
    parameters: [F, F, F, F, "i32", "f32", "f32", "f32", "f32", "f32", "f32", "f32"],
    result: "void",
  },
  vatt_blas_bind: { parameters: [F], result: "i32" },
  vatt_sgemm: {
    parameters: ["i32", "i32", "i32", "i32", "i32", "f32", F, "i32", F, "i32", "f32", F, "i32"],
    result: "void",
  },
  vatt_encoder_layer: { parameters: [F, F, F, F, F], result: "void" },
  vatt_encoder_layer_grad: { parameters: [F, F, F, F, F], result: "void" },
  vatt_encoder_layer_scratch: { parameters: [F, "i32"], result: "i64" },
  vatt_attention: { parameters: [F, F, F, F, F, F, F, F, ...SIZES], result: "void" },
  vatt_attention_grad: { parameters: [F, F, F, F, F, F, F, F, F, F, ...SIZES], result: "void" },
} as const;

/**
 * Where `deno task build:native` writes the library, for the module at
 * `moduleUrl` (this file): `.native/` at the repository's root; `null` where
 * the module is no file (a compiled binary, a remote import).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtLibraryPath } from "./native.ts";
 * assert.equal(
 *   builtLibraryPath("file:///home/u/vatt/lib/backend/native/native.ts", "linux"),
 *   "/home/u/vatt/.native/libvatt_kernels.so",
 * );
 * assert.equal(builtLibraryPath("https://example.com/lib/backend/native/native.ts", "linux"), null);
 * assert.match(builtLibraryPath("file:///v/lib/backend/native/native.ts", "darwin")!, /\.dylib$/);
 * ```
 */
export function builtLibraryPath(moduleUrl: string, os: string): string | null {
  const url = new URL(moduleUrl);
  if (url.protocol !== "file:") return null;
  const name = os === "darwin" ? "libvatt_kernels.dylib" : "libvatt_kernels.so";
  return decodeURIComponent(new URL(`../../../.native/${name}`, url).pathname);
}

let cached: { kernels: NativeKernels | null; reason: string } | undefined;
// Read once, as the SIMD module's switch: the kernels ask on every call.
let enabled = !switchedOff(SWITCHES.native);

function open(path: string): { kernels: NativeKernels | null; reason: string } {
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    return { kernels: null, reason: "no FFI in this runtime" };
  }
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return { kernels: null, reason: "FFI not permitted (run with --allow-ffi)" };
    }
    return { kernels: null, reason: `not built (deno task build:native): ${path}` };
  }
  const s = lib.symbols;
  s.vatt_set_threads(blasThreadsSetting());
  // Positions and keys as the SIMD module takes them: modulo 2³² (a shard's offset may pass it).
  const u = (...[offset, k1, k2, threshold, scale]: MaskArgs) =>
    [offset >>> 0, k1 >>> 0, k2 >>> 0, threshold >>> 0, scale] as const;
  const kernels: NativeKernels = {
    gelu: (x, y, cdf, n) => s.vatt_gelu(x, y, cdf, n),
    geluDropout: (x, y, cdf, n, ...d) => s.vatt_gelu_dropout(x, y, cdf, n, ...u(...d)),
    geluGrad: (x, cdf, dy, dx, n) => s.vatt_gelu_grad(x, cdf, dy, dx, n),
    geluGradDropout: (x, cdf, dy, dx, n, ...d) =>
      s.vatt_gelu_grad_dropout(x, cdf, dy, dx, n, ...u(...d)),
    dropout: (x, y, n, ...d) => s.vatt_dropout(x, y, n, ...u(...d)),
    adam: (...args) => s.vatt_adam(...args),
    adamMany: (heap, at, sizes, decays, ...k) =>
      s.vatt_adam_many(heap, at, sizes, decays, sizes.length, ...k),
    layerNorm: (x, gamma, beta, y, rows, d, eps) =>
      s.vatt_layer_norm(x, gamma, beta, y, rows, d, eps),
    attention: (q, k, v, bias, mask, drop, z, alpha, { b, l, d, h, scale }) =>
      s.vatt_attention(q, k, v, bias, mask, drop, z, alpha, b, l, d, h, scale),
    attentionGrad: (dz, q, k, v, alpha, drop, g, { b, l, d, h, scale }) =>
      s.vatt_attention_grad(dz, q, k, v, alpha, drop, g.dq, g.dk, g.dv, g.dbias, b, l, d, h, scale),
    bindBlas: (library) => s.vatt_blas_bind(new TextEncoder().encode(`${library}\0`)) === 1,
    gemm: (transA, transB, ...rest) => s.vatt_sgemm(transA ? 1 : 0, transB ? 1 : 0, ...rest),
    encoderLayer: (heap, c) => s.vatt_encoder_layer(heap, c.at, c.dims, c.reals, c.drops),
    encoderLayerGrad: (heap, c) => s.vatt_encoder_layer_grad(heap, c.at, c.dims, c.reals, c.drops),
    encoderLayerScratch: (dims, withBias) =>
      Number(s.vatt_encoder_layer_scratch(dims, withBias ? 1 : 0)),
    permute: (src, dst, shape, perm, bytes) =>
      s.vatt_permute(src, dst, shape, perm, shape.length, bytes) === 1,
    cpuAmdAvx512: () => s.vatt_cpu_amd_avx512() === 1,
    threads: () => s.vatt_threads(),
    poolProbe: (runs) => s.vatt_pool_probe(runs.length, runs),
    hugePages: (heap) => Number(s.vatt_heap_huge_pages(heap)),
    setThreads: (n) => s.vatt_set_threads(n),
    layerPhases: (on) => {
      const out = new BigInt64Array(LAYER_PHASES.length);
      const count = s.vatt_layer_phases(on ? 1 : 0, out);
      if (count !== out.length) throw new Error(`the library times ${count} layer phases`);
      return out;
    },
  };
  const n = kernels.threads();
  return { kernels, reason: `native (${path}, ${n === 1 ? "1 thread" : `${n} threads`})` };
}

/**
 * The native kernels, loaded once per process, or `null` when they are not
 * built, not permitted, switched off (`VATT_NATIVE=0`, {@linkcode setNativeEnabled})
 * or when the SIMD module is off too (`VATT_SIMD=0` or `setSimdEnabled(false)`
 * ask for the JavaScript loops). Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeKernels } from "./native.ts";
 * const k = nativeKernels(); // null unless built
 * if (k) {
 *   const x = Float32Array.of(-1, 0, 1), y = new Float32Array(3), cdf = new Float32Array(3);
 *   k.gelu(x, y, cdf, 3);
 *   assert.equal(y[1], 0);
 *   assert.ok(Math.abs(cdf[2] - 0.8413447) < 1e-6); // Φ(1)
 * }
 * ```
 */
export function nativeKernels(): NativeKernels | null {
  if (!enabled || !simdSwitchedOn()) return null;
  if (!cached) {
    const path = envValue(SWITCHES.nativeLib) ??
      builtLibraryPath(import.meta.url, Deno.build.os);
    cached = path ? open(path) : { kernels: null, reason: "no library next to this module" };
  }
  return cached.kernels;
}

const bound = new Map<string, boolean>();

/**
 * The native kernels with the BLAS loaded from `library` bound for their
 * split products (`NativeKernels.gemm`), or `null` where the kernels are off
 * or the library does not bind (it is not loaded, or has no `cblas_sgemm`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeGemm } from "./native.ts";
 * assert.equal(nativeGemm("/nonexistent/libopenblas.so.0"), null); // never loaded
 * ```
 */
export function nativeGemm(library: string): NativeKernels | null {
  const kernels = nativeKernels();
  if (!kernels) return null;
  let ok = bound.get(library);
  if (ok === undefined) {
    ok = kernels.bindBlas(library);
    bound.set(library, ok);
  }
  return ok ? kernels : null;
}

/**
 * Turns the native kernels on or off for this process (the kernels then run
 * the SIMD module); returns the previous setting. For comparisons and tests;
 * `VATT_NATIVE=0` sets it off at start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeKernels, setNativeEnabled } from "./native.ts";
 * const before = setNativeEnabled(false);
 * assert.equal(nativeKernels(), null);
 * setNativeEnabled(before);
 * ```
 */
export function setNativeEnabled(on: boolean): boolean {
  const before = enabled;
  enabled = on;
  return before;
}

/**
 * One line on the native kernels: in use (the library, threads), or why not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeStatus } from "./native.ts";
 * assert.match(nativeStatus(), /^(native|off|not built|FFI|no )/);
 * ```
 */
export function nativeStatus(): string {
  if (!enabled) return "off (VATT_NATIVE=0)";
  if (!simdSwitchedOn()) return "off (the SIMD kernels are off: JavaScript loops)";
  nativeKernels();
  return cached!.reason;
}
