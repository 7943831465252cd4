/**
 * A buffered reader of a file's bytes: lines, fields up to a delimiter and
 * exact byte counts, with the file read in chunks (never whole).
 *
 * @module
 */

const CHUNK_BYTES = 1 << 16;

/**
 * Reads a `Deno.FsFile` (or any `Deno.Reader`) front to back in chunks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader } from "./_byte_reader.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/a.txt`, "ab cd\nef");
 * using file = Deno.openSync(`${dir}/a.txt`);
 * const r = new ByteReader(file);
 * assert.equal(new TextDecoder().decode((await r.readUntil(0x20, 10))!.bytes), "ab");
 * assert.equal(new TextDecoder().decode((await r.readUntil(0x0a, 10))!.bytes), "cd");
 * const last = await r.readUntil(0x0a, 10);
 * assert.equal(new TextDecoder().decode(last!.bytes), "ef");
 * assert.equal(last!.found, false); // the file ended first
 * assert.equal(await r.readUntil(0x0a, 10), null);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class ByteReader {
  readonly #file: { read(p: Uint8Array): Promise<number | null> };
  #buf = new Uint8Array(CHUNK_BYTES);
  #start = 0;
  #end = 0;
  #eof = false;
  /** Bytes consumed so far (the offset of the next byte in the file). */
  offset = 0;

  constructor(file: { read(p: Uint8Array): Promise<number | null> }) {
    this.#file = file;
  }

  /** Reads more bytes after the buffered ones, growing the buffer to hold `want` bytes; false at the end. */
  async #fill(want: number): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (want > this.#buf.length || this.#end === this.#buf.length) {
      const grown = new Uint8Array(Math.max(want, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
    const n = await this.#file.read(this.#buf.subarray(this.#end));
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /** The next byte without consuming it; `null` at the end of the file. */
  async peek(): Promise<number | null> {
    while (this.#start === this.#end) if (!(await this.#fill(1))) return null;
    return this.#buf[this.#start];
  }

  /** Consumes one byte. */
  skip(): void {
    if (this.#start < this.#end) {
      this.#start++;
      this.offset++;
    }
  }

  /**
   * The bytes before the next `delimiter` (which is consumed, not returned);
   * `found: false` when the file ended first; `null` at the end of the file.
   * Throws `RangeError` when no delimiter comes within `maxBytes`.
   */
  async readUntil(
    delimiter: number,
    maxBytes: number,
  ): Promise<{ bytes: Uint8Array; found: boolean } | null> {
    let scanned = 0;
    while (true) {
      const at = this.#buf.subarray(this.#start + scanned, this.#end).indexOf(delimiter);
      if (at >= 0) {
        const bytes = this.#buf.slice(this.#start, this.#start + scanned + at);
        this.#start += scanned + at + 1;
        this.offset += scanned + at + 1;
        return { bytes, found: true };
      }
      scanned = this.#end - this.#start;
      if (scanned > maxBytes) {
        throw new RangeError(`no delimiter within ${maxBytes} bytes`);
      }
      if (!(await this.#fill(scanned + CHUNK_BYTES))) {
        if (scanned === 0) return null;
        const bytes = this.#buf.slice(this.#start, this.#end);
        this.offset += scanned;
        this.#start = this.#end;
        return { bytes, found: false };
      }
    }
  }

  /** Exactly `n` bytes, or fewer when the file ends first. */
  async readExact(n: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) if (!(await this.#fill(n))) break;
    const got = Math.min(n, this.#end - this.#start);
    const bytes = this.#buf.slice(this.#start, this.#start + got);
    this.#start += got;
    this.offset += got;
    return bytes;
  }
}
