/**
 * Test helpers for the loss tests: switching between the `cpu` and `wasm` TFJS backends, and
 * float64 vector arithmetic for hand-computed expectations (independent of the code under test).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { FUSED_KERNEL_SET } from "../../../lib/backend/kernels/fused.ts";

/**
 * The backends every loss test runs on: `wasm` with tfjs's kernels only (the chain of ops, as
 * on cpu) and `wasm+fused` with vatt's fused kernels registered (the two-way losses then run
 * as one `VattContrastive` kernel each way, `lib/backend/kernels/contrastive.ts`).
 */
export const BACKENDS = ["cpu", "wasm", "wasm+fused"] as const;

let wasmPathsSet = false;

/** Makes `name` the active backend (loading the wasm binary from the package on first use). */
export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  const backend = name === "cpu" ? "cpu" : "wasm";
  if (backend === "wasm" && !wasmPathsSet) {
    const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
    setWasmPaths(dirname(entry) + "/");
    wasmPathsSet = true;
  }
  const ok = await tf.setBackend(backend);
  if (!ok || tf.getBackend() !== backend) throw new Error(`could not switch to backend ${name}`);
  if (name === "wasm+fused") {
    if (!FUSED_KERNEL_SET.register()) throw new Error("the fused kernels did not register");
  } else if (backend === "wasm") FUSED_KERNEL_SET.unregister();
}

/** Dot product in float64. */
export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** `a` divided by its L2 norm, in float64. */
export function unit(a: readonly number[]): number[] {
  const n = Math.sqrt(dot(a, a));
  return a.map((x) => x / n);
}

/** Asserts `|actual − expected| ≤ tol · max(1, |expected|)`, with a readable message. */
export function assertClose(actual: number, expected: number, tol: number, what = "value"): void {
  if (!(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)))) {
    throw new Error(`${what}: expected ${expected}, got ${actual} (tolerance ${tol})`);
  }
}

/** Reads a scalar tensor as a number, disposing it. */
export async function take(t: tf.Tensor): Promise<number> {
  const value = (await t.data())[0];
  t.dispose();
  return value;
}
