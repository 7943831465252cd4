/**
 * The environment switches of `lib/backend/` (`VATT_*`), read in this one
 * place: each is on unless set to `0`, `off`, `false` or `no` (any case);
 * without `--allow-env` every one holds its default. {@linkcode effectiveSwitches}
 * reports them all, for a run's `config.json`.
 *
 * | switch | default | what it turns off or sets |
 * | --- | --- | --- |
 * | `VATT_BLAS` | on | the native BLAS (OpenBLAS through FFI) and with it the native products and attention kernels |
 * | `VATT_BLAS_LIB` | search | the BLAS library to load (a path); unset: the usual names |
 * | `VATT_BLAS_THREADS` | every core | threads for large native products |
 * | `VATT_BLAS_CORE` | on | OpenBLAS's AVX2 (Haswell) kernels on AMD processors with AVX-512, where they are faster than the ones OpenBLAS picks (`blas_core.ts`); an `OPENBLAS_CORETYPE` of the user's wins |
 * | `VATT_SIMD` | on | the SIMD WebAssembly module of the kernels (JavaScript loops instead) |
 * | `VATT_NATIVE` | on | the native kernels (`native/`, built by `deno task build:native`: elementwise, attention, the split of large products): the SIMD module, per-block BLAS calls and OpenBLAS's threads instead |
 * | `VATT_NATIVE_LIB` | built | the native kernels' library to load (a path); unset: the one `build:native` writes |
 * | `VATT_FUSED` | on | the fused GELU, LayerNorm, Adam, attention and dense-layer kernels |
 * | `VATT_FUSED_ATTENTION` | on | the attention kernels alone |
 * | `VATT_FUSED_LAYER` | on | the whole-encoder-layer kernels alone (each layer's parts then run one by one) |
 * | `VATT_NATIVE_LAYER` | on | the whole encoder layer as one native call each way, its clips split over the threads (`native/layer.c`): the layer kernels then call the part kernels one by one |
 * | `VATT_WASM_KERNELS` | on | the replacement Transpose, Identity, Sum and GatherV2 kernels |
 * | `VATT_HUGE_PAGES` | on | transparent huge pages over the wasm heap, where the native kernels are loaded (`native/huge_pages.ts`) |
 * | `VATT_EAGER_BACKPROP` | on | the backward pass that frees each tape node's memory when it is done (`backprop.ts`): tfjs's own instead |
 *
 * @module
 */

/** The names of the backend's environment switches. */
export const SWITCHES = {
  blas: "VATT_BLAS",
  blasLib: "VATT_BLAS_LIB",
  blasThreads: "VATT_BLAS_THREADS",
  blasCore: "VATT_BLAS_CORE",
  simd: "VATT_SIMD",
  native: "VATT_NATIVE",
  nativeLib: "VATT_NATIVE_LIB",
  fused: "VATT_FUSED",
  fusedAttention: "VATT_FUSED_ATTENTION",
  fusedLayer: "VATT_FUSED_LAYER",
  nativeLayer: "VATT_NATIVE_LAYER",
  wasmKernels: "VATT_WASM_KERNELS",
  eagerBackprop: "VATT_EAGER_BACKPROP",
  hugePages: "VATT_HUGE_PAGES",
} as const;

/**
 * The environment variable `name`, or `undefined` when it is unset, empty, or
 * not readable (no `--allow-env`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envValue } from "./switches.ts";
 * Deno.env.set("VATT_EXAMPLE_VALUE", "7");
 * assert.equal(envValue("VATT_EXAMPLE_VALUE"), "7");
 * Deno.env.delete("VATT_EXAMPLE_VALUE");
 * assert.equal(envValue("VATT_EXAMPLE_VALUE"), undefined);
 * ```
 */
export function envValue(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/**
 * Whether any of the environment variables `names` says off (`0`, `off`,
 * `false` or `no`, any case). Without `--allow-env` nothing is off.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { switchedOff } from "./switches.ts";
 * Deno.env.set("VATT_EXAMPLE_SWITCH", "Off");
 * assert.equal(switchedOff("VATT_EXAMPLE_SWITCH"), true);
 * Deno.env.set("VATT_EXAMPLE_SWITCH", "1");
 * assert.equal(switchedOff("VATT_EXAMPLE_SWITCH"), false);
 * Deno.env.delete("VATT_EXAMPLE_SWITCH");
 * ```
 */
export function switchedOff(...names: string[]): boolean {
  return offIn(envValue, names);
}

/** A reader of environment variables: the value, or `undefined` when unset. */
export type EnvReader = (name: string) => string | undefined;

/**
 * Whether `read` says off for any of `names` ({@linkcode switchedOff} with
 * another reader than the environment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { offIn } from "./switches.ts";
 * assert.equal(offIn((name) => name === "VATT_X" ? "no" : undefined, ["VATT_Y", "VATT_X"]), true);
 * assert.equal(offIn(() => undefined, ["VATT_X"]), false);
 * ```
 */
export function offIn(read: EnvReader, names: string[]): boolean {
  return names.some((name) => /^(0|off|false|no)$/i.test((read(name) ?? "").trim()));
}

/**
 * Threads for large native products: `VATT_BLAS_THREADS` when it is a
 * positive integer, else every core (as PyTorch and OpenBLAS themselves do);
 * `read` reads the variable (default: the process's environment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blasThreadsSetting } from "./switches.ts";
 * assert.ok(blasThreadsSetting() >= 1); // (tests/lib/backend/switches_test.ts sets it)
 * ```
 */
export function blasThreadsSetting(read: EnvReader = envValue): number {
  const asked = Number(read(SWITCHES.blasThreads));
  if (Number.isInteger(asked) && asked > 0) return asked;
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

const onOff = (off: boolean) => off ? "off" : "on";

/**
 * Each `VATT_*` switch the backend reads, with its effective value: `"on"` or
 * `"off"` for the switches, the thread count for `VATT_BLAS_THREADS`, the path
 * (or `"search"`: the usual library names) for `VATT_BLAS_LIB`.
 * `VATT_FUSED_ATTENTION` reads `"off"` when `VATT_FUSED` turns it off. Read
 * through `read` at the call (default: the process's environment; tests pass
 * their own, since parallel test modules share the environment); a run
 * records it in its `config.json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectiveSwitches } from "./switches.ts";
 * // (Read only: the test runner's parallel modules share the environment;
 * // tests/lib/backend/switches_test.ts sets the switches.)
 * const switches = effectiveSwitches();
 * assert.match(switches.VATT_FUSED, /^(on|off)$/);
 * assert.ok(Number(switches.VATT_BLAS_THREADS) >= 1);
 * ```
 */
export function effectiveSwitches(read: EnvReader = envValue): Record<string, string> {
  const s = SWITCHES;
  const off = (...names: string[]) => onOff(offIn(read, names));
  return {
    [s.blas]: off(s.blas),
    [s.blasLib]: read(s.blasLib) || "search",
    [s.blasThreads]: String(blasThreadsSetting(read)),
    [s.blasCore]: off(s.blas, s.blasCore),
    [s.simd]: off(s.simd),
    [s.native]: off(s.native),
    [s.nativeLib]: read(s.nativeLib) || "built",
    [s.fused]: off(s.fused),
    [s.fusedAttention]: off(s.fused, s.fusedAttention),
    [s.fusedLayer]: off(s.fused, s.fusedLayer),
    [s.nativeLayer]: off(s.native, s.fused, s.fusedLayer, s.nativeLayer),
    [s.wasmKernels]: off(s.wasmKernels),
    [s.eagerBackprop]: off(s.eagerBackprop),
    [s.hugePages]: off(s.native, s.hugePages),
  };
}
