/**
 * Turning untrusted clip ids into safe, collision-free file names.
 *
 * @module
 */

/** Options of {@link safeFileName}. */
export interface SafeFileNameOptions {
  /** Longest result in UTF-8 bytes, hash suffix included (at least 16). Default 120. */
  maxBytes?: number;
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const encoder = new TextEncoder();

/**
 * A file name derived from a clip id: characters other than letters,
 * digits, `_`, `-` and `.` become `_`, runs of dots and a leading dot are
 * replaced, Windows device names and trailing dots are avoided, and the
 * result fits `maxBytes` UTF-8 bytes. An id that had to change gets a
 * 10-hex-digit hash of the original id appended, so two ids never map to the
 * same name because of the sanitising; a safe id is returned unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safeFileName } from "./safe_file_name.ts";
 * assert.equal(safeFileName("clip_001"), "clip_001");
 * const name = safeFileName("../etc/passwd");
 * assert.ok(!name.includes("/"));
 * assert.ok(!name.includes(".."));
 * assert.notEqual(name, safeFileName("../etc/passwd2"));
 * ```
 */
export function safeFileName(id: string, options: SafeFileNameOptions = {}): string {
  if (typeof id !== "string") throw new TypeError(`Cannot make a file name: id is ${typeof id}`);
  const maxBytes = options.maxBytes ?? 120;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 16) {
    throw new RangeError(
      `Cannot make a file name: maxBytes must be an integer >= 16, got ${maxBytes}`,
    );
  }
  let name = id.normalize("NFC")
    .replace(/[^\p{L}\p{N}_.-]/gu, "_")
    .replace(/\.{2,}/g, "_")
    .replace(/^\./, "_")
    .replace(/\.$/, "_");
  if (WINDOWS_RESERVED.test(name) || name === "") name = `_${name}`;
  if (name === id && encoder.encode(name).length <= maxBytes) return name;
  const suffix = `-${fnv1a64(id).slice(0, 10)}`;
  return `${truncateBytes(name, maxBytes - suffix.length)}${suffix}`;
}

/** The longest prefix of `text` (whole code points) that fits `maxBytes` UTF-8 bytes. */
function truncateBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let out = "";
  for (const ch of text) {
    const n = encoder.encode(ch).length;
    if (bytes + n > maxBytes) break;
    bytes += n;
    out += ch;
  }
  return out;
}

/** FNV-1a, 64-bit, over the UTF-8 bytes of `text`, as 16 hex digits. */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of encoder.encode(text)) {
    h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}
