/**
 * Streaming the lines of an untrusted text file with a per-line byte cap, for
 * the manifest readers. Private to `lib/data/`.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";

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

/** Yields `first`, then the rest. */
export async function* prepend(first: Line, rest: AsyncGenerator<Line>): AsyncGenerator<Line> {
  yield first;
  yield* rest;
}

/**
 * Streams the lines of a file, each capped at `maxBytes` (an over-long line
 * is reported, not kept). Skips nothing; throws FormatError on a binary file
 * (NUL bytes in the first 64 KiB).
 */
export async function* readLines(
  path: string,
  maxBytes: number,
  shownPath: string,
): AsyncGenerator<Line> {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const lenient = new TextDecoder("utf-8");
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw new FormatError(`cannot read manifest: ${(e as Error).message}`, {
      path: shownPath,
      cause: e,
    });
  }
  const buf = new Uint8Array(64 * 1024);
  let parts: Uint8Array[] = [];
  let length = 0;
  let overlong = false;
  let lineNo = 0;
  let firstChunk = true;
  const emit = (): Line => {
    lineNo++;
    const line: Line = { line: lineNo, text: "", badUtf8: false, overlong };
    if (!overlong) {
      let bytes = concat(parts, length);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
      try {
        line.text = fatal.decode(bytes);
      } catch {
        line.text = lenient.decode(bytes);
        line.badUtf8 = true;
      }
      if (lineNo === 1) line.text = line.text.replace(/^\uFEFF/, "");
    }
    parts = [];
    length = 0;
    overlong = false;
    return line;
  };
  try {
    while (true) {
      let n: number | null;
      try {
        n = await file.read(buf);
      } catch (e) {
        throw new FormatError(`cannot read manifest: ${(e as Error).message}`, {
          path: shownPath,
          cause: e,
        });
      }
      if (n === null) break;
      const chunk = buf.subarray(0, n);
      if (firstChunk) {
        firstChunk = false;
        if (chunk.includes(0)) {
          throw new FormatError("binary file (NUL bytes), not a manifest", { path: shownPath });
        }
      }
      let from = 0;
      while (from < chunk.length) {
        const nl = chunk.indexOf(0x0a, from);
        const end = nl < 0 ? chunk.length : nl;
        if (!overlong) {
          if (length + (end - from) > maxBytes) {
            overlong = true;
            parts = [];
            length = 0;
          } else if (end > from) {
            parts.push(chunk.slice(from, end));
            length += end - from;
          }
        }
        if (nl < 0) break;
        yield emit();
        from = nl + 1;
      }
    }
    if (length > 0 || overlong) yield emit();
  } finally {
    file.close();
  }
}

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

/** Why a line cannot be read at all, or undefined. */
export function lineProblem(line: Line, maxBytes: number): string | undefined {
  if (line.overlong) return `line longer than ${maxBytes} bytes`;
  if (line.badUtf8) return "not valid UTF-8";
  if (line.text.includes("\0")) return "contains a NUL character";
  return undefined;
}
