import assert from "node:assert/strict";
import { FormatError } from "../../../../lib/util/errors.ts";
import { readEmbeddings } from "../../../../lib/eval/embeddings/read.ts";
import { writeNpy } from "../../../../lib/io/npy.ts";
import { writeSafetensors } from "../../../../lib/io/safetensors.ts";

async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const matrix = { dtype: "F32" as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) };

Deno.test("readEmbeddings() reads an npy matrix with its row list", () =>
  inTemp(async (dir) => {
    await writeNpy(`${dir}/e.npy`, matrix);
    await Deno.writeTextFile(
      `${dir}/e.npy.rows.jsonl`,
      '{"id":"a","modality":"video","index":0}\n{"id":"a","modality":"text","index":2}\n',
    );
    const rows = await readEmbeddings(`${dir}/e.npy`);
    assert.deepEqual(rows.ids, ["a", "a"]);
    assert.deepEqual([...rows.index], [0, 2]);
    assert.deepEqual([...rows.vectors[1]], [4, 5, 6]);
  }));

Deno.test("readEmbeddings() rejects an npy file whose row list is missing or short", () =>
  inTemp(async (dir) => {
    await writeNpy(`${dir}/e.npy`, matrix);
    await assert.rejects(
      readEmbeddings(`${dir}/e.npy`),
      (e) => e instanceof FormatError && /row list .* is missing/.test(e.message),
    );
    await Deno.writeTextFile(`${dir}/e.npy.rows.jsonl`, '{"id":"a","modality":"video"}\n');
    await assert.rejects(readEmbeddings(`${dir}/e.npy`), /lists 1 rows for a matrix of 2/);
    await writeNpy(`${dir}/i.npy`, { dtype: "I32", shape: [2], data: new Int32Array(2) });
    await assert.rejects(readEmbeddings(`${dir}/i.npy`), /float32 \[rows, dim\] matrix/);
  }));

Deno.test("readEmbeddings() names the bad line of a jsonl file", () =>
  inTemp(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/e.jsonl`,
      '{"id":"a","modality":"video","index":0,"vector":[1]}\n{"id":"b","modality":"video","vector":"x"}\n',
    );
    await assert.rejects(readEmbeddings(`${dir}/e.jsonl`), (e) =>
      e instanceof FormatError && /line 2: vector is not a list of numbers/.test(e.message));
    await Deno.writeTextFile(`${dir}/f.jsonl`, '{"id":1,"modality":"video","vector":[]}\n');
    await assert.rejects(readEmbeddings(`${dir}/f.jsonl`), /line 1: id is not a string/);
  }));

Deno.test("readEmbeddings() checks safetensors tensors against their id lists", () =>
  inTemp(async (dir) => {
    await writeSafetensors(`${dir}/ok.safetensors`, { text: matrix }, {
      metadata: { text_ids: '["a","b"]', text_index: "[0,3]", space: "vt" },
    });
    const rows = await readEmbeddings(`${dir}/ok.safetensors`);
    assert.deepEqual(rows.modality, ["text", "text"]);
    assert.deepEqual([...rows.index], [0, 3]);
    assert.equal(rows.space, "vt");
    await writeSafetensors(`${dir}/short.safetensors`, { video: matrix }, {
      metadata: { video_ids: '["a"]' },
    });
    await assert.rejects(readEmbeddings(`${dir}/short.safetensors`), /does not list 2 string ids/);
    await writeSafetensors(`${dir}/odd.safetensors`, { weights: matrix });
    await assert.rejects(readEmbeddings(`${dir}/odd.safetensors`), /unexpected tensor weights/);
  }));

Deno.test("readEmbeddings() needs a known extension or a format", () =>
  inTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/e.txt`, '{"id":"a","modality":"audio","vector":[1]}\n');
    await assert.rejects(readEmbeddings(`${dir}/e.txt`), RangeError);
    const rows = await readEmbeddings(`${dir}/e.txt`, { format: "jsonl" });
    assert.equal(rows.index[0], 0);
  }));

Deno.test("readEmbeddings() refuses a file holding a non-finite value, naming the row and clip", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const jsonl = `${dir}/e.jsonl`;
    await Deno.writeTextFile(
      jsonl,
      '{"id":"a","modality":"video","index":0,"vector":[1,2]}\n' +
        '{"id":"b","modality":"audio","index":0,"vector":[1,1e400]}\n',
    );
    await assert.rejects(
      readEmbeddings(jsonl),
      (e) =>
        e instanceof FormatError &&
        e.message === `${jsonl}: row 1 (audio of clip "b") holds Infinity at dimension 1`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
