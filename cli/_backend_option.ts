/**
 * The `--backend` option of the commands that run a model (kept apart from
 * `_options.ts`: it loads TensorFlow.js, which the other commands need not).
 *
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import { blasAdvice, blasStatus } from "../lib/backend/blas.ts";
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

/**
 * The one-line note that the `backend` in use takes the slow path for want of
 * a BLAS library (only the wasm backend uses one), or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slowPathNote } from "./_backend_option.ts";
 * assert.equal(slowPathNote("cpu"), null);
 * const note = slowPathNote("wasm"); // null where OpenBLAS loaded or VATT_BLAS=0 turned it off
 * if (note !== null) assert.match(note, /slow path/);
 * ```
 */
export function slowPathNote(backend: string): string | null {
  return backend === "wasm" ? blasAdvice(blasStatus(), Deno.build.os) : null;
}

/**
 * Prints {@linkcode slowPathNote} of `backend` (when there is one) on stderr
 * and returns `backend`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withSlowPathNote } from "./_backend_option.ts";
 * assert.equal(withSlowPathNote("cpu"), "cpu");
 * ```
 */
export function withSlowPathNote<B extends string>(backend: B): B {
  const note = slowPathNote(backend);
  if (note) console.error(note);
  return backend;
}
