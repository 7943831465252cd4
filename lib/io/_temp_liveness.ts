/**
 * Whether the writer of a temporary file is still at work, told without
 * `/proc`: an {@linkcode ../atomic.ts AtomicFile} holds an exclusive OS lock
 * (`flock`) on its temporary file from creation to commit, and the OS drops
 * it when the process ends however it ends (SIGKILL included). A temporary
 * file whose lock can be taken was left by a writer that is gone.
 *
 * @module
 */

/**
 * A temporary file younger than this may be between its creation and its
 * writer taking the lock; it is never judged abandoned.
 */
export const LOCK_GRACE_MS = 5_000;

/**
 * `true` when the temporary file at `path` was left by a writer that is gone
 * (its lock is free and it is older than {@linkcode LOCK_GRACE_MS}), `false`
 * when a writer holds its lock, `undefined` when this cannot tell: too young,
 * or it cannot be opened to try (gone already, no permission, not a file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writerGone } from "./_temp_liveness.ts";
 * const dir = Deno.makeTempDirSync();
 * const tmp = `${dir}/.a.bin.tmp-1-00aa11bb`;
 * const held = Deno.openSync(tmp, { write: true, createNew: true });
 * held.lockSync(true);
 * const old = new Date(Date.now() - 60_000);
 * Deno.utimeSync(tmp, old, old);
 * assert.equal(writerGone(tmp), false); // locked by a live writer (this test)
 * held.close();
 * assert.equal(writerGone(tmp), true); // the lock went with its holder
 * assert.equal(writerGone(tmp, old.getTime() + 1000), undefined); // too young to tell
 * assert.equal(writerGone(`${dir}/missing`), undefined);
 * if (new Deno.Command("mkfifo", { args: [`${dir}/.f.tmp-1-00aa11bb`] }).outputSync().success) {
 *   assert.equal(writerGone(`${dir}/.f.tmp-1-00aa11bb`), undefined); // returns, never blocks
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writerGone(path: string, now = Date.now()): boolean | undefined {
  let file: Deno.FsFile;
  try {
    // Never open what is not a regular file: a FIFO named like a temporary would block the open.
    if (!Deno.lstatSync(path).isFile) return undefined;
    file = Deno.openSync(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    const info = file.statSync();
    if (!info.isFile) return undefined;
    if (!file.tryLockSync(true)) return false;
    return now - (info.mtime?.getTime() ?? now) < LOCK_GRACE_MS ? undefined : true;
  } catch {
    return undefined;
  } finally {
    try {
      file.close(); // drops the lock taken to try
    } catch {
      // closed already
    }
  }
}

async function processAlive(pid: number): Promise<boolean | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  try {
    await Deno.lstat(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    // Deno asks for --allow-all to read /proc: without it, liveness is unknown
    // and the other rules decide.
    return undefined;
  }
}

/**
 * Whether the temporary entry at `path` (a file or folder written by process
 * `pid`) is abandoned: a temporary file by its lock ({@linkcode writerGone});
 * otherwise its process is gone (`/proc`), or liveness is unknown and the
 * caller owns the folder (`exclusive`), or it is older than `maxAgeMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStaleTemp } from "./_temp_liveness.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/.step-1.tmp-999999999-00aa11bb`);
 * assert.equal(
 *   await isStaleTemp(`${dir}/.step-1.tmp-999999999-00aa11bb`, false, 999999999, 3600_000),
 *   Deno.build.os === "linux", // no such process (pids stop below 2^22)
 * );
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function isStaleTemp(
  path: string,
  isFile: boolean,
  pid: number,
  maxAgeMs: number,
  exclusive = false,
): Promise<boolean> {
  const gone = isFile ? writerGone(path) : undefined;
  if (gone !== undefined) return gone;
  const alive = await processAlive(pid);
  if (alive === false || (alive === undefined && exclusive)) return true;
  const info = await Deno.lstat(path);
  const mtime = info.mtime?.getTime() ?? Date.now();
  return Date.now() - mtime > maxAgeMs;
}
