/**
 * The one error type `cli/` throws on purpose, carrying its exit code, and the
 * function that turns any error into one line and an exit code.
 *
 * @module
 */
import { FormatError, MismatchError } from "../lib/util/errors.ts";
import { HeapExhaustedError, isWasmOutOfMemory } from "../lib/train/out_of_memory.ts";
import { escapeForTerminal } from "./_escape.ts";

/**
 * An error with the exit code the command should end with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CliError } from "./cli_error.ts";
 * const e = new CliError("--out is required", 2);
 * assert.equal(e.exitCode, 2);
 * assert.equal(new CliError("failed").exitCode, 1);
 * ```
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/**
 * The exit code and one-line message for an error: usage and config errors
 * (`TypeError`, `RangeError`) exit 2; data errors and everything else exit 1.
 * The line is escaped for the terminal (a path or clip id with ESC, CR or LF
 * prints as `\e`, `\r`, `\n`), and a FormatError's path is kept whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeError } from "./cli_error.ts";
 * assert.deepEqual(describeError(new RangeError("bad\nmore")), { message: "bad", exitCode: 2 });
 * assert.equal(describeError(new Error("disk full")).exitCode, 1);
 * assert.equal(describeError(new RangeError("bad id a\x1b[31m")).message, "bad id a\\e[31m");
 * assert.match(describeError(new Error("Aborted(). Build with -sASSERTIONS")).message, /wasm heap/);
 * ```
 */
export function describeError(error: unknown): { message: string; exitCode: number } {
  const oneLine = (text: string) => escapeForTerminal(text.split("\n")[0]);
  if (error instanceof CliError) {
    return { message: oneLine(error.message), exitCode: error.exitCode };
  }
  if (isWasmOutOfMemory(error) && !(error instanceof HeapExhaustedError)) {
    // A raw engine abort ("Aborted()", "memory access out of bounds") never reaches the user.
    return { message: oneLine(explainAbort(error)), exitCode: 1 };
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    return { message: oneLine(error.message), exitCode: 2 };
  }
  if (error instanceof FormatError && error.path && error.message.startsWith(`${error.path}: `)) {
    const rest = error.message.slice(error.path.length + 2);
    return { message: `${escapeForTerminal(error.path)}: ${oneLine(rest)}`, exitCode: 1 };
  }
  if (error instanceof FormatError || error instanceof MismatchError) {
    return { message: oneLine(error.message), exitCode: 1 };
  }
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
    return { message: oneLine((error as Error).message), exitCode: 1 };
  }
  if (error instanceof Error) return { message: oneLine(error.message), exitCode: 1 };
  return { message: String(error), exitCode: 1 };
}

/** The line for a raw wasm abort outside a training loop. */
function explainAbort(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  return `the wasm heap (4 GiB at most) ran out (${raw.split("\n")[0].slice(0, 60)}); ` +
    "try a smaller batch or model (`vatt info --preset P --batch N` shows the memory plan)";
}
