/**
 * Transparent huge pages for the wasm backend's heap (`heap.c`): every tensor
 * lives in one WebAssembly memory, which the kernels stream through by the
 * hundreds of megabytes a step; on Linux, where the system's policy is
 * "madvise", asking for huge pages over it lets the kernel back it with 2 MiB
 * pages (fewer TLB misses and page faults). `VATT_HUGE_PAGES=0` leaves the heap
 * on the system's default pages.
 *
 * @module
 */
import { switchedOff, SWITCHES } from "../switches.ts";
import { nativeKernels } from "./native.ts";

// One wasm heap an isolate (its base never moves: V8 reserves all 4 GiB up front).
let asked = false;
let status = "not asked (no wasm heap yet)";

/**
 * Advises huge pages over the heap that `heap` views (once), where
 * the native kernels are loaded and `VATT_HUGE_PAGES` is not off; returns
 * {@linkcode hugePagesStatus}'s line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adviseHugePages } from "./huge_pages.ts";
 * Deno.env.set("VATT_HUGE_PAGES", "0");
 * assert.equal(adviseHugePages(new Uint8Array(16)), "off (VATT_HUGE_PAGES=0)");
 * Deno.env.delete("VATT_HUGE_PAGES");
 * ```
 */
export function adviseHugePages(heap: Uint8Array): string {
  if (switchedOff(SWITCHES.hugePages)) return status = "off (VATT_HUGE_PAGES=0)";
  if (asked) return status;
  const kernels = nativeKernels();
  if (!kernels) return status = "no (the native kernels are off)";
  asked = true;
  const bytes = kernels.hugePages(heap);
  status = bytes > 0
    ? `advised over the wasm heap (${Math.round(bytes / 2 ** 20)} MiB reserved)`
    : bytes < 0
    ? "no (this system has no huge-page advice)"
    : "no (the heap's mapping was not found)";
  return status;
}

/** One line on the wasm heap's huge pages: advised (how much), off, or why not. */
export function hugePagesStatus(): string {
  return status;
}
