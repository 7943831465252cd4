/**
 * How a training run saves memory: recomputation of the transformer layers
 * in the backward pass (`--recompute`) and gradient accumulation over
 * micro-batches (`--accumulate`, fine-tuning). Defaults live here once.
 *
 * @module
 */
import { checkInteger, checkOneOf } from "./validate.ts";

/**
 * When each transformer layer is recomputed in the backward pass instead of
 * keeping its activations: `none`, `layers` (always), or `auto` (when the
 * memory plan says the batch would not fit without it).
 */
export const RECOMPUTE_MODES = ["none", "layers", "auto"] as const;

/** One of {@linkcode RECOMPUTE_MODES}. */
export type RecomputeMode = (typeof RECOMPUTE_MODES)[number];

/** Recomputation when none is asked for: the memory plan decides. */
export const DEFAULT_RECOMPUTE: RecomputeMode = "auto";

/** Micro-batches per optimiser step when none is asked for: 1 (no accumulation). */
export const DEFAULT_ACCUMULATE = 1;

/**
 * Checks a recompute mode (a RangeError naming the value otherwise).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRecompute } from "./memory_config.ts";
 * assert.equal(checkRecompute("layers"), "layers");
 * assert.throws(() => checkRecompute("all"), /recompute/);
 * ```
 */
export function checkRecompute(value: unknown): RecomputeMode {
  return checkOneOf(value as string, RECOMPUTE_MODES, "recompute");
}

/**
 * Checks micro-batches per step against the batch: an integer ≥ 1 that
 * divides it (RangeError otherwise).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkAccumulate } from "./memory_config.ts";
 * assert.equal(checkAccumulate(4, { batchSize: 16 }), 4);
 * assert.throws(() => checkAccumulate(3, { batchSize: 16 }), /divide the batch 16/);
 * ```
 */
export function checkAccumulate(value: unknown, options: { batchSize: number }): number {
  const k = checkInteger(value, "accumulate", { min: 1 });
  if (options.batchSize % k !== 0) {
    throw new RangeError(
      `accumulate ${k} must divide the batch ${options.batchSize} (micro-batches of equal size)`,
    );
  }
  return k;
}
