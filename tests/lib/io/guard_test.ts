import assert from "node:assert/strict";
import * as path from "node:path";
import { assertReplaceable, checkOutputPath, realPathLoose } from "../../../lib/io/guard.ts";

async function mkfifo(p: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [p] }).output();
  assert.ok(r.success, "mkfifo failed");
}

/** A character device in a test folder (as /dev/null), or undefined where mknod is not allowed. */
async function mkCharDevice(p: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("mknod", { args: [p, "c", "1", "3"], stderr: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

Deno.test("checkOutputPath() refuses an --out that aliases an input through symlinks, whatever the direction", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const run = path.join(dir, "run");
    await Deno.mkdir(path.join(run, "checkpoints"), { recursive: true });
    await Deno.symlink(run, path.join(dir, "alias"));
    await Deno.symlink(dir, path.join(dir, "root-alias"));
    const inputs = [{ path: run, name: "--from" }];
    const refuse = (out: string, how: RegExp) =>
      assert.rejects(checkOutputPath(out, { kind: "folder", inputs }), how);
    // The same folder under another name: the case that deleted checkpoints.
    await refuse(path.join(dir, "alias"), /--out .*alias is the same as --from .*run \(both are /);
    await refuse(path.join(dir, "root-alias", "run"), /is the same as --from/);
    // Inside the input, also through a link and a path that does not exist yet.
    await refuse(path.join(dir, "alias", "checkpoints", "new"), /lies inside --from/);
    // Holding the input.
    await refuse(path.join(dir, "root-alias"), /contains --from/);
    // A dangling symlink pointing into the input.
    await Deno.symlink(path.join(run, "later"), path.join(dir, "dangling"));
    await refuse(path.join(dir, "dangling"), /lies inside --from/);
    // Apart from the inputs: fine, and the real path is returned.
    assert.equal(
      await checkOutputPath(path.join(dir, "root-alias", "run2"), { kind: "folder", inputs }),
      path.join(dir, "run2"),
    );
    // A sibling whose name starts like the input is not inside it.
    assert.equal(
      await checkOutputPath(path.join(dir, "run-b"), { kind: "folder", inputs }),
      path.join(dir, "run-b"),
    );
    // Nothing was created or deleted.
    assert.ok((await Deno.stat(path.join(run, "checkpoints"))).isDirectory);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkOutputPath() refuses a FIFO, a symlink to one, and a character device, and leaves them as they are", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const fifo = path.join(dir, "n.jsonl");
    await mkfifo(fifo);
    await assert.rejects(
      checkOutputPath(fifo, { kind: "file" }),
      /^RangeError: --out .*n\.jsonl is a FIFO, not a regular file; refusing to replace it$/,
    );
    await Deno.symlink(fifo, path.join(dir, "link.jsonl"));
    await assert.rejects(
      checkOutputPath(path.join(dir, "link.jsonl"), { kind: "file" }),
      /is a symlink to a FIFO/,
    );
    await assert.rejects(checkOutputPath(fifo, { kind: "folder" }), /is a FIFO, not a folder/);
    assert.ok((await Deno.lstat(fifo)).isFifo);
    // /dev/null is only looked at (stat), never written.
    await assert.rejects(
      checkOutputPath("/dev/null", { kind: "file" }),
      /\/dev\/null is a character device/,
    );
    const dev = path.join(dir, "null.jsonl");
    if (await mkCharDevice(dev)) {
      await assert.rejects(assertReplaceable(dev), /is a character device/);
      assert.ok((await Deno.lstat(dev)).isCharDevice);
    }
    // A folder where a file goes, and a file where a folder goes.
    await Deno.writeTextFile(path.join(dir, "f"), "x");
    await assert.rejects(checkOutputPath(dir, { kind: "file" }), /is a folder, not a regular file/);
    await assert.rejects(
      checkOutputPath(path.join(dir, "f"), { kind: "folder" }),
      /is a regular file, not a folder/,
    );
    // A regular file, a folder, or nothing: fine.
    await checkOutputPath(path.join(dir, "f"), { kind: "file" });
    await checkOutputPath(dir, { kind: "folder" });
    await checkOutputPath(path.join(dir, "none", "deeper"), { kind: "folder" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("realPathLoose() follows links of the existing part and of a dangling last link", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.mkdir(path.join(dir, "a"));
    await Deno.symlink(path.join(dir, "a"), path.join(dir, "b"));
    await Deno.symlink("a/x", path.join(dir, "c")); // relative and dangling
    assert.equal(await realPathLoose(path.join(dir, "b", "y", "z")), path.join(dir, "a", "y", "z"));
    assert.equal(await realPathLoose(path.join(dir, "c")), path.join(dir, "a", "x"));
    assert.equal(await realPathLoose(path.join(dir, "b", "..", "a")), path.join(dir, "a"));
    // A loop of links ends in an error, not a hang.
    await Deno.symlink(path.join(dir, "loop2"), path.join(dir, "loop1"));
    await Deno.symlink(path.join(dir, "loop1"), path.join(dir, "loop2"));
    await assert.rejects(realPathLoose(path.join(dir, "loop1")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
