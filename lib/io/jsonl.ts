/**
 * JSON Lines: one JSON value per line, for `metrics.jsonl` and exported
 * embeddings. Appends are one write each, so a killed process leaves at most
 * a truncated last line, which readers can be told to skip.
 *
 * @module
 */
import { FormatError } from "../util/errors.ts";
import { openInput } from "./input.ts";
import { AtomicStreamWriter } from "./stream_writer.ts";

/** The longest line accepted when reading (64 MiB), so a file without newlines cannot exhaust memory. */
export const MAX_JSONL_LINE_BYTES = 64 << 20;

function lineOf(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(`Cannot write ${String(value)} as a JSON line`);
  }
  return `${text}\n`;
}

/**
 * Appends `value` as one line (creating the file if needed). `NaN` and
 * infinities become `null`, as in `JSON.stringify`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appendJsonl, readJsonl } from "./jsonl.ts";
 * const dir = Deno.makeTempDirSync();
 * await appendJsonl(`${dir}/metrics.jsonl`, { step: 1, loss: 2.5 });
 * await appendJsonl(`${dir}/metrics.jsonl`, { step: 2, loss: 2.1 });
 * const rows = await readJsonl(`${dir}/metrics.jsonl`);
 * assert.equal(rows.length, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function appendJsonl(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, lineOf(value), { append: true, create: true });
}

/** Options of {@linkcode readJsonl} and {@linkcode iterJsonl}. */
export interface ReadJsonlOptions {
  /**
   * Skip a last line that has no newline and is not valid JSON: what a
   * process killed mid-append leaves. Default false (a FormatError).
   */
  allowTruncatedTail?: boolean;
}

/** One parsed line of a JSON Lines file. */
export interface JsonlLine {
  /** 1-based line number. */
  line: number;
  /** The parsed value. */
  value: unknown;
}

/**
 * Streams the values of a JSON Lines file with their line numbers; blank
 * lines are skipped, a bad line is a FormatError naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iterJsonl } from "./jsonl.ts";
 * const dir = Deno.makeTempDirSync();
 * await Deno.writeTextFile(`${dir}/a.jsonl`, '{"a":1}\n\n[2]\n');
 * const lines = [];
 * for await (const { line } of iterJsonl(`${dir}/a.jsonl`)) lines.push(line);
 * assert.equal(lines.join(), "1,3");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* iterJsonl(
  path: string,
  options: ReadJsonlOptions = {},
): AsyncGenerator<JsonlLine> {
  using file = await openInput(path, { label: "JSON-lines file" });
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const buffer = new Uint8Array(1 << 16);
  // The start of the current line, kept in pieces: joining on every chunk
  // would copy a long line over and over.
  const pieces: string[] = [];
  let pieceLength = 0;
  let lineNo = 0;
  const parse = (text: string, line: number): unknown => {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new FormatError(`line ${line}: invalid JSON: ${(cause as Error).message}`, {
        path,
        cause,
      });
    }
  };
  while (true) {
    const n = await file.read(buffer);
    let chunk: string;
    try {
      chunk = n === null ? decoder.decode() : decoder.decode(buffer.subarray(0, n), {
        stream: true,
      });
    } catch (cause) {
      throw new FormatError(`line ${lineNo + 1}: not valid UTF-8`, { path, cause });
    }
    let start = 0;
    for (let newline = chunk.indexOf("\n"); newline >= 0; newline = chunk.indexOf("\n", start)) {
      pieces.push(chunk.slice(start, newline));
      const text = pieces.join("");
      pieces.length = 0;
      pieceLength = 0;
      start = newline + 1;
      lineNo++;
      if (text.trim() !== "") yield { line: lineNo, value: parse(text, lineNo) };
    }
    if (start < chunk.length) {
      pieces.push(chunk.slice(start));
      pieceLength += chunk.length - start;
    }
    if (pieceLength > MAX_JSONL_LINE_BYTES) {
      throw new FormatError(`line ${lineNo + 1}: longer than ${MAX_JSONL_LINE_BYTES} bytes`, {
        path,
      });
    }
    if (n === null) break;
  }
  const pending = pieces.join("");
  if (pending.trim() !== "") {
    lineNo++;
    let value: unknown;
    try {
      value = parse(pending, lineNo);
    } catch (e) {
      if (options.allowTruncatedTail) return;
      throw e;
    }
    yield { line: lineNo, value };
  }
}

/**
 * Reads every value of a JSON Lines file (see {@linkcode iterJsonl}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FormatError } from "../util/errors.ts";
 * import { readJsonl } from "./jsonl.ts";
 * const dir = Deno.makeTempDirSync();
 * await Deno.writeTextFile(`${dir}/m.jsonl`, '{"step":1}\n{"step":2');
 * const rows = await readJsonl(`${dir}/m.jsonl`, { allowTruncatedTail: true });
 * assert.equal(rows.length, 1);
 * await assert.rejects(readJsonl(`${dir}/m.jsonl`), (e) => e instanceof FormatError && /line 2/.test(e.message));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readJsonl(path: string, options: ReadJsonlOptions = {}): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const { value } of iterJsonl(path, options)) out.push(value);
  return out;
}

/**
 * Writes a JSON Lines file a value at a time to a temporary file, renamed
 * into place by {@linkcode JsonlStreamWriter.finish} (for exports).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonlStreamWriter, readJsonl } from "./jsonl.ts";
 * const dir = Deno.makeTempDirSync();
 * const out = await JsonlStreamWriter.create(`${dir}/e.jsonl`);
 * await out.write({ id: "a", vector: [0.5, 1] });
 * await out.finish();
 * assert.equal((await readJsonl(`${dir}/e.jsonl`)).length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JsonlStreamWriter {
  /** Where the file lands on finish. */
  readonly path: string;
  #out: AtomicStreamWriter;
  #encoder = new TextEncoder();
  #lines = 0;

  private constructor(out: AtomicStreamWriter) {
    this.path = out.path;
    this.#out = out;
  }

  /** Opens a temporary file next to `path`. */
  static async create(path: string): Promise<JsonlStreamWriter> {
    return new JsonlStreamWriter(await AtomicStreamWriter.create(path));
  }

  /** Values written so far. */
  get lines(): number {
    return this.#lines;
  }

  /** Appends one value as a line. */
  async write(value: unknown): Promise<void> {
    this.#out.assertOpen(`write to ${this.path}`);
    const bytes = this.#encoder.encode(lineOf(value));
    this.#lines++;
    await this.#out.write(bytes);
  }

  /** Flushes and renames the file into place. */
  finish(): Promise<void> {
    return this.#out.finish();
  }

  /** Stops writing and removes the temporary file; `path` is not touched. */
  abort(): Promise<void> {
    return this.#out.abort();
  }

  /** Aborts unless finished, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }
}
