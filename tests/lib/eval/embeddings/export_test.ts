import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../../lib/backend/select.ts";
import { resolveVattConfig } from "../../../../lib/config/vatt_config.ts";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { embedDataset, type EmbeddingSpace } from "../../../../lib/eval/embeddings/embed.ts";
import type { Modality } from "../../../../lib/config/modality.ts";
import { exportEmbeddings } from "../../../../lib/eval/embeddings/export.ts";
import {
  EMBEDDINGS_FORMAT,
  type ExportFormat,
  npyRowsPath,
} from "../../../../lib/eval/embeddings/format.ts";
import { readEmbeddings } from "../../../../lib/eval/embeddings/read.ts";
import { MismatchError } from "../../../../lib/util/errors.ts";
import { readSafetensors } from "../../../../lib/io/safetensors.ts";
import { VattModel } from "../../../../lib/model/vatt.ts";
import { demoDataset } from "../../../_fixtures.ts";
import { tinyModelConfig } from "../_tiny_run.ts";

interface Row {
  id: string;
  modality: string;
  index: number;
  vector: Float32Array;
}

/** The rows an export should hold, straight from embedDataset, clip by clip. */
async function expectedRows(
  model: VattModel,
  data: Dataset,
  space: EmbeddingSpace,
  modalities: Modality[],
  batchSize = 16,
): Promise<Row[]> {
  // The same batch size as the export: a backend's sums may round differently across batch sizes.
  const rows: Row[] = [];
  for await (const b of embedDataset(model, data, { modalities, space, batchSize })) {
    const p = b.textMask.length / b.ids.length;
    b.ids.forEach((id, j) => {
      for (const m of modalities) {
        const d = b.dims[m];
        if (m === "video" || (m === "audio" && b.audioMask[j])) {
          rows.push({ id, modality: m, index: 0, vector: b[m]!.slice(j * d, (j + 1) * d) });
        }
        if (m === "text") {
          for (let k = 0; k < p; k++) {
            if (!b.textMask[j * p + k]) continue;
            const at = (j * p + k) * d;
            rows.push({ id, modality: m, index: k, vector: b.text!.slice(at, at + d) });
          }
        }
      }
    });
  }
  return rows;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The expected rows in the order a file lists them (safetensors groups by modality). */
function inFileOrder(rows: Row[], format: ExportFormat): Row[] {
  if (format !== "safetensors") return rows;
  return ["video", "audio", "text"].flatMap((m) => rows.filter((r) => r.modality === m));
}

async function python(code: string): Promise<unknown | undefined> {
  try {
    const out = await new Deno.Command("python3", { args: ["-c", code], stdout: "piped" })
      .output();
    if (!out.success) return undefined;
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } catch {
    return undefined; // no python3 here
  }
}

async function hasPython(module: string): Promise<boolean> {
  return (await python(`import ${module}, json; print(json.dumps(True))`)) === true;
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("exportEmbeddings() on the demo dataset", async (t) => {
  await initBackend("wasm");
  const fx = await demoDataset({ clips: 32 });
  const data = await Dataset.open(fx.data);
  const model = VattModel.create(tinyModelConfig());
  const dir = await Deno.makeTempDir({ prefix: "vatt-export-test-" });
  try {
    const all: Modality[] = ["video", "audio", "text"];
    const expected = await expectedRows(model, data, "backbone", all, 7);
    const count = (m: string) => expected.filter((r) => r.modality === m).length;
    assert.equal(count("video"), 32);

    for (const format of ["npy", "safetensors", "parquet", "jsonl"] as const) {
      await t.step(`round-trips every row through ${format}`, async () => {
        const out = path.join(dir, `all.${format}`);
        const before = tf.memory().numTensors;
        const result = await exportEmbeddings(model, data, {
          out,
          space: "backbone",
          modalities: all,
          batchSize: 7,
          metadata: { checkpoint: "test" },
        });
        assert.equal(tf.memory().numTensors, before);
        assert.equal(result.format, format);
        assert.deepEqual(result.rows, {
          video: count("video"),
          audio: count("audio"),
          text: count("text"),
        });
        const back = await readEmbeddings(out);
        const want = inFileOrder(expected, format);
        assert.equal(back.ids.length, want.length);
        assert.deepEqual(back.ids, want.map((r) => r.id));
        assert.deepEqual(back.modality, want.map((r) => r.modality));
        assert.deepEqual([...back.index], want.map((r) => r.index));
        let worst = 0;
        want.forEach((r, i) => (worst = Math.max(worst, maxDiff(back.vectors[i], r.vector))));
        assert.ok(worst <= 1e-6, `largest difference ${worst}`);
        if (format === "safetensors" || format === "parquet") assert.equal(back.space, "backbone");
        // Nothing but the output (and the npy row list) is left in the folder.
        assert.ok((await listDir(dir)).every((n) => !n.startsWith(".")));
      });
    }

    await t.step("numpy reads the npy matrix and the safetensors tensors", async () => {
      if (!(await hasPython("numpy"))) {
        console.log("python3 with numpy not found: skipped");
        return;
      }
      const npy = path.join(dir, "all.npy");
      const got = await python(
        `import json, numpy as np
a = np.load(${JSON.stringify(npy)})
rows = [json.loads(l) for l in open(${JSON.stringify(npyRowsPath(npy))})]
print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "data": a.astype(float).ravel().tolist(), "ids": [r["id"] for r in rows]}))`,
      ) as { dtype: string; shape: number[]; data: number[]; ids: string[] };
      assert.equal(got.dtype, "float32");
      assert.deepEqual(got.shape, [expected.length, 64]);
      assert.deepEqual(got.ids, expected.map((r) => r.id));
      const flat = new Float32Array(expected.length * 64);
      expected.forEach((r, i) => flat.set(r.vector, i * 64));
      assert.ok(maxDiff(got.data, flat) <= 1e-6);
      // safetensors without the safetensors package: 8-byte length, JSON header, raw data.
      const st = path.join(dir, "all.safetensors");
      const viaNumpy = await python(
        `import json, struct, numpy as np
b = open(${JSON.stringify(st)}, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
out = {}
for k in ["video", "audio", "text"]:
    s, e = h[k]["data_offsets"]
    a = np.frombuffer(b[8 + n + s:8 + n + e], dtype="<f4").reshape(h[k]["shape"])
    out[k] = {"shape": list(a.shape), "first": a[0].astype(float).tolist(), "ids": json.loads(h["__metadata__"][k + "_ids"])}
print(json.dumps(out))`,
      ) as Record<string, { shape: number[]; first: number[]; ids: string[] }>;
      for (const m of all) {
        const mine = expected.filter((r) => r.modality === m);
        assert.deepEqual(viaNumpy[m].shape, [mine.length, 64]);
        assert.deepEqual(viaNumpy[m].ids, mine.map((r) => r.id));
        assert.ok(maxDiff(viaNumpy[m].first, mine[0].vector) <= 1e-6);
      }
    });

    await t.step("pandas / pyarrow read the parquet table when installed", async () => {
      const pq = path.join(dir, "all.parquet");
      if (!(await hasPython("pyarrow.parquet"))) {
        console.log("python3 with pyarrow not found: parquet check by pyarrow skipped");
        return;
      }
      const got = await python(
        `import json, pyarrow.parquet as pq
t = pq.read_table(${JSON.stringify(pq)}).to_pydict()
print(json.dumps({"ids": t["id"], "modality": t["modality"], "index": t["index"], "first": t["vector"][0]}))`,
      ) as { ids: string[]; modality: string[]; index: number[]; first: number[] };
      assert.deepEqual(got.ids, expected.map((r) => r.id));
      assert.deepEqual(got.index, expected.map((r) => r.index));
      assert.ok(maxDiff(got.first, expected[0].vector) <= 1e-6);
    });

    await t.step("safetensors metadata names the format, space and rows", async () => {
      const { metadata, tensors } = await readSafetensors(path.join(dir, "all.safetensors"));
      assert.equal(metadata.format, EMBEDDINGS_FORMAT);
      assert.equal(metadata.space, "backbone");
      assert.equal(metadata.checkpoint, "test");
      assert.deepEqual(Object.keys(tensors).sort(), ["audio", "text", "video"]);
      const text = expected.filter((r) => r.modality === "text");
      assert.deepEqual(JSON.parse(metadata.text_index), text.map((r) => r.index));
    });

    await t.step("a space's default modalities are the ones it holds", async () => {
      const r = await exportEmbeddings(model, data, {
        out: path.join(dir, "vt.jsonl"),
        space: "vt",
        normalize: false, // compared with the model's raw vectors below
      });
      assert.deepEqual(r.modalities, ["video", "text"]);
      const back = await readEmbeddings(path.join(dir, "vt.jsonl"));
      assert.deepEqual(new Set(back.modality), new Set(["video", "text"]));
      const vt = await expectedRows(model, data, "vt", ["video", "text"]);
      assert.ok(back.vectors.every((v, i) => maxDiff(v, vt[i].vector) <= 1e-6));
    });

    await t.step("an existing file is refused without force and replaced with it", async () => {
      const out = path.join(dir, "taken.parquet");
      await Deno.writeTextFile(out, "keep me");
      await assert.rejects(
        exportEmbeddings(model, data, { out }),
        (e) => e instanceof MismatchError && /already exists/.test(e.message),
      );
      assert.equal(await Deno.readTextFile(out), "keep me");
      // npy: its row list counts as part of the output.
      const npy = path.join(dir, "rows-taken.npy");
      await Deno.writeTextFile(npyRowsPath(npy), "keep me");
      await assert.rejects(exportEmbeddings(model, data, { out: npy }), /already exists/);
      await assert.rejects(Deno.stat(npy), Deno.errors.NotFound);
      await exportEmbeddings(model, data, { out, force: true });
      assert.equal((await readEmbeddings(out)).ids.length, 32 + count("audio"));
    });

    await t.step("bad requests fail before any file is made", async () => {
      const out = path.join(dir, "bad.npy");
      await assert.rejects(
        exportEmbeddings(model, data, { out, space: "va", modalities: ["text"] }),
        (e) =>
          e instanceof RangeError &&
          /va space holds video and audio embeddings, not text/.test(e.message),
      );
      await assert.rejects(
        exportEmbeddings(model, data, { out: path.join(dir, "e.csv") }),
        /Cannot tell the format/,
      );
      const wrong = VattModel.create(resolveVattConfig({ preset: "tiny", video: { frames: 4 } }));
      try {
        await assert.rejects(exportEmbeddings(wrong, data, { out }), MismatchError);
      } finally {
        wrong.dispose();
      }
      await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
      assert.ok((await listDir(dir)).every((n) => !n.startsWith("bad") && !n.startsWith(".")));
    });

    await t.step("vectors of different lengths go to safetensors, not to one table", async () => {
      const mixed = VattModel.create(
        resolveVattConfig({ preset: "tiny", text: { backbone: { hidden: 32, mlp: 64 } } }),
      );
      try {
        for (const f of ["npy", "parquet"]) {
          await assert.rejects(
            exportEmbeddings(mixed, data, { out: path.join(dir, `mixed.${f}`), space: "backbone" }),
            /lengths differ/,
          );
        }
        const out = path.join(dir, "mixed.safetensors");
        const r = await exportEmbeddings(mixed, data, { out, space: "backbone" });
        assert.deepEqual(r.dims, { video: 64, audio: 64, text: 32 });
        const { tensors } = await readSafetensors(out);
        assert.deepEqual(tensors.text.shape, [count("text"), 32]);
      } finally {
        mixed.dispose();
      }
    });

    await t.step("a failure midway leaves no file, not even a temporary one", async () => {
      const out = path.join(dir, "broken.parquet");
      await assert.rejects(
        exportEmbeddings(model, data, {
          out,
          batchSize: 8,
          onProgress: (done) => {
            if (done >= 16) throw new Error("disk on fire");
          },
        }),
        /disk on fire/,
      );
      assert.ok((await listDir(dir)).every((n) => !n.includes("broken")));
    });
  } finally {
    model.dispose();
    data.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exportEmbeddings() writes nothing when an embedding is not finite (a NaN model), naming the row", async () => {
  await initBackend("wasm");
  const fx = await demoDataset({ clips: 32 });
  const data = await Dataset.open(fx.data);
  const model = VattModel.create(tinyModelConfig());
  for (const v of Object.values(model.weights)) tf.tidy(() => v.assign(tf.fill(v.shape, NaN)));
  const dir = await Deno.makeTempDir({ prefix: "vatt-export-nan-test-" });
  try {
    for (const format of ["npy", "safetensors", "parquet", "jsonl"] as const) {
      const out = path.join(dir, `e.${format}`);
      await assert.rejects(
        exportEmbeddings(model, data, { out }),
        /the video embedding of clip ".+" \(row 0\) holds NaN at dimension 0; nothing was written/,
      );
      // With --force over an existing file: the old file is kept whole.
      await Deno.writeTextFile(out, "keep me");
      await assert.rejects(exportEmbeddings(model, data, { out, force: true }), /holds NaN/);
      assert.equal(await Deno.readTextFile(out), "keep me");
      await Deno.remove(out);
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), [], "a file or temporary was left");
  } finally {
    data.close();
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
