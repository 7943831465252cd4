import assert from "node:assert/strict";
import * as path from "node:path";
import { acquireRunLock, checkRunLock, LOCK_FILE } from "../../../lib/run/lock.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";
import { startLockHolder, stopLockHolder } from "../../_lock_holder.ts";

/** A process id that cannot be alive (above Linux's pid_max). */
const DEAD_PID = 4194399;

Deno.test("acquireRunLock() refuses a folder a live process holds, naming it, and takes over once that process is killed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const holder = await startLockHolder(dir);
    const record = JSON.parse(await Deno.readTextFile(path.join(dir, LOCK_FILE)));
    assert.equal(record.pid, holder.pid);
    assert.equal(record.host, Deno.hostname());
    assert.throws(
      () => acquireRunLock(dir),
      (e: Error) => {
        assert.equal(
          e.message,
          `run folder ${dir} is in use by pid ${holder.pid} on host ${record.host} since ${record.started}`,
        );
        return true;
      },
    );
    assert.throws(() => checkRunLock(dir), /is in use by pid/);
    // Killed without releasing: the file stays, but the OS dropped its lock: provably gone.
    await stopLockHolder(holder, true);
    assert.equal(JSON.parse(await Deno.readTextFile(path.join(dir, LOCK_FILE))).pid, holder.pid);
    const lock = acquireRunLock(dir);
    assert.equal(JSON.parse(await Deno.readTextFile(lock.path)).pid, Deno.pid);
    lock.release();
    await assert.rejects(Deno.lstat(path.join(dir, LOCK_FILE)), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireRunLock() releases on a clean exit of its holder, and release() twice is harmless", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await stopLockHolder(await startLockHolder(dir));
    await assert.rejects(Deno.lstat(path.join(dir, LOCK_FILE)), Deno.errors.NotFound);
    const lock = acquireRunLock(dir);
    lock.release();
    lock.release();
    // A second release does not remove a later holder's file.
    const next = acquireRunLock(dir);
    lock.release();
    assert.ok((await Deno.lstat(next.path)).isFile);
    next.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireRunLock() takes over a stale lock of this host; never one of another host; refuses a FIFO", async () => {
  const dir = await Deno.makeTempDir();
  const lockPath = path.join(dir, LOCK_FILE);
  try {
    const stale = { pid: DEAD_PID, host: Deno.hostname(), started: "2026-01-01T00:00:00.000Z" };
    await Deno.writeTextFile(lockPath, JSON.stringify(stale));
    const lock = acquireRunLock(dir);
    assert.equal(JSON.parse(await Deno.readTextFile(lockPath)).pid, Deno.pid);
    lock.release();

    const remote = { pid: DEAD_PID, host: "other-host", started: "2026-01-01T00:00:00.000Z" };
    await Deno.writeTextFile(lockPath, JSON.stringify(remote));
    assert.throws(
      () => acquireRunLock(dir),
      /is locked by pid 4194399 on host other-host since .*; .* if it is, delete .*\.lock$/,
    );
    assert.deepEqual(JSON.parse(await Deno.readTextFile(lockPath)), remote); // untouched
    await Deno.remove(lockPath);

    assert.ok((await new Deno.Command("mkfifo", { args: [lockPath] }).output()).success);
    assert.throws(() => acquireRunLock(dir), /\.lock is a FIFO, not a run lock/);
    assert.throws(() => checkRunLock(dir), /\.lock is a FIFO/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prepareRunFolder() on a folder a live run holds refuses before cleaning or replacing anything", async () => {
  const dir = await Deno.makeTempDir();
  const runDir = path.join(dir, "run");
  try {
    const first = await prepareRunFolder(runDir, {
      config: { a: 1 },
      resume: false,
      force: false,
      lock: true,
    });
    first.lock?.release();
    await Deno.writeTextFile(path.join(runDir, "metrics.jsonl"), '{"step":1}\n');
    const holder = await startLockHolder(runDir);
    try {
      // The live run's temporary checkpoint, as it is being written.
      const temp = path.join(runDir, `.step-0000002.tmp-${holder.pid}-0123456789ab`);
      await Deno.mkdir(temp);
      const before = [...Deno.readDirSync(runDir)].map((e) => e.name).sort();
      const modes = [
        { resume: true, force: false },
        { resume: false, force: true },
        { resume: false, force: false }, // not "already holds a run": the holder is named
      ];
      for (const mode of modes) {
        for (const lock of [true, false]) {
          await assert.rejects(
            prepareRunFolder(runDir, { config: { a: 2 }, ...mode, lock }),
            new RegExp(`is in use by pid ${holder.pid} on host`),
          );
        }
      }
      assert.deepEqual([...Deno.readDirSync(runDir)].map((e) => e.name).sort(), before);
      assert.equal(await Deno.readTextFile(path.join(runDir, "metrics.jsonl")), '{"step":1}\n');
      assert.equal(JSON.parse(await Deno.readTextFile(path.join(runDir, "config.json"))).a, 1);
    } finally {
      await stopLockHolder(holder);
    }
    // Once it ends, the folder is free again.
    const again = await prepareRunFolder(runDir, {
      config: { a: 2 },
      resume: false,
      force: true,
      lock: true,
    });
    again.lock?.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
