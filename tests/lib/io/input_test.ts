import assert from "node:assert/strict";
import * as path from "node:path";
import {
  checkInput,
  openInput,
  readInputBytes,
  readInputHead,
  readInputText,
} from "../../../lib/io/input.ts";
import { FormatError } from "../../../lib/util/errors.ts";

async function mkfifo(p: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [p] }).output();
  assert.ok(r.success, "mkfifo failed");
}

Deno.test("a FIFO is refused before it is opened: one FormatError line naming the path and 'a FIFO'", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = path.join(dir, "manifest.jsonl");
    await mkfifo(fifo);
    const t0 = performance.now();
    for (
      const read of [
        () => openInput(fifo, { label: "manifest" }),
        () => readInputBytes(fifo, { maxBytes: 10, label: "manifest" }),
        () => readInputText(fifo, { maxBytes: 10 }),
        () => readInputHead(fifo, 10),
      ]
    ) {
      const e = await read().then(() => undefined, (e) => e);
      assert.ok(e instanceof FormatError, String(e));
      assert.ok(e.message.startsWith(`${fifo}: is a FIFO, not a regular file`), e.message);
      assert.ok(!e.message.includes("\n"));
    }
    assert.ok(performance.now() - t0 < 2000, "refusing took too long");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("devices (/dev/zero, /dev/urandom) are refused as inputs, so nothing is read from them", async () => {
  for (const dev of ["/dev/zero", "/dev/urandom", "/dev/null"]) {
    await assert.rejects(
      readInputBytes(dev, { maxBytes: 1 << 20, label: "vocabulary" }),
      new RegExp(
        `: ${dev}: is a character device, not a regular file; refusing to read it as the vocabulary$`,
      ),
    );
  }
});

Deno.test("a folder is refused where a file is expected, and accepted with kind: 'folder'", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(checkInput(dir), /is a folder, not a regular file/);
    assert.ok((await checkInput(dir, { kind: "folder" })).isDirectory);
    const file = path.join(dir, "a.txt");
    await Deno.writeTextFile(file, "x");
    await assert.rejects(checkInput(file, { kind: "folder" }), /is a regular file, not a folder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a symlink to a FIFO is judged by its target; a missing file stays NotFound", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await mkfifo(path.join(dir, "f"));
    await Deno.symlink(path.join(dir, "f"), path.join(dir, "link.json"));
    await assert.rejects(checkInput(path.join(dir, "link.json")), /is a FIFO/);
    await assert.rejects(checkInput(path.join(dir, "none.json")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readInputBytes() refuses a file over its size limit before reading it (a sparse 4 GiB file)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = path.join(dir, "state.json");
    using f = await Deno.open(file, { write: true, create: true });
    await f.truncate(4 * 1024 ** 3); // sparse: no disk used
    const t0 = performance.now();
    await assert.rejects(
      readInputBytes(file, { maxBytes: 16 << 20, label: "state.json" }),
      /is 4294967296 bytes or more, over the 16777216-byte limit for a state.json/,
    );
    assert.ok(performance.now() - t0 < 1000);
    // A prefix of the same file is fine.
    assert.equal((await readInputHead(file, 8)).length, 8);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readInputBytes() reads a file of exactly the limit, and an empty file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = path.join(dir, "a.bin");
    await Deno.writeFile(file, new Uint8Array([1, 2, 3, 4]));
    assert.deepEqual([...await readInputBytes(file, { maxBytes: 4 })], [1, 2, 3, 4]);
    await Deno.writeFile(file, new Uint8Array(0));
    assert.equal((await readInputBytes(file, { maxBytes: 4 })).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
