/**
 * The shared validators of config values: an integer or a number within
 * bounds, or a `TypeError` (wrong type) / `RangeError` (out of bounds) whose
 * message names the field and the offending value.
 *
 * @module
 */

/** Bounds of a value; `min`/`max` are inclusive, `above`/`below` exclusive. */
export interface Bounds {
  /** Smallest value allowed. */
  min?: number;
  /** Largest value allowed. */
  max?: number;
  /** The value must be greater than this. */
  above?: number;
  /** The value must be less than this. */
  below?: number;
}

/**
 * A value as an error message shows it: strings quoted, arrays listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeValue } from "./validate.ts";
 * assert.equal(describeValue(["a", 2]), '["a", 2]');
 * assert.equal(describeValue(1.5), "1.5");
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describeValue).join(", ")}]`;
  return String(value);
}

/** `[0, 1)`, `(0, ∞)`-style words for the bounds, or `undefined` when `value` is inside them. */
function boundsViolated(value: number, bounds: Bounds): string | undefined {
  const { min, max, above, below } = bounds;
  const low = min !== undefined ? value >= min : above !== undefined ? value > above : true;
  const high = max !== undefined ? value <= max : below !== undefined ? value < below : true;
  if (low && high) return undefined;
  const lower = min ?? above;
  const upper = max ?? below;
  if (lower !== undefined && upper !== undefined) {
    return `in ${min !== undefined ? "[" : "("}${lower}, ${upper}${max !== undefined ? "]" : ")"}`;
  }
  if (min !== undefined) return `at least ${min}`;
  if (above !== undefined) return `above ${above}`;
  if (max !== undefined) return `at most ${max}`;
  return `below ${below}`;
}

/**
 * Returns `value` when it is a finite number within `bounds`; throws a
 * `TypeError` for a non-number (or NaN) and a `RangeError` for an infinite
 * number or one out of bounds, naming `what`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNumber } from "./validate.ts";
 * assert.equal(checkNumber(0.5, "dropToken", { min: 0, below: 1 }), 0.5);
 * assert.throws(() => checkNumber(1, "dropToken", { min: 0, below: 1 }), /dropToken must be in \[0, 1\), got 1/);
 * assert.throws(() => checkNumber(0, "learning rate", { above: 0 }), /must be above 0, got 0/);
 * assert.throws(() => checkNumber("1", "momentum"), TypeError);
 * ```
 */
export function checkNumber(value: unknown, what: string, bounds: Bounds = {}): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${what} must be a number, got ${describeValue(value)}`);
  }
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be finite, got ${value}`);
  const violated = boundsViolated(value, bounds);
  if (violated !== undefined) throw new RangeError(`${what} must be ${violated}, got ${value}`);
  return value;
}

/**
 * Returns `value` when it is a safe integer within `bounds`; throws a
 * `TypeError` for a non-integer and a `RangeError` for an integer out of
 * bounds, naming `what`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInteger } from "./validate.ts";
 * assert.equal(checkInteger(3, "epochs", { min: 1 }), 3);
 * assert.throws(() => checkInteger(0, "epochs", { min: 1 }), /epochs must be at least 1, got 0/);
 * assert.throws(() => checkInteger(1.5, "layers"), /layers must be an integer, got 1.5/);
 * ```
 */
export function checkInteger(value: unknown, what: string, bounds: Bounds = {}): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${describeValue(value)}`);
  }
  return checkNumber(value, what, bounds);
}

/**
 * {@linkcode checkInteger} with `min: 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPositiveInteger } from "./validate.ts";
 * assert.equal(checkPositiveInteger(4, "heads"), 4);
 * assert.throws(() => checkPositiveInteger(0, "heads"), RangeError);
 * ```
 */
export function checkPositiveInteger(value: unknown, what: string): number {
  return checkInteger(value, what, { min: 1 });
}

/**
 * Returns `value` when it is one of `allowed`; a `RangeError` listing them otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOneOf } from "./validate.ts";
 * assert.equal(checkOneOf("adam", ["sgd", "adam"] as const, "optimizer"), "adam");
 * assert.throws(() => checkOneOf("rmsprop", ["sgd", "adam"], "optimizer"), /optimizer must be "sgd" or "adam", got "rmsprop"/);
 * ```
 */
export function checkOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  what: string,
): T {
  if (!allowed.includes(value as T)) {
    const quoted = allowed.map(describeValue);
    const names = quoted.length === 2 ? quoted.join(" or ") : `one of ${quoted.join(", ")}`;
    throw new RangeError(`${what} must be ${names}, got ${describeValue(value)}`);
  }
  return value as T;
}

/**
 * Returns `value` when it is a boolean; throws a `TypeError` naming `what`
 * and the value otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkBoolean } from "./validate.ts";
 * assert.equal(checkBoolean(true, "agnostic"), true);
 * assert.throws(() => checkBoolean("yes", "agnostic"), /agnostic must be a boolean, got "yes"/);
 * ```
 */
export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${what} must be a boolean, got ${describeValue(value)}`);
  }
  return value;
}
