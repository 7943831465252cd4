import assert from "node:assert/strict";
import fc from "fast-check";
import { parquetMetadata } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { parquetWriteBuffer } from "hyparquet-writer";
import { FormatError } from "../../../lib/util/errors.ts";
import {
  type EmbeddingTable,
  openEmbeddingsParquet,
  ParquetEmbeddingWriter,
  readEmbeddingsParquet,
  writeEmbeddingsParquet,
} from "../../../lib/io/parquet.ts";

/** A table of `rows` embeddings whose values exercise float32 edge cases. */
function table(rows: number, dim: number, seed = 1): EmbeddingTable {
  const special = [0, -0, 1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45, Infinity];
  const vectors = new Float32Array(rows * dim);
  let s = seed;
  for (let i = 0; i < vectors.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    vectors[i] = i % 11 === 0 ? special[(i / 11) % special.length] : (s / 2 ** 32) * 2 - 1;
  }
  return {
    ids: Array.from({ length: rows }, (_, i) => `clip-${seed}-${i}${i % 3 === 0 ? "-é✓" : ""}`),
    modality: Array.from({ length: rows }, (_, i) => ["video", "audio", "text"][i % 3]),
    index: Int32Array.from({ length: rows }, (_, i) => (i % 3 === 2 ? i % 5 : 0)),
    vectors,
    dim,
  };
}

function assertSameTable(got: EmbeddingTable, want: EmbeddingTable): void {
  assert.equal(got.dim, want.dim);
  assert.deepEqual(got.ids, want.ids);
  assert.deepEqual(got.modality, want.modality);
  assert.deepEqual(got.index, want.index);
  // Byte comparison: -0 and every float bit pattern must survive.
  assert.deepEqual(new Uint8Array(got.vectors.buffer), new Uint8Array(want.vectors.buffer));
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeEmbeddingsParquet() round-trips ids, modality, index and vectors exactly", async () => {
  await withDir(async (dir) => {
    for (const codec of ["SNAPPY", "UNCOMPRESSED"] as const) {
      const want = table(23, 7);
      await writeEmbeddingsParquet(`${dir}/e.parquet`, want, {
        dim: 7,
        codec,
        metadata: { model: "m1" },
      });
      assertSameTable(await readEmbeddingsParquet(`${dir}/e.parquet`), want);
      using file = await openEmbeddingsParquet(`${dir}/e.parquet`);
      assert.equal(file.numRows, 23);
      assert.equal(file.dim, 7);
      assert.equal(file.metadata.model, "m1");
      assert.equal(file.metadata["vatt.embeddings.version"], "1");
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.parquet"]);
  });
});

Deno.test("writeEmbeddingsParquet() handles an empty table and zero-length vectors", async () => {
  await withDir(async (dir) => {
    const empty = table(0, 4);
    await writeEmbeddingsParquet(`${dir}/e.parquet`, empty, { dim: 4 });
    assertSameTable(await readEmbeddingsParquet(`${dir}/e.parquet`), empty);
    const flat = table(3, 0);
    await writeEmbeddingsParquet(`${dir}/f.parquet`, flat, { dim: 0 });
    assertSameTable(await readEmbeddingsParquet(`${dir}/f.parquet`), flat);
  });
});

Deno.test("ParquetEmbeddingWriter writes row groups to disk as they fill", async () => {
  await withDir(async (dir) => {
    const out = await ParquetEmbeddingWriter.create(`${dir}/e.parquet`, {
      dim: 16,
      rowGroupSize: 10,
    });
    const tempSize = async () => {
      const names = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.equal(names.length, 1);
      assert.match(names[0], /^\.e\.parquet\.tmp-/);
      return (await Deno.stat(`${dir}/${names[0]}`)).size;
    };
    const parts = [table(7, 16, 1), table(7, 16, 2), table(12, 16, 3)];
    await out.append(parts[0]);
    assert.equal(await tempSize(), 0); // 7 rows buffered, nothing written yet
    await out.append(parts[1]);
    const afterOne = await tempSize();
    assert.ok(afterOne > 10 * 16 * 2, `one row group on disk, got ${afterOne} bytes`);
    await out.append({ ...parts[2], modality: "text" });
    assert.ok((await tempSize()) > afterOne);
    assert.equal(out.rows, 26);
    await out.finish();
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.parquet"]);

    using file = await openEmbeddingsParquet(`${dir}/e.parquet`);
    assert.equal(file.numRows, 26);
    const all = await file.read();
    assert.deepEqual(all.ids, parts.flatMap((p) => p.ids));
    assert.deepEqual(all.modality.slice(14), Array(12).fill("text"));
    // Ranges that cross row-group boundaries read the right rows.
    for (const [start, end] of [[0, 26], [5, 15], [9, 11], [20, 26], [13, 13]]) {
      const part = await file.read({ rowStart: start, rowEnd: end });
      assert.deepEqual(part.ids, all.ids.slice(start, end));
      assert.deepEqual(part.vectors, all.vectors.slice(start * 16, end * 16));
    }
    await assert.rejects(() => file.read({ rowStart: 5, rowEnd: 27 }), RangeError);
    await assert.rejects(() => file.read({ rowStart: -1 }), RangeError);
  });
});

Deno.test("ParquetEmbeddingWriter.abort() leaves the old file and no temporary file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/e.parquet`, "old");
    const out = await ParquetEmbeddingWriter.create(`${dir}/e.parquet`, {
      dim: 2,
      rowGroupSize: 2,
    });
    await out.append(table(5, 2));
    await out.abort();
    assert.equal(await Deno.readTextFile(`${dir}/e.parquet`), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.parquet"]);
  });
});

Deno.test("ParquetEmbeddingWriter rejects batches that do not fit", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      () => ParquetEmbeddingWriter.create(`${dir}/e.parquet`, { dim: -1 }),
      RangeError,
    );
    const out = await ParquetEmbeddingWriter.create(`${dir}/e.parquet`, { dim: 3 });
    const good = table(2, 3);
    await assert.rejects(() => out.append({ ...good, vectors: new Float32Array(5) }), RangeError);
    await assert.rejects(
      () => out.append({ ...good, ids: [1, 2] as unknown as string[] }),
      TypeError,
    );
    await assert.rejects(() => out.append({ ...good, modality: ["video"] }), RangeError);
    await assert.rejects(() => out.append({ ...good, index: [0, 2 ** 31] }), RangeError);
    await assert.rejects(() => out.append({ ...good, index: [0.5, 1] }), RangeError);
    await out.append(good);
    await out.finish();
    assertSameTable(await readEmbeddingsParquet(`${dir}/e.parquet`), good);
  });
});

Deno.test("readEmbeddingsParquet() rejects files that are not embedding tables", async (t) => {
  await withDir(async (dir) => {
    const valid = `${dir}/valid.parquet`;
    await writeEmbeddingsParquet(valid, table(40, 8), { dim: 8, rowGroupSize: 16 });
    const bytes = await Deno.readFile(valid);
    const otherSchema = new Uint8Array(parquetWriteBuffer({
      columnData: [
        { name: "id", data: ["a", "b"], type: "STRING" },
        { name: "score", data: [1, 2], type: "INT32" },
      ],
    }));
    const footerLength = new DataView(bytes.buffer).getUint32(bytes.length - 8, true);
    const cases: [string, Uint8Array][] = [
      ["an empty file", new Uint8Array()],
      ["random text", new TextEncoder().encode("PAR1 this is not parquet PAR1")],
      ["a file cut in half", bytes.slice(0, bytes.length >> 1)],
      ["a file without its footer magic", bytes.slice(0, bytes.length - 1)],
      ["a parquet file of another schema", otherSchema],
      [
        "a footer length beyond the file",
        (() => {
          const b = bytes.slice();
          new DataView(b.buffer).setUint32(b.length - 8, 0x7fffffff, true);
          return b;
        })(),
      ],
      [
        "a corrupted footer",
        (() => {
          const b = bytes.slice();
          b.fill(0xff, b.length - 8 - footerLength, b.length - 8 - footerLength + 40);
          return b;
        })(),
      ],
      [
        "corrupted pages",
        (() => {
          const b = bytes.slice();
          b.fill(0xab, 4, Math.min(200, b.length - 8 - footerLength));
          return b;
        })(),
      ],
    ];
    for (const [what, content] of cases) {
      await t.step(what, async () => {
        const path = `${dir}/bad.parquet`;
        await Deno.writeFile(path, content);
        await assert.rejects(() => readEmbeddingsParquet(path), (e) => {
          assert.ok(e instanceof FormatError, `${what}: got ${e}`);
          assert.ok(e.message.includes("bad.parquet"));
          return true;
        });
      });
    }
  });
});

Deno.test("readEmbeddingsParquet() on mutated files reads or throws FormatError (property)", async () => {
  await withDir(async (dir) => {
    await writeEmbeddingsParquet(`${dir}/base.parquet`, table(12, 4), { dim: 4, rowGroupSize: 5 });
    const base = await Deno.readFile(`${dir}/base.parquet`);
    const path = `${dir}/m.parquet`;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 0, max: 255 })),
          { minLength: 1, maxLength: 4 },
        ),
        async (edits) => {
          const bytes = base.slice();
          for (const [pos, value] of edits) bytes[pos] = value;
          await Deno.writeFile(path, bytes);
          try {
            await readEmbeddingsParquet(path);
          } catch (e) {
            if (!(e instanceof FormatError)) throw e;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

/**
 * A table written by DuckDB 1.5 (format-1 data pages, optional columns, a
 * PLAIN_DICTIONARY column): ids clip-0..clip-9, modality "text" when i % 3 == 0
 * else "video", index i % 4, vector [i, -i / 4, 0.5].
 */
const DUCKDB_TABLE = Uint8Array.from(
  atob(
    "UEFSMRUAFdQBFXgsFRQVABUGFQYAAGo8AgAAABQBBgAAAGNsaXAtMBUKADEVCgAyFQoAMxUKADQVCgA1FQoANhUKADcVCig4" +
      "BgAAAGNsaXAtORUEFSIVJkwVBBUAAAARQAQAAAB0ZXh0BQAAAHZpZGVvFQAVkAEVIiwVFBUEFQYVBgAASCwCAAAAFAECQRRF" +
      "AQDuAQAVABVcFS4sFRQVABUGFQYAAC4kAgAAABQBAAAAAAEFAQ4AAwENWhAAFQAVxgIV2gEsFTwVABUGFQYAAKMBJCEAAABB" +
      "tm3bNgBqAQAUAgAAADwDDSEcgAAAAD8AAIABBAC+CQwUAEAAAAC/CQwQQEAAAEANDBCAQAAAgA0MEKBAAACgDQwQwEAAAMAN" +
      "DBDgQAAA4A0MFABBAAAAwAlIJBBBAAAQwAAAAD8VQBwcAAAcHAAAHBwAAACAAgAAgAAAgCAAIAAIAAAIBAAAECACAAAAkAAA" +
      "AAAIARUCGXw1ABgNZHVja2RiX3NjaGVtYRUIABUMJQIYAmlkJQAAFQwlAhgIbW9kYWxpdHklAAAVAiUCGAVpbmRleCUiADUC" +
      "GAZ2ZWN0b3IVAhUGADUEGARsaXN0FQIAFQglAhgHZWxlbWVudAAWFBkcGUwmABwVDBkVABkYAmlkFQIWFBb4ARacASYIPBgG" +
      "Y2xpcC05GAZjbGlwLTAWACgGY2xpcC05GAZjbGlwLTAREQAAACYAHBUMGRUEGRgIbW9kYWxpdHkVAhYUFvABFoYBJuQBJqQB" +
      "HBgFdmlkZW8YBHRleHQWABYEGAV2aWRlbxgEdGV4dBERACb6BBVeAAAmABwVAhkVABkYBWluZGV4FQIWFBZ+FlAmqgI8GAQD" +
      "AAAAGAQAAAAAFgAoBAMAAAAYBAAAAAAREQAAACYAHBUIGRUAGTgGdmVjdG9yBGxpc3QHZWxlbWVudBUCFjwW7AIWgAIm+gI8" +
      "GAQAABBBGAQAABDAFgAoBAAAEEEYBAAAEMAREQAAABbSBxYUJggW8gQAKChEdWNrREIgdmVyc2lvbiB2MS41LjYgKGJ1aWxk" +
      "IDA2OWNjOWY5YjUpGUwcAAAcAAAcAAAcAAAAxwEAAFBBUjE=",
  ),
  (c) => c.charCodeAt(0),
);

Deno.test("readEmbeddingsParquet() reads a table written by another implementation", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/duck.parquet`, DUCKDB_TABLE);
    const got = await readEmbeddingsParquet(`${dir}/duck.parquet`);
    assert.equal(got.dim, 3);
    assert.deepEqual(got.ids, Array.from({ length: 10 }, (_, i) => `clip-${i}`));
    assert.deepEqual(
      got.modality,
      Array.from({ length: 10 }, (_, i) => (i % 3 ? "video" : "text")),
    );
    assert.deepEqual(Array.from(got.index), Array.from({ length: 10 }, (_, i) => i % 4));
    assert.deepEqual(
      Array.from(got.vectors),
      Array.from({ length: 10 }, (_, i) => [i, -i / 4, 0.5]).flat(),
    );
  });
});

Deno.test("readEmbeddingsParquet() refuses a run-length run longer than its page, quickly", async () => {
  await withDir(async (dir) => {
    await writeEmbeddingsParquet(`${dir}/e.parquet`, table(5, 4), { dim: 4 });
    const bytes = await Deno.readFile(`${dir}/e.parquet`);
    const vector = parquetMetadata(bytes.buffer).row_groups[0].columns[3].meta_data!;
    const reader = { view: new DataView(bytes.buffer), offset: Number(vector.data_page_offset) };
    const header = parquetHeader(reader);
    assert.ok((header.data_page_header_v2?.repetition_levels_byte_length ?? 0) >= 4);
    // The repetition levels become one RLE run of 2^27 - 1 values: a decoder
    // that trusts it writes that many levels for a 20-value page.
    bytes.set([0xfe, 0xff, 0xff, 0x7f], reader.offset);
    await Deno.writeFile(`${dir}/bad.parquet`, bytes);
    const start = performance.now();
    await assert.rejects(() => readEmbeddingsParquet(`${dir}/bad.parquet`), (e) => {
      assert.ok(e instanceof FormatError);
      assert.match(e.message, /run of 134217727 where 20 values remain/);
      return true;
    });
    assert.ok(performance.now() - start < 1000);
  });
});

Deno.test("readEmbeddingsParquet() on mutated foreign files reads or throws FormatError (property)", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/m.parquet`;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: DUCKDB_TABLE.length - 1 }),
            fc.integer({ min: 0, max: 255 }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (edits) => {
          const bytes = DUCKDB_TABLE.slice();
          for (const [pos, value] of edits) bytes[pos] = value;
          await Deno.writeFile(path, bytes);
          try {
            await readEmbeddingsParquet(path);
          } catch (e) {
            if (!(e instanceof FormatError)) throw e;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
