import assert from "node:assert/strict";
import { FormatError } from "../../../lib/util/errors.ts";
import {
  appendJsonl,
  iterJsonl,
  JsonlStreamWriter,
  MAX_JSONL_LINE_BYTES,
  readJsonl,
} from "../../../lib/io/jsonl.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("appendJsonl() appends one line per value and readJsonl() reads them back", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/metrics.jsonl`;
    const values = [
      { step: 1, loss: 2.5, note: "multi\nline \u2028 text" },
      [1, "two", null],
      "just a string",
      42,
      { nested: { deep: [true, false] } },
    ];
    for (const v of values) await appendJsonl(path, v);
    const text = await Deno.readTextFile(path);
    assert.equal(text.split("\n").length, values.length + 1);
    assert.ok(text.endsWith("\n"));
    assert.deepEqual(await readJsonl(path), values);
  });
});

Deno.test("appendJsonl() turns NaN into null and refuses values JSON cannot hold", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/m.jsonl`;
    await appendJsonl(path, { loss: NaN });
    assert.deepEqual(await readJsonl(path), [{ loss: null }]);
    await assert.rejects(() => appendJsonl(path, undefined), TypeError);
    await assert.rejects(() => appendJsonl(path, { big: 1n }), TypeError);
    assert.equal((await readJsonl(path)).length, 1);
  });
});

Deno.test("readJsonl() skips blank lines and names the line of an error", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/a.jsonl`;
    await Deno.writeTextFile(path, '{"a":1}\r\n\n   \n{"b":2}\n{"c": oops}\n{"d":4}\n');
    await assert.rejects(() => readJsonl(path), (e) => {
      assert.ok(e instanceof FormatError);
      assert.match(e.message, /a\.jsonl: line 5: invalid JSON/);
      return true;
    });
    const lines: number[] = [];
    try {
      for await (const { line } of iterJsonl(path)) lines.push(line);
    } catch {
      // the bad line stops the iteration
    }
    assert.deepEqual(lines, [1, 4]);
  });
});

Deno.test("readJsonl() skips a truncated last line only when asked", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/m.jsonl`;
    await Deno.writeTextFile(path, '{"step":1}\n{"step":2}\n{"step":3, "lo');
    await assert.rejects(() => readJsonl(path), /line 3/);
    assert.deepEqual(await readJsonl(path, { allowTruncatedTail: true }), [{ step: 1 }, {
      step: 2,
    }]);
    // A bad line followed by a newline is not a truncated tail.
    await Deno.writeTextFile(path, '{"step":1}\n{"st\n');
    await assert.rejects(() => readJsonl(path, { allowTruncatedTail: true }), FormatError);
    // A complete last line without a newline is kept.
    await Deno.writeTextFile(path, '{"step":1}\n{"step":2}');
    assert.equal((await readJsonl(path)).length, 2);
  });
});

Deno.test("readJsonl() rejects bytes that are not UTF-8, with the line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/bad.jsonl`;
    const bytes = new TextEncoder().encode('{"a":1}\n{"b":"xx"}\n');
    bytes[14] = 0xff;
    await Deno.writeFile(path, bytes);
    await assert.rejects(() => readJsonl(path), (e) => {
      assert.ok(e instanceof FormatError);
      assert.match(e.message, /UTF-8/);
      return true;
    });
  });
});

Deno.test("readJsonl() handles lines spanning read chunks and multi-byte characters", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/big.jsonl`;
    const values = Array.from({ length: 300 }, (_, i) => ({ i, text: "é✓漢".repeat(i * 3) }));
    await Deno.writeTextFile(path, values.map((v) => JSON.stringify(v)).join("\n") + "\n");
    assert.deepEqual(await readJsonl(path), values);
  });
});

Deno.test("iterJsonl() refuses a line longer than the limit without reading it all", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/huge.jsonl`;
    using file = await Deno.open(path, { write: true, create: true });
    const chunk = new Uint8Array(1 << 20).fill(0x61);
    for (let written = 0; written <= MAX_JSONL_LINE_BYTES; written += chunk.length) {
      await file.write(chunk);
    }
    await assert.rejects(() => readJsonl(path), /longer than/);
  });
});

Deno.test("iterJsonl() closes the file when the caller stops early", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/a.jsonl`;
    await Deno.writeTextFile(path, "1\n2\n3\n");
    for await (const { value } of iterJsonl(path)) {
      assert.equal(value, 1);
      break;
    }
    // Deno's resource sanitizer fails this test if the file stayed open.
  });
});

Deno.test("JsonlStreamWriter writes atomically and abort() leaves the old file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/e.jsonl`;
    await Deno.writeTextFile(path, "old\n");
    const out = await JsonlStreamWriter.create(path);
    await out.write({ id: "a", vector: [0.5, -1] });
    await out.write({ id: "b", vector: [2, 3] });
    assert.equal(await Deno.readTextFile(path), "old\n");
    assert.equal(out.lines, 2);
    await out.finish();
    assert.deepEqual(await readJsonl(path), [
      { id: "a", vector: [0.5, -1] },
      { id: "b", vector: [2, 3] },
    ]);
    await assert.rejects(() => out.write({}), TypeError);

    const dropped = await JsonlStreamWriter.create(path);
    await dropped.write({ id: "c" });
    await dropped.abort();
    assert.equal((await readJsonl(path)).length, 2);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.jsonl"]);
  });
});
