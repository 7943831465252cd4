/**
 * The one error type `cli/` throws on purpose, carrying its exit code, and the
 * function that turns any error into one line and an exit code.
 *
 * @module
 */
import { FormatError, MismatchError } from "../lib/util/errors.ts";

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
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeError } from "./cli_error.ts";
 * assert.deepEqual(describeError(new RangeError("bad\nmore")), { message: "bad", exitCode: 2 });
 * assert.equal(describeError(new Error("disk full")).exitCode, 1);
 * ```
 */
export function describeError(error: unknown): { message: string; exitCode: number } {
  const oneLine = (text: string) => text.split("\n")[0];
  if (error instanceof CliError) {
    return { message: oneLine(error.message), exitCode: error.exitCode };
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    return { message: oneLine(error.message), exitCode: 2 };
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
