/**
 * The SIMD kernels (`kernels.as.ts`, built into `simd_wasm.ts`):
 * a 4 KB WebAssembly module that imports tfjs-backend-wasm's memory and works
 * on tensors where they lie, four float32 lanes at a time. `../kernels/fused.ts`
 * and `../kernels/wasm.ts` call it for Adam, GELU, LayerNorm, bias-gradient
 * sums and dropout, and keep JavaScript loops for when it is off (`VATT_SIMD=0`) or cannot
 * be instantiated.
 *
 * Every pointer below is a byte offset into the shared heap (a tensor's
 * `memoryOffset`), every count a number of float32 values.
 *
 * @module
 */
import { switchedOff, SWITCHES } from "../switches.ts";
import { SIMD_WASM_BASE64 } from "./simd_wasm.ts";

/**
 * A dropout mask's arguments as the kernels take them after their arrays and
 * count: the first value's position, the two keys, the keep threshold and the
 * kept values' scale (`lib/backend/kernels/dropout.ts`, `maskArgs`).
 */
export type MaskArgs = [offset: number, k1: number, k2: number, threshold: number, scale: number];

/**
 * Adam(W)'s eight constants as the SIMD and native kernels take them after
 * their arrays and count (`../kernels/fused.ts`'s `adamScalars`).
 */
export type AdamScalars = [
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  lrc: number,
  rbc2: number,
  eps: number,
  decay: number,
];

/** The module's exports. */
export interface SimdKernels {
  /** One Adam(W) step, bit-identical to the chain of float32 ops (see `../kernels/fused.ts`). */
  adam(
    w: number,
    m: number,
    v: number,
    g: number,
    wOut: number,
    mOut: number,
    vOut: number,
    n: number,
    ...scalars: AdamScalars
  ): void;
  /** `y = x·Φ(x)` and `cdf = Φ(x)`. */
  gelu(x: number, y: number, cdf: number, n: number): void;
  /** `dx = dy·(Φ(x) + x·φ(x))`. */
  geluGrad(x: number, cdf: number, dy: number, dx: number, n: number): void;
  /** LayerNorm of `rows` rows of `d` values. */
  layerNorm(
    x: number,
    gamma: number,
    beta: number,
    y: number,
    rows: number,
    d: number,
    epsilon: number,
  ): void;
  /** LayerNorm's gradients: `dx` (as `x`), `dgamma` and `dbeta` (`d` values each). */
  layerNormGrad(
    x: number,
    gamma: number,
    dy: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    rows: number,
    d: number,
    epsilon: number,
  ): void;
  /** `out[j] = Σ_r x[r·cols + j]`. */
  sumRows(x: number, out: number, rows: number, cols: number): void;
  /** In place on `s [rows, cols]`: `softmax(s + bias + mask)` by rows (bias, mask when flagged). */
  attentionSoftmax(
    s: number,
    bias: number,
    mask: number,
    hasBias: number,
    hasMask: number,
    rows: number,
    cols: number,
  ): void;
  /** In place on `g [rows, cols]`: `α ⊙ (g − Σ_j α_j·g_j)` by rows. */
  attentionSoftmaxGrad(alpha: number, g: number, rows: number, cols: number): void;
  /**
   * `y[i] = x[i]·scale` where the counter-based bits of position `offset + i`
   * (keys `k1`, `k2`; `lib/util/counter_bits.ts`) are below `threshold`, else `x[i]·0`.
   */
  dropout(x: number, y: number, n: number, ...mask: MaskArgs): void;
  /** `gelu`, its output then multiplied by `dropout`'s mask of the same arguments. */
  geluDropout(x: number, y: number, cdf: number, n: number, ...mask: MaskArgs): void;
  /** `geluGrad` of `dy` multiplied by `dropout`'s mask of the same arguments. */
  geluGradDropout(
    x: number,
    cdf: number,
    dy: number,
    dx: number,
    n: number,
    ...mask: MaskArgs
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

// Read once: the kernels ask for every call.
let enabled = !switchedOff(SWITCHES.simd);

/**
 * Turns the SIMD kernels on or off for this process (the callers then use
 * their JavaScript loops); returns the previous setting. For comparisons and
 * tests; `VATT_SIMD=0` sets it off at start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setSimdEnabled, simdStatus } from "./simd.ts";
 * const before = setSimdEnabled(false);
 * assert.equal(simdStatus(), "JavaScript (VATT_SIMD=0)");
 * assert.equal(setSimdEnabled(before), false);
 * ```
 */
export function setSimdEnabled(on: boolean): boolean {
  const before = enabled;
  enabled = on;
  return before;
}

/**
 * Whether the SIMD kernels are switched on for this process (`VATT_SIMD`,
 * {@linkcode setSimdEnabled}); the native kernels follow it, so that switching
 * the SIMD module off runs the JavaScript loops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setSimdEnabled, simdSwitchedOn } from "./simd.ts";
 * const before = setSimdEnabled(false);
 * assert.equal(simdSwitchedOn(), false);
 * setSimdEnabled(before);
 * ```
 */
export function simdSwitchedOn(): boolean {
  return enabled;
}

function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes = Uint8Array.from(atob(SIMD_WASM_BASE64), (c) => c.charCodeAt(0));
      compiled = new WebAssembly.Module(bytes);
    } catch {
      compiled = null; // no wasm SIMD in this runtime
    }
  }
  return compiled;
}

/**
 * The kernels on `memory` (tfjs-backend-wasm's heap), or null when they are
 * switched off (`VATT_SIMD=0`, {@linkcode setSimdEnabled}) or this runtime
 * cannot run them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simdKernels } from "./simd.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const k = simdKernels(memory);
 * if (k) {
 *   const x = new Float32Array(memory.buffer, 0, 5);
 *   x.set([1, 2, 3, 4, 5]);
 *   k.sumRows(0, 64, 1, 5); // one row: a copy
 *   assert.deepEqual([...new Float32Array(memory.buffer, 64, 5)], [1, 2, 3, 4, 5]);
 * }
 * ```
 */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels | null {
  if (!enabled) return null;
  const known = instances.get(memory);
  if (known) return known;
  const m = module();
  if (!m) return null;
  try {
    const instance = new WebAssembly.Instance(m, { env: { memory } });
    const kernels = instance.exports as unknown as SimdKernels;
    instances.set(memory, kernels);
    return kernels;
  } catch {
    return null;
  }
}

/**
 * One line on the kernels in use: the SIMD module, or the JavaScript loops and why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simdStatus } from "./simd.ts";
 * assert.match(simdStatus(), /^(SIMD|JavaScript)/);
 * ```
 */
export function simdStatus(): string {
  if (!enabled) return "JavaScript (VATT_SIMD=0)";
  return module() ? "SIMD (vatt's wasm module)" : "JavaScript (no wasm SIMD in this runtime)";
}

/** What `backend.wasm` of tfjs-backend-wasm offers here (Emscripten's module). */
export interface WasmModuleLike {
  /** Emscripten's exports; `memory` is the heap's `WebAssembly.Memory`. */
  asm?: { memory?: unknown };
}

/**
 * The kernels on a tfjs wasm backend's heap (`backend.wasm`), or null (see
 * {@linkcode simdKernels}; also when the backend does not expose its memory).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simdKernelsOf } from "./simd.ts";
 * assert.equal(simdKernelsOf({}), null); // no memory to work on
 * ```
 */
export function simdKernelsOf(wasm: WasmModuleLike): SimdKernels | null {
  const memory = wasm.asm?.memory;
  return memory instanceof WebAssembly.Memory ? simdKernels(memory) : null;
}
