/**
 * Typed errors shared by every part of `lib/`.
 *
 * `lib/` never prints or exits: it throws these (or the built-in `TypeError` /
 * `RangeError` for bad arguments), and `cli/` turns them into one-line messages
 * and exit codes.
 *
 * @module
 */

/**
 * A file that does not have the expected format: a corrupt or truncated shard,
 * a malformed manifest row, an undecodable audio file. Files from elsewhere are
 * untrusted, so every reader throws this (never a crash) on bad bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FormatError } from "./errors.ts";
 * const e = new FormatError("header length 99999 exceeds file size 12", { path: "a.safetensors" });
 * assert.equal(e.message, "a.safetensors: header length 99999 exceeds file size 12");
 * assert.equal(e.path, "a.safetensors");
 * ```
 */
export class FormatError extends Error {
  /** The file the error is about, when there is one. */
  readonly path?: string;
  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path ? `${options.path}: ${message}` : message, { cause: options.cause });
    this.name = "FormatError";
    this.path = options.path;
  }
}

/**
 * Inputs that are well-formed but do not fit together: a dataset whose
 * tokenization settings differ from the model's, a checkpoint of another
 * config, a run folder that already exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MismatchError } from "./errors.ts";
 * const e = new MismatchError("dataset has 8 frames, model expects 16");
 * assert.equal(e.name, "MismatchError");
 * ```
 */
export class MismatchError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "MismatchError";
  }
}
