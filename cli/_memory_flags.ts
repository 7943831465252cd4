/**
 * The memory flags of the training commands: `--recompute` and `--accumulate`
 * (choices and defaults from `lib/config/memory_config.ts`).
 *
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import {
  DEFAULT_ACCUMULATE,
  DEFAULT_RECOMPUTE,
  RECOMPUTE_MODES,
} from "../lib/config/memory_config.ts";
import { integerFlag } from "./_options.ts";

/**
 * `--recompute none|layers|auto`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recomputeOption } from "./_memory_flags.ts";
 * assert.equal(recomputeOption().defaultValue, "auto");
 * ```
 */
export function recomputeOption() {
  return new Option(
    "--recompute <mode>",
    "recompute each transformer layer in the backward pass (less memory, the same gradients): " +
      "none, layers, or auto (when the memory plan says the batch would not fit without)",
  ).choices(RECOMPUTE_MODES).default(DEFAULT_RECOMPUTE);
}

/**
 * `--accumulate K`, with the command's own help.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accumulateOption } from "./_memory_flags.ts";
 * assert.equal(accumulateOption("micro-batches").defaultValue, 1);
 * ```
 */
export function accumulateOption(help: string) {
  return new Option("--accumulate <k>", help)
    .argParser(integerFlag("--accumulate", { min: 1 }))
    .default(DEFAULT_ACCUMULATE);
}
