/**
 * Atomic writes: a file or folder is built under a temporary sibling name and
 * renamed into place only once complete, so a reader never sees half a file
 * and a killed process leaves the old version untouched.
 *
 * Temporary names look like `.<name>.tmp-<pid>-<hex>` (and `.<name>.old-<pid>-<hex>`
 * for a folder being replaced); {@linkcode removeStaleTemps} cleans the ones a
 * killed process left behind.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { removeQuietly, syncDir, writeAll } from "./_file.ts";
import { assertReplaceable } from "./guard.ts";
import { isStaleTemp } from "./_temp_liveness.ts";

const TEMP_PATTERN = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]{8,}$/;

function randomHex(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A fresh temporary sibling of `path`: same folder, so a rename is atomic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tempPathFor } from "./atomic.ts";
 * const tmp = tempPathFor("/data/run/model.safetensors");
 * assert.ok(tmp.startsWith("/data/run/.model.safetensors.tmp-"));
 * ```
 */
export function tempPathFor(path: string, options: { kind?: "tmp" | "old" } = {}): string {
  const kind = options.kind ?? "tmp";
  return join(dirname(path), `.${basename(path)}.${kind}-${Deno.pid}-${randomHex()}`);
}

/**
 * Whether something is at `path` (a link counts, not followed); other errors
 * than "not found" are thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathExists } from "./atomic.ts";
 * assert.equal(await pathExists("/no/such/path"), false);
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * A file being written under a temporary name; {@linkcode AtomicFile.commit}
 * renames it over `path`, {@linkcode AtomicFile.abort} deletes it. The
 * streamed formats of this folder write through `AtomicStreamWriter`
 * (`stream_writer.ts`), which queues writes on it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AtomicFile } from "./atomic.ts";
 * const dir = Deno.makeTempDirSync();
 * const out = await AtomicFile.create(`${dir}/a.txt`);
 * await out.write(new TextEncoder().encode("hello"));
 * await out.commit();
 * assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "hello");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class AtomicFile {
  /** Where the file lands on commit. */
  readonly path: string;
  /** Where it is written meanwhile. */
  readonly tempPath: string;
  /** The open temporary file (positioned writes may seek it). */
  readonly file: Deno.FsFile;
  #done = false;

  private constructor(path: string, tempPath: string, file: Deno.FsFile) {
    this.path = path;
    this.tempPath = tempPath;
    this.file = file;
  }

  /**
   * Creates the temporary file next to `path`. A `path` that is not a regular
   * file (a device, FIFO or socket, or a symlink to one) is refused
   * (RangeError): it is never replaced.
   */
  static async create(path: string): Promise<AtomicFile> {
    await assertReplaceable(path, { label: "Cannot write" });
    await removeStaleTempsOf(path);
    const tempPath = tempPathFor(path);
    const file = await Deno.open(tempPath, { write: true, createNew: true });
    try {
      file.lockSync(true); // held until commit or abort: tells cleaners this writer is alive
    } catch {
      // a file system without locks: the age rule of removeStaleTemps decides
    }
    return new AtomicFile(path, tempPath, file);
  }

  /** Whether commit() or abort() already ran. */
  get done(): boolean {
    return this.#done;
  }

  /** Appends `bytes` at the current position. */
  async write(bytes: Uint8Array): Promise<void> {
    this.#checkOpen();
    await writeAll(this.file, bytes);
  }

  /** Writes `bytes` at byte `offset` (leaving the position after them). */
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    this.#checkOpen();
    await this.file.seek(offset, Deno.SeekMode.Start);
    await writeAll(this.file, bytes);
  }

  /** Flushes to disk and renames over `path`; on failure the temporary file is removed. */
  async commit(): Promise<void> {
    this.#checkOpen();
    this.#done = true;
    try {
      await this.file.sync();
      await assertReplaceable(this.path, { label: "Cannot write" }); // it may have appeared since
      // Renamed while still open and locked (closed first where open files cannot be renamed),
      // so no cleaner sees an unlocked temporary file of a live writer.
      if (Deno.build.os === "windows") this.file.close();
      await Deno.rename(this.tempPath, this.path);
      closeQuietly(this.file);
    } catch (e) {
      closeQuietly(this.file);
      await removeQuietly(this.tempPath);
      throw e;
    }
    await syncDir(dirname(this.path));
  }

  /** Closes and deletes the temporary file; `path` is not touched. Safe to call twice. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    closeQuietly(this.file);
    await removeQuietly(this.tempPath);
  }

  #checkOpen(): void {
    if (this.#done) {
      throw new TypeError(`Cannot write ${this.path}: the file was already committed or aborted`);
    }
  }
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // already closed
  }
}

/**
 * Writes `data` to `path` atomically: to a temporary sibling first, flushed
 * to disk, then renamed over `path`. On failure the temporary file is removed
 * and any previous `path` is left as it was.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileAtomic } from "./atomic.ts";
 * const dir = Deno.makeTempDirSync();
 * await writeFileAtomic(`${dir}/state.json`, JSON.stringify({ step: 5 }));
 * assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/state.json`)).step, 5);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const out = await AtomicFile.create(path);
  try {
    await out.write(bytes);
  } catch (e) {
    await out.abort();
    throw e;
  }
  await out.commit();
}

/** Options of {@linkcode writeDirAtomic}. */
export interface WriteDirAtomicOptions {
  /** Replace an existing `finalDir` (default false: an existing folder is an error). */
  overwrite?: boolean;
}

/**
 * Builds a folder atomically: `fill` writes into a fresh temporary sibling,
 * which is then renamed to `finalDir`. If `fill` throws, the temporary folder
 * is removed and an existing `finalDir` is untouched. With `overwrite`, the
 * old folder is moved aside, the new one renamed in, and the old one deleted.
 * Throws `Deno.errors.AlreadyExists` when `finalDir` exists and `overwrite`
 * is false.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeDirAtomic } from "./atomic.ts";
 * const dir = Deno.makeTempDirSync();
 * await writeDirAtomic(`${dir}/step-0000500`, async (tmp) => {
 *   await Deno.writeTextFile(`${tmp}/state.json`, "{}");
 * });
 * assert.equal(await Deno.readTextFile(`${dir}/step-0000500/state.json`), "{}");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeDirAtomic(
  finalDir: string,
  fill: (tmpDir: string) => Promise<void>,
  options: WriteDirAtomicOptions = {},
): Promise<void> {
  const overwrite = options.overwrite ?? false;
  await assertReplaceable(finalDir, { kind: "folder", label: "Cannot write folder" });
  if (!overwrite && await pathExists(finalDir)) {
    throw new Deno.errors.AlreadyExists(`Cannot write folder ${finalDir}: it already exists`);
  }
  const tmpDir = tempPathFor(finalDir);
  await Deno.mkdir(tmpDir);
  try {
    await fill(tmpDir);
    await syncDir(tmpDir);
    if (!(await pathExists(finalDir))) {
      await Deno.rename(tmpDir, finalDir);
    } else if (!overwrite) {
      throw new Deno.errors.AlreadyExists(`Cannot write folder ${finalDir}: it already exists`);
    } else {
      await assertReplaceable(finalDir, { kind: "folder", label: "Cannot write folder" });
      const oldDir = tempPathFor(finalDir, { kind: "old" });
      await Deno.rename(finalDir, oldDir);
      try {
        await Deno.rename(tmpDir, finalDir);
      } catch (e) {
        await Deno.rename(oldDir, finalDir); // put the old folder back
        throw e;
      }
      await removeQuietly(oldDir, { recursive: true });
    }
  } catch (e) {
    await removeQuietly(tmpDir, { recursive: true });
    throw e;
  }
  await syncDir(dirname(finalDir));
}

/** Options of {@linkcode removeStaleTemps}. */
export interface RemoveStaleTempsOptions {
  /**
   * Where the writer's liveness cannot be checked (no `/proc`), or its
   * process id may have been reused, a temporary entry older than this many
   * milliseconds is stale. Default 24 hours.
   */
  maxAgeMs?: number;
  /**
   * The caller owns `dir` (one writer at a time, e.g. a run folder): entries of
   * other processes whose liveness cannot be checked are stale at once. Live
   * writers seen through `/proc` are still kept.
   */
  exclusive?: boolean;
  /** Only the temporary entries of this final name (a file's or folder's base name). */
  target?: string;
}

/** What {@linkcode removeStaleTemps} did. */
export interface StaleTempsReport {
  /** Names of the temporary entries deleted. */
  removed: string[];
  /**
   * Names of `.old-` folders renamed back to their final name, because the
   * writer died after moving the old folder aside and before renaming the new
   * one in (so the old one was the only complete copy).
   */
  restored: string[];
}

/**
 * Cleans `dir` of the temporary files and folders (`.<name>.tmp-<pid>-<hex>`,
 * `.<name>.old-<pid>-<hex>`) left by writers that are no longer running.
 * Entries of the current process, and of writers still running, are kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeStaleTemps } from "./atomic.ts";
 * const dir = Deno.makeTempDirSync();
 * await Deno.writeTextFile(`${dir}/.a.bin.tmp-999999999-00aa11bb`, "partial");
 * const { removed } = await removeStaleTemps(dir);
 * assert.equal(removed.length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function removeStaleTemps(
  dir: string,
  options: RemoveStaleTempsOptions = {},
): Promise<StaleTempsReport> {
  const maxAgeMs = options.maxAgeMs ?? 24 * 3600 * 1000;
  if (!(maxAgeMs >= 0)) {
    throw new RangeError(`Cannot remove stale temporaries: maxAgeMs ${maxAgeMs} is negative`);
  }
  const stale: { name: string; target: string; kind: string }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = TEMP_PATTERN.exec(entry.name);
    if (!match) continue;
    if (options.target !== undefined && match[1] !== options.target) continue;
    const pid = Number(match[3]);
    if (pid === Deno.pid) continue;
    if (await isStaleTemp(join(dir, entry.name), entry.isFile, pid, maxAgeMs, options.exclusive)) {
      stale.push({ name: entry.name, target: match[1], kind: match[2] });
    }
  }
  const report: StaleTempsReport = { removed: [], restored: [] };
  // Restore moved-aside folders first, so a complete copy is never deleted.
  for (const { name, target, kind } of stale.sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (kind === "old" && !(await pathExists(join(dir, target)))) {
      await Deno.rename(join(dir, name), join(dir, target));
      report.restored.push(name);
    }
  }
  for (const { name } of stale) {
    if (report.restored.includes(name)) continue;
    await removeQuietly(join(dir, name), { recursive: true });
    report.removed.push(name);
  }
  return report;
}

/**
 * Cleans the stale temporary siblings of `path` that an earlier writer of the
 * same file left (killed mid-write), leaving other files' temporaries alone;
 * {@linkcode AtomicFile.create} calls it, so the next run of a command that
 * writes `path` cleans up after the last one. A missing folder is fine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeStaleTempsOf } from "./atomic.ts";
 * const dir = Deno.makeTempDirSync();
 * const old = new Date(Date.now() - 60_000);
 * for (const name of [".e.npy.tmp-999999999-00aa11bb", ".f.npy.tmp-999999999-00aa11bb"]) {
 *   Deno.writeTextFileSync(`${dir}/${name}`, "partial");
 *   Deno.utimeSync(`${dir}/${name}`, old, old);
 * }
 * const { removed } = await removeStaleTempsOf(`${dir}/e.npy`);
 * assert.deepEqual(removed, [".e.npy.tmp-999999999-00aa11bb"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function removeStaleTempsOf(path: string): Promise<StaleTempsReport> {
  const dir = dirname(path);
  try {
    // A folder seen without other processes' temporaries (a shard folder, say) is read once per
    // process, not once per file written into it.
    if (tempFreeDirs.has(dir)) return { removed: [], restored: [] };
    let foreign = false;
    for await (const entry of Deno.readDir(dir)) {
      const match = TEMP_PATTERN.exec(entry.name);
      if (match && Number(match[3]) !== Deno.pid) foreign = true;
    }
    if (!foreign) tempFreeDirs.add(dir);
    return foreign
      ? await removeStaleTemps(dir, { target: basename(path) })
      : { removed: [], restored: [] };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { removed: [], restored: [] };
    throw e;
  }
}

/** Folders this process found free of other processes' temporary entries. */
const tempFreeDirs = new Set<string>();
