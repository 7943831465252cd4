/**
 * Streaming the lines of an untrusted text file with a per-line byte cap, for
 * the manifest readers. Private to `lib/data/manifest/`.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { openInput } from "../../io/input.ts";

/** One line of a manifest. */
export interface Line {
  /** 1-based line number. */
  line: number;
  /** Decoded text without the line end (replacement characters where not UTF-8). */
  text: string;
  /** The line is not valid UTF-8. */
  badUtf8: boolean;
  /** Longer than the cap: `text` is empty. */
  overlong: boolean;
}

/**
 * Yields `first`, then the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Line, prepend } from "./_lines.ts";
 * const line = (n: number): Line => ({ line: n, text: String(n), badUtf8: false, overlong: false });
 * async function* rest() { yield line(2); }
 * assert.deepEqual((await Array.fromAsync(prepend(line(1), rest()))).map((l) => l.text), ["1", "2"]);
 * ```
 */
export async function* prepend(first: Line, rest: AsyncGenerator<Line>): AsyncGenerator<Line> {
  yield first;
  yield* rest;
}

/** Gathers the bytes of one line (up to the cap) and decodes it. */
class LineBuilder {
  readonly #fatal = new TextDecoder("utf-8", { fatal: true });
  readonly #lenient = new TextDecoder("utf-8");
  #parts: Uint8Array[] = [];
  #length = 0;
  #overlong = false;
  #lineNo = 0;

  constructor(readonly maxBytes: number) {}

  /** Whether bytes of an unfinished line are held (or it is already over-long). */
  get pending(): boolean {
    return this.#length > 0 || this.#overlong;
  }

  /** Adds `chunk[from, end)` to the line; past the cap the line is marked over-long. */
  append(chunk: Uint8Array, from: number, end: number): void {
    if (this.#overlong) return;
    if (this.#length + (end - from) > this.maxBytes) {
      this.#overlong = true;
      this.#parts = [];
      this.#length = 0;
    } else if (end > from) {
      this.#parts.push(chunk.slice(from, end));
      this.#length += end - from;
    }
  }

  /** The line gathered so far; starts the next one. */
  emit(): Line {
    this.#lineNo++;
    const line: Line = { line: this.#lineNo, text: "", badUtf8: false, overlong: this.#overlong };
    if (!this.#overlong) {
      let bytes = concat(this.#parts, this.#length);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
      try {
        line.text = this.#fatal.decode(bytes);
      } catch {
        line.text = this.#lenient.decode(bytes);
        line.badUtf8 = true;
      }
      if (this.#lineNo === 1) line.text = line.text.replace(/^\uFEFF/, "");
    }
    this.#parts = [];
    this.#length = 0;
    this.#overlong = false;
    return line;
  }
}

/** The error of a manifest that cannot be opened or read. */
function readError(e: unknown, shownPath: string): FormatError {
  return new FormatError(`cannot read manifest: ${(e as Error).message}`, {
    path: shownPath,
    cause: e,
  });
}

/** Reads the next chunk of `file` into `buf`; null at the end. */
async function readChunk(
  file: Deno.FsFile,
  buf: Uint8Array,
  shownPath: string,
): Promise<Uint8Array | null> {
  let n: number | null;
  try {
    n = await file.read(buf);
  } catch (e) {
    throw readError(e, shownPath);
  }
  return n === null ? null : buf.subarray(0, n);
}

/**
 * Streams the lines of a file, each capped at `maxBytes` (an over-long line
 * is reported, not kept). Skips nothing; throws FormatError on a binary file
 * (NUL bytes in the first 64 KiB).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLines } from "./_lines.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "a\r\n" + "x".repeat(20) + "\nb");
 * const lines = await Array.fromAsync(readLines(path, 10, "m.csv"));
 * assert.deepEqual(lines.map((l) => [l.text, l.overlong]), [["a", false], ["", true], ["b", false]]);
 * Deno.removeSync(path);
 * ```
 */
export async function* readLines(
  path: string,
  maxBytes: number,
  shownPath: string,
): AsyncGenerator<Line> {
  let file: Deno.FsFile;
  try {
    file = await openInput(path, { label: "manifest" });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw readError(e, shownPath);
  }
  const buf = new Uint8Array(64 * 1024);
  const builder = new LineBuilder(maxBytes);
  let firstChunk = true;
  try {
    while (true) {
      const chunk = await readChunk(file, buf, shownPath);
      if (chunk === null) break;
      if (firstChunk) {
        firstChunk = false;
        if (chunk.includes(0)) {
          throw new FormatError("binary file (NUL bytes), not a manifest", { path: shownPath });
        }
      }
      let from = 0;
      while (from < chunk.length) {
        const nl = chunk.indexOf(0x0a, from);
        builder.append(chunk, from, nl < 0 ? chunk.length : nl);
        if (nl < 0) break;
        yield builder.emit();
        from = nl + 1;
      }
    }
    if (builder.pending) yield builder.emit();
  } finally {
    file.close();
  }
}

/** The bytes of `parts` (holding `length` in all) in one array. */
function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Why a line cannot be read at all, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineProblem } from "./_lines.ts";
 * assert.equal(lineProblem({ line: 1, text: "", badUtf8: false, overlong: true }, 10), "line longer than 10 bytes");
 * assert.equal(lineProblem({ line: 1, text: "ok", badUtf8: false, overlong: false }, 10), undefined);
 * ```
 */
export function lineProblem(line: Line, maxBytes: number): string | undefined {
  if (line.overlong) return `line longer than ${maxBytes} bytes`;
  if (line.badUtf8) return "not valid UTF-8";
  if (line.text.includes("\0")) return "contains a NUL character";
  return undefined;
}
