/**
 * vatt's kernel sets, in the order {@linkcode registerKernelSets} installs
 * them, and the calls `select.ts` makes on them all. Each set follows the one
 * lifecycle of `registry.ts`; the kernel names are in `names.ts`.
 *
 * - `wasm`: high-rank transposes, copy-free `Identity`, row sums and row
 *   gathers in JavaScript or SIMD (`wasm.ts`);
 * - `fused`: one-kernel GELU, LayerNorm, Adam, BatchNorm and the two-way contrastive losses,
 *   forward and backward (`fused.ts`);
 * - `matmul`: native matrix products when OpenBLAS loads (`matmul.ts`);
 * - `attention`: one-kernel attention each way, with OpenBLAS (`attention.ts`);
 * - `dense`: one-kernel dense layers each way, with OpenBLAS (`dense.ts`);
 * - `dropout`: the counter-based dropout kernel (`dropout.ts`);
 * - `layer`: a whole encoder layer each way, made of the kernels above (`encoder_layer.ts`).
 *
 * @module
 */
import { switchedOff } from "../switches.ts";
import { ATTENTION_KERNEL_SET } from "./attention.ts";
import { DENSE_KERNEL_SET } from "./dense.ts";
import { DROPOUT_KERNEL_SET } from "./dropout.ts";
import { ENCODER_LAYER_KERNEL_SET } from "./encoder_layer.ts";
import { FUSED_KERNEL_SET } from "./fused.ts";
import { MATMUL_KERNEL_SET } from "./matmul.ts";
import type { KernelSet } from "./registry.ts";
import { WASM_KERNEL_SET } from "./wasm.ts";

/** Every kernel set, in registration order. */
export const KERNEL_SETS: readonly KernelSet[] = [
  WASM_KERNEL_SET,
  FUSED_KERNEL_SET,
  MATMUL_KERNEL_SET,
  ATTENTION_KERNEL_SET,
  DENSE_KERNEL_SET,
  DROPOUT_KERNEL_SET,
  ENCODER_LAYER_KERNEL_SET, // last: it needs the others' kernels
];

/**
 * Registers every kernel set for `backend` that is available there (those
 * for other backends, switched off, or missing what they need stay off) and
 * returns the names of the sets registered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registerKernelSets } from "./mod.ts";
 * assert.deepEqual(registerKernelSets("cpu"), []); // every set is for wasm
 * ```
 */
export function registerKernelSets(backend: string): string[] {
  return KERNEL_SETS.filter((set) => set.backend === backend && set.register()).map((set) =>
    set.name
  );
}

/**
 * Removes every registered kernel set (the backends' own kernels and the
 * composite ops run again). For comparisons and tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KERNEL_SETS, unregisterKernelSets } from "./mod.ts";
 * unregisterKernelSets();
 * assert.ok(KERNEL_SETS.every((set) => !set.registered()));
 * ```
 */
export function unregisterKernelSets(): void {
  for (const set of [...KERNEL_SETS].reverse()) set.unregister();
}

/**
 * One line on the kernel sets for `backend`: each by name, with `off` and the
 * switch when switched off, `unavailable` when what it needs is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeKernelSets } from "./mod.ts";
 * // Read-only: test modules run in parallel and share the process's environment.
 * const line = describeKernelSets("wasm");
 * assert.match(line, /\bfused\b/);
 * if (Deno.env.get("VATT_FUSED") === "0") assert.match(line, /fused \(off: VATT_FUSED=0\)/);
 * assert.equal(describeKernelSets("cpu"), "none");
 * ```
 */
export function describeKernelSets(backend: string): string {
  const sets = KERNEL_SETS.filter((set) => set.backend === backend);
  if (sets.length === 0) return "none";
  return sets.map((set) => {
    if (set.registered() || set.available(backend)) return set.name;
    const off = set.switches.find((name) => switchedOff(name));
    return off ? `${set.name} (off: ${off}=0)` : `${set.name} (unavailable)`;
  }).join(", ");
}
