/**
 * Validation shared by the fusion heads' `resolve…Config` functions (private to this folder).
 *
 * @module
 */
import type { FusionBaseConfig } from "./fusion_head.ts";

const BASE_KEYS = ["inputDims", "numClasses", "seed", "dropout"] as const;

/** Default of the one optional base field. */
export const DEFAULT_DROPOUT = 0;

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(", ")}]`;
  return String(value);
}

/**
 * Throws a TypeError unless `value` is an integer of at least `min` (RangeError when it is an
 * integer below it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInteger } from "./_config.ts";
 * assert.equal(checkInteger(3, "hiddenDim", 1), 3);
 * ```
 */
export function checkInteger(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${describe(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be at least ${min}, got ${value}`);
  return value;
}

/**
 * Throws unless `value` is a rate in [0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRate } from "./_config.ts";
 * assert.equal(checkRate(0.1, "dropout"), 0.1);
 * ```
 */
export function checkRate(value: unknown, what: string): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${what} must be a number, got ${describe(value)}`);
  }
  if (!(value >= 0 && value < 1)) throw new RangeError(`${what} must be in [0, 1), got ${value}`);
  return value;
}

/**
 * Throws a TypeError naming the first key of `input` that is not in `allowed` (a misspelt
 * option would otherwise be ignored silently).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkKeys } from "./_config.ts";
 * checkKeys({ hiddenDim: 3 }, ["hiddenDim"], "concat fusion");
 * assert.throws(() => checkKeys({ hidenDim: 3 }, ["hiddenDim"], "concat fusion"), /"hidenDim"/);
 * ```
 */
export function checkKeys(input: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `Unknown ${what} option ${JSON.stringify(key)}; expected one of ${allowed.join(", ")}`,
      );
    }
  }
}

/**
 * Validates the fields common to every head and returns them resolved (defaults filled in,
 * `inputDims` copied). `extraKeys` are the head's own options, allowed in `input`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveFusionBase } from "./_config.ts";
 * const base = resolveFusionBase({ inputDims: [4, 2], numClasses: 3, seed: 0 }, {
 *   what: "concat fusion",
 *   minModalities: 1,
 *   extraKeys: ["hiddenDim"],
 * });
 * assert.equal(base.dropout, 0);
 * ```
 */
export function resolveFusionBase(
  input: unknown,
  options: { what: string; minModalities: number; extraKeys: readonly string[] },
): FusionBaseConfig {
  const { what, minModalities, extraKeys } = options;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError(`A ${what} config must be an object, got ${describe(input)}`);
  }
  checkKeys(input, [...BASE_KEYS, ...extraKeys], what);
  const record = input as Record<string, unknown>;
  const dims = record.inputDims;
  if (!Array.isArray(dims)) {
    throw new TypeError(`${what} inputDims must be an array of integers, got ${describe(dims)}`);
  }
  if (dims.length < minModalities) {
    throw new RangeError(
      `${what} needs at least ${minModalities} modalities, got inputDims ${describe(dims)}`,
    );
  }
  const inputDims = dims.map((d, m) => checkInteger(d, `${what} inputDims[${m}]`, 1));
  return {
    inputDims,
    numClasses: checkInteger(record.numClasses, `${what} numClasses`, 1),
    seed: checkInteger(record.seed, `${what} seed`, Number.MIN_SAFE_INTEGER),
    dropout: checkRate(record.dropout ?? DEFAULT_DROPOUT, `${what} dropout`),
  };
}
