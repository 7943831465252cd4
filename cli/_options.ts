/**
 * Parsing of command-line option strings into typed values, with one-line
 * errors naming the flag.
 *
 * @module
 */
import { CliError } from "./cli_error.ts";

/**
 * Parses an integer flag.
 *
 * @example
 * ```ts
 * import { parseIntFlag } from "./_options.ts";
 * console.assert(parseIntFlag("--clips", "12", { min: 1 }) === 12);
 * ```
 */
export function parseIntFlag(
  flag: string,
  value: string,
  options: { min?: number; max?: number } = {},
): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new CliError(`${flag} must be an integer, got ${JSON.stringify(value)}`, 2);
  }
  if (options.min !== undefined && n < options.min) {
    throw new CliError(`${flag} must be at least ${options.min}, got ${n}`, 2);
  }
  if (options.max !== undefined && n > options.max) {
    throw new CliError(`${flag} must be at most ${options.max}, got ${n}`, 2);
  }
  return n;
}

/**
 * Parses a number flag.
 *
 * @example
 * ```ts
 * import { parseNumberFlag } from "./_options.ts";
 * console.assert(parseNumberFlag("--lr", "1e-4", { min: 0 }) === 1e-4);
 * ```
 */
export function parseNumberFlag(
  flag: string,
  value: string,
  options: { min?: number; max?: number; exclusiveMin?: boolean } = {},
): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new CliError(`${flag} must be a number, got ${JSON.stringify(value)}`, 2);
  }
  if (options.min !== undefined && (options.exclusiveMin ? n <= options.min : n < options.min)) {
    throw new CliError(
      `${flag} must be ${options.exclusiveMin ? "above" : "at least"} ${options.min}, got ${n}`,
      2,
    );
  }
  if (options.max !== undefined && n > options.max) {
    throw new CliError(`${flag} must be at most ${options.max}, got ${n}`, 2);
  }
  return n;
}

/** Reads a JSON config file given by `--config`, with a one-line error. */
export async function readJsonFlag(flag: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new CliError(`${flag} ${file}: ${(e as Error).message}`, 2);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${flag} ${file}: not valid JSON (${(e as Error).message})`, 2);
  }
}
