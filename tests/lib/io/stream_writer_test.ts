import assert from "node:assert/strict";
import { AtomicStreamWriter } from "../../../lib/io/stream_writer.ts";

/** The names in `dir`, sorted. */
function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("AtomicStreamWriter writes in call order and renames on finish()", async () => {
  const dir = Deno.makeTempDirSync();
  const out = await AtomicStreamWriter.create(`${dir}/a.bin`, { header: new Uint8Array([1]) });
  const writes = [out.write(new Uint8Array([2, 3])), out.writeAt(0, new Uint8Array([7]))];
  await Promise.all(writes);
  assert.deepEqual(names(dir).length, 1);
  assert.ok(names(dir)[0].startsWith(".a.bin.tmp-"));
  await out.finish();
  assert.deepEqual([...Deno.readFileSync(`${dir}/a.bin`)], [7, 2, 3]);
  assert.deepEqual(names(dir), ["a.bin"]);
  assert.equal(out.closed, true);
  assert.throws(() => out.assertOpen("write to a.bin"), /Cannot write to a.bin: writer is closed/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("AtomicStreamWriter removes the temporary file when a task or the final check fails", async (t) => {
  await t.step("a failing task", async () => {
    const dir = Deno.makeTempDirSync();
    const out = await AtomicStreamWriter.create(`${dir}/a.bin`);
    await assert.rejects(out.run(() => Promise.reject(new Error("disk full"))), /disk full/);
    assert.equal(out.closed, true);
    assert.deepEqual(names(dir), []);
    Deno.removeSync(dir, { recursive: true });
  });
  await t.step("an incomplete file", async () => {
    const dir = Deno.makeTempDirSync();
    Deno.writeTextFileSync(`${dir}/a.bin`, "old");
    const out = await AtomicStreamWriter.create(`${dir}/a.bin`);
    await out.write(new Uint8Array([1]));
    await assert.rejects(
      out.finish(() => {
        throw new RangeError("1 of 2 bytes");
      }),
      RangeError,
    );
    assert.deepEqual(names(dir), ["a.bin"]);
    assert.equal(Deno.readTextFileSync(`${dir}/a.bin`), "old");
    Deno.removeSync(dir, { recursive: true });
  });
  await t.step("abort(), twice", async () => {
    const dir = Deno.makeTempDirSync();
    const out = await AtomicStreamWriter.create(`${dir}/a.bin`);
    await out.abort();
    await out.abort();
    assert.deepEqual(names(dir), []);
    Deno.removeSync(dir, { recursive: true });
  });
});
