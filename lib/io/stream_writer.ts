/**
 * The one atomic streaming writer under every streamed format of this folder
 * (npy, safetensors, Parquet, JSON Lines): a file written under a temporary
 * name by tasks that run one after another, renamed into place on
 * {@linkcode AtomicStreamWriter.finish}. A task that fails removes the
 * temporary file, so a failed export never leaves half a file behind.
 *
 * @module
 */
import { SerialQueue } from "./_file.ts";
import { AtomicFile } from "./atomic.ts";

/** Options of {@linkcode AtomicStreamWriter.create}. */
export interface AtomicStreamWriterOptions {
  /** Bytes written first (a format's header). */
  header?: Uint8Array;
}

/**
 * A temporary file filled by queued writes and committed (renamed over its
 * path) or aborted (deleted) once. Writes run in call order, each after the
 * previous one settles; the first write that fails aborts the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AtomicStreamWriter } from "./stream_writer.ts";
 * const dir = Deno.makeTempDirSync();
 * const out = await AtomicStreamWriter.create(`${dir}/a.bin`, { header: new Uint8Array([1, 2]) });
 * await out.write(new Uint8Array([3, 4]));
 * await out.writeAt(1, new Uint8Array([9]));
 * await out.finish();
 * assert.deepEqual([...await Deno.readFile(`${dir}/a.bin`)], [1, 9, 3, 4]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class AtomicStreamWriter {
  /** Where the file lands on finish. */
  readonly path: string;
  #out: AtomicFile;
  #queue = new SerialQueue();

  /** Streams into `out`, an open temporary file (see {@linkcode AtomicStreamWriter.create}). */
  constructor(out: AtomicFile) {
    this.path = out.path;
    this.#out = out;
  }

  /** Opens a temporary file next to `path` and writes `options.header` to it. */
  static async create(
    path: string,
    options: AtomicStreamWriterOptions = {},
  ): Promise<AtomicStreamWriter> {
    const stream = new AtomicStreamWriter(await AtomicFile.create(path));
    if (options.header !== undefined) await stream.write(options.header);
    return stream;
  }

  /** Whether finish() or abort() already ran (or a write failed). */
  get closed(): boolean {
    return this.#out.done;
  }

  /** Throws a TypeError `Cannot <action>: writer is closed` once the writer is closed. */
  assertOpen(action: string): void {
    if (this.#out.done) throw new TypeError(`Cannot ${action}: writer is closed`);
  }

  /**
   * Runs `task` after every task queued before it; if it fails, the
   * temporary file is removed and the error rethrown.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      try {
        return await task();
      } catch (e) {
        await this.#out.abort();
        throw e;
      }
    });
  }

  /** Appends `bytes` at the current position (queued). */
  write(bytes: Uint8Array): Promise<void> {
    return this.run(() => this.#out.write(bytes));
  }

  /** Writes `bytes` at byte `offset` of the file (queued). */
  writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    return this.run(() => this.#out.writeAt(offset, bytes));
  }

  /**
   * After the queued writes, runs `complete` (which throws when the content
   * is incomplete; the temporary file is then removed), then flushes and
   * renames the file into place.
   */
  finish(complete: () => void | Promise<void> = () => {}): Promise<void> {
    return this.#queue.run(async () => {
      try {
        await complete();
      } catch (e) {
        await this.#out.abort();
        throw e;
      }
      await this.#out.commit();
    });
  }

  /** Stops writing and removes the temporary file; `path` is not touched. Safe to call twice. */
  abort(): Promise<void> {
    return this.#queue.run(() => this.#out.abort());
  }
}
