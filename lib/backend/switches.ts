/**
 * What the replacement kernels of `lib/backend/` share: the environment
 * switches that turn them off, and registering or removing a set of them.
 *
 * @module
 */
import {
  getKernel,
  type KernelConfig,
  registerKernel,
  unregisterKernel,
} from "@tensorflow/tfjs-core";

/**
 * Whether any of the environment variables `names` says off (`0`, `off`,
 * `false` or `no`, any case). Without `--allow-env` nothing is off.
 *
 * @example
 * ```ts
 * import { switchedOff } from "./switches.ts";
 * console.assert(typeof switchedOff("VATT_FUSED") === "boolean");
 * ```
 */
export function switchedOff(...names: string[]): boolean {
  try {
    return names.some((name) => /^(0|off|false|no)$/i.test((Deno.env.get(name) ?? "").trim()));
  } catch {
    return false; // no --allow-env: the defaults hold
  }
}

/**
 * Registers each kernel of `configs` that its backend does not have yet.
 *
 * @example
 * ```ts
 * import { registerKernels } from "./switches.ts";
 * registerKernels([]);
 * ```
 */
export function registerKernels(configs: readonly KernelConfig[]): void {
  for (const config of configs) {
    if (!getKernel(config.kernelName, config.backendName)) registerKernel(config);
  }
}

/**
 * Removes each kernel of `configs` from its backend, where it is registered.
 *
 * @example
 * ```ts
 * import { unregisterKernels } from "./switches.ts";
 * unregisterKernels([]);
 * ```
 */
export function unregisterKernels(configs: readonly KernelConfig[]): void {
  for (const config of configs) {
    if (getKernel(config.kernelName, config.backendName)) {
      unregisterKernel(config.kernelName, config.backendName);
    }
  }
}
