import assert from "node:assert/strict";
import {
  AtomicFile,
  removeStaleTemps,
  removeStaleTempsOf,
  tempPathFor,
  writeDirAtomic,
  writeFileAtomic,
} from "../../../lib/io/atomic.ts";
import { writerGone } from "../../../lib/io/_temp_liveness.ts";
import { startAtomicWriter } from "../../_atomic_writer.ts";

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("tempPathFor() names a hidden sibling with the pid and a random tag", () => {
  const a = tempPathFor("/x/y/model.safetensors");
  const b = tempPathFor("/x/y/model.safetensors");
  assert.match(a, new RegExp(`^/x/y/\\.model\\.safetensors\\.tmp-${Deno.pid}-[0-9a-f]{12}$`));
  assert.notEqual(a, b);
  assert.match(tempPathFor("/x/run", { kind: "old" }), /^\/x\/\.run\.old-/);
});

Deno.test("writeFileAtomic() writes bytes and text and leaves no temporary file", async () => {
  await withDir(async (dir) => {
    await writeFileAtomic(`${dir}/a.bin`, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(`${dir}/b.txt`, "héllo");
    assert.deepEqual(await Deno.readFile(`${dir}/a.bin`), new Uint8Array([1, 2, 3]));
    assert.equal(await Deno.readTextFile(`${dir}/b.txt`), "héllo");
    await writeFileAtomic(`${dir}/b.txt`, "replaced");
    assert.equal(await Deno.readTextFile(`${dir}/b.txt`), "replaced");
    assert.deepEqual(await names(dir), ["a.bin", "b.txt"]);
  });
});

Deno.test("writeFileAtomic() failing to rename leaves the target and no temporary file", async () => {
  await withDir(async (dir) => {
    // A non-empty folder cannot be replaced by a file: the rename fails.
    await Deno.mkdir(`${dir}/target`);
    await Deno.writeTextFile(`${dir}/target/keep.txt`, "keep");
    await assert.rejects(() => writeFileAtomic(`${dir}/target`, "new"));
    assert.equal(await Deno.readTextFile(`${dir}/target/keep.txt`), "keep");
    assert.deepEqual(await names(dir), ["target"]);
  });
});

Deno.test("writeFileAtomic() failing mid-write leaves the old file untouched", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/state.json`, "old");
    const exploding = new Proxy(new Uint8Array(4), {
      get(target, key) {
        if (key === "subarray") throw new Error("disk on fire");
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await assert.rejects(() => writeFileAtomic(`${dir}/state.json`, exploding), /disk on fire/);
    assert.equal(await Deno.readTextFile(`${dir}/state.json`), "old");
    assert.deepEqual(await names(dir), ["state.json"]);
  });
});

Deno.test("AtomicFile only shows the file after commit(), and abort() removes it", async () => {
  await withDir(async (dir) => {
    const out = await AtomicFile.create(`${dir}/x.bin`);
    await out.write(new Uint8Array([9, 9, 9]));
    await out.writeAt(1, new Uint8Array([7]));
    assert.deepEqual(await names(dir), [out.tempPath.slice(dir.length + 1)]);
    await out.commit();
    assert.deepEqual(await Deno.readFile(`${dir}/x.bin`), new Uint8Array([9, 7, 9]));
    await assert.rejects(() => out.write(new Uint8Array(1)), TypeError);

    const dropped = await AtomicFile.create(`${dir}/x.bin`);
    await dropped.write(new Uint8Array([1]));
    await dropped.abort();
    await dropped.abort();
    assert.deepEqual(await Deno.readFile(`${dir}/x.bin`), new Uint8Array([9, 7, 9]));
    assert.deepEqual(await names(dir), ["x.bin"]);
  });
});

Deno.test("writeDirAtomic() builds the folder under a temporary name, then renames it", async () => {
  await withDir(async (dir) => {
    let seen = "";
    await writeDirAtomic(`${dir}/step-1`, async (tmp) => {
      seen = tmp;
      assert.deepEqual(await names(dir), [tmp.slice(dir.length + 1)]);
      await Deno.writeTextFile(`${tmp}/state.json`, "{}");
    });
    assert.match(seen, /\.step-1\.tmp-/);
    assert.deepEqual(await names(dir), ["step-1"]);
    assert.deepEqual(await names(`${dir}/step-1`), ["state.json"]);
  });
});

Deno.test("writeDirAtomic() removes the temporary folder when fill fails", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      () =>
        writeDirAtomic(`${dir}/step-1`, async (tmp) => {
          await Deno.writeTextFile(`${tmp}/half.bin`, "x");
          throw new Error("killed");
        }),
      /killed/,
    );
    assert.deepEqual(await names(dir), []);
  });
});

Deno.test("writeDirAtomic() leaves an existing folder untouched on failure", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/step-1`);
    await Deno.writeTextFile(`${dir}/step-1/state.json`, "old");
    let called = false;
    await assert.rejects(
      () =>
        writeDirAtomic(`${dir}/step-1`, () => {
          called = true;
          return Promise.resolve();
        }),
      Deno.errors.AlreadyExists,
    );
    assert.equal(called, false);
    await assert.rejects(
      () =>
        writeDirAtomic(`${dir}/step-1`, async (tmp) => {
          await Deno.writeTextFile(`${tmp}/state.json`, "new");
          throw new Error("killed");
        }, { overwrite: true }),
      /killed/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/step-1/state.json`), "old");
    assert.deepEqual(await names(dir), ["step-1"]);
  });
});

Deno.test("writeDirAtomic() with overwrite replaces the folder and cleans up", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/step-1`);
    await Deno.writeTextFile(`${dir}/step-1/old.json`, "old");
    await writeDirAtomic(`${dir}/step-1`, async (tmp) => {
      await Deno.writeTextFile(`${tmp}/new.json`, "new");
    }, { overwrite: true });
    assert.deepEqual(await names(`${dir}/step-1`), ["new.json"]);
    assert.deepEqual(await names(dir), ["step-1"]);
  });
});

Deno.test({
  name: "removeStaleTemps() removes dead writers' leftovers and keeps live ones",
  ignore: Deno.build.os !== "linux", // liveness is read from /proc
}, async () => {
  await withDir(async (dir) => {
    const dead = 999999999; // above any pid_max
    await Deno.writeTextFile(`${dir}/.a.bin.tmp-${dead}-0011aabbccdd`, "partial");
    await Deno.mkdir(`${dir}/.step-2.tmp-${dead}-0011aabbccde`);
    await Deno.writeTextFile(`${dir}/.step-2.tmp-${dead}-0011aabbccde/x`, "x");
    await Deno.writeTextFile(`${dir}/.b.bin.tmp-${Deno.pid}-0011aabbccdf`, "mine, in progress");
    await Deno.writeTextFile(`${dir}/.c.bin.tmp-1-0011aabbcce0`, "pid 1 is alive");
    await Deno.writeTextFile(`${dir}/.hidden`, "not a temp");
    await Deno.writeTextFile(`${dir}/model.tmp-5-aaaaaaaa`, "not hidden: not ours");
    // A folder moved aside whose replacement never landed is the only copy left.
    await Deno.mkdir(`${dir}/.step-1.old-${dead}-0011aabbcce1`);
    await Deno.writeTextFile(`${dir}/.step-1.old-${dead}-0011aabbcce1/state.json`, "keep");
    // One moved aside after its replacement landed is garbage.
    await Deno.mkdir(`${dir}/step-3`);
    await Deno.mkdir(`${dir}/.step-3.old-${dead}-0011aabbcce2`);

    const report = await removeStaleTemps(dir);
    assert.deepEqual(report.removed.sort(), [
      `.a.bin.tmp-${dead}-0011aabbccdd`,
      `.step-2.tmp-${dead}-0011aabbccde`,
      `.step-3.old-${dead}-0011aabbcce2`,
    ]);
    assert.deepEqual(report.restored, [`.step-1.old-${dead}-0011aabbcce1`]);
    assert.deepEqual(await names(dir), [
      `.b.bin.tmp-${Deno.pid}-0011aabbccdf`,
      `.c.bin.tmp-1-0011aabbcce0`,
      ".hidden",
      "model.tmp-5-aaaaaaaa",
      "step-1",
      "step-3",
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/step-1/state.json`), "keep");

    // An old entry of a live pid (which may have been reused) goes after maxAgeMs.
    const old = new Date(Date.now() - 3600_000);
    await Deno.utime(`${dir}/.c.bin.tmp-1-0011aabbcce0`, old, old);
    const later = await removeStaleTemps(dir, { maxAgeMs: 60_000 });
    assert.deepEqual(later.removed, [".c.bin.tmp-1-0011aabbcce0"]);
    await assert.rejects(() => removeStaleTemps(dir, { maxAgeMs: -1 }), RangeError);
  });
});

Deno.test("atomic writers never rename over a device or FIFO: it stays what it was, no temporary is left", async () => {
  await withDir(async (dir) => {
    const fifo = `${dir}/n.jsonl`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await assert.rejects(writeFileAtomic(fifo, "x"), /n\.jsonl is a FIFO, not a regular file/);
    await assert.rejects(AtomicFile.create(fifo), /is a FIFO/);
    // A symlink to a FIFO is judged by what it points to.
    await Deno.symlink(fifo, `${dir}/link.jsonl`);
    await assert.rejects(writeFileAtomic(`${dir}/link.jsonl`, "x"), /is a symlink to a FIFO/);
    // A FIFO appearing while the file is written is not replaced at commit either.
    const out = await AtomicFile.create(`${dir}/late.jsonl`);
    await out.write(new TextEncoder().encode("x"));
    assert.ok((await new Deno.Command("mkfifo", { args: [`${dir}/late.jsonl`] }).output()).success);
    await assert.rejects(out.commit(), /late\.jsonl is a FIFO/);
    // A folder being replaced must be a folder.
    await assert.rejects(
      writeDirAtomic(fifo, async () => {}, { overwrite: true }),
      /is a FIFO, not a folder/,
    );
    // As root, a character device made here (like /dev/null) is refused the same way.
    const dev = `${dir}/null.jsonl`;
    const made = await new Deno.Command("mknod", { args: [dev, "c", "1", "3"], stderr: "null" })
      .output().then((r) => r.success, () => false);
    if (made) {
      await assert.rejects(writeFileAtomic(dev, "x"), /is a character device/);
      assert.ok((await Deno.lstat(dev)).isCharDevice);
    }
    assert.ok((await Deno.lstat(fifo)).isFifo);
    assert.ok((await Deno.lstat(`${dir}/late.jsonl`)).isFifo);
    const left = (await names(dir)).filter((n) => n.includes(".tmp-"));
    assert.deepEqual(left, []);
  });
});

Deno.test("a temporary file of another live process is kept by its lock; once that writer is killed, the next write of the same file removes it", async () => {
  await withDir(async (dir) => {
    const { child, tempPath } = await startAtomicWriter(`${dir}/e.npy`);
    const old = new Date(Date.now() - 3600_000); // older than any age rule: only the lock protects it
    await Deno.utime(tempPath, old, old);
    try {
      assert.equal(writerGone(tempPath), false);
      await removeStaleTemps(dir, { exclusive: true, maxAgeMs: 0 });
      await removeStaleTempsOf(`${dir}/e.npy`);
      assert.ok(await Deno.lstat(tempPath), "a live writer's temporary file was deleted");
    } finally {
      child.kill("SIGKILL");
      await child.stdin.close().catch(() => {});
      await child.status;
    }
    assert.equal(writerGone(tempPath), true, "the lock did not go with the killed writer");
    await Deno.writeTextFile(`${dir}/.other.npy.tmp-1-00aa11bbccdd`, "another file's");
    await Deno.utime(`${dir}/.other.npy.tmp-1-00aa11bbccdd`, old, old);
    await writeFileAtomic(`${dir}/e.npy`, "complete");
    assert.deepEqual(await names(dir), [".other.npy.tmp-1-00aa11bbccdd", "e.npy"]);
  });
});

Deno.test("a live writer of another process commits normally after a cleaner looked at its temporary file", async () => {
  await withDir(async (dir) => {
    const { child, tempPath } = await startAtomicWriter(`${dir}/e.npy`);
    assert.equal(writerGone(tempPath), false);
    await child.stdin.close();
    assert.equal((await child.status).code, 0);
    assert.equal(await Deno.readTextFile(`${dir}/e.npy`), "partial");
    assert.deepEqual(await names(dir), ["e.npy"]);
  });
});
