/**
 * The `--backend` option of the commands that run a model (kept apart from
 * `_options.ts`: it loads TensorFlow.js, which the other commands need not).
 *
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import { BACKEND_NAMES } from "../lib/backend/select.ts";

/**
 * The `--backend` option of the commands that run a model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backendOption } from "./_backend_option.ts";
 * assert.equal(backendOption().defaultValue, "auto");
 * ```
 */
export function backendOption() {
  return new Option("--backend <name>", "TFJS backend").choices(BACKEND_NAMES)
    .default("auto" as const);
}
