import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { batchToTensors } from "../../../../lib/data/shards/batches.ts";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { storedShape } from "../../../../lib/data/shards/dataset_index.ts";
import { generateDemoData } from "../../../../lib/demo/demo_data.ts";
import { pretrainTiny, tokenizeTiny } from "../../eval/_tiny_run.ts";

// A small demo dataset (1 s clips) tokenized at the tiny preset: model window 8 frames of 32²
// (0.8 s, 6400 samples at 8 kHz), stored by default as 1.2 s (12 frames, 9600 samples) of 37².
const ROOT = await Deno.makeTempDir({ prefix: "vatt-batches-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});
const demo = await generateDemoData(path.join(ROOT, "media"), {
  clips: 6,
  seed: 3,
  seconds: 1,
  width: 64,
  height: 48,
  fps: 10,
  sampleRate: 8000,
});
await tf.setBackend("cpu");
const DATA = path.join(ROOT, "data");
await tokenizeTiny(demo.manifestPath, DATA);

Deno.test("the default tokenization stores 1.5× the window at round(1.15 × size); a batch has the model's shape", async () => {
  const data = await Dataset.open(DATA);
  try {
    const s = data.index.settings;
    assert.equal(data.index.version, 3);
    assert.deepEqual(storedShape(s), { frames: 12, size: 37, audioSamples: 9600 });
    const batch = await data.readClips([0, 1]);
    assert.equal(batch.video.length, 2 * 12 * 37 * 37 * 3);
    // 1 s clips at 10 fps: 10 real frames of the 12 stored.
    assert.deepEqual([...batch.videoFrames!], [10, 10]);
    const paper = batchToTensors(batch, s, {
      augment: { mode: "paper", seed: 0, step: 0, clips: [0, 1] },
    });
    try {
      assert.deepEqual(paper.video.shape, [2, 8, 32, 32, 3]);
      assert.deepEqual(paper.audio.shape, [2, 6400]);
      const v = paper.video.dataSync();
      assert.ok(v.every((x) => x >= -1 && x <= 1));
    } finally {
      tf.dispose(Object.values(paper));
    }
  } finally {
    data.close();
  }
});

Deno.test("augment none and evaluation (no options) read the centre window and centre crop, exactly", async () => {
  const data = await Dataset.open(DATA);
  try {
    const s = data.index.settings;
    const batch = await data.readClips([2]);
    const evalView = batchToTensors(batch, s); // what embed, classify and retrieval call
    const none = batchToTensors(batch, s, {
      augment: { mode: "none", seed: 5, step: 9, clips: [2] },
    });
    try {
      assert.deepEqual([...evalView.video.dataSync()], [...none.video.dataSync()]);
      assert.deepEqual([...evalView.audio.dataSync()], [...none.audio.dataSync()]);
      // 10 real frames: windows start in 0…2, the centre one at frame 1; crop at (2, 2) of 37².
      const v = evalView.video.arraySync() as number[][][][][];
      for (const [t, y, x, c] of [[0, 0, 0, 0], [7, 31, 31, 2], [3, 10, 20, 1]]) {
        const stored = batch.video[(((1 + t) * 37 + (2 + y)) * 37 + (2 + x)) * 3 + c];
        assert.equal(v[0][t][y][x][c], Math.fround(Math.fround(stored / 127.5) - 1));
      }
      // Audio: frame 1 is 0.1 s, sample 800 of the stored span.
      const a = evalView.audio.dataSync();
      for (const k of [0, 100, 6399]) assert.equal(a[k], batch.audio[800 + k] / 32768);
    } finally {
      tf.dispose([...Object.values(evalView), ...Object.values(none)]);
    }
  } finally {
    data.close();
  }
});

Deno.test("batchToTensors() with augment paper: the same (seed, step, clips) give the same tensors, another step others", async () => {
  const data = await Dataset.open(DATA);
  try {
    const s = data.index.settings;
    const batch = await data.readClips([0, 3]);
    const make = (step: number) =>
      batchToTensors(batch, s, { augment: { mode: "paper", seed: 1, step, clips: [0, 3] } });
    const a = make(4);
    const b = make(4);
    const c = make(5);
    try {
      assert.deepEqual([...a.video.dataSync()], [...b.video.dataSync()]);
      assert.deepEqual([...a.audio.dataSync()], [...b.audio.dataSync()]);
      assert.notDeepEqual([...a.video.dataSync()], [...c.video.dataSync()]);
      assert.notDeepEqual([...a.audio.dataSync()], [...c.audio.dataSync()]);
    } finally {
      tf.dispose([...Object.values(a), ...Object.values(b), ...Object.values(c)]);
    }
  } finally {
    data.close();
  }
});

Deno.test("an old dataset (format 1: stored = the model's window) is read as such and still pretrains with augment paper", async () => {
  const old = path.join(ROOT, "old");
  await tokenizeTiny(demo.manifestPath, old, { windowSeconds: 0.8, storedSize: 32 });
  // Rewrite index.json as format version 1 wrote it: no stored span fields.
  const indexPath = path.join(old, "index.json");
  const index = JSON.parse(await Deno.readTextFile(indexPath));
  for (const k of ["windowSeconds", "storedFrames", "storedSize", "storedAudioSamples"]) {
    delete index.settings[k];
  }
  index.version = 1;
  await Deno.writeTextFile(indexPath, JSON.stringify(index, null, 2));
  const data = await Dataset.open(old);
  try {
    assert.deepEqual(storedShape(data.index.settings), { frames: 8, size: 32, audioSamples: 6400 });
    const batch = await data.readClips([0]);
    const t = batchToTensors(batch, data.index.settings, {
      augment: { mode: "paper", seed: 0, step: 0, clips: [0] },
    });
    try {
      assert.deepEqual(t.video.shape, [1, 8, 32, 32, 3]);
    } finally {
      tf.dispose(Object.values(t));
    }
  } finally {
    data.close();
  }
  const run = await pretrainTiny(old, path.join(ROOT, "old-run"), {
    steps: 2,
    batch: 2,
    augment: "paper",
  });
  const lines = (await Deno.readTextFile(path.join(run, "metrics.jsonl"))).trim().split("\n");
  const losses = lines.map((l) => JSON.parse(l)).filter((m) => "loss" in m).map((m) => m.loss);
  assert.equal(losses.length, 2);
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
});
