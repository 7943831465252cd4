/**
 * Checked reads of `index.json` fields, each failing with a FormatError that
 * names the file and the field. Private to `lib/data/shards/`.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";

/**
 * Throws a FormatError about `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fail } from "./_index_fields.ts";
 * assert.throws(() => fail("index.json", "bad"), /bad/);
 * ```
 */
export function fail(path: string, message: string): never {
  throw new FormatError(message, { path });
}

/**
 * `v` as an integer of at least `min`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { int } from "./_index_fields.ts";
 * assert.equal(int(3, "frames", "index.json", 1), 3);
 * assert.throws(() => int(0.5, "frames", "index.json"), /frames must be an integer ≥ 0, got 0.5/);
 * ```
 */
export function int(v: unknown, what: string, path: string, min = 0): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    fail(path, `${what} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * `v` as a finite number of at least 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { num } from "./_index_fields.ts";
 * assert.equal(num(1.5, "fps", "index.json"), 1.5);
 * assert.throws(() => num(-1, "fps", "index.json"), /fps must be a non-negative number/);
 * ```
 */
export function num(v: unknown, what: string, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    fail(path, `${what} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * `v` as a string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { str } from "./_index_fields.ts";
 * assert.equal(str("a", "name", "index.json"), "a");
 * assert.throws(() => str(1, "name", "index.json"), /name must be a string, got 1/);
 * ```
 */
export function str(v: unknown, what: string, path: string): string {
  if (typeof v !== "string") fail(path, `${what} must be a string, got ${JSON.stringify(v)}`);
  return v;
}
