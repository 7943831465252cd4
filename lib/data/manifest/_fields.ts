/**
 * Checks of a manifest row's fields, each giving the value or the reason it
 * is bad (a short phrase that names the field and what was found).
 *
 * @module
 */

/**
 * A media path field: a string path without NUL, never a URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPath } from "./_fields.ts";
 * assert.deepEqual(checkPath("video", "a.mp4"), { raw: "a.mp4" });
 * assert.match(checkPath("video", "https://x/a.mp4").error!, /not a URL/);
 * ```
 */
export function checkPath(key: string, value: unknown): { raw?: string; error?: string } {
  if (value === undefined || value === null || value === "") return { error: `missing ${key}` };
  if (typeof value !== "string") {
    return { error: `${key} must be a path string, got ${kindOf(value)}` };
  }
  if (value.includes("\0")) return { error: `${key} path contains a NUL character` };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return {
      error: `${key} must be a file path, not a URL (${JSON.stringify(value.slice(0, 60))})`,
    };
  }
  return { raw: value };
}

/**
 * A label field: one non-empty string, or a non-empty array of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLabel } from "./_fields.ts";
 * assert.deepEqual(checkLabel(["a", "b"]), ["a", "b"]);
 * assert.deepEqual(checkLabel([]), { error: "label is an empty array" });
 * ```
 */
export function checkLabel(label: unknown): string | string[] | { error: string } {
  if (typeof label === "string") return label === "" ? { error: "label is empty" } : label;
  if (!Array.isArray(label)) {
    return { error: `label must be a string or an array of strings, got ${kindOf(label)}` };
  }
  if (label.length === 0) return { error: "label is an empty array" };
  const bad = label.findIndex((l) => typeof l !== "string" || l === "");
  if (bad >= 0) return { error: `label[${bad}] must be a non-empty string` };
  return label as string[];
}

/**
 * A time field (`start`, `end`): a finite, non-negative number of seconds,
 * or the reason it is not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSeconds } from "./_fields.ts";
 * assert.equal(checkSeconds("start", 1.5), 1.5);
 * assert.equal(checkSeconds("end", -1), "end must not be negative, got -1");
 * ```
 */
export function checkSeconds(key: string, value: unknown): number | string {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return `${key} must be a number of seconds, got ${kindOf(value)}`;
  }
  if (value < 0) return `${key} must not be negative, got ${value}`;
  return value;
}

/**
 * What a bad value is, briefly, for a message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kindOf } from "./_fields.ts";
 * assert.equal(kindOf([1]), "an array");
 * assert.equal(kindOf(3), "number 3");
 * ```
 */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`;
  return typeof value === "object" ? "an object" : typeof value;
}
