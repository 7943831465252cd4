/**
 * SHA-256 digests as lowercase hex, for dataset shards and checkpoints.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { openInput } from "./input.ts";

const CHUNK_BYTES = 1 << 20;

/**
 * SHA-256 of a file, read in 1 MiB chunks (constant memory whatever its size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256File } from "./sha256.ts";
 * const dir = Deno.makeTempDirSync();
 * await Deno.writeTextFile(`${dir}/abc.txt`, "abc");
 * const hex = await sha256File(`${dir}/abc.txt`);
 * assert.equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(CHUNK_BYTES);
  using file = await openInput(path);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest("hex");
}

/**
 * SHA-256 of bytes (a string is hashed as its UTF-8 encoding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Bytes } from "./sha256.ts";
 * assert.equal(
 *   sha256Bytes(new Uint8Array()),
 *   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
 * );
 * ```
 */
export function sha256Bytes(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}
