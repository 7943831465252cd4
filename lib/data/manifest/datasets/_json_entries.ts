/**
 * Streaming the entries of a top-level JSON object (`{"key": value, …}`)
 * from a file too large to parse whole (HowTo100M's `caption.json` is
 * gigabytes: beyond a JavaScript string). Private to this folder.
 *
 * @module
 */
import { FormatError } from "../../../util/errors.ts";
import { openInput } from "../../../io/input.ts";

/** One entry: its 1-based position, key, and parsed value or why it cannot be parsed. */
export interface JsonEntry {
  index: number;
  key: string;
  value?: unknown;
  error?: string;
}

const WS = new Set([" ", "\t", "\n", "\r"]);

/**
 * Yields the entries of the top-level object in `path`, one at a time. A
 * value that is not valid JSON is an entry with `error`; a file that is not a
 * JSON object throws `FormatError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonEntries } from "./_json_entries.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/c.json`, '{"a": {"t": ["x}"]}, "b\\"": [1, 2], "c": nope}');
 * const entries = await Array.fromAsync(jsonEntries(`${dir}/c.json`, 4));
 * assert.deepEqual(entries.map((e) => [e.index, e.key, e.value]),
 *   [[1, "a", { t: ["x}"] }], [2, 'b"', [1, 2]], [3, "c", undefined]]);
 * assert.ok(entries[2].error);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* jsonEntries(path: string, chunkBytes = 1 << 20): AsyncGenerator<JsonEntry> {
  const file = await openInput(path, { label: "annotation file" }).catch((e) => {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read annotation file: ${(e as Error).message}`, {
      path,
      cause: e,
    });
  });
  const decoder = new TextDecoder();
  const chunk = new Uint8Array(chunkBytes);
  let buf = "";
  let eof = false;
  const more = async (): Promise<boolean> => {
    if (eof) return false;
    const n = await file.read(chunk);
    if (n === null) {
      eof = true;
      buf += decoder.decode();
      return false;
    }
    buf += decoder.decode(chunk.subarray(0, n), { stream: true });
    return true;
  };
  try {
    let pos = 0;
    while (true) {
      while (pos < buf.length && WS.has(buf[pos])) pos++;
      if (pos < buf.length || !(await more())) break;
    }
    if (buf[pos] !== "{") throw new FormatError("not a JSON object of videos", { path });
    buf = buf.slice(pos + 1);
    let index = 0;
    while (true) {
      const step = scanEntry(buf);
      if (step === "more") {
        if (await more()) continue;
        throw new FormatError("JSON object is cut short (end of file)", { path });
      }
      if (step === "end") return;
      if (typeof step === "string") throw new FormatError(`entry ${index + 1}: ${step}`, { path });
      index++;
      const { key, valueText, next } = step;
      buf = buf.slice(next);
      try {
        yield { index, key, value: JSON.parse(valueText) };
      } catch (e) {
        yield { index, key, error: `value is not valid JSON: ${(e as Error).message}` };
      }
    }
  } finally {
    file.close();
  }
}

/** The next entry at the start of `buf`, "end" at `}`, "more" when `buf` ends first, or an error. */
function scanEntry(
  buf: string,
): { key: string; valueText: string; next: number } | "more" | "end" | string {
  let i = 0;
  const skip = () => {
    while (i < buf.length && (WS.has(buf[i]) || buf[i] === ",")) i++;
  };
  skip();
  if (i >= buf.length) return "more";
  if (buf[i] === "}") return "end";
  if (buf[i] !== '"') return `expected a key, found ${JSON.stringify(buf[i])}`;
  const keyEnd = stringEnd(buf, i);
  if (keyEnd < 0) return "more";
  let key: string;
  try {
    key = JSON.parse(buf.slice(i, keyEnd));
  } catch {
    return "key is not a valid JSON string";
  }
  i = keyEnd;
  while (i < buf.length && WS.has(buf[i])) i++;
  if (i >= buf.length) return "more";
  if (buf[i] !== ":") return `expected ":" after key ${JSON.stringify(key)}`;
  i++;
  const start = i;
  let depth = 0;
  while (i < buf.length) {
    const c = buf[i];
    if (c === '"') {
      const end = stringEnd(buf, i);
      if (end < 0) return "more";
      i = end;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) return { key, valueText: buf.slice(start, i), next: i };
      depth--;
    } else if (c === "," && depth === 0) return { key, valueText: buf.slice(start, i), next: i };
    i++;
  }
  return "more";
}

/** Index just past the JSON string starting at `buf[i]` (a `"`), or -1 when `buf` ends first. */
function stringEnd(buf: string, i: number): number {
  for (let j = i + 1; j < buf.length; j++) {
    if (buf[j] === "\\") j++;
    else if (buf[j] === '"') return j + 1;
  }
  return -1;
}
