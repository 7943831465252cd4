/**
 * Audio-only clips (a manifest row without `video`) through `vatt tokenize`: stored with
 * `video_mask` 0, zero frames and their real audio; and shards written before `video_mask`
 * existed still read, every clip with video.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { readDatasetLabels } from "../../../../lib/data/shards/split.ts";
import { batchToTensors } from "../../../../lib/data/shards/batches.ts";
import { tokenizeDataset } from "../../../../lib/data/tokenize/tokenize.ts";
import { encodeWav } from "../../../../lib/data/media/wav.ts";
import { generateDemoData } from "../../../../lib/demo/demo_data.ts";
import { readSafetensors, writeSafetensors } from "../../../../lib/io/safetensors.ts";
import { sha256File } from "../../../../lib/io/sha256.ts";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";

const ROOT = await Deno.makeTempDir({ prefix: "vatt-audio-only-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});

const SETTINGS = { frames: 2, fps: 10, size: 8, audioSeconds: 0.2, sampleRate: 8000 };
const RATE = 8000;

/** A manifest of one demo video clip and two audio-only WAV clips (1 s of a sine each). */
async function writeManifest(dir: string): Promise<string> {
  const demo = await generateDemoData(join(dir, "demo"), {
    clips: 1,
    seed: 3,
    seconds: 1,
    width: 32,
    height: 32,
    fps: 10,
    sampleRate: RATE,
  });
  const video = JSON.parse((await Deno.readTextFile(demo.manifestPath)).trim());
  const rows = [{
    ...video,
    id: "v",
    video: join("demo", video.video),
    audio: join("demo", video.audio),
    label: "dog",
  }];
  for (const [id, freq] of [["a1", 440], ["a2", 880]] as const) {
    const wave = Float32Array.from(
      { length: RATE },
      (_, i) => 0.5 * Math.sin(2 * Math.PI * freq * i / RATE),
    );
    await Deno.writeFile(join(dir, `${id}.wav`), encodeWav([wave], { sampleRate: RATE }));
    rows.push({ id, audio: `${id}.wav`, captions: [], label: "cat" });
  }
  const path = join(dir, "m.jsonl");
  await Deno.writeTextFile(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}

const OUT = join(ROOT, "data");
const { index } = await tokenizeDataset({
  manifest: await writeManifest(ROOT),
  out: OUT,
  settings: { ...SETTINGS, clipsPerShard: 8 },
});

Deno.test("a row without video tokenizes to video_mask 0, zero frames and its real audio", async () => {
  assert.equal(index.clips, 3, JSON.stringify(index.skipped));
  const data = await Dataset.open(OUT);
  try {
    const batch = await data.readClips([0, 1, 2]);
    assert.deepEqual(batch.ids, ["v", "a1", "a2"]);
    assert.deepEqual([...batch.videoMask!], [1, 0, 0]);
    assert.deepEqual([...batch.audioMask], [1, 1, 1]);
    assert.deepEqual([...batch.videoFrames!].map((f) => f > 0), [true, false, false]);
    const clip = batch.video.length / 3;
    assert.ok(batch.video.subarray(clip).every((x) => x === 0), "audio-only frames are zeros");
    const a = batch.audio.length / 3;
    assert.ok(batch.audio.subarray(a, 2 * a).some((x) => x !== 0), "the WAV's samples are stored");
    const labels = await readDatasetLabels(data);
    assert.deepEqual([...labels.videoMask!], [1, 0, 0]);
    const t = batchToTensors(batch, data.index.settings);
    assert.deepEqual([...await t.videoMask!.data()], [1, 0, 0]);
    tf.dispose(Object.values(t));
  } finally {
    data.close();
  }
});

Deno.test("a shard without video_mask (written before it existed) reads as every clip with video", async () => {
  const old = join(ROOT, "old");
  await Deno.mkdir(old);
  const indexJson = JSON.parse(await Deno.readTextFile(join(OUT, "index.json")));
  for (const entry of indexJson.shards) {
    const { tensors, metadata } = await readSafetensors(join(OUT, entry.file));
    delete tensors.video_mask;
    await writeSafetensors(join(old, entry.file), tensors, { metadata });
    entry.sha256 = await sha256File(join(old, entry.file));
    entry.bytes = (await Deno.stat(join(old, entry.file))).size;
  }
  indexJson.version = 2;
  await Deno.writeTextFile(join(old, "index.json"), JSON.stringify(indexJson));
  await Deno.copyFile(join(OUT, "vocab.txt"), join(old, "vocab.txt"));
  const data = await Dataset.open(old);
  try {
    const batch = await data.readClips([2, 0]);
    assert.deepEqual([...batch.videoMask!], [1, 1]);
    assert.deepEqual([...(await readDatasetLabels(data)).videoMask!], [1, 1, 1]);
  } finally {
    data.close();
  }
});
