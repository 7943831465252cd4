/**
 * The shape of a fuzz target: a reader, the valid files it starts from, and
 * how case `i` of a seeded run is made and checked.
 *
 * @module
 */
import * as path from "node:path";
import type { Seeds } from "./_seeds.ts";

/** What a target's cases can use. */
export interface TargetContext {
  /** The valid files. */
  seeds: Seeds;
  /** A private folder of the worker, for files made by cases. */
  scratch: string;
}

/** One input and the reader calls made on it. */
export interface FuzzCase {
  /** Short description of the input (source file and mutation kind). */
  input: string;
  /**
   * Runs the reader; resolves when it returned a correct result (checked by
   * the case), rejects with what the reader threw.
   */
  run(): Promise<void>;
  /** An unmutated valid file: it must be read without error. */
  valid?: boolean;
}

/** A fuzz target. */
export interface Target {
  /** Name used in reports and on the command line. */
  name: string;
  /** What is fuzzed, one line. */
  description: string;
  /** A case running longer is a hang. */
  timeoutMs: number;
  /** Largest single allocation a correct reader may make for an input of `bytes` bytes. */
  allocLimit(bytes: number): number;
  /** Builds case `index` of a run drawn from `seed` with `count` cases (same inputs every time). */
  cases(ctx: TargetContext, seed: number, count: number): CaseFactory | Promise<CaseFactory>;
}

/** Makes case `index` (0-based) and tells the input's size in bytes. */
export type CaseFactory = (index: number) => Promise<{ testCase: FuzzCase; bytes: number }>;

/**
 * A result that contradicts the input (a shape that does not match the data,
 * a duplicate id): counted as a crash, not a clean error.
 */
export class WrongResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WrongResultError";
  }
}

/** Throws {@link WrongResultError} when `ok` is false. */
export function expect(ok: boolean, what: string): void {
  if (!ok) throw new WrongResultError(what);
}

/** A fresh, empty folder under the scratch folder for one case. */
export async function caseDir(ctx: TargetContext, name = "case"): Promise<string> {
  const dir = path.join(ctx.scratch, name);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** Product of a shape. */
export function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reads every file once (cached per worker). */
const fileCache = new Map<string, Uint8Array>();
export async function readSeed(file: string): Promise<Uint8Array> {
  let bytes = fileCache.get(file);
  if (!bytes) {
    bytes = await Deno.readFile(file);
    fileCache.set(file, bytes);
  }
  return bytes;
}

/** Length of the header-like prefix of a safetensors file (length field, JSON and a bit more). */
export function safetensorsHot(bytes: Uint8Array): number {
  if (bytes.length < 8) return bytes.length;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return Math.min(bytes.length, 8 + n + 64);
}

/** Rewrites a safetensors file's JSON header (edited by `edit`), keeping its data bytes. */
export function editSafetensorsHeader(
  bytes: Uint8Array,
  edit: (header: unknown) => string,
): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const text = new TextEncoder().encode(edit(header));
  const padded = Math.ceil(text.length / 8) * 8;
  const out = new Uint8Array(8 + padded + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(text, 8);
  out.fill(0x20, 8 + text.length, 8 + padded);
  out.set(bytes.subarray(8 + n), 8 + padded);
  return out;
}
