/**
 * Reading ffmpeg's stderr: the tail of the stream, and the last line that
 * explains a failure. Private to `lib/data/media/` (video and audio decoding).
 *
 * @module
 */

/** Characters of stderr kept (its tail). */
export const MAX_STDERR_CHARS = 64 * 1024;

/** ffmpeg lines that explain nothing on their own. */
const BOILERPLATE = [
  /^To ignore this, add a trailing '\?' to the map/,
  /^Conversion failed!?$/,
  /^Exiting normally/,
  /^At least one output file must be specified$/,
  /^Press \[q\] to stop/,
];

/**
 * The last line of ffmpeg's stderr that says something, without the
 * `[demuxer @ 0x…]` prefix and the `file:/path: ` prefix of `url`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastMeaningfulLine } from "./_ffmpeg_stderr.ts";
 * const line = lastMeaningfulLine("[mov @ 0x1f]file:/a.mp4: moov atom not found\nConversion failed!", "file:/a.mp4");
 * assert.equal(line, "moov atom not found");
 * ```
 */
export function lastMeaningfulLine(stderr: string, url: string): string {
  const lines = stderr.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => l.length > 0);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (BOILERPLATE.some((re) => re.test(lines[i]))) continue;
    let line = lines[i].replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, "");
    if (line.startsWith(`${url}: `)) line = line.slice(url.length + 2);
    return line.length > 300 ? `${line.slice(0, 300)}…` : line;
  }
  return "ffmpeg failed without a message";
}

/**
 * Reads a text stream to its end, keeping only the last
 * {@linkcode MAX_STDERR_CHARS} characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTail } from "./_ffmpeg_stderr.ts";
 * const text = await readTail(new Blob(["a\nb"]).stream().getReader());
 * assert.equal(text, "a\nb");
 * ```
 */
export async function readTail(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.length > 2 * MAX_STDERR_CHARS) text = text.slice(-MAX_STDERR_CHARS);
  }
  text += decoder.decode();
  return text.slice(-MAX_STDERR_CHARS);
}
