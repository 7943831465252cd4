/**
 * One guarded way to open an input: what is at the path is checked BEFORE a
 * byte is read (a FIFO would block the open, `/dev/zero` would never end), so
 * anything but a regular file (or a folder where one is expected) is refused
 * with one line naming the path and what it is; whole-file reads are bounded
 * by a size limit chosen per kind of file.
 *
 * @module
 */
import { FormatError } from "../util/errors.ts";
import { describeFileKind } from "./guard.ts";

const MiB = 1024 * 1024;

/**
 * Size limits (bytes) for inputs read whole, by kind: JSON records (config,
 * state, `index.json`) are small; a vocabulary or `tokenizer.json` is bounded
 * generously; a manifest is read line by line but whole by `tokenize`.
 */
export const INPUT_LIMITS = {
  /** `config.json`, `state.json`, `index.json`, `--config`, markers. */
  json: 16 * MiB,
  /** `vocab.txt`, `tokenizer.json`. */
  vocabulary: 64 * MiB,
  /** A manifest read whole (JSON lines, one clip a line). */
  manifest: 1024 * MiB,
  /** An audio file decoded whole (FLAC, MP3, Ogg). */
  audio: 256 * MiB,
  /** An embeddings or word-vector file read whole. */
  table: 4096 * MiB,
} as const;

/** Options of {@linkcode checkInput} and the readers here. */
export interface InputOptions {
  /** What the file is, in messages ("manifest", "vocabulary", "shard"). */
  label?: string;
  /** A regular file (default) or a folder is expected. */
  kind?: "file" | "folder";
}

function refuse(path: string, what: string, options: InputOptions): FormatError {
  const expected = (options.kind ?? "file") === "file" ? "a regular file" : "a folder";
  const as = options.label ? ` as the ${options.label}` : "";
  return new FormatError(`is ${what}, not ${expected}; refusing to read it${as}`, { path });
}

/**
 * Checks what is at `path` before anything reads it: a regular file (or a
 * folder with `kind: "folder"`), symlinks followed. Anything else (FIFO,
 * device, socket) is a FormatError naming the path and what it is; a missing
 * path is `Deno.errors.NotFound` as usual. Returns the file's info.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInput } from "./input.ts";
 * await assert.rejects(checkInput("/dev/zero", { label: "manifest" }), /\/dev\/zero: is a character device/);
 * assert.equal((await checkInput("/", { kind: "folder" })).isDirectory, true);
 * ```
 */
export async function checkInput(path: string, options: InputOptions = {}): Promise<Deno.FileInfo> {
  const info = await Deno.stat(path);
  const ok = (options.kind ?? "file") === "file" ? info.isFile : info.isDirectory;
  if (!ok) throw refuse(path, describeFileKind(info), options);
  return info;
}

/** Synchronous {@linkcode checkInput}. */
export function checkInputSync(path: string, options: InputOptions = {}): Deno.FileInfo {
  const info = Deno.statSync(path);
  const ok = (options.kind ?? "file") === "file" ? info.isFile : info.isDirectory;
  if (!ok) throw refuse(path, describeFileKind(info), options);
  return info;
}

/**
 * Opens a regular file for reading after {@linkcode checkInput} (a FIFO is
 * refused before `open` could block on it). The caller closes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openInput } from "./input.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "abc");
 * using f = await openInput(path);
 * assert.equal((await f.stat()).size, 3);
 * await assert.rejects(openInput("/dev/urandom", { label: "shard" }), /as the shard/);
 * ```
 */
export async function openInput(path: string, options: InputOptions = {}): Promise<Deno.FsFile> {
  await checkInput(path, options);
  const file = await Deno.open(path, { read: true });
  const info = await file.stat(); // swapped between stat and open?
  if (!info.isFile) {
    file.close();
    throw refuse(path, describeFileKind(info), options);
  }
  return file;
}

function tooLarge(path: string, size: number, max: number, options: InputOptions): FormatError {
  const as = options.label ? ` for a ${options.label}` : "";
  return new FormatError(`is ${size} bytes or more, over the ${max}-byte limit${as}`, { path });
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes: refused before
 * reading when it is not a regular file or is larger; a file that grows while
 * read stops at the limit. Throws FormatError naming the path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInputBytes } from "./input.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "hello");
 * assert.equal((await readInputBytes(path, { maxBytes: 5 })).length, 5);
 * await assert.rejects(readInputBytes(path, { maxBytes: 4, label: "config" }), /over the 4-byte limit for a config/);
 * ```
 */
export async function readInputBytes(
  path: string,
  options: InputOptions & { maxBytes: number },
): Promise<Uint8Array<ArrayBuffer>> {
  const max = options.maxBytes;
  using file = await openInput(path, options);
  const size = (await file.stat()).size;
  if (size > max) throw tooLarge(path, size, max, options);
  let buf = new Uint8Array(Math.max(size, 1));
  let got = 0;
  while (true) {
    if (got === buf.length) {
      if (got > max) throw tooLarge(path, got, max, options);
      const next = new Uint8Array(Math.min(Math.max(buf.length * 2, 4096), max + 1));
      next.set(buf);
      buf = next;
    }
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got === buf.length ? buf : buf.slice(0, got);
}

/**
 * {@linkcode readInputBytes} decoded as UTF-8 text (invalid bytes replaced).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { INPUT_LIMITS, readInputText } from "./input.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"a":1}');
 * assert.equal(await readInputText(path, { maxBytes: INPUT_LIMITS.json }), '{"a":1}');
 * ```
 */
export async function readInputText(
  path: string,
  options: InputOptions & { maxBytes: number },
): Promise<string> {
  return new TextDecoder().decode(await readInputBytes(path, options));
}

/**
 * The first `length` bytes of a regular file (fewer when it is shorter),
 * after {@linkcode checkInput}: for sniffing a format or reading a prefix
 * of a long file without reading the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInputHead } from "./input.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "hello");
 * assert.deepEqual([...await readInputHead(path, 2)], [104, 101]);
 * assert.equal((await readInputHead(path, 100)).length, 5);
 * await assert.rejects(readInputHead("/dev/zero", 4), /character device/);
 * ```
 */
export async function readInputHead(
  path: string,
  length: number,
  options: InputOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  using file = await openInput(path, options);
  const size = (await file.stat()).size;
  const out = new Uint8Array(Math.max(0, Math.min(length, size)));
  let got = 0;
  while (got < out.length) {
    const n = await file.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got === out.length ? out : out.slice(0, got);
}

/**
 * `length` bytes of a regular file from byte `offset` (fewer where it ends
 * first), after {@linkcode checkInput}, and the file's size: for a window of
 * a long file without reading the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInputRange } from "./input.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "hello");
 * const { bytes, size } = await readInputRange(path, 1, 3);
 * assert.equal(new TextDecoder().decode(bytes), "ell");
 * assert.equal(size, 5);
 * assert.equal((await readInputRange(path, 4, 10)).bytes.length, 1);
 * ```
 */
export async function readInputRange(
  path: string,
  offset: number,
  length: number,
  options: InputOptions = {},
): Promise<{ bytes: Uint8Array<ArrayBuffer>; size: number }> {
  using file = await openInput(path, options);
  const size = (await file.stat()).size;
  const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < out.length) {
    const n = await file.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return { bytes: got === out.length ? out : out.slice(0, got), size };
}
