/**
 * The run-folder lock: one writer per run folder. The lock is the file
 * `<run>/.lock` holding `{pid, host, started}`, and an exclusive OS lock
 * (`flock`) on it held for as long as the run writes. The OS drops that lock
 * when its process ends, however it ends (even SIGKILL), so a lock file whose
 * OS lock is free was left by a process that is provably gone — no `/proc`
 * read, no signal sent, no permission beyond the run folder's. A lock file
 * written on another host is never judged stale automatically: the message
 * says how to remove it.
 *
 * @module
 */
import * as path from "node:path";
import { tempPathFor } from "../io/atomic.ts";
import { describeFileKind } from "../io/guard.ts";

/** The lock file's name inside a run folder. */
export const LOCK_FILE = ".lock";

/** Which lock of a folder, and how messages name the folder. */
export interface LockOptions {
  /** How messages name the folder (default "run folder"): "dataset folder", … */
  label?: string;
  /** The lock file's name in the folder (default {@linkcode LOCK_FILE}). */
  name?: string;
}

/**
 * The lock file of slice `index` of `count` of a dataset folder: slices
 * written by several machines into one folder each lock their own part.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sliceLockName } from "./lock.ts";
 * assert.equal(sliceLockName(2, 8), ".lock.slice-2-of-8");
 * ```
 */
export function sliceLockName(index: number, count: number): string {
  return `${LOCK_FILE}.slice-${index}-of-${count}`;
}

/** What a lock file records about its holder. */
export interface LockHolder {
  /** Process id of the holder. */
  pid: number;
  /** Host name of the holder (`unknown` where Deno may not read it: no `--allow-sys`). */
  host: string;
  /** When the holder took the lock (ISO 8601). */
  started: string;
}

/** A held run-folder lock. */
export interface RunLock {
  /** The lock file. */
  readonly path: string;
  /** The record written into it. */
  readonly holder: LockHolder;
  /** Removes the lock file and drops the OS lock. Safe to call twice. */
  release(): void;
}

/** This host's name, or `unknown` where Deno may not read it. */
function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

/** The lock record in `file`, or undefined when it is empty or not one. */
function readHolder(file: Deno.FsFile): LockHolder | undefined {
  try {
    file.seekSync(0, Deno.SeekMode.Start);
    const buf = new Uint8Array(4096); // a record is ~100 bytes: never read a big file whole
    let got = 0;
    while (got < buf.length) {
      const n = file.readSync(buf.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    const v = JSON.parse(new TextDecoder().decode(buf.subarray(0, got)));
    if (
      typeof v?.pid === "number" && typeof v?.host === "string" && typeof v?.started === "string"
    ) {
      return { pid: v.pid, host: v.host, started: v.started };
    }
  } catch {
    // empty, partial or foreign: no holder recorded
  }
  return undefined;
}

/** Printable: control characters escaped (a lock file is untrusted input). */
function printable(s: string): string {
  // deno-lint-ignore no-control-regex
  return JSON.stringify(s).slice(1, -1).replace(/[\u0000-\u001f\u007f]/g, "?");
}

function describeHolder(h: LockHolder | undefined): string {
  if (!h) return "another process (its lock record is unreadable)";
  return `pid ${h.pid} on host ${printable(h.host)} since ${printable(h.started)}`;
}

/** Writes `record` to a fresh file and links it in as `lockPath`; false when one is there. */
function createLockFile(lockPath: string, record: LockHolder): boolean {
  const tmp = tempPathFor(lockPath);
  Deno.writeTextFileSync(tmp, JSON.stringify(record) + "\n", { createNew: true });
  try {
    Deno.linkSync(tmp, lockPath); // atomic and exclusive: the record is complete when it appears
    return true;
  } catch (e) {
    // NotFound: the live holder's clean-up took our temporary; its lock decides.
    if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotFound) return false;
    throw e;
  } finally {
    try {
      Deno.removeSync(tmp);
    } catch {
      // already gone
    }
  }
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // already closed
  }
}

/** Refuses a lock path that is not a regular file (a FIFO would block the read). */
function assertLockFile(lockPath: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(lockPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (!info.isFile) {
    throw new Deno.errors.AlreadyExists(
      `${lockPath} is ${
        describeFileKind(info)
      }, not a run lock; remove it if no run uses the folder`,
    );
  }
}

/** Opens `lockPath` and takes its OS lock; undefined when the file went away meanwhile. */
function openLocked(
  what: string,
  lockPath: string,
  created: boolean,
  me: LockHolder,
): Deno.FsFile | undefined {
  assertLockFile(lockPath);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockPath, { read: true, write: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined; // released meanwhile: retry
    throw e;
  }
  if (!file.tryLockSync(true)) {
    const holder = readHolder(file);
    closeQuietly(file);
    throw new Deno.errors.AlreadyExists(`${what} is in use by ${describeHolder(holder)}`);
  }
  let current: Deno.FileInfo;
  try {
    current = Deno.lstatSync(lockPath);
  } catch {
    closeQuietly(file);
    return undefined;
  }
  if (!sameFile(current, file.statSync())) {
    closeQuietly(file); // replaced meanwhile: retry on the new one
    return undefined;
  }
  if (created) return file;
  // An earlier lock file whose OS lock is free: its process is gone, if it ran here.
  const holder = readHolder(file);
  if (holder && holder.host !== me.host) {
    closeQuietly(file);
    throw new Deno.errors.AlreadyExists(
      `${what} is locked by ${describeHolder(holder)}; this host cannot tell ` +
        `whether that run is over: if it is, delete ${lockPath}`,
    );
  }
  file.truncateSync(0);
  file.seekSync(0, Deno.SeekMode.Start);
  const bytes = new TextEncoder().encode(JSON.stringify(me) + "\n");
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
  return file;
}

/**
 * Takes the lock of run folder `dir` (which must exist), or throws
 * `Deno.errors.AlreadyExists` with one line naming the holder: "run folder X
 * is in use by pid N on host H since T" (`options.label` names other
 * folders: "dataset folder"). A lock left by a process of this
 * host that is gone is taken over. The lock is released by `release()` and,
 * failing that, when the program unloads (and by the OS when it dies).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireRunLock } from "./lock.ts";
 * const dir = Deno.makeTempDirSync();
 * const lock = acquireRunLock(dir);
 * assert.equal(lock.holder.pid, Deno.pid);
 * assert.throws(() => acquireRunLock(dir), /is in use by pid \d+ on host/);
 * lock.release();
 * lock.release(); // twice is fine
 * acquireRunLock(dir).release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function acquireRunLock(dir: string, options: LockOptions = {}): RunLock {
  const what = `${options.label ?? "run folder"} ${dir}`;
  const lockPath = path.join(dir, options.name ?? LOCK_FILE);
  const me: LockHolder = { pid: Deno.pid, host: hostName(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    const created = createLockFile(lockPath, me);
    const file = openLocked(what, lockPath, created, me);
    if (file) return heldLock(lockPath, file, me);
  }
  throw new Deno.errors.AlreadyExists(`${what} is in use: its lock keeps changing`);
}

function heldLock(lockPath: string, file: Deno.FsFile, holder: LockHolder): RunLock {
  const identity = file.statSync();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    globalThis.removeEventListener("unload", release);
    try {
      // Only our own file: never one another process put there after a takeover.
      if (sameFile(Deno.lstatSync(lockPath), identity)) Deno.removeSync(lockPath);
    } catch {
      // gone already
    }
    closeQuietly(file);
  };
  globalThis.addEventListener("unload", release);
  return { path: lockPath, holder, release };
}

/**
 * Throws, as {@linkcode acquireRunLock} does, when a live process holds the
 * lock of `dir`; takes nothing. A missing folder or lock file is fine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireRunLock, checkRunLock } from "./lock.ts";
 * const dir = Deno.makeTempDirSync();
 * checkRunLock(dir);
 * const lock = acquireRunLock(dir);
 * assert.throws(() => checkRunLock(dir), /is in use by pid/);
 * lock.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function checkRunLock(dir: string, options: LockOptions = {}): void {
  const lockPath = path.join(dir, options.name ?? LOCK_FILE);
  assertLockFile(lockPath);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockPath, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  try {
    if (!file.tryLockSync(true)) {
      throw new Deno.errors.AlreadyExists(
        `${options.label ?? "run folder"} ${dir} is in use by ${describeHolder(readHolder(file))}`,
      );
    }
  } finally {
    closeQuietly(file);
  }
}
