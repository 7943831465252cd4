/**
 * What counts as a clean failure of a reader given a hostile input.
 *
 * Clean: a `FormatError` (bad file, `UnsupportedAudioError` included) or a
 * `MismatchError` (well-formed but not what was expected), and a `RangeError`
 * or `TypeError` thrown on purpose by vatt's own checks. Not clean (a crash):
 * any other error, and a `RangeError`/`TypeError` raised by the JavaScript
 * engine itself (`Cannot read properties of undefined`, `Invalid typed array
 * length`, `Offset is outside the bounds of the DataView`, …), since those
 * mean a value from the file reached code that never checked it.
 *
 * @module
 */
import { FormatError, MismatchError } from "../../lib/util/errors.ts";

/** How one fuzz case ended. */
export type Outcome = "ok" | "clean" | "crash" | "hang";

/** Messages only the engine writes: an unchecked value reached a built-in. */
const ENGINE_MESSAGES: RegExp[] = [
  /Cannot (read|set) properties of/,
  /is not a function/,
  /is not iterable/,
  /is not a constructor/,
  /Cannot convert .* to/,
  /Cannot destructure/,
  /Cannot create property/,
  /Cannot mix BigInt/,
  /Do not know how to serialize a BigInt/,
  /Reduce of empty array/,
  /Invalid typed array length/,
  /Invalid array length/,
  /Invalid string length/,
  /Array buffer allocation failed/,
  /Maximum call stack size exceeded/,
  /Offset is outside the bounds/,
  /out of bounds/i,
  /Invalid DataView length/,
  /Start offset .* is outside/,
  /toFixed\(\) digits/,
  /Invalid count value/,
  /Invalid time value/,
  /Invalid code point/,
  /^undefined is not/,
  /^null is not/,
  /memory access out of bounds/,
  /unreachable/,
];

/** The verdict on one thrown value. */
export interface Verdict {
  /** Whether the failure is a clean, typed error. */
  clean: boolean;
  /** `Name: first line of the message` (shortened), for the report. */
  label: string;
}

/**
 * Classifies an error thrown by a reader (see the module doc for the rules).
 *
 * @example
 * ```ts
 * import { classifyError } from "./_classify.ts";
 * console.assert(!classifyError(new TypeError("Cannot read properties of undefined")).clean);
 * console.assert(classifyError(new RangeError("frames must be a positive integer, got 0")).clean);
 * ```
 */
export function classifyError(error: unknown): Verdict {
  const label = describe(error);
  if (error instanceof FormatError || error instanceof MismatchError) return { clean: true, label };
  if (error instanceof RangeError || error instanceof TypeError) {
    const message = error.message;
    return { clean: !ENGINE_MESSAGES.some((re) => re.test(message)), label };
  }
  return { clean: false, label };
}

/** `Name: message` in one line of at most 200 characters. */
export function describe(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  const line = `${name}: ${message.split("\n")[0]}`;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
