/**
 * The one lifecycle of vatt's kernels: every set of kernels (`fused.ts`,
 * `attention.ts`, `matmul.ts`, `wasm.ts`) is a {@linkcode KernelSet} made by
 * {@linkcode defineKernelSet}, registered and removed the same way, and the
 * state they share lives here: the backend kernels a set replaced (restored
 * when it is removed), which sets are registered, and the call counters the
 * benchmarks read.
 *
 * A set holds vatt's own kernels (names from `names.ts`) and replacements of
 * a backend's kernels under tfjs's names; a replacement reaches the kernel it
 * replaced through {@linkcode originalKernel}.
 *
 * @module
 */
import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  registerKernel,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import { switchedOff } from "../switches.ts";

/** One set of kernels, registered and removed together. */
export interface KernelSet {
  /** Short name, as `vatt info` shows it (`fused`, `attention`, `matmul`, `wasm`). */
  readonly name: string;
  /** The backend the kernels run on. */
  readonly backend: string;
  /** The `VATT_*` switches any of which keeps the set off. */
  readonly switches: readonly string[];
  /** Whether the set can run on `backend` here: not switched off, its needs met. */
  available(backend: string): boolean;
  /** Whether the set is registered now. */
  registered(): boolean;
  /**
   * Registers the set where it is available (idempotent) and returns whether
   * it is registered.
   */
  register(): boolean;
  /** Removes the set, restoring the backend's own kernels it replaced (for comparisons and tests). */
  unregister(): void;
}

/** The parts of a kernel set that differ from one to another. */
export interface KernelSetSpec {
  /** See {@linkcode KernelSet.name}. */
  name: string;
  /** See {@linkcode KernelSet.backend}. */
  backend: string;
  /** See {@linkcode KernelSet.switches}. */
  switches: readonly string[];
  /** Kernel functions by kernel name: vatt's own, or replacements of the backend's. */
  kernels: Record<string, unknown>;
  /** What else the set needs (a loaded BLAS, the backend's kernels it wraps); default: nothing. */
  requires?: () => boolean;
}

/** The backend kernels replaced by a registered set, by `backend/name`. */
const originals = new Map<string, KernelConfig | null>();
/** The registered sets, by name. */
const registeredSets = new Set<string>();
/** Calls counted by {@linkcode countCall}, by key. */
const counts = new Map<string, number>();

const key = (name: string, backend: string) => `${backend}/${name}`;

/**
 * A {@linkcode KernelSet} from its description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { defineKernelSet } from "./registry.ts";
 * const set = defineKernelSet({
 *   name: "example",
 *   backend: "cpu",
 *   switches: ["VATT_EXAMPLE_KERNELS"],
 *   kernels: { VattExampleKernel: () => ({}) },
 * });
 * assert.equal(set.register(), true);
 * assert.ok(tf.getKernel("VattExampleKernel", "cpu"));
 * set.unregister();
 * assert.equal(tf.getKernel("VattExampleKernel", "cpu"), undefined);
 * assert.equal(set.available("wasm"), false);
 * ```
 */
export function defineKernelSet(spec: KernelSetSpec): KernelSet {
  const set: KernelSet = {
    name: spec.name,
    backend: spec.backend,
    switches: spec.switches,
    available: (backend) =>
      backend === spec.backend && !switchedOff(...spec.switches) && (spec.requires?.() ?? true),
    registered: () => registeredSets.has(spec.name),
    register() {
      if (set.registered()) return true;
      if (!set.available(spec.backend)) return false;
      for (const [name, kernelFunc] of Object.entries(spec.kernels)) {
        const original = getKernel(name, spec.backend) ?? null;
        originals.set(key(name, spec.backend), original);
        if (original) unregisterKernel(name, spec.backend);
        registerKernel({
          ...(original ?? { kernelName: name, backendName: spec.backend }),
          kernelFunc: kernelFunc as KernelFunc,
        });
      }
      registeredSets.add(spec.name);
      return true;
    },
    unregister() {
      if (!set.registered()) return;
      for (const name of Object.keys(spec.kernels)) {
        if (getKernel(name, spec.backend)) unregisterKernel(name, spec.backend);
        const original = originals.get(key(name, spec.backend));
        if (original) registerKernel(original);
        originals.delete(key(name, spec.backend));
      }
      registeredSets.delete(spec.name);
    },
  };
  return set;
}

/**
 * The backend's own kernel function that a registered set replaced under
 * `name`: a replacement calls it for the cases it leaves to tfjs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { originalKernel } from "./registry.ts";
 * assert.throws(() => originalKernel("NoSuchKernel", "wasm"), /not replaced/);
 * ```
 */
export function originalKernel<A, R>(name: string, backend: string): (args: A) => R {
  const original = originals.get(key(name, backend));
  if (!original) throw new Error(`The ${backend} kernel ${name} is not replaced by a vatt kernel`);
  return original.kernelFunc as unknown as (args: A) => R;
}

/**
 * Counts one call under `counter` (e.g. `matmul.native`), for
 * {@linkcode kernelCallCounts}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countCall, kernelCallCounts } from "./registry.ts";
 * countCall("example.calls");
 * assert.equal(kernelCallCounts({ reset: true })["example.calls"], 1);
 * assert.equal(kernelCallCounts()["example.calls"], undefined);
 * ```
 */
export function countCall(counter: string): void {
  counts.set(counter, (counts.get(counter) ?? 0) + 1);
}

/**
 * The calls counted since the last reset, by counter; with `prefix` (e.g.
 * `matmul`) only the counters `prefix.*`, by the rest of their name.
 * `reset: true` zeroes the counters read, after reading them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countCall, kernelCallCounts } from "./registry.ts";
 * countCall("example.count");
 * countCall("example.count");
 * assert.equal(kernelCallCounts()["example.count"], 2);
 * assert.deepEqual(kernelCallCounts({ prefix: "example", reset: true }), { count: 2 });
 * assert.equal(kernelCallCounts()["example.count"], undefined);
 * ```
 */
export function kernelCallCounts(
  options: { prefix?: string; reset?: boolean } = {},
): Record<string, number> {
  const start = options.prefix === undefined ? "" : `${options.prefix}.`;
  const out: Record<string, number> = {};
  for (const [counter, n] of counts) {
    if (!counter.startsWith(start)) continue;
    out[counter.slice(start.length)] = n;
    if (options.reset) counts.delete(counter);
  }
  return out;
}
