/**
 * Positioned reads and complete writes on an open file. Private to `lib/io/`.
 *
 * @module
 */
import { FormatError } from "../util/errors.ts";

/**
 * Reads exactly `length` bytes at `offset` into a fresh buffer (offset 0, so
 * any typed array can view it); a file that ends early is a FormatError.
 */
export async function readExactly(
  file: Deno.FsFile,
  offset: number,
  length: number,
  path?: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) {
      throw new FormatError(
        `file ends at byte ${offset + got}, expected ${length} bytes at offset ${offset}`,
        { path },
      );
    }
    got += n;
  }
  return out;
}

/** Writes every byte of `bytes` at the file's current position. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    done += await file.write(bytes.subarray(done));
  }
}

/**
 * Serialises async operations on one resource (a file with one seek
 * position): each `run` starts after the previous one settles.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** Deletes `path`; one that is gone already is fine. */
export async function removeQuietly(
  path: string,
  options: { recursive?: boolean } = {},
): Promise<void> {
  try {
    await Deno.remove(path, options);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Flushes folder `dir` (best effort: makes a rename durable on Linux). */
export async function syncDir(dir: string): Promise<void> {
  // Best effort: makes the rename durable on Linux; not every OS allows it.
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // ignore
  }
}
